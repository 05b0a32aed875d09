/* File helpers: atomic writes (temp file + fsync + rename) for everything a run directory
 * holds, recursive mkdir, whole-file reads. All return >= 0 or -errno. */
#ifndef CHAOSDRILL_COMMON_FSUTIL_H
#define CHAOSDRILL_COMMON_FSUTIL_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes data to path through "path.tmp.PID" and rename(2); fsyncs the file. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
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
