/* Unit tests of kvlog-server's group-commit policy (kvlog_group.c): when the next sync
 * starts and on which thread, driven with made-up times and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "targets/kvlog/kvlog_group.h"

#define US 1000LL

/* A group of `covered` records synced from t0 for took ns, `waiting` arriving meanwhile. */
static struct kvlog_group after_sync(int64_t t0, int64_t took, uint64_t covered, uint64_t waiting)
{
	struct kvlog_group g = { 0 };

	kvlog_group_started(&g, t0);
	kvlog_group_synced(&g, covered, waiting, t0 + took);
	return g;
}

static void test_first_group_starts_at_once(void **state)
{
	struct kvlog_group g = { 0 };
	int64_t until = -1;

	assert_int_equal(kvlog_group_next(&g, 0, false, 0, &until), KVLOG_GROUP_IDLE);
	assert_int_equal(kvlog_group_next(&g, 1, false, 0, &until), KVLOG_GROUP_INLINE);
	assert_int_equal(until, -1);
}

static void test_lone_writer_never_waits(void **state)
{
	struct kvlog_group g = after_sync(1000 * US, 150 * US, 1, 0);
	int64_t until = -1;

	assert_int_equal(g.want, 1);
	/* its next record arrives right after the answer: synced at once, inline */
	assert_int_equal(kvlog_group_next(&g, 1, false, 1150 * US + 1, &until), KVLOG_GROUP_INLINE);
	assert_int_equal(until, -1);
}

static void test_group_waits_for_its_writers(void **state)
{
	/* 10 records synced in 200 us while 6 more arrived: 16 writers are active */
	struct kvlog_group g = after_sync(0, 200 * US, 10, 6);
	int64_t open = 200 * US, until = -1;

	assert_int_equal(g.want, 16);
	for (uint64_t n = 6; n < 16; n++) {
		until = -1;
		assert_int_equal(kvlog_group_next(&g, n, false, open + 10 * US, &until),
				 KVLOG_GROUP_WAIT);
		assert_int_equal(until, open + 200 * US); /* no longer than the sync took */
	}
	assert_int_equal(kvlog_group_next(&g, 16, false, open + 10 * US, &until),
			 KVLOG_GROUP_INLINE);
	assert_int_equal(kvlog_group_next(&g, 17, false, open + 10 * US, &until),
			 KVLOG_GROUP_INLINE);
	/* the wait ran out with a writer missing: the helper thread syncs the rest */
	assert_int_equal(kvlog_group_next(&g, 15, false, open + 200 * US, &until),
			 KVLOG_GROUP_THREAD);
	assert_int_equal(kvlog_group_next(&g, 15, false, open + 900 * US, &until),
			 KVLOG_GROUP_THREAD);
}

static void test_nothing_starts_while_a_sync_is_in_flight(void **state)
{
	struct kvlog_group g = after_sync(0, 200 * US, 4, 0);
	int64_t until = -1;

	assert_int_equal(kvlog_group_next(&g, 4, true, 250 * US, &until), KVLOG_GROUP_IDLE);
	assert_int_equal(kvlog_group_next(&g, 1, true, 900 * US, &until), KVLOG_GROUP_IDLE);
	assert_int_equal(until, -1);
}

static void test_wait_is_bounded(void **state)
{
	/* a sync that took a whole second: the next group still waits 2 ms at most */
	struct kvlog_group g = after_sync(0, 1000 * 1000 * US, 8, 0);
	int64_t open = 1000 * 1000 * US, until = -1;

	assert_int_equal(kvlog_group_next(&g, 1, false, open, &until), KVLOG_GROUP_WAIT);
	assert_int_equal(until, open + KVLOG_GROUP_LINGER_MAX_NS);
	assert_int_equal(kvlog_group_next(&g, 1, false, until, &until), KVLOG_GROUP_THREAD);
}

static void test_group_follows_the_writers(void **state)
{
	struct kvlog_group g = after_sync(0, 100 * US, 16, 0);
	int64_t until;

	/* a writer left: its group ran out once, then the group is 15 */
	assert_int_equal(kvlog_group_next(&g, 15, false, 300 * US, &until), KVLOG_GROUP_THREAD);
	kvlog_group_started(&g, 300 * US);
	kvlog_group_synced(&g, 15, 0, 450 * US);
	assert_int_equal(g.want, 15);
	assert_int_equal(kvlog_group_next(&g, 15, false, 460 * US, &until), KVLOG_GROUP_INLINE);
	/* a writer joined while it synced: the next group waits for 16 again */
	kvlog_group_started(&g, 460 * US);
	kvlog_group_synced(&g, 15, 1, 600 * US);
	assert_int_equal(g.want, 16);
	assert_int_equal(kvlog_group_next(&g, 15, false, 610 * US, &until), KVLOG_GROUP_WAIT);
	assert_int_equal(until, 600 * US + 140 * US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_group_starts_at_once),
		cmocka_unit_test(test_lone_writer_never_waits),
		cmocka_unit_test(test_group_waits_for_its_writers),
		cmocka_unit_test(test_nothing_starts_while_a_sync_is_in_flight),
		cmocka_unit_test(test_wait_is_bounded),
		cmocka_unit_test(test_group_follows_the_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
