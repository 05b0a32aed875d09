/* Unit tests of common/cleanup.h: a directory stream closes itself at scope exit, and a
 * NULL one is left alone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/cleanup.h"

/* The fd under a stream opened in a scope that has ended. */
static int scoped_dirfd(void)
{
	_cleanup_closedir_ DIR *d = opendir("/");

	assert_non_null(d);
	return dirfd(d);
}

static void test_closedir(void **state)
{
	int fd = scoped_dirfd();

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	{
		_cleanup_closedir_ DIR *none = NULL;

		(void)none;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closedir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
