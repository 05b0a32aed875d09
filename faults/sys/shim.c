/* libchaosdrill-shim.so: the syscall fault rules (faults/sys/rule.h) for dynamically linked
 * C programs, through LD_PRELOAD. The control block (faults/sys/shimctl.h) named by
 * $CHAOSDRILL_SHIM_CTL is mapped once in a constructor and the variable removed, so
 * programs this one starts are not faulted by accident. Unarmed, a wrapped call costs one
 * load and a branch. Crashes SIGKILL the calling process (its pid-namespace init cannot be
 * signalled from inside); the event log tells the harness to kill the rest of the node.
 * Never aborts, exits or logs: a block it cannot use leaves the process unfaulted, and the
 * harness sees that from the block's attach count. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "faults/sys/rule.h"
#include "faults/sys/shimctl.h"

#define EXPORT __attribute__((visibility("default")))

static struct sys_shim_block *blk;
static __thread int busy; /* recursion guard: the shim's own calls go straight through */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pread64)(int, void *, size_t, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_unlink)(const char *);

/* The wrapped calls, declaratively: symbol and where its real address goes. */
static const struct {
	const char *name;
	void **real;
} wrapped[] = {
	{ "write", (void **)&real_write },	   { "pwrite", (void **)&real_pwrite },
	{ "pwrite64", (void **)&real_pwrite64 },   { "writev", (void **)&real_writev },
	{ "read", (void **)&real_read },	   { "pread", (void **)&real_pread },
	{ "pread64", (void **)&real_pread64 },	   { "fsync", (void **)&real_fsync },
	{ "fdatasync", (void **)&real_fdatasync }, { "ftruncate", (void **)&real_ftruncate },
	{ "rename", (void **)&real_rename },	   { "renameat", (void **)&real_renameat },
	{ "open", (void **)&real_open },	   { "open64", (void **)&real_open64 },
	{ "openat", (void **)&real_openat },	   { "unlink", (void **)&real_unlink },
};

static int resolved;

static void resolve(void)
{
	for (size_t i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++)
		if (!*wrapped[i].real)
			*wrapped[i].real = dlsym(RTLD_NEXT, wrapped[i].name);
	__atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
}

static void attach(const char *path)
{
	int fd = real_open ? real_open(path, O_RDWR | O_CLOEXEC) : -1;
	struct sys_shim_block *b;

	if (fd < 0)
		return;
	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (b == MAP_FAILED)
		return;
	if (b->magic != SYS_SHIM_MAGIC || b->version != SYS_SHIM_VERSION || b->size != sizeof(*b)) {
		munmap(b, sizeof(*b));
		return;
	}
	__atomic_add_fetch(&b->attached, 1, __ATOMIC_ACQ_REL);
	blk = b;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *path;

	busy++;
	resolve();
	path = getenv(SYS_SHIM_ENV);
	if (path) {
		attach(path);
		unsetenv(SYS_SHIM_ENV);
	}
	busy--;
}

/* One intercepted call, while it is decided and acted on. */
struct call {
	enum sys_call call;
	int fd;
	char full[PATH_MAX], full2[PATH_MAX];
	uint64_t len;
	int64_t off; /* where it reads or writes, -1 unknown */
	bool at_off; /* a positional call (pwrite): off is its argument, not the file offset */
	struct sys_decision d;
};

