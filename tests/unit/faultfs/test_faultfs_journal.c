/* Unit tests of the namespace journal: which creates, renames and removals a directory
 * fsync makes durable, and the undo plan of a power cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "faults/faultfs/ffs_journal.h"

static void test_parent_dir(void **state)
{
	char b[64];

	ffs_parent_dir("/a", b, sizeof(b));
	assert_string_equal(b, "/");
	ffs_parent_dir("/a/b/c", b, sizeof(b));
	assert_string_equal(b, "/a/b");
}

static void test_rename_durable_after_dir_fsync(void **state)
{
	struct ffs_journal *j = ffs_journal_new();
	const struct ffs_undo *u;
	const char **purge;
	size_t n, np;

	assert_int_equal(ffs_journal_add(j, FFS_NS_RENAME, "/d/tmp", "/d/final", NULL), 0);
	/* An fsync of another directory commits nothing. */
	assert_int_equal(ffs_journal_commit(j, "/other", &purge, &np), 0);
	assert_int_equal(ffs_journal_undo_plan(j, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].kind, FFS_UNDO_RENAME);
	assert_string_equal(u[0].a, "/d/final");
	assert_string_equal(u[0].b, "/d/tmp");
	assert_int_equal(ffs_journal_commit(j, "/d", &purge, &np), 1);
	assert_int_equal(np, 0);
	ffs_journal_drop_committed(j);
	assert_int_equal(ffs_journal_undo_plan(j, &u, &n), 0);
	assert_int_equal(n, 0);
	ffs_journal_free(j);
}

static void test_undo_newest_first(void **state)
{
	struct ffs_journal *j = ffs_journal_new();
	const struct ffs_undo *u;
	size_t n;

	assert_int_equal(ffs_journal_add(j, FFS_NS_MKDIR, "/d", NULL, NULL), 0);
	assert_int_equal(ffs_journal_add(j, FFS_NS_CREATE, "/d/a", NULL, NULL), 0);
	assert_int_equal(ffs_journal_add(j, FFS_NS_RENAME, "/d/a", "/d/b", "7"), 0);
	assert_int_equal(ffs_journal_add(j, FFS_NS_REMOVE, "/x", NULL, "8"), 0);
	assert_int_equal(ffs_journal_pending(j), 4);
	assert_int_equal(ffs_journal_undo_plan(j, &u, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(u[0].kind, FFS_UNDO_FROM_TRASH); /* /x back */
	assert_string_equal(u[0].a, "8");
	assert_string_equal(u[0].b, "/x");
	assert_int_equal(u[1].kind, FFS_UNDO_RENAME); /* b back to a ... */
	assert_string_equal(u[1].a, "/d/b");
	assert_int_equal(u[2].kind, FFS_UNDO_FROM_TRASH); /* ... and the replaced b back */
	assert_string_equal(u[2].a, "7");
	assert_string_equal(u[2].b, "/d/b");
	assert_int_equal(u[3].kind, FFS_UNDO_UNLINK);
	assert_string_equal(u[3].a, "/d/a");
	assert_int_equal(u[4].kind, FFS_UNDO_RMDIR);
	assert_string_equal(u[4].a, "/d");
	ffs_journal_free(j);
}

/* A directory fsync commits the prefix up to the last change touching it (journal order),
 * and hands back the trash of the removals it made durable. */
static void test_commit_prefix_and_purge(void **state)
{
	struct ffs_journal *j = ffs_journal_new();
	const struct ffs_undo *u;
	const char **purge, **trash;
	size_t n, np;

	assert_int_equal(ffs_journal_add(j, FFS_NS_REMOVE, "/a/old", NULL, "1"), 0);
	assert_int_equal(ffs_journal_add(j, FFS_NS_CREATE, "/b/new", NULL, NULL), 0);
	assert_int_equal(ffs_journal_add(j, FFS_NS_CREATE, "/a/late", NULL, NULL), 0);
	assert_int_equal(ffs_journal_add(j, FFS_NS_RENAME, "/c/x", "/c/y", "2"), 0);
	assert_int_equal(ffs_journal_trash(j, &trash), 2);
	assert_int_equal(ffs_journal_commit(j, "/b", &purge, &np), 2);
	assert_int_equal(np, 1);
	assert_string_equal(purge[0], "1");
	ffs_journal_drop_committed(j);
	assert_int_equal(ffs_journal_undo_plan(j, &u, &n), 0);
	assert_int_equal(n, 3); /* /c rename (2 steps), /a/late */
	assert_string_equal(u[2].a, "/a/late");
	/* A cross-directory rename is touched by both directories. */
	assert_int_equal(ffs_journal_add(j, FFS_NS_RENAME, "/p/f", "/q/f", NULL), 0);
	assert_int_equal(ffs_journal_commit(j, "/p", &purge, &np), 3);
	assert_int_equal(np, 1);
	assert_string_equal(purge[0], "2");
	ffs_journal_drop_committed(j);
	assert_int_equal(ffs_journal_pending(j), 0);
	ffs_journal_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_dir),
		cmocka_unit_test(test_rename_durable_after_dir_fsync),
		cmocka_unit_test(test_undo_newest_first),
		cmocka_unit_test(test_commit_prefix_and_purge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
