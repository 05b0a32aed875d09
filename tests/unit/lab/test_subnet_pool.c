/* Unit tests of the subnet pool's pure parts (harness/lab/subnet_pool.h): the slots and
 * their order, a subnet's slot, and the choice among slots some other lab holds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness/lab/subnet_pool.h"

static void test_slots(void **state)
{
	char buf[SUBNET_POOL_CIDR_LEN], seen[256] = { 0 };

	(void)state;
	assert_int_equal(subnet_pool_slot(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.213.0.0/16"); /* a quiet machine: as before the pool */
	assert_int_equal(subnet_pool_slot(1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.214.0.0/16");
	assert_int_equal(subnet_pool_slot(42, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.255.0.0/16");
	assert_int_equal(subnet_pool_slot(43, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.200.0.0/16");
	assert_int_equal(subnet_pool_slot(SUBNET_POOL_SIZE - 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.212.0.0/16");
	assert_int_equal(subnet_pool_slot(SUBNET_POOL_SIZE, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(subnet_pool_slot(0, buf, 5), -ENAMETOOLONG);
	/* every slot a different /16, and each one's slot is itself */
	for (unsigned k = 0; k < SUBNET_POOL_SIZE; k++) {
		unsigned a, b;

		assert_int_equal(subnet_pool_slot(k, buf, sizeof(buf)), 0);
		assert_int_equal(sscanf(buf, "10.%u.%u.0/16", &a, &b), 2);
		assert_true(a >= 200 && a <= 255);
		assert_int_equal(seen[a], 0);
		seen[a] = 1;
		assert_int_equal(subnet_pool_slot_of(buf), (int)k);
	}
}

static void test_slot_of(void **state)
{
	(void)state;
	assert_int_equal(subnet_pool_slot_of("10.213.0.0/16"), 0);
	assert_int_equal(subnet_pool_slot_of("10.214.7.9/16"), 1); /* host bits set */
	assert_int_equal(subnet_pool_slot_of("10.200.0.0/16"), 43);
	assert_int_equal(subnet_pool_slot_of("10.213.0.0/20"), -ENOENT);
	assert_int_equal(subnet_pool_slot_of("10.199.0.0/16"), -ENOENT);
	assert_int_equal(subnet_pool_slot_of("192.168.0.0/16"), -ENOENT);
	assert_int_equal(subnet_pool_slot_of("10.213.0.0/16x"), -ENOENT);
	assert_int_equal(subnet_pool_slot_of("10.213.0.0"), -ENOENT);
	assert_int_equal(subnet_pool_slot_of(""), -ENOENT);
	assert_int_equal(subnet_pool_slot_of(NULL), -ENOENT);
}

/* A fake machine: slots held by other labs, and one that fails outright. */
struct fake {
	bool held[SUBNET_POOL_SIZE];
	int fail_at; /* -1: none */
	unsigned tried;
};

static int fake_claim(void *ud, unsigned k)
{
	struct fake *f = ud;

	f->tried++;
	if ((int)k == f->fail_at)
		return -EACCES;
	if (f->held[k])
		return -EWOULDBLOCK;
	f->held[k] = true;
	return 100 + (int)k; /* "the fd" */
}

static void test_choose(void **state)
{
	struct fake f = { .fail_at = -1 };

	(void)state;
	assert_int_equal(subnet_pool_choose(fake_claim, &f), 100); /* the first */
	assert_int_equal(subnet_pool_choose(fake_claim, &f), 101); /* the first is held now */
	f.held[2] = f.held[3] = true;
	f.held[0] = false; /* its lab ended */
	assert_int_equal(subnet_pool_choose(fake_claim, &f), 100);
	assert_int_equal(subnet_pool_choose(fake_claim, &f), 104); /* past 0..3 */
	for (unsigned k = 0; k < SUBNET_POOL_SIZE; k++)
		f.held[k] = true;
	f.tried = 0;
	assert_int_equal(subnet_pool_choose(fake_claim, &f), -EBUSY);
	assert_int_equal(f.tried, SUBNET_POOL_SIZE);
	f.held[30] = false;
	f.fail_at = 10; /* not "in use": the search stops there, with that error */
	assert_int_equal(subnet_pool_choose(fake_claim, &f), -EACCES);
	f.fail_at = -1;
	assert_int_equal(subnet_pool_choose(fake_claim, &f), 130);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_slot_of),
		cmocka_unit_test(test_choose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