static void fd_path(int fd, char *out, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

static void arg_path(int dirfd, const char *path, char *out, size_t len)
{
	char base[PATH_MAX] = "";

	if (path[0] != '/') {
		if (dirfd == AT_FDCWD) {
			if (!getcwd(base, sizeof(base)))
				base[0] = '\0';
		} else {
			fd_path(dirfd, base, sizeof(base));
		}
	}
	snprintf(out, len, "%s%s%s", base, path[0] == '/' ? "" : "/", path);
	if (out[0] == '/')
		sys_path_normalize(out);
}

/* Decides c (its call, fd or paths and len filled in); true when a rule fired. */
static bool decide(struct call *c)
{
	struct sys_call_info info = { .call = c->call, .len = c->len };
	uint32_t n;
	bool fired;

	if (!sys_shim_block_usable(blk, &n))
		return false;
	busy++;
	info.path = c->full[0] ? sys_path_for_rules(blk->data_dir, c->full) : NULL;
	info.path2 = c->full2[0] ? sys_path_for_rules(blk->data_dir, c->full2) : NULL;
	info.now_ns = time_mono_ns() - blk->t0_ns;
	fired = sys_decide(blk->rules, n, blk->counts, blk->seed, &info, &c->d);
	busy--;
	return fired;
}

/* The fast path: nothing armed for this call, or the shim's own call. Also resolves the
 * real functions for calls made before the constructor ran (other libraries' constructors). */
static bool armed(enum sys_call call)
{
	struct sys_shim_block *b = blk;

	if (__builtin_expect(!__atomic_load_n(&resolved, __ATOMIC_ACQUIRE), 0))
		resolve();
	return b && !busy && __atomic_load_n(&b->armed, __ATOMIC_ACQUIRE) &&
	       (b->calls & (1u << call));
}

/* The file offset a write at the current position lands at (the end with O_APPEND). */
static int64_t write_offset(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_APPEND) ? lseek(fd, 0, SEEK_END) : lseek(fd, 0, SEEK_CUR);
}

/* off: a positional call's offset, -1 for the others. */
static bool fd_call(struct call *c, enum sys_call call, int fd, uint64_t len, int64_t off)
{
	*c = (struct call){ .call = call, .fd = fd, .len = len, .off = off, .at_off = off >= 0 };
	busy++;
	fd_path(fd, c->full, sizeof(c->full));
	busy--;
	if (!decide(c))
		return false;
	if (!c->at_off && (SYS_CALL_WRITES & (1u << call))) /* for the report, as seccomp's */
		c->off = write_offset(fd);
	return true;
}

static bool path_call(struct call *c, enum sys_call call, int d1, const char *p1, int d2,
		      const char *p2)
{
	*c = (struct call){ .call = call, .fd = -1, .off = -1 };
	busy++;
	arg_path(d1, p1, c->full, sizeof(c->full));
	if (p2)
		arg_path(d2, p2, c->full2, sizeof(c->full2));
	busy--;
	return decide(c);
}

/* A slot of the log's ring (*seq: its number + 1), or NULL when the harness has not taken
 * out the events of a whole ring yet: then the injection is only counted. */
static struct sys_shim_event *claim(uint32_t *seq)
{
	uint32_t i = __atomic_load_n(&blk->claimed, __ATOMIC_ACQUIRE);

