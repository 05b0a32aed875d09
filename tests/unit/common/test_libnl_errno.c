/* Unit tests of common/libnl_errno.h: libnl's codes as errno, one table for the lab's wiring
 * and the partition fault. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/libnl_errno.h"

static void test_codes(void **state)
{
	assert_int_equal(libnl_errno(0), 0);
	assert_int_equal(libnl_errno(-NLE_EXIST), -EEXIST);
	assert_int_equal(libnl_errno(NLE_EXIST), -EEXIST);
	assert_int_equal(libnl_errno(-NLE_NODEV), -ENODEV);
	assert_int_equal(libnl_errno(-NLE_PERM), -EPERM);
	assert_int_equal(libnl_errno(-NLE_OPNOTSUPP), -EOPNOTSUPP);
	assert_int_equal(libnl_errno(-NLE_BUSY), -EBUSY);
	assert_int_equal(libnl_errno(-NLE_NOADDR), -EADDRNOTAVAIL);
	assert_int_equal(libnl_errno(-NLE_FAILURE), -EIO);
	assert_int_equal(libnl_errno(-NLE_ATTRSIZE), -EINVAL);
}

/* The kernel's ESRCH (a route delete that found nothing) and ENOENT both arrive as
 * NLE_OBJ_NOTFOUND; it goes back as ESRCH, what `ip route del` reports. */
static void test_not_found(void **state)
{
	assert_int_equal(libnl_errno(-NLE_OBJ_NOTFOUND), -ESRCH);
	assert_int_equal(libnl_errno(-nl_syserr2nlerr(ESRCH)), -ESRCH);
	assert_int_equal(libnl_errno(-nl_syserr2nlerr(ENOENT)), -ESRCH);
}

/* Every code libnl defines has an errno; unknown ones are EIO. */
static void test_all_codes(void **state)
{
	for (int nle = 1; nle <= NLE_MAX; nle++) {
		int e = libnl_errno(-nle);

		assert_true(e < 0);
		assert_true(nle == NLE_FAILURE || e != -EIO);
	}
	assert_int_equal(libnl_errno(-(NLE_MAX + 1)), -EIO);
	assert_int_equal(libnl_errno(-9999), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_all_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
