/* Unit tests of the control protocol: decode, defaults, errors, encode round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/units.h"
#include "faults/faultfs/ffs_proto.h"

static void test_decode_bad_range(void **state)
{
	struct ffs_cmd c;
	char msg[128];

	assert_int_equal(ffs_cmd_decode("arm-bad-range path=/d/*.log off=4KiB len=1 gran=4096 "
					"ops=rw err=ENOSPC\n",
					&c, msg, sizeof(msg)),
			 0);
	assert_int_equal(c.kind, FFS_CMD_ARM_BAD_RANGE);
	assert_string_equal(c.path, "/d/*.log");
	assert_int_equal(c.off, 4096);
	assert_int_equal(c.len, 1);
	assert_int_equal(c.gran, 4096);
	assert_int_equal(c.ops, FFS_OP_READ | FFS_OP_WRITE);
	assert_int_equal(c.err, ENOSPC);
	assert_int_equal(ffs_cmd_decode("arm-bad-range path=/f sectors=random(3) span=1MiB seed=5",
					&c, msg, sizeof(msg)),
			 0);
	assert_int_equal(c.random_n, 3);
	assert_int_equal(c.span, 1 << 20);
	assert_int_equal(c.seed, 5);
	assert_int_equal(c.gran, 512); /* defaults */
	assert_int_equal(c.ops, FFS_OP_READ);
	assert_int_equal(c.err, EIO);
}

static void test_decode_others(void **state)
{
	struct ffs_cmd c;
	char msg[128];

	assert_int_equal(
		ffs_cmd_decode("power-cut keep=random-sectors seed=7", &c, msg, sizeof(msg)), 0);
	assert_int_equal(c.keep, FFS_KEEP_RANDOM_SECTORS);
	assert_int_equal(c.seed, 7);
	assert_int_equal(ffs_cmd_decode("power-cut", &c, msg, sizeof(msg)), 0);
	assert_int_equal(c.keep, FFS_KEEP_NONE);
	assert_int_equal(
		ffs_cmd_decode("delay path=* ops=read,fsync delay=5ms", &c, msg, sizeof(msg)), 0);
	assert_int_equal(c.ops, FFS_OP_READ | FFS_OP_FSYNC);
	assert_int_equal(c.delay_ns, 5 * NSEC_PER_MSEC);
	assert_int_equal(ffs_cmd_decode("bitrot path=/a%20b len=10 bits=4 mode=rest", &c, msg,
					sizeof(msg)),
			 0);
	assert_string_equal(c.path, "/a b");
	assert_int_equal(c.mode, FFS_ROT_REST);
	assert_int_equal(ffs_cmd_decode("fsync-errno path=/wal", &c, msg, sizeof(msg)), 0);
	assert_int_equal(c.err, EIO);
	assert_int_equal(c.count, 1);
	assert_int_equal(ffs_cmd_decode("stats", &c, msg, sizeof(msg)), 0);
	assert_int_equal(c.kind, FFS_CMD_STATS);
}

static void check_error(const char *line, const char *want)
{
	struct ffs_cmd c;
	char msg[128];

	assert_int_equal(ffs_cmd_decode(line, &c, msg, sizeof(msg)), -EINVAL);
	if (!strstr(msg, want))
		print_error("%s: got '%s'\n", line, msg);
	assert_non_null(strstr(msg, want));
}

static void test_decode_errors(void **state)
{
	check_error("", "empty command");
	check_error("explode", "unknown command 'explode'");
	check_error("power-cut keep=some", "bad value for keep");
	check_error("power-cut path=/x", "unknown key 'path' for power-cut");
	check_error("arm-bad-range off=1 len=1", "needs path=");
	check_error("arm-bad-range path=/x", "either len= or sectors");
	check_error("arm-bad-range path=/x len=1 sectors=random(2)", "either len= or sectors");
	check_error("arm-bad-range path=/x len=1 seed=3", "go with sectors");
	check_error("arm-bad-range path=/x len=1 gran=1000", "bad value for gran");
	check_error("arm-bad-range path=/x sectors=random(0)", "bad value for sectors");
	check_error("fsync-errno path=/x err=EWHAT", "bad value for err");
	check_error("delay path=/x ops=read delay=5", "bad value for delay");
	check_error("delay path=/x ops=read", "needs delay=");
	check_error("power-cut seed=1 seed=2", "given twice");
	check_error("bitrot path=/x len=0", "len= must not be 0");
	check_error("status junk", "expected key=value");
}

static void round_trip(const char *line)
{
	struct ffs_cmd a, b;
	char msg[128], buf[FFS_LINE_MAX];
	int n;

	assert_int_equal(ffs_cmd_decode(line, &a, msg, sizeof(msg)), 0);
	n = ffs_cmd_encode(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(ffs_cmd_decode(buf, &b, msg, sizeof(msg)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_round_trip(void **state)
{
	struct ffs_cmd c;
	char buf[8];

	round_trip("arm-bad-range path=/d/*.log off=4096 len=100 gran=4096 ops=rw err=EDQUOT");
	round_trip("arm-bad-range path=/f sectors=random(9) span=65536 seed=18446744073709551615");
	round_trip("bitrot path=/a%20b%3Dc off=3 len=10 bits=4 seed=2 mode=rest");
	round_trip("power-cut keep=random-sectors seed=11");
	round_trip("delay path=* ops=read,write,fsync delay=1500us");
	round_trip("fsync-errno path=/wal err=ENOSPC count=3");
	round_trip("clear");
	assert_int_equal(ffs_cmd_decode("status", &c, buf, sizeof(buf)), 0);
	assert_int_equal(ffs_cmd_encode(&c, buf, 4), -ENOSPC);
}

static void test_reply_status(void **state)
{
	assert_int_equal(ffs_reply_status("ok\n"), 0);
	assert_int_equal(ffs_reply_status("ok files=1"), 0);
	assert_int_equal(ffs_reply_status("error EIO could not write"), -EIO);
	assert_int_equal(ffs_reply_status("error EINVAL bad"), -EINVAL);
	assert_int_equal(ffs_reply_status("okay"), -EBADMSG);
	assert_int_equal(ffs_reply_status("error"), -EBADMSG);
	/* the names of common/errname.h: EXDEV was the syscall rules' alone before */
	assert_int_equal(ffs_reply_status("error EXDEV cross-device"), -EXDEV);
	assert_int_equal(ffs_reply_status("error ENOPE what"), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_bad_range), cmocka_unit_test(test_decode_others),
		cmocka_unit_test(test_decode_errors),	 cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reply_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