	do {
		if (i - __atomic_load_n(&blk->taken, __ATOMIC_ACQUIRE) >= SYS_SHIM_RING) {
			__atomic_add_fetch(&blk->dropped, 1, __ATOMIC_ACQ_REL);
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&blk->claimed, &i, i + 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	*seq = i + 1;
	return &blk->events[i % SYS_SHIM_RING];
}

static void shown_path(const char *full, char *out, size_t len)
{
	const char *p = full[0] ? sys_path_for_rules(blk->data_dir, full) : NULL;

	snprintf(out, len, "%s", p ? p : full);
}

static void record(const struct call *c, int64_t kept, uint64_t zeroed, int err, bool killed)
{
	struct sys_shim_event *e;
	uint32_t seq;

	busy++;
	e = claim(&seq);
	if (e) {
		*e = (struct sys_shim_event){
			.rule = (uint32_t)c->d.rule,
			.call = c->call,
			.action = c->d.action,
			.killed = killed,
			.fd = c->fd,
			.err = err,
			.pid = getpid(),
			.nth = c->d.nth,
			.requested = c->len,
			.kept = kept > 0 ? (uint64_t)kept : 0,
			.zeroed = zeroed,
			.offset = c->off,
			.at_ns = time_mono_ns(),
		};
		shown_path(c->full, e->path, sizeof(e->path));
		shown_path(c->full2, e->path2, sizeof(e->path2));
		/* The harness reads the slot once its number is there. */
		__atomic_store_n(&e->seq, seq, __ATOMIC_RELEASE);
	}
	busy--;
}

/* The node dies here, as a crash would. A pid namespace's init (the node's program, most
 * often) ignores a SIGKILL it sends itself: it leaves with exit_group instead, which takes
 * every other process of the namespace with it at once, so no other thread of it writes
 * after the crash point. */
__attribute__((noreturn)) static void die(void)
{
	kill(getpid(), SIGKILL);
	syscall(SYS_exit_group, 128 + SIGKILL);
	for (;;)
		pause();
}

/* Before the real call: fails it (returns true, errno set), sleeps, or crashes. */
static bool before(const struct call *c)
{
	switch (c->d.action) {
	case SYS_ACT_ERRNO:
		record(c, 0, 0, c->d.err, false);
		errno = c->d.err;
		return true;
	case SYS_ACT_DELAY: {
		struct timespec ts = { c->d.delay_ns / 1000000000LL, c->d.delay_ns % 1000000000LL };

		record(c, 0, 0, 0, false);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return false;
	}
	case SYS_ACT_CRASH_BEFORE:
		record(c, 0, 0, 0, true);
		die();
	default:
		return false;
	}
}

/* torn with rest: zeros: the len - kept bytes after the kept ones land as zeros, as
 * sectors that were allocated but never written read back. Returns how many did. */
static uint64_t zeros(const struct call *c, uint64_t kept)
{
	static const char z[4096];
	uint64_t done = 0;

	while (done < c->len - kept) {
		size_t n = c->len - kept - done < sizeof(z) ? c->len - kept - done : sizeof(z);
		ssize_t w = c->at_off ? real_pwrite(c->fd, z, n, c->off + (off_t)(kept + done)) :
					real_write(c->fd, z, n);

		if (w <= 0)
			break;
		done += (uint64_t)w;
	}
	return done;
}

/* After the real call returned r: records what reached the file, crashes if asked. */
static long after(const struct call *c, long r)
{
	int saved = errno;
	uint64_t zeroed = 0;

	if (c->d.action == SYS_ACT_ERRNO || c->d.action == SYS_ACT_DELAY)
		return r;
	if (c->d.zero_rest && r >= 0 && (uint64_t)r == c->d.keep && c->len > c->d.keep)
		zeroed = zeros(c, c->d.keep);
	record(c, c->d.action == SYS_ACT_CRASH_AFTER && !c->len ? 0 : r, zeroed, r < 0 ? saved : 0,
	       c->d.crash);
	if (c->d.crash)
		die();
	errno = saved;
	return r;
}

/* How many bytes of len the real call may write. */
static size_t cut(const struct call *c, size_t len)
{
	if (c->d.action == SYS_ACT_SHORT || c->d.action == SYS_ACT_TORN)
		return (size_t)c->d.keep;
	return len;
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct call c;

	if (!armed(SYS_CALL_WRITE) || !fd_call(&c, SYS_CALL_WRITE, fd, n, -1))
		return real_write(fd, buf, n);
	if (before(&c))
		return -1;
	return after(&c, real_write(fd, buf, cut(&c, n)));
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct call c;

	if (!armed(SYS_CALL_PWRITE) || !fd_call(&c, SYS_CALL_PWRITE, fd, n, off))
		return real_pwrite(fd, buf, n, off);
	if (before(&c))
		return -1;
	return after(&c, real_pwrite(fd, buf, cut(&c, n), off));
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	struct call c;

	if (!armed(SYS_CALL_PWRITE) || !fd_call(&c, SYS_CALL_PWRITE, fd, n, off))
		return real_pwrite64(fd, buf, n, off);
	if (before(&c))
		return -1;
	return after(&c, real_pwrite64(fd, buf, cut(&c, n), off));
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct iovec v[IOV_MAX];
	uint64_t len = 0, left;
	struct call c;
	int n = 0;

	if (!armed(SYS_CALL_WRITEV) || cnt < 0 || cnt > IOV_MAX)
		return real_writev(fd, iov, cnt);
	for (int i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	if (!fd_call(&c, SYS_CALL_WRITEV, fd, len, -1))
		return real_writev(fd, iov, cnt);
	if (before(&c))
		return -1;
	/* The first cut() bytes of the vector. */
	for (left = cut(&c, len); n < cnt && left; n++) {
		v[n] = iov[n];
		if (v[n].iov_len > left)
			v[n].iov_len = left;
		left -= v[n].iov_len;
	}
	return after(&c, real_writev(fd, v, n));
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct call c;

	if (!armed(SYS_CALL_READ) || !fd_call(&c, SYS_CALL_READ, fd, n, -1))
		return real_read(fd, buf, n);
	if (before(&c))
		return -1;
	return after(&c, real_read(fd, buf, n));
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct call c;

	if (!armed(SYS_CALL_PREAD) || !fd_call(&c, SYS_CALL_PREAD, fd, n, off))
		return real_pread(fd, buf, n, off);
	if (before(&c))
		return -1;
	return after(&c, real_pread(fd, buf, n, off));
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	struct call c;

	if (!armed(SYS_CALL_PREAD) || !fd_call(&c, SYS_CALL_PREAD, fd, n, off))
		return real_pread64(fd, buf, n, off);
	if (before(&c))
		return -1;
	return after(&c, real_pread64(fd, buf, n, off));
}

/* fsync, fdatasync, ftruncate: an fd and no buffer. */
static int fd_only(enum sys_call call, int fd, int (*real)(int, off_t), off_t arg)
{
	struct call c;

	if (!armed(call) || !fd_call(&c, call, fd, 0, -1))
		return real(fd, arg);
	if (before(&c))
		return -1;
	return (int)after(&c, real(fd, arg));
}

static int do_fsync(int fd, off_t unused)
{
	return real_fsync(fd);
}

static int do_fdatasync(int fd, off_t unused)
{
	return real_fdatasync(fd);
}

EXPORT int fsync(int fd)
{
	return fd_only(SYS_CALL_FSYNC, fd, do_fsync, 0);
}

EXPORT int fdatasync(int fd)
{
	return fd_only(SYS_CALL_FDATASYNC, fd, do_fdatasync, 0);
}

EXPORT int ftruncate(int fd, off_t len)
{
	return fd_only(SYS_CALL_FTRUNCATE, fd, real_ftruncate, len);
}

EXPORT int renameat(int d1, const char *p1, int d2, const char *p2)
{
	struct call c;

	if (!armed(SYS_CALL_RENAME) || !path_call(&c, SYS_CALL_RENAME, d1, p1, d2, p2))
		return real_renameat(d1, p1, d2, p2);
	if (before(&c))
		return -1;
	return (int)after(&c, real_renameat(d1, p1, d2, p2));
}

EXPORT int rename(const char *p1, const char *p2)
{
	return renameat(AT_FDCWD, p1, AT_FDCWD, p2);
}

EXPORT int unlink(const char *p)
{
	struct call c;

	if (!armed(SYS_CALL_UNLINK) || !path_call(&c, SYS_CALL_UNLINK, AT_FDCWD, p, 0, NULL))
		return real_unlink(p);
	if (before(&c))
		return -1;
	return (int)after(&c, real_unlink(p));
}

static int open_common(int (*real)(int, const char *, int, ...), int dirfd, const char *p,
		       int flags, mode_t mode)
{
	struct call c;

	if (!armed(SYS_CALL_OPENAT) || !path_call(&c, SYS_CALL_OPENAT, dirfd, p, 0, NULL))
		return real(dirfd, p, flags, mode);
	if (before(&c))
		return -1;
	return (int)after(&c, real(dirfd, p, flags, mode));
}

/* open and open64 through openat, which has the same effect. */
static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int openat(int dirfd, const char *p, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_common(real_openat, dirfd, p, flags, mode);
}

EXPORT int open(const char *p, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_common(real_openat, AT_FDCWD, p, flags, mode);
}

EXPORT int open64(const char *p, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_common(real_openat, AT_FDCWD, p, flags, mode);
}
