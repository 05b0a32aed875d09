/* File helpers: atomic writes (temp file + fsync + rename) for everything a run directory
 * holds, recursive mkdir, whole-file reads. All return >= 0 or -errno. */
#ifndef CHAOSDRILL_COMMON_FSUTIL_H
#define CHAOSDRILL_COMMON_FSUTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* The temp file of an atomic write of PATH is PATH FS_TMP_INFIX PID. */
#define FS_TMP_INFIX ".tmp."

/* Writes data to path through "path.tmp.PID" and rename(2); fsyncs the file before the
 * rename and the directory after it. On failure the temp file is removed; a process killed
 * meanwhile leaves it, for fs_remove_stale_tmp. path holds the whole data or its old
 * contents (or is absent), never a part. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same, the contents written by fill into a buffered stream of the temp file (0 or
 * -errno): a large report (the ledger of millions of writes) never sits in memory whole. */
int fs_write_atomic_stream(const char *path, mode_t mode, int (*fill)(FILE *f, void *ud),
			   void *ud);
/* The pid in a temp file's name ("x.json.tmp.123" -> 123), or -EINVAL for other names. */
pid_t fs_tmp_owner(const char *name);
/* Removes the temp files of atomic writes in dir (not below) whose writer is dead and
 * whose file is one of bases (NULL-terminated: "result.json", or "ledger." for every
 * "ledger.*"), so that nobody else's "x.tmp.12" goes; calls removed (may be NULL) with each
 * path. The number removed, or -errno (dir unreadable). */
int fs_remove_stale_tmp(const char *dir, const char *const *bases,
			void (*removed)(void *ud, const char *path), void *ud);
/* mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode);
/* Reads a whole file; *out is NUL-terminated, caller frees. Fails with -EFBIG past max. */
int fs_read_all(const char *path, size_t max, char **out, size_t *len);
/* Writes all of buf to fd, retrying short writes and EINTR. */
int fs_write_full(int fd, const void *buf, size_t len);
/* rel, relative to dirfd, as a directory stream (close-on-exec; flags adds open flags such
 * as O_NOFOLLOW). Caller closes *out (_cleanup_closedir_); nothing is left open on failure. */
int fs_opendirat(int dirfd, const char *rel, int flags, DIR **out);

#endif
