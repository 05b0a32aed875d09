/* Unit tests of what replay compares of syscall faults (faults/sys/seen.h): one line per
 * rule, the struck calls and kept bytes as sequences, the count as timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "faults/sys/seen.h"

static void test_torn_and_errno(void **state)
{
	struct sys_seen *v = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct sys_injection torn = { .action = SYS_ACT_TORN,
				      .rule = 1,
				      .nth = 500,
				      .syscall = "write",
				      .path = "sub/txn.log",
				      .requested = 101,
				      .kept = 89,
				      .zeroed = 12,
				      .killed = true,
				      .pid = 77 };
	struct sys_injection err = {
		.action = SYS_ACT_ERRNO, .rule = 0, .syscall = "fsync", .path = "txn.log", .err = 28
	};

	sys_seen_format(NULL, &sb); /* nothing struck: nothing said */
	assert_null(sb.buf);
	for (uint64_t n = 1; n <= 30; n++) {
		err.nth = n * 3;
		assert_int_equal(sys_seen_add(&v, &err), 0);
	}
	assert_int_equal(sys_seen_add(&v, &torn), 0);
	sys_seen_format(v, &sb);
	assert_non_null(sb.buf);
	/* rule 1 first, its 24 first struck calls, then how often (timing) */
	assert_non_null(strstr(sb.buf, "what=syscall rule=1 action=errno call=fsync file=txn.log "
				       "errno=28 nth^3,6,9,12,15,18,21,24,27,30,33,36,39,42,45,48,"
				       "51,54,57,60,63,66,69,72 struck~30 killed~0\n"));
	assert_non_null(strstr(sb.buf, "what=syscall rule=2 action=torn call=write file=txn.log "
				       "nth^500 kept^89 requested^101 struck~1 killed~1\n"));
	assert_true(strstr(sb.buf, "rule=1") < strstr(sb.buf, "rule=2"));
	assert_null(strstr(sb.buf, "77")); /* the pid is no decision */
	strbuf_release(&sb);
	sys_seen_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_torn_and_errno) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
