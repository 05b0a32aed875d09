/* Unit tests of common/failpoint: the spec read from the environment, the K-th reach of a
 * point failing with its errno and no other, the log of points reached, and the count shared
 * with a forked child (holders and node children count with the harness). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/failpoint.h"
#include "common/fsutil.h"

static int with_env(const char *spec, const char *log)
{
	if (spec)
		setenv("CHAOSDRILL_FAILPOINT", spec, 1);
	else
		unsetenv("CHAOSDRILL_FAILPOINT");
	if (log)
		setenv("CHAOSDRILL_FAILPOINT_LOG", log, 1);
	else
		unsetenv("CHAOSDRILL_FAILPOINT_LOG");
	return failpoint_init();
}

static void test_off(void **state)
{
	assert_int_equal(with_env(NULL, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(failpoint("lab.cgroup", -EACCES), 0);
	failpoint_reset();
}

static void test_bad_spec(void **state)
{
	assert_int_equal(with_env(":2", NULL), -EINVAL);
	assert_int_equal(with_env("x:0", NULL), -EINVAL);
	assert_int_equal(with_env("x:2z", NULL), -EINVAL);
	assert_int_equal(
		with_env("a-name-far-too-long-to-be-a-point-of-ours-a-name-far-too-long-to-be-one",
			 NULL),
		-EINVAL);
	failpoint_reset();
}

static void test_nth(void **state)
{
	assert_int_equal(with_env("node.spawn:3", NULL), 0);
	assert_int_equal(failpoint("node.spawn", -ENOEXEC), 0);
	assert_int_equal(failpoint("node.add", -ENOSPC), 0); /* others do not count */
	assert_int_equal(failpoint("node.spawn", -ENOEXEC), 0);
	assert_int_equal(failpoint("node.spawn", -ENOEXEC), -ENOEXEC);
	assert_int_equal(failpoint("node.spawn", -ENOEXEC), 0); /* only the 3rd */
	assert_int_equal(with_env("run.dir", NULL), 0);		/* K defaults to 1 */
	assert_int_equal(failpoint("run.dir", 0), -EIO);	/* no errno given: EIO */
	failpoint_reset();
}

static void test_log_and_fork(void **state)
{
	char path[] = "/tmp/cd-failpoint-XXXXXX", *text = NULL;
	size_t len = 0;
	int fd = mkstemp(path), status;
	pid_t pid;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(with_env("lab.holder:2", path), 0);
	assert_int_equal(failpoint("lab.holder", -EPERM), 0);
	pid = fork();
	if (pid == 0) /* the child's reach is the 2nd: it fails there */
		_exit(failpoint("lab.holder", -EPERM) == -EPERM ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(failpoint("lab.holder", -EPERM), 0); /* the 3rd, back in the parent */
	failpoint_mark("steady");
	assert_int_equal(fs_read_all(path, 4096, &text, &len), 0);
	assert_string_equal(text, "lab.holder\nlab.holder\nlab.holder\n# steady\n");
	free(text);
	unlink(path);
	failpoint_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_nth),
		cmocka_unit_test(test_log_and_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
