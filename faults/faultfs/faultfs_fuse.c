/* The FUSE side of chaosdrill-faultfs, the only file that includes libfuse: a passthrough
 * of the mount's paths to the backing directory (every call *at() its fd, so the mount may
 * cover the backing directory itself), with the fault table asked on every read, write
 * and fsync, and in volatile mode writes kept in the cache and namespace changes in the
 * journal. Entry timeouts are zero so that an undo at a power cut is seen at once; the
 * kernel's page cache is dropped at every open, and for open files whenever a command
 * changes what their reads return. */
#define FUSE_USE_VERSION 31
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "faults/faultfs/faultfs.h"

struct fh {
	struct fh *prev, *next; /* faultfs.handles: a lazy unmount never releases them */
	int fd;			/* backing fd, O_RDWR when writing was asked for; -1 for a dir */
	struct ffs_key key;
	uint64_t gen; /* fs->keeps' generation at open */
	char *path;   /* at open; for unlinked files (hard_remove gives no path) */
};

static struct faultfs *get_fs(void)
{
	return fuse_get_context()->private_data;
}

static struct fh *get_fh(const struct fuse_file_info *fi)
{
	return (struct fh *)(uintptr_t)fi->fh;
}

static void handle_link(struct faultfs *fs, struct fh *h)
{
	h->next = fs->handles;
	if (h->next)
		h->next->prev = h;
	fs->handles = h;
}

/* Takes ownership of h into fs->handles. */
static void handle_add(struct faultfs *fs, struct fh *h)
{
	pthread_mutex_lock(&fs->lock);
	handle_link(fs, h);
	pthread_mutex_unlock(&fs->lock);
}

/* handle_add for a file just opened, whose backing file is st: true when the kernel may
 * keep its cached pages. Never while a fault acts on its reads: pages written since the
 * fault was armed would hide it. Decided in the same hold of the lock that makes the
 * handle visible, so a fault armed meanwhile either sees the handle (and drops its pages)
 * or bumped the generation first (and the pages go now). */
static bool handle_add_file(struct faultfs *fs, struct fh *h, const struct stat *st)
{
	bool keep;

	pthread_mutex_lock(&fs->lock);
	h->gen = ffs_keeps_gen(fs->keeps);
	keep = !fs->opts.direct_io && ffs_keeps_may_keep(fs->keeps, h->key, st) &&
	       !ffs_rules_on_reads_of(&fs->rules, h->path);
	handle_link(fs, h);
	pthread_mutex_unlock(&fs->lock);
	return keep;
}

static void handle_free(struct faultfs *fs, struct fh *h)
{
	pthread_mutex_lock(&fs->lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&fs->lock);
	if (h->fd >= 0)
		close(h->fd);
	free(h->path);
	free(h);
}

static struct fh *handle_new(const char *path)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (h && !(h->path = strdup(path))) {
		free(h);
		return NULL;
	}
	if (h)
		h->fd = -1;
	return h;
}

static int bfd(void)
{
	return get_fs()->backing_fd;
}

