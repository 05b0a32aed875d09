/* Unit tests of common/: units, CRC32C, strbuf JSON escaping, atomic file writes, errno
 * names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/crc32c.h"
#include "common/errname.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strbuf.h"
#include "common/units.h"

static void test_durations(void **state)
{
	int64_t ns;

	assert_int_equal(units_parse_duration("500ms", &ns), 0);
	assert_int_equal(ns, 500 * NSEC_PER_MSEC);
	assert_int_equal(units_parse_duration("2s", &ns), 0);
	assert_int_equal(ns, 2 * NSEC_PER_SEC);
	assert_int_equal(units_parse_duration("5m", &ns), 0);
	assert_int_equal(ns, 300 * NSEC_PER_SEC);
	assert_int_equal(units_parse_duration("1.5s", &ns), 0);
	assert_int_equal(ns, 1500 * NSEC_PER_MSEC);
	assert_int_equal(units_parse_duration("250us", &ns), 0);
	assert_int_equal(ns, 250 * NSEC_PER_USEC);
	assert_int_equal(units_parse_duration("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(units_parse_duration("5", &ns), -EINVAL);
	assert_int_equal(units_parse_duration("5x", &ns), -EINVAL);
	assert_int_equal(units_parse_duration("-1s", &ns), -EINVAL);
	assert_int_equal(units_parse_duration("", &ns), -EINVAL);
	assert_int_equal(units_parse_duration("s", &ns), -EINVAL);
	assert_int_equal(units_parse_duration("1.s", &ns), -EINVAL);
	assert_int_equal(units_parse_duration("99999999999999999999h", &ns), -ERANGE);
}

static void test_sizes(void **state)
{
	uint64_t b;

	assert_int_equal(units_parse_size("64KiB", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(units_parse_size("1MiB", &b), 0);
	assert_int_equal(b, 1048576);
	assert_int_equal(units_parse_size("512", &b), 0);
	assert_int_equal(b, 512);
	assert_int_equal(units_parse_size("4k", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_equal(units_parse_size("1.5KiB", &b), 0);
	assert_int_equal(b, 1536);
	assert_int_equal(units_parse_size("2MB", &b), 0);
	assert_int_equal(b, 2000000);
	assert_int_equal(units_parse_size("12Q", &b), -EINVAL);
	assert_int_equal(units_parse_size("KiB", &b), -EINVAL);
}

static void test_rates(void **state)
{
	double r;

	assert_int_equal(units_parse_rate("2000/s", &r), 0);
	assert_true(r == 2000.0);
	assert_int_equal(units_parse_rate("120/m", &r), 0);
	assert_true(r == 2.0);
	assert_int_equal(units_parse_rate("2000", &r), -EINVAL);
	assert_int_equal(units_parse_rate("/s", &r), -EINVAL);
	assert_int_equal(units_parse_rate("10/h", &r), -EINVAL);
	assert_int_equal(units_parse_rate("1.5/s", &r), -EINVAL);
}

static void test_format(void **state)
{
	char buf[32];

	units_format_duration(1250 * NSEC_PER_MSEC, buf, sizeof(buf));
	assert_string_equal(buf, "1.250s");
	units_format_duration(42 * NSEC_PER_MSEC + 999, buf, sizeof(buf));
	assert_string_equal(buf, "42ms");
	units_format_seconds_ms(61005 * NSEC_PER_MSEC + 700000, buf, sizeof(buf));
	assert_string_equal(buf, "61.005");
	units_format_seconds_ms(0, buf, sizeof(buf));
	assert_string_equal(buf, "0.000");
}

static void test_crc32c(void **state)
{
	unsigned char big[1000];

	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 31 + 7);
	for (size_t len = 0; len < sizeof(big); len += 37)
		assert_int_equal(crc32c(0, big, len), crc32c_sw(0, big, len));
	/* incremental == one-shot */
	assert_int_equal(crc32c(crc32c(0, big, 100), big + 100, 900), crc32c(0, big, 1000));
}

static void test_json_string(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_append_json_string(&sb, "a\"b\\c\n\x1b[31m\xff\xc3\xa9");
	assert_false(strbuf_failed(&sb));
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\u001b[31m\\ufffd\xc3\xa9\"");
	strbuf_release(&sb);
	strbuf_append_json_string(&sb, NULL);
	assert_string_equal(sb.buf, "null");
	strbuf_release(&sb);
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/cd-test-XXXXXX", path[256], *data = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	assert_int_equal(fs_mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/f.txt", dir);
	assert_int_equal(fs_write_atomic(path, "hello", 5, 0644), 0);
	assert_int_equal(fs_read_all(path, 1 << 20, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(fs_read_all(path, 3, &data, &len), -EFBIG);
	assert_int_equal(fs_read_all("/nonexistent/x", 10, &data, &len), -ENOENT);
	unlink(path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static void test_error(void **state)
{
	struct cd_error e;
	char buf[1024];

	assert_int_equal(cd_error_set(&e, EINVAL, "f.yaml", 3, 7, "bad %s", "thing"), -EINVAL);
	cd_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "f.yaml:3:7: bad thing");
	cd_error_set(&e, ENOENT, "g.yaml", 0, 0, "cannot read");
	cd_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "g.yaml: cannot read");
}

/* One table for the syscall rules and faultfs: the names each had, both ways; one failure
 * convention (NULL, -EINVAL). */
static void test_errname(void **state)
{
	static const char *const all[] = {
		"ENOSPC", "EIO",	"EDQUOT", "EROFS",  "EFBIG",	 "EINTR",
		"EAGAIN", "EBADF",	"EACCES", "EPERM",  "ENOENT",	 "EEXIST",
		"EMFILE", "ENFILE",	"ENOMEM", "EINVAL", "EXDEV",	 "ESTALE",
		"ENOSYS", "EOPNOTSUPP", "ENODEV", "ENXIO",  "ETIMEDOUT", "EBUSY",
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int e = errname_parse(all[i]);

		assert_true(e > 0);
		assert_string_equal(errname_str(e), all[i]);
	}
	/* an alias parses; the number's name is the first listed */
	assert_int_equal(errname_parse("ENOTSUP"), ENOTSUP);
	assert_string_equal(errname_str(ENOTSUP), "EOPNOTSUPP");
	assert_int_equal(errname_parse("ENOPE"), -EINVAL);
	assert_int_equal(errname_parse("eio"), -EINVAL);
	assert_int_equal(errname_parse(""), -EINVAL);
	assert_null(errname_str(0));
	assert_null(errname_str(12345));
	assert_null(errname_str(-EIO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),    cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_rates),	     cmocka_unit_test(test_format),
		cmocka_unit_test(test_crc32c),	     cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_atomic_write), cmocka_unit_test(test_error),
		cmocka_unit_test(test_errname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
