/* The namespace journal of the fault file system in `cache: volatile` mode: creates,
 * mkdirs, links, unlinks, rmdirs and renames are done on the backing directory at once (so
 * lookups see them), and recorded here until a directory fsync makes them durable. A
 * power cut undoes every change not yet durable, newest first.
 *
 * Durability follows a journaling file system: an fsync of directory D commits every
 * change up to and including the last one that touched D (as a parent of its old or new
 * name). An fsync of a file does not commit its own name (POSIX: fsync the directory).
 * Removed and replaced entries wait in a trash directory of the backing file system until
 * their removal is durable, so an undo can put them back.
 *
 * Plain data: the caller does the renames and unlinks; this module says which, and unit
 * tests check the plans without a file system.
 *
 * Usage:
 *   struct ffs_journal *j = ffs_journal_new();
 *   ffs_journal_add(j, FFS_NS_RENAME, "/a", "/b", "3");   // "/b" was moved to trash "3"
 *   n = ffs_journal_commit(j, "/", &purge, &npurge);      // trash entries now deletable
 *   ffs_journal_undo_plan(j, &steps, &nsteps);             // at a power cut; then clear
 *   ffs_journal_free(j);
 */
#ifndef CHAOSDRILL_FAULTFS_JOURNAL_H
#define CHAOSDRILL_FAULTFS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

enum ffs_ns_kind {
	FFS_NS_CREATE,	 /* path created (file, node, symlink or hard link) */
	FFS_NS_MKDIR,	 /* path created as a directory */
	FFS_NS_REMOVE,	 /* path (file or empty dir) moved to trash */
	FFS_NS_RENAME,	 /* path moved to path2; a replaced path2 moved to trash */
	FFS_NS_EXCHANGE, /* path and path2 swapped (RENAME_EXCHANGE) */
};

struct ffs_ns_op {
	enum ffs_ns_kind kind;
	char *path, *path2; /* from the mount root, "/a/b"; owned */
	char *trash;	    /* name in the trash directory, or NULL; owned */
};

enum ffs_undo_kind {
	FFS_UNDO_UNLINK,     /* unlink(a) */
	FFS_UNDO_RMDIR,	     /* rmdir(a) */
	FFS_UNDO_RENAME,     /* rename(a, b) */
	FFS_UNDO_EXCHANGE,   /* renameat2(a, b, RENAME_EXCHANGE) */
	FFS_UNDO_FROM_TRASH, /* rename(trash a, b) */
};

struct ffs_undo {
	enum ffs_undo_kind kind;
	const char *a, *b; /* borrowed from the journal */
};

struct ffs_journal;

struct ffs_journal *ffs_journal_new(void);
void ffs_journal_free(struct ffs_journal *j); /* accepts NULL */

/* Records a change already made. path2 and trash may be NULL. 0 or -ENOMEM. */
int ffs_journal_add(struct ffs_journal *j, enum ffs_ns_kind kind, const char *path,
		    const char *path2, const char *trash);
/* The directory fsync of dir ("/" or "/a"): commits the journal up to the last change
 * touching dir. *purge (borrowed from j until ffs_journal_drop_committed) lists the trash
 * names whose removal became durable: the caller deletes them, then calls
 * ffs_journal_drop_committed(). Returns the number of changes committed. */
size_t ffs_journal_commit(struct ffs_journal *j, const char *dir, const char ***purge,
			  size_t *npurge);
/* Forgets the committed prefix (after the caller purged its trash). */
void ffs_journal_drop_committed(struct ffs_journal *j);
/* The undo steps of every uncommitted change, newest first; *steps is owned by j until
 * ffs_journal_clear(). 0 or -ENOMEM. */
int ffs_journal_undo_plan(struct ffs_journal *j, const struct ffs_undo **steps, size_t *n);
/* Forgets everything (after a power cut was applied, or at a clean stop). */
void ffs_journal_clear(struct ffs_journal *j);
/* Every trash name the journal holds (a clean stop purges them all). */
size_t ffs_journal_trash(struct ffs_journal *j, const char ***names);
/* Uncommitted changes. */
size_t ffs_journal_pending(const struct ffs_journal *j);
/* The parent directory of path into buf ("/a/b" -> "/a", "/a" -> "/"). */
void ffs_parent_dir(const char *path, char *buf, size_t len);

#endif
