/* Unit tests of common/cleanup.h: a directory stream closes itself at scope exit, and a
 * NULL one is left alone; and of fs_opendirat, the streams it opens. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

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

static void test_opendirat(void **state)
{
	char dir[] = "/tmp/cd-test-XXXXXX", path[64];
	_cleanup_close_ int at = -1;
	struct dirent *e;
	bool seen = false;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(fs_write_atomic(path, "x", 1, 0600), 0);
	snprintf(path, sizeof(path), "%s/l", dir);
	assert_int_equal(symlink(".", path), 0);
	at = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(at >= 0);
	{
		_cleanup_closedir_ DIR *d = NULL;

		assert_int_equal(fs_opendirat(at, ".", 0, &d), 0);
		assert_true(fcntl(dirfd(d), F_GETFD) & FD_CLOEXEC);
		while ((e = readdir(d)))
			seen |= strcmp(e->d_name, "f") == 0;
		assert_true(seen);
	}
	{
		_cleanup_closedir_ DIR *d = NULL;

		assert_int_equal(fs_opendirat(at, "l", 0, &d), 0); /* follows by default */
	}
	{
		DIR *d = NULL;

		assert_int_equal(fs_opendirat(at, "none", 0, &d), -ENOENT);
		assert_int_equal(fs_opendirat(at, "f", 0, &d), -ENOTDIR);
		assert_true(fs_opendirat(at, "l", O_NOFOLLOW, &d) < 0);
	}
	assert_int_equal(unlinkat(at, "f", 0), 0);
	assert_int_equal(unlinkat(at, "l", 0), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closedir),
		cmocka_unit_test(test_opendirat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
