/* Unit tests of which files' cached pages the kernel may keep at open: only files closed
 * since the last fault on reads, bit rot or power cut, through a handle opened since,
 * whose backing file is unchanged and has one link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "faults/faultfs/ffs_keep.h"

static struct stat file_st(int64_t ctime_ns, off_t size)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_nlink = 1;
	st.st_size = size;
	st.st_ctim.tv_sec = ctime_ns / 1000000000;
	st.st_ctim.tv_nsec = ctime_ns % 1000000000;
	return st;
}

static const struct ffs_key A = { 1, 10 }, B = { 1, 11 }, A_OTHER_DEV = { 2, 10 };

static void test_closed_unchanged_keeps(void **state)
{
	struct ffs_keeps *k = ffs_keeps_new();
	struct stat st = file_st(5, 4096);
	uint64_t gen = ffs_keeps_gen(k);

	assert_false(ffs_keeps_may_keep(k, A, &st)); /* never closed: its first open */
	assert_int_equal(ffs_keeps_closed(k, A, gen, &st), 0);
	assert_true(ffs_keeps_may_keep(k, A, &st));
	assert_false(ffs_keeps_may_keep(k, B, &st));
	assert_false(ffs_keeps_may_keep(k, A_OTHER_DEV, &st));
	ffs_keeps_free(k);
}

static void test_backing_change_drops(void **state)
{
	struct ffs_keeps *k = ffs_keeps_new();
	struct stat st = file_st(5, 4096), touched = file_st(6, 4096), grown = file_st(5, 8192);

	assert_int_equal(ffs_keeps_closed(k, A, ffs_keeps_gen(k), &st), 0);
	assert_false(ffs_keeps_may_keep(k, A, &touched));
	assert_false(ffs_keeps_may_keep(k, A, &grown));
	assert_true(ffs_keeps_may_keep(k, A, &st));
	ffs_keeps_free(k);
}

static void test_bump_forgets_everything(void **state)
{
	struct ffs_keeps *k = ffs_keeps_new();
	struct stat st = file_st(5, 4096);
	uint64_t before = ffs_keeps_gen(k);

	assert_int_equal(ffs_keeps_closed(k, A, before, &st), 0);
	ffs_keeps_bump(k);
	assert_false(ffs_keeps_may_keep(k, A, &st));
	/* A handle opened before the bump closes after it: its pages may predate the
	 * fault, so it is not remembered. */
	assert_int_equal(ffs_keeps_closed(k, A, before, &st), 0);
	assert_false(ffs_keeps_may_keep(k, A, &st));
	assert_int_equal(ffs_keeps_count(k), 0);
	/* One opened after it is. */
	assert_int_equal(ffs_keeps_closed(k, A, ffs_keeps_gen(k), &st), 0);
	assert_true(ffs_keeps_may_keep(k, A, &st));
	ffs_keeps_free(k);
}

static void test_links_and_kinds(void **state)
{
	struct ffs_keeps *k = ffs_keeps_new();
	struct stat st = file_st(5, 4096), linked = st, dir = st;

	linked.st_nlink = 2;
	dir.st_mode = S_IFDIR | 0755;
	assert_int_equal(ffs_keeps_closed(k, A, ffs_keeps_gen(k), &st), 0);
	assert_false(ffs_keeps_may_keep(k, A, &linked));
	assert_false(ffs_keeps_may_keep(k, A, &dir));
	ffs_keeps_free(k);
}

/* Many files: the table grows and finds each with its own stamp. */
static void test_many(void **state)
{
	struct ffs_keeps *k = ffs_keeps_new();

	for (uint64_t i = 0; i < 5000; i++) {
		struct stat st = file_st((int64_t)i, (off_t)i);

		assert_int_equal(ffs_keeps_closed(k, (struct ffs_key){ i % 7, i }, 0, &st), 0);
	}
	assert_int_equal(ffs_keeps_count(k), 5000);
	for (uint64_t i = 0; i < 5000; i++) {
		struct stat st = file_st((int64_t)i, (off_t)i),
			    other = file_st((int64_t)i + 1, (off_t)i);

		assert_true(ffs_keeps_may_keep(k, (struct ffs_key){ i % 7, i }, &st));
		assert_false(ffs_keeps_may_keep(k, (struct ffs_key){ i % 7, i }, &other));
	}
	/* Closing again updates, not adds. */
	{
		struct stat st = file_st(99999, 1);

		assert_int_equal(ffs_keeps_closed(k, (struct ffs_key){ 3, 3 }, 0, &st), 0);
		assert_int_equal(ffs_keeps_count(k), 5000);
		assert_true(ffs_keeps_may_keep(k, (struct ffs_key){ 3, 3 }, &st));
	}
	ffs_keeps_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_unchanged_keeps),
		cmocka_unit_test(test_backing_change_drops),
		cmocka_unit_test(test_bump_forgets_everything),
		cmocka_unit_test(test_links_and_kinds),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