#define RET(expr) ((expr) < 0 ? -errno : 0)

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct faultfs *fs = get_fs();

	cfg->use_ino = 1;
	cfg->entry_timeout = cfg->negative_timeout = 0;
	/* With a writeback cache the kernel asks for attributes before every write(2) once they
	 * expire; it keeps the size itself (a power cut makes it forget: faultfs_fuse_forget). */
	cfg->attr_timeout = fs->opts.writeback ? 1.0 : 0;
	cfg->hard_remove = 1; /* no .fuse_hidden files: removals are ours to model */
	cfg->nullpath_ok = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->direct_io = fs->opts.direct_io;
	/* Not on every read(2): a GETATTR per 4 KiB read halved throughput. Pages are kept
	 * across opens only while no fault on reads, bit rot or power cut happened since
	 * (ffs_keep.h; kernel_cache = 0 leaves each open to decide), and what changes under
	 * an open file is invalidated explicitly. */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	if (fs->opts.writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE; /* every write must reach us */
	return fs;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	uint64_t size;

	if (faultfs_hidden(path))
		return -ENOENT;
	if (fi ? fstat(get_fh(fi)->fd, st) :
		 fstatat(fs->backing_fd, faultfs_rel(path), st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (fs->opts.volatile_cache && S_ISREG(st->st_mode)) {
		pthread_mutex_lock(&fs->lock);
		if (ffs_cache_size(fs->cache, (struct ffs_key){ st->st_dev, st->st_ino }, &size)) {
			st->st_size = (off_t)size;
			st->st_blocks = (blkcnt_t)((size + 511) / 512);
		}
		pthread_mutex_unlock(&fs->lock);
	}
	return 0;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(bfd(), faultfs_rel(path), buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* What a process creates through the mount is its own, as on any file system: the daemon
 * runs as root, so a node that runs as its target's user (PostgreSQL) would otherwise get
 * root's files it may not write. Nothing to do for root's own creates. */
static int own_by_caller(struct faultfs *fs, const char *path)
{
	const struct fuse_context *c = fuse_get_context();

	if (!c || (c->uid == 0 && c->gid == 0) || geteuid() != 0)
		return 0;
	return fchownat(fs->backing_fd, faultfs_rel(path), c->uid, c->gid, AT_SYMLINK_NOFOLLOW);
}

/* A create of any kind: done on the backing dir, journaled in volatile mode. */
static int ns_create(const char *path, enum ffs_ns_kind kind, int r)
{
	struct faultfs *fs = get_fs();

	if (r >= 0)
		r = own_by_caller(fs, path);
	if (r < 0)
		return -errno;
	return fs->opts.volatile_cache ? ffs_journal_add(fs->journal, kind, path, NULL, NULL) : 0;
}

static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct faultfs *fs = get_fs();
	int r;

	if (faultfs_hidden(path))
		return -EPERM;
	pthread_mutex_lock(&fs->lock);
	r = ns_create(path, FFS_NS_CREATE, mknodat(fs->backing_fd, faultfs_rel(path), mode, rdev));
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_mkdir(const char *path, mode_t mode)
{
	struct faultfs *fs = get_fs();
	int r;

	if (faultfs_hidden(path))
		return -EPERM;
	pthread_mutex_lock(&fs->lock);
	r = ns_create(path, FFS_NS_MKDIR, mkdirat(fs->backing_fd, faultfs_rel(path), mode));
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_symlink(const char *target, const char *path)
{
	struct faultfs *fs = get_fs();
	int r;

	if (faultfs_hidden(path))
		return -EPERM;
	pthread_mutex_lock(&fs->lock);
	r = ns_create(path, FFS_NS_CREATE, symlinkat(target, fs->backing_fd, faultfs_rel(path)));
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_link(const char *from, const char *to)
{
	struct faultfs *fs = get_fs();
	int r;

	if (faultfs_hidden(to) || faultfs_hidden(from))
		return -EPERM;
	pthread_mutex_lock(&fs->lock);
	r = ns_create(to, FFS_NS_CREATE,
		      linkat(fs->backing_fd, faultfs_rel(from), fs->backing_fd, faultfs_rel(to),
			     0));
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int remove_path(const char *path, bool dir)
{
	struct faultfs *fs = get_fs();
	int r;

	if (faultfs_hidden(path))
		return -ENOENT;
	if (!fs->opts.volatile_cache)
		return RET(unlinkat(fs->backing_fd, faultfs_rel(path), dir ? AT_REMOVEDIR : 0));
	pthread_mutex_lock(&fs->lock);
	r = faultfs_ns_remove(fs, path, dir);
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_unlink(const char *path)
{
	return remove_path(path, false);
}

static int op_rmdir(const char *path)
{
	return remove_path(path, true);
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	struct faultfs *fs = get_fs();
	int r;

	if (faultfs_hidden(from) || faultfs_hidden(to))
		return -EPERM;
	if (!fs->opts.volatile_cache)
		return RET(renameat2(fs->backing_fd, faultfs_rel(from), fs->backing_fd,
				     faultfs_rel(to), flags));
	pthread_mutex_lock(&fs->lock);
	r = faultfs_ns_rename(fs, from, to, flags);
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (fi)
		return RET(fchmod(get_fh(fi)->fd, mode));
	return RET(fchmodat(bfd(), faultfs_rel(path), mode, 0));
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (fi)
		return RET(fchown(get_fh(fi)->fd, uid, gid));
	return RET(fchownat(bfd(), faultfs_rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (fi)
		return RET(futimens(get_fh(fi)->fd, tv));
	return RET(utimensat(bfd(), faultfs_rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int cache_truncate(struct faultfs *fs, int fd, const char *path, uint64_t size)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	pthread_mutex_lock(&fs->lock);
	r = ffs_cache_truncate(fs->cache, (struct ffs_key){ st.st_dev, st.st_ino }, fd, path, size);
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	_cleanup_close_ int own = -1;
	int fd = fi ? get_fh(fi)->fd : -1;

	if (fd < 0) {
		own = openat(fs->backing_fd, faultfs_rel(path), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (own < 0)
			return -errno;
		fd = own;
	}
	if (!fs->opts.volatile_cache)
		return RET(ftruncate(fd, size));
	return cache_truncate(fs, fd, path ? path : get_fh(fi)->path, (uint64_t)size);
}

/* Flags for the backing open: writers get O_RDWR (the cache reads what it overwrites in
 * part); O_APPEND goes (the kernel passes the end as the offset, and pwrite on an O_APPEND
 * fd ignores offsets); O_DIRECT goes (our buffers are not aligned); O_TRUNC is the cache's
 * in volatile mode. */
static int backing_flags(const struct faultfs *fs, int flags)
{
	int f = flags & ~(O_APPEND | O_DIRECT | O_CREAT | O_EXCL | O_ACCMODE | O_NOCTTY);

	if ((flags & O_ACCMODE) != O_RDONLY)
		f |= O_RDWR;
	if (fs->opts.volatile_cache)
		f &= ~O_TRUNC;
	return f | O_CLOEXEC;
}

static int open_backing(struct faultfs *fs, const char *path, int flags, mode_t mode, bool create)
{
	const char *rel = faultfs_rel(path);
	int fd, bf = backing_flags(fs, flags);

	if (!create)
		return openat(fs->backing_fd, rel, bf);
	pthread_mutex_lock(&fs->lock);
	fd = openat(fs->backing_fd, rel, bf | O_CREAT | O_EXCL, mode);
	if (fd >= 0 && own_by_caller(fs, path) < 0) {
		int e = errno;

		close(fd);
		unlinkat(fs->backing_fd, rel, 0);
		fd = -1;
		errno = e;
	} else if (fd >= 0 && fs->opts.volatile_cache &&
		   ffs_journal_add(fs->journal, FFS_NS_CREATE, path, NULL, NULL) < 0) {
		close(fd);
		unlinkat(fs->backing_fd, rel, 0);
		fd = -1;
		errno = ENOMEM;
	} else if (fd < 0 && errno == EEXIST && !(flags & O_EXCL)) {
		fd = openat(fs->backing_fd, rel, bf);
	}
	pthread_mutex_unlock(&fs->lock);
	return fd;
}

static int do_open(const char *path, mode_t mode, struct fuse_file_info *fi, bool create)
{
	struct faultfs *fs = get_fs();
	_cleanup_close_ int fd = -1;
	struct fh *h;
	struct stat st;
	int r;

	if (faultfs_hidden(path))
		return create ? -EPERM : -ENOENT;
	fd = open_backing(fs, path, fi->flags, mode, create);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (fs->opts.volatile_cache && (fi->flags & O_TRUNC) && S_ISREG(st.st_mode) &&
	    (r = cache_truncate(fs, fd, path, 0)) < 0)
		return r;
	h = handle_new(path);
	if (!h)
		return -ENOMEM;
	h->key = (struct ffs_key){ st.st_dev, st.st_ino };
	h->fd = TAKE_FD(fd);
	fi->keep_cache = handle_add_file(fs, h, &st);
	fi->fh = (uintptr_t)h;
	fi->direct_io = fs->opts.direct_io;
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	return do_open(path, 0, fi, false);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return do_open(path, mode, fi, true);
}

/* The kernel may keep the file's pages at its next open if nothing changes meanwhile
 * (ffs_keep.h). Flushed before this (close writes back dirty pages), so st is final. */
static int op_release(const char *path, struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	struct fh *h = get_fh(fi);
	struct stat st;

	if (fstat(h->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		pthread_mutex_lock(&fs->lock);
		ffs_keeps_closed(fs->keeps, h->key, h->gen, &st); /* -ENOMEM: pages go */
		ffs_cache_trim(fs->cache, time_mono_ns());
		pthread_mutex_unlock(&fs->lock);
	}
	handle_free(fs, h);
	return 0;
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
	return 0; /* close(2) makes nothing durable */
}

/* Sleeps as the delay rules for op on path say (outside the lock). */
static void delay(struct faultfs *fs, const char *path, unsigned op)
{
	int64_t ns;
	struct timespec ts;

	pthread_mutex_lock(&fs->lock);
	ns = ffs_rules_delay(&fs->rules, path, op);
	fs->stats.delays += ns > 0;
	pthread_mutex_unlock(&fs->lock);
	if (ns <= 0)
		return;
	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Under the lock: a bad range for this operation, reported. */
static int bad(struct faultfs *fs, const char *path, size_t size, off_t off, unsigned op)
{
	const struct ffs_rule *r = ffs_rules_bad(&fs->rules, path, (uint64_t)off, size, op);

	if (!r)
		return 0;
	if (op == FFS_OP_READ)
		fs->stats.read_errors++;
	else
		fs->stats.write_errors++;
	faultfs_event_capped(fs, op == FFS_OP_READ ? "read-failed" : "write-failed", path,
			     "\"off\":%" PRId64 ",\"len\":%zu,\"errno\":%d", (int64_t)off, size,
			     r->err);
	return -r->err;
}

/* Under the lock: bit rot of what a read returned, reported. */
static void rot(struct faultfs *fs, const char *path, char *buf, off_t off, ssize_t n)
{
	uint64_t flipped = ffs_rules_rot(&fs->rules, path, buf, (uint64_t)off, (size_t)n);

	if (!flipped)
		return;
	fs->stats.rot_reads++;
	fs->stats.rot_bits += flipped;
	faultfs_event_capped(fs, "read-rotted", path,
			     "\"off\":%" PRId64 ",\"len\":%zd,\"bits\":%" PRIu64, (int64_t)off, n,
			     flipped);
}

/* In passthrough mode the backing I/O runs outside the lock, so that the FUSE loop's
 * threads overlap; the cache of volatile mode is the lock's. */
static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	struct fh *h = get_fh(fi);
	const char *p = path ? path : h->path;
	ssize_t n;

	delay(fs, p, FFS_OP_READ);
	pthread_mutex_lock(&fs->lock);
	fs->stats.reads++;
	n = bad(fs, p, size, off, FFS_OP_READ);
	if (n == 0 && fs->opts.volatile_cache) {
		n = ffs_cache_read(fs->cache, h->key, h->fd, buf, size, (uint64_t)off);
	} else if (n == 0) {
		pthread_mutex_unlock(&fs->lock);
		if ((n = pread(h->fd, buf, size, off)) < 0)
			n = -errno;
		pthread_mutex_lock(&fs->lock);
	}
	if (n > 0)
		rot(fs, p, buf, off, n);
	pthread_mutex_unlock(&fs->lock);
	return (int)n;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	struct fh *h = get_fh(fi);
	const char *p = path ? path : h->path;
	ssize_t n;

	delay(fs, p, FFS_OP_WRITE);
	pthread_mutex_lock(&fs->lock);
	fs->stats.writes++;
	n = bad(fs, p, size, off, FFS_OP_WRITE);
	if (n == 0 && fs->opts.volatile_cache)
		n = ffs_cache_write(fs->cache, h->key, h->fd, p, buf, size, (uint64_t)off);
	pthread_mutex_unlock(&fs->lock);
	if (n == 0 && !fs->opts.volatile_cache && (n = pwrite(h->fd, buf, size, off)) < 0)
		n = -errno;
	return (int)n;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	struct fh *h = get_fh(fi);
	const char *p = path ? path : h->path;
	int r;

	delay(fs, p, FFS_OP_FSYNC);
	pthread_mutex_lock(&fs->lock);
	fs->stats.fsyncs++;
	r = ffs_rules_fsync_errno(&fs->rules, p);
	if (r < 0) {
		/* As Linux since 4.13: this fsync fails, the dirty data is lost, the next one
		 * succeeds. */
		uint64_t lost = fs->opts.volatile_cache ? ffs_cache_fail_sync(fs->cache, h->key) :
							  0;

		fs->stats.fsync_errors++;
		fs->stats.lost_sectors += lost;
		faultfs_event(fs, "fsync-failed", p, "\"errno\":%d,\"lost_sectors\":%" PRIu64, -r,
			      lost);
		pthread_mutex_unlock(&fs->lock);
		return r;
	}
	if (fs->opts.volatile_cache) {
		r = ffs_cache_sync(fs->cache, h->key, datasync);
		ffs_cache_trim(fs->cache, time_mono_ns());
		pthread_mutex_unlock(&fs->lock);
		return r;
	}
	pthread_mutex_unlock(&fs->lock);
	return RET(datasync ? fdatasync(h->fd) : fsync(h->fd));
}

/* nullpath_ok gives directory operations no path: opendir keeps it. */
static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	struct fh *h;

	if (faultfs_hidden(path))
		return -ENOENT;
	h = handle_new(path);
	if (!h)
		return -ENOMEM;
	handle_add(get_fs(), h);
	fi->fh = (uintptr_t)h;
	return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
	handle_free(get_fs(), get_fh(fi));
	return 0;
}

static const char *dir_path(const char *path, const struct fuse_file_info *fi)
{
	return path ? path : fi && fi->fh ? get_fh(fi)->path : NULL;
}

static int op_fsyncdir(const char *dpath, int datasync, struct fuse_file_info *fi)
{
	const char *path = dir_path(dpath, fi);
	struct faultfs *fs = get_fs();
	_cleanup_close_ int fd = -1;
	int r;

	if (!path)
		return -ENOENT;
	delay(fs, path, FFS_OP_FSYNC);
	if (fs->opts.volatile_cache) {
		pthread_mutex_lock(&fs->lock);
		r = faultfs_ns_fsyncdir(fs, path);
		pthread_mutex_unlock(&fs->lock);
		return r;
	}
	fd = openat(fs->backing_fd, faultfs_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : RET(fsync(fd));
}

static int op_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	struct faultfs *fs = get_fs();
	struct fh *h = get_fh(fi);
	uint64_t size;
	struct stat st;
	int r = 0;

	if (!fs->opts.volatile_cache)
		return RET(fallocate(h->fd, mode, off, len));
	if (mode != 0)
		return -EOPNOTSUPP; /* punching and zeroing would have to be cached too */
	if (fstat(h->fd, &st) < 0)
		return -errno;
	pthread_mutex_lock(&fs->lock);
	if (!ffs_cache_size(fs->cache, h->key, &size))
		size = (uint64_t)st.st_size;
	if ((uint64_t)(off + len) > size)
		r = ffs_cache_truncate(fs->cache, h->key, h->fd, path ? path : h->path,
				       (uint64_t)(off + len));
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	return RET(fstatvfs(bfd(), st));
}

static int op_readdir(const char *dpath, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	const char *path = dir_path(dpath, fi);
	bool root = path && strcmp(path, "/") == 0;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r;

	if (!path || faultfs_hidden(path))
		return -ENOENT;
	if ((r = fs_opendirat(bfd(), faultfs_rel(path), 0, &d)) < 0)
		return r;
	while ((e = readdir(d))) {
		struct stat st = { .st_ino = e->d_ino, .st_mode = (mode_t)e->d_type << 12 };

		if (root && strcmp(e->d_name, FAULTFS_TRASH) == 0)
			continue;
		if (fill(buf, e->d_name, &st, 0, 0))
			break;
	}
	return 0;
}

static const struct fuse_operations ops = {
	.init = op_init,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.truncate = op_truncate,
	.utimens = op_utimens,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.statfs = op_statfs,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.fallocate = op_fallocate,
};

void faultfs_fuse_invalidate(struct faultfs *fs, const char *path)
{
	if (fs->fuse)
		fuse_invalidate_path(fs->fuse, path); /* -ENOENT when the kernel knows it not */
}

int faultfs_fuse_invalidate_open(struct faultfs *fs, const char *glob)
{
	_cleanup_free_ char **paths = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	for (struct fh *h = fs->handles; h; h = h->next)
		cap += h->fd >= 0;
	paths = calloc(cap ? cap : 1, sizeof(*paths));
	if (!paths)
		r = -ENOMEM;
	for (struct fh *h = fs->handles; paths && h && n < cap; h = h->next)
		if (h->fd >= 0 && (!glob || fnmatch(glob, h->path, 0) == 0) &&
		    !(paths[n++] = strdup(h->path))) {
			n--;
			r = -ENOMEM;
		}
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; i < n; i++) {
		faultfs_fuse_invalidate(fs, paths[i]);
		free(paths[i]);
	}
	return r;
}

void faultfs_fuse_forget(struct faultfs *fs)
{
	struct fuse_session *se = fs->fuse ? fuse_get_session(fs->fuse) : NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	if (!se || fs_opendirat(fs->backing_fd, ".", 0, &d) < 0)
		return;
	/* Dropping a directory's entry drops what the kernel holds under it too. */
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, FAULTFS_TRASH))
			fuse_lowlevel_notify_inval_entry(se, FUSE_ROOT_ID, e->d_name,
							 strlen(e->d_name));
}

static int notify_ready(int fd)
{
	ssize_t n = fd >= 0 ? write(fd, "ready\n", 6) : 6;

	if (fd >= 0)
		close(fd);
	return n == 6 ? 0 : -EPIPE;
}

int faultfs_fuse_run(struct faultfs *fs, const char *mountpoint, int ready_fd)
{
	char prog[] = "chaosdrill-faultfs", o[] = "-o",
	     mopts[] = "fsname=chaosdrill-faultfs,subtype=faultfs,default_permissions,allow_other";
	char *argv[] = { prog, o, mopts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se;
	struct fuse *f;
	int r;

	if (access("/dev/fuse", R_OK | W_OK) < 0)
		return -ENODEV;
	f = fuse_new(&args, &ops, sizeof(ops), fs);
	fuse_opt_free_args(&args);
	if (!f)
		return -EINVAL;
	if (fuse_mount(f, mountpoint) < 0) {
		fuse_destroy(f);
		return -EIO;
	}
	se = fuse_get_session(f);
	/* libfuse only takes signals left at their default; a shell starts background jobs
	 * with SIGINT ignored, and SIGINT must still unmount. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	r = fuse_set_signal_handlers(se) < 0 ? -EIO : 0;
	fs->fuse = f;
	if (r == 0) {
		faultfs_event(fs, "mounted", mountpoint, "\"cache\":\"%s\",\"pid\":%d",
			      fs->opts.volatile_cache ? "volatile" : "passthrough", (int)getpid());
		r = notify_ready(ready_fd);
	}
	if (r == 0)
		r = fuse_loop_mt(f, 0);
	if (r > 0 || r == -EINTR) /* ended by a signal */
		r = 0;
	/* No control command may touch the mount from here on. */
	faultfs_ctl_stop(fs);
	fs->fuse = NULL;
	fuse_remove_signal_handlers(se);
	fuse_unmount(f);
	fuse_destroy(f);
	while (fs->handles) /* still open when the lazy unmount detached the mount */
		handle_free(fs, fs->handles);
	faultfs_event(fs, "unmounted", mountpoint, NULL);
	return r;
}
