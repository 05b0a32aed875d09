/* File helpers: see fsutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/fsutil.h"

int fs_opendirat(int dirfd, const char *rel, int flags, DIR **out)
{
	_cleanup_close_ int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);

	if (fd < 0)
		return -errno;
	if (!(*out = fdopendir(fd)))
		return -errno;
	TAKE_FD(fd); /* the stream owns it now */
	return 0;
}

int fs_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory holding path, fsynced: the rename itself survives a power loss. */
static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	int fd;

	if (len >= sizeof(dir))
		return;
	if (slash && len == 0)
		len = 1; /* "/file" */
	memcpy(dir, slash ? path : ".", slash ? len : 1);
	dir[slash ? len : 1] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* best effort: the file itself is synced already */
		close(fd);
	}
}

/* The temp file's fd, and its name in tmp (PATH_MAX). */
static int tmp_open(const char *path, mode_t mode, char *tmp)
{
	int fd;

	if (snprintf(tmp, PATH_MAX, "%s" FS_TMP_INFIX "%d", path, (int)getpid()) >= PATH_MAX)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

/* r is the outcome of writing the temp file (fd already closed): synced, it replaces path;
 * failed, it goes. */
static int tmp_commit(const char *tmp, const char *path, int r)
{
	failpoint_pause("fs.atomic"); /* tests: a kill lands while the temp file exists */
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	else
		sync_parent(path);
	return r;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd = tmp_open(path, mode, tmp), r;

	if (fd < 0)
		return fd;
	r = fs_write_full(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return tmp_commit(tmp, path, r);
}

int fs_write_atomic_stream(const char *path, mode_t mode, int (*fill)(FILE *f, void *ud), void *ud)
{
	char tmp[PATH_MAX];
	int fd = tmp_open(path, mode, tmp), r;
	FILE *f;

	if (fd < 0)
		return fd;
	if (!(f = fdopen(fd, "we"))) {
		r = -errno;
		close(fd);
		return tmp_commit(tmp, path, r);
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	r = fill(f, ud);
	if (fflush(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && ferror(f))
		r = -EIO;
	if (r == 0 && fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return tmp_commit(tmp, path, r);
}

pid_t fs_tmp_owner(const char *name)
{
	const char *p = strstr(name, FS_TMP_INFIX), *next;
	char *end;
	long pid;

	if (!p)
		return -EINVAL;
	/* the last ".tmp." of the name: "a.tmp.1.tmp.2" was written by 2 */
	while ((next = strstr(p + 1, FS_TMP_INFIX)))
		p = next;
	p += strlen(FS_TMP_INFIX);
	if (*p < '1' || *p > '9')
		return -EINVAL;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT_MAX)
		return -EINVAL;
	return (pid_t)pid;
}

/* name's part before its last ".tmp." is one of bases ("x." matches every "x.*") */
static bool base_wanted(const char *name, const char *const *bases)
{
	const char *p = strstr(name, FS_TMP_INFIX), *next;
	size_t len;

	while (p && (next = strstr(p + 1, FS_TMP_INFIX)))
		p = next;
	len = (size_t)(p - name);
	for (; *bases; bases++) {
		size_t bl = strlen(*bases);

		if (bl && (*bases)[bl - 1] == '.' ? len > bl && !strncmp(name, *bases, bl) :
						    len == bl && !strncmp(name, *bases, len))
			return true;
	}
	return false;
}

int fs_remove_stale_tmp(const char *dir, const char *const *bases,
			void (*removed)(void *ud, const char *path), void *ud)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int n = 0, k = fs_opendirat(AT_FDCWD, dir, O_NOFOLLOW, &d);

	if (k < 0)
		return k;
	while ((e = readdir(d))) {
		pid_t pid = fs_tmp_owner(e->d_name);

		if (pid <= 0 || (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) ||
		    !base_wanted(e->d_name, bases))
			continue;
		if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* its writer lives (or may): its rename is still to come */
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			continue;
		n++;
		if (removed) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			removed(ud, path);
		}
	}
	return n;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int fs_read_all(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t cap = max + 1 < 4096 ? max + 1 : 4096, n = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb;

			if (cap >= max + 1) {
				char probe;

				/* Full at max: fine only if the file ends here. */
				r = read(fd, &probe, 1);
				if (r == 0)
					break;
				return r < 0 ? -errno : -EFBIG;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = TAKE_PTR(buf);
	if (len)
		*len = n;
	return 0;
}
