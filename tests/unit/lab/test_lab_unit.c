/* Unit tests of the lab's pure parts: cgroup kind names, option checking before anything
 * privileged happens, and the command defaults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "harness/lab/cgroup.h"
#include "harness/lab/lab.h"
#include "harness/lab/netlink.h"

static void test_cgroup_names(void **state)
{
	assert_string_equal(cgroup_kind_name(CGROUP_V2), "v2");
	assert_string_equal(cgroup_kind_name(CGROUP_V1), "v1-freezer");
	assert_string_equal(cgroup_kind_name(CGROUP_NONE), "none");
}

static void test_bad_options(void **state)
{
	static const char *const bad[] = { "10.213.0.0/7", "10.213.0.0/31", "10.213.0.0",
					   "300.1.1.1/16", "x/16",	    "" };
	struct lab_options opt = LAB_OPTIONS_INIT;
	struct lab *lab = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		opt.subnet = bad[i];
		assert_int_equal(lab_new(&opt, &lab), -EINVAL);
		assert_null(lab);
		assert_non_null(strstr(lab_last_error(), "subnet"));
	}
	opt.subnet = NULL;
	opt.cgroup = (enum lab_cgroup_mode)42;
	assert_int_equal(lab_new(&opt, &lab), -EINVAL);
	lab_free(NULL);
}

static void test_cmd_defaults(void **state)
{
	struct lab_cmd cmd = LAB_CMD_INIT;

	assert_int_equal(cmd.stdin_fd, -1);
	assert_int_equal(cmd.stdout_fd, -1);
	assert_int_equal(cmd.stderr_fd, -1);
	assert_null(cmd.user);
	assert_string_equal(lab_freeze_how_name(LAB_FREEZE_SIGSTOP), "SIGSTOP/SIGCONT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_names),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_cmd_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
