/* The seccomp supervisor (supervisor.h): receives notifications with the raw
 * SECCOMP_IOCTL_NOTIF_* ioctls, describes each call from /proc and the caller's memory,
 * asks the rules, and acts. Actions that change a file on the caller's behalf (short, torn,
 * crash after) use a duplicate of the caller's fd (pidfd_getfd), so offsets and O_APPEND
 * behave as if the caller had made the call. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/errname.h"
#include "common/strbuf.h"
#include "common/linux.h"
#include "common/timeutil.h"
#include "faults/sys/kcall.h"
#include "faults/sys/supervisor.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#define NATIVE_ARCH 0 /* unknown: trust the filter, which is native-only */
#endif

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for one thread */
#endif

#define MAX_PENDING 64
#define MAX_IOV 1024
#define FD_DIRS 64 /* cached /proc/TID/fd directories, one slot per tid % FD_DIRS */

/* An open /proc/TID/fd: readlinkat on it skips the walk through /proc/TID on every call.
 * It stays bound to the thread it was opened for: once that thread is gone, lookups fail
 * and the slot is opened anew for whoever holds the tid then. */
struct fd_dir {
	pid_t tid;
	int dirfd;
};

struct pending {
	uint64_t id;
	int64_t due_ns;
};

struct sys_supervisor {
	int fd;
	int node_pidfd;
	const struct sys_rules *rules;
	uint64_t seed;
	const char *data_dir;
	uint64_t *counts;
	int64_t t0_ns;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	struct pending pend[MAX_PENDING];
	size_t n_pend;
	uint64_t seen, injected;
	bool disarmed; /* let everything run, count nothing (before the fault, after its heal) */
	struct call *call; /* the call being handled, reused: no allocation per call */
	struct fd_dir fd_dirs[FD_DIRS];
};

/* One call being handled. */
struct call {
	const struct sys_kcall *k;
	const struct seccomp_data *d;
	pid_t pid;
	char full[PATH_MAX], full2[PATH_MAX]; /* as the caller sees them; "" if none */
	struct iovec iov[MAX_IOV];	      /* the caller's iovec (remote addresses) */
	size_t n_iov;
};

int sys_supervisor_new(int listener_fd, int node_pidfd, const struct sys_rules *rules,
		       uint64_t seed, const char *data_dir, struct sys_supervisor **out)
{
	_cleanup_close_ int fd = listener_fd;
	struct seccomp_notif_sizes sz;
	struct sys_supervisor *s;

	if (sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return -errno;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->req_size = sz.seccomp_notif > sizeof(*s->req) ? sz.seccomp_notif : sizeof(*s->req);
	s->resp_size = sz.seccomp_notif_resp > sizeof(*s->resp) ? sz.seccomp_notif_resp :
								  sizeof(*s->resp);
	s->req = calloc(1, s->req_size);
	s->resp = calloc(1, s->resp_size);
	s->counts = calloc(rules->n ? rules->n : 1, sizeof(*s->counts));
	s->call = malloc(sizeof(*s->call));
	for (size_t i = 0; i < FD_DIRS; i++)
		s->fd_dirs[i] = (struct fd_dir){ 0, -1 };
	if (!s->req || !s->resp || !s->counts || !s->call) {
		s->fd = -1;
		sys_supervisor_free(s);
		return -ENOMEM;
	}
	/* best effort: a kernel before 6.6 just keeps its usual wake-ups */
	(void)sys_seccomp_sync_wakeup(fd);
	s->fd = TAKE_FD(fd);
	s->node_pidfd = node_pidfd;
	s->rules = rules;
	s->seed = seed;
	s->data_dir = data_dir;
	s->t0_ns = time_mono_ns();
	*out = s;
	return 0;
}

void sys_supervisor_free(struct sys_supervisor *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->req);
	free(s->resp);
	free(s->counts);
	free(s->call);
	for (size_t i = 0; i < FD_DIRS; i++)
		if (s->fd_dirs[i].dirfd >= 0)
			close(s->fd_dirs[i].dirfd);
	free(s);
}

int sys_supervisor_fd(const struct sys_supervisor *s)
{
	return s->fd;
}

void sys_supervisor_stats(const struct sys_supervisor *s, uint64_t *seen, uint64_t *injected)
{
	*seen = s->seen;
	*injected = s->injected;
}

int sys_supervisor_timeout_ms(const struct sys_supervisor *s)
{
	int64_t next = INT64_MAX, now = time_mono_ns();

	if (!s->n_pend)
		return -1;
	for (size_t i = 0; i < s->n_pend; i++)
		if (s->pend[i].due_ns < next)
			next = s->pend[i].due_ns;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* Answers a notification; a caller that went away (killed, interrupted) is no error. */
static int respond(struct sys_supervisor *s, uint64_t id, int err, int64_t val, uint32_t flags)
{
	memset(s->resp, 0, s->resp_size);
	s->resp->id = id;
	s->resp->error = err ? -err : 0;
	s->resp->val = val;
	s->resp->flags = flags;
	if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_SEND, s->resp) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int let_run(struct sys_supervisor *s, uint64_t id)
{
	return respond(s, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static bool id_valid(struct sys_supervisor *s, uint64_t id)
{
	return ioctl(s->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static int answer_due(struct sys_supervisor *s)
{
	int64_t now = time_mono_ns();
	size_t i = 0;
	int r;

	while (i < s->n_pend) {
		if (s->pend[i].due_ns > now) {
			i++;
			continue;
		}
		r = let_run(s, s->pend[i].id);
		s->pend[i] = s->pend[--s->n_pend];
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads len bytes of the caller's memory at addr. */
static int peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* A NUL-terminated string of the caller's, read up to page ends so an unmapped next page
 * does not fail the read. */
static int peek_string(pid_t pid, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		int r;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		r = peek(pid, addr + got, buf + got, chunk);
		if (r < 0)
			return r;
		buf[got + chunk] = '\0';
		if (memchr(buf + got, '\0', chunk))
			return 0;
		got += chunk;
	}
	return -ENAMETOOLONG;
}

static int read_link(pid_t pid, const char *what, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/%s", pid, what);
	n = readlink(p, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int fd_dir_open(struct fd_dir *d, pid_t tid)
{
	char p[64];

	if (d->dirfd >= 0)
		close(d->dirfd);
	snprintf(p, sizeof(p), "/proc/%d/fd", tid);
	d->tid = tid;
	d->dirfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return d->dirfd < 0 ? -errno : 0;
}

/* The path of the caller's fd, through its cached /proc/TID/fd (opened anew once when the
 * link cannot be read: the slot may belong to a thread that is gone). */
static int fd_path(struct sys_supervisor *s, pid_t tid, int fd, char *buf, size_t len)
{
	struct fd_dir *d = &s->fd_dirs[(unsigned)tid % FD_DIRS];
	char name[16];
	ssize_t n = -1;
	int r;

	snprintf(name, sizeof(name), "%d", fd);
	if (d->tid == tid && d->dirfd >= 0)
		n = readlinkat(d->dirfd, name, buf, len - 1);
	if (n < 0) {
		if ((r = fd_dir_open(d, tid)) < 0)
			return r;
		n = readlinkat(d->dirfd, name, buf, len - 1);
		if (n < 0)
			return -errno;
	}
	buf[n] = '\0';
	return 0;
}

/* The absolute path of a path argument, resolved against the caller's cwd or dirfd. */
static int arg_path(const struct call *c, int dir_arg, int path_arg, char *out, size_t len)
{
	char rel[PATH_MAX], base[PATH_MAX] = "/";
	int dirfd = dir_arg >= 0 ? (int)c->d->args[dir_arg] : AT_FDCWD;
	int r = peek_string(c->pid, c->d->args[path_arg], rel, sizeof(rel));

	if (r < 0)
		return r;
	if (rel[0] != '/') {
		char what[32];

		if (dirfd == AT_FDCWD)
			snprintf(what, sizeof(what), "cwd");
		else
			snprintf(what, sizeof(what), "fd/%d", dirfd);
		if ((r = read_link(c->pid, what, base, sizeof(base))) < 0)
			return r;
	}
	if (rel[0] == '/')
		snprintf(out, len, "%s", rel);
	else if (snprintf(out, len, "%s/%s", base, rel) >= (int)len)
		return -ENAMETOOLONG;
	sys_path_normalize(out);
	return 0;
}

/* Bytes the call asks for; reads the caller's iovec for the vector calls. */
static int call_len(struct call *c, uint64_t *len)
{
	uint64_t cnt = c->d->args[c->k->len];
	int r;

	*len = 0;
	if (!c->k->iov) {
		*len = cnt;
		return 0;
	}
	if (cnt > MAX_IOV)
		return -EINVAL;
	c->n_iov = cnt;
	r = peek(c->pid, c->d->args[c->k->buf], c->iov, cnt * sizeof(struct iovec));
	if (r < 0)
		return r;
	for (size_t i = 0; i < cnt; i++)
		*len += c->iov[i].iov_len;
	return 0;
}

static int describe(struct sys_supervisor *s, struct call *c, struct sys_call_info *info)
{
	const struct sys_kcall *k = c->k;
	int r;

	*info = (struct sys_call_info){ .call = k->call, .now_ns = time_mono_ns() - s->t0_ns };
	if (k->fd >= 0 && fd_path(s, c->pid, (int)c->d->args[k->fd], c->full, sizeof(c->full)) < 0)
		c->full[0] = '\0';
	if (k->path >= 0 && (r = arg_path(c, k->dir, k->path, c->full, sizeof(c->full))) < 0)
		return r;
	if (k->path2 >= 0 && (r = arg_path(c, k->dir2, k->path2, c->full2, sizeof(c->full2))) < 0)
		return r;
	info->path = c->full[0] ? sys_path_for_rules(s->data_dir, c->full) : NULL;
	info->path2 = c->full2[0] ? sys_path_for_rules(s->data_dir, c->full2) : NULL;
	if (k->buf >= 0 && (r = call_len(c, &info->len)) < 0)
		return r;
	return 0;
}

static void record(const struct sys_supervisor *s, const struct call *c,
		   const struct sys_call_info *info, const struct sys_decision *d,
		   struct sys_injection *inj)
{
	const struct sys_rule *r = &s->rules->v[d->rule];

	*inj = (struct sys_injection){
		.action = d->action,
		.rule = d->rule,
		.rule_line = r->line,
		.rule_col = r->col,
		.nth = d->nth,
		.pid = c->pid,
		.syscall = c->k->name,
		.call = c->k->call,
		.fd = c->k->fd >= 0 ? (int)c->d->args[c->k->fd] : -1,
		.offset = -1,
		.requested = info->len,
		.err = d->err,
		.delay_ns = d->delay_ns,
		.at_ns = time_mono_ns(),
	};
	snprintf(inj->path, sizeof(inj->path), "%s", info->path ? info->path : c->full);
	snprintf(inj->path2, sizeof(inj->path2), "%s", info->path2 ? info->path2 : c->full2);
	if (c->k->off >= 0 && (int64_t)c->d->args[c->k->off] >= 0)
		inj->offset = (int64_t)c->d->args[c->k->off];
}

static int kill_node(struct sys_supervisor *s, struct sys_injection *inj)
{
	if (sys_pidfd_send_signal(s->node_pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return -errno;
	inj->killed = true;
	return 0;
}

/* The thread group of thread tid, from /proc/TID/status; -errno if gone. */
static pid_t tgid_of(pid_t tid)
{
	char p[64], line[128];
	_cleanup_fclose_ FILE *f = NULL;
	long tgid = -1;

	snprintf(p, sizeof(p), "/proc/%d/status", tid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (tgid < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %ld", &tgid) != 1)
			tgid = -1;
	return tgid > 0 ? (pid_t)tgid : -ESRCH;
}

/* A pidfd of the calling thread. The notification names a thread, and pidfd_open refuses a
 * thread that leads no group (ENOENT) unless PIDFD_THREAD (Linux 6.9) says it is one; before
 * 6.9 the group's leader stands in (threads share its fd table, unless made with unshare). */
static int caller_pidfd(pid_t tid)
{
	int fd = sys_pidfd_open(tid, PIDFD_THREAD);
	pid_t tgid;

	if (fd >= 0 || errno != EINVAL)
		return fd < 0 ? -errno : fd;
	fd = sys_pidfd_open(tid, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	tgid = tgid_of(tid);
	if (tgid < 0)
		return tgid;
	fd = sys_pidfd_open(tgid, 0);
	return fd < 0 ? -errno : fd;
}

/* The caller's fd, duplicated into the supervisor (close-on-exec). */
static int grab_fd(struct sys_supervisor *s, const struct call *c)
{
	_cleanup_close_ int pidfd = caller_pidfd(c->pid);
	int fd;

	if (pidfd < 0)
		return pidfd;
	fd = sys_pidfd_getfd(pidfd, (int)c->d->args[c->k->fd], 0);
	if (fd < 0)
		return -errno;
	/* The pid may have been reused between RECV and pidfd_open. */
	if (!id_valid(s, s->req->id)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* Copies the first keep bytes of the caller's buffer (or iovec) into buf. */
static int gather(const struct call *c, void *buf, uint64_t keep)
{
	struct iovec remote[MAX_IOV], local = { .iov_base = buf, .iov_len = keep };
	size_t n = 0;
	uint64_t left = keep;
	ssize_t got;

	if (!keep)
		return 0;
	if (!c->k->iov) {
		remote[n++] = (struct iovec){ (void *)(uintptr_t)c->d->args[c->k->buf], keep };
	} else {
		for (size_t i = 0; i < c->n_iov && left; i++) {
			size_t take = c->iov[i].iov_len < left ? c->iov[i].iov_len : left;

			remote[n++] = (struct iovec){ c->iov[i].iov_base, take };
			left -= take;
		}
	}
	got = process_vm_readv(c->pid, &local, 1, remote, n, 0);
	if (got < 0)
		return -errno;
	return (uint64_t)got == keep ? 0 : -EFAULT;
}

/* len zero bytes at off of fd: the rest of a torn write that never reached the medium. */
static int write_zeros(int fd, int64_t off, uint64_t len, struct sys_injection *inj)
{
	static const char zeros[4096];

	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, off);

		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		inj->zeroed += (uint64_t)w;
		off += w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* Writes the first keep bytes of the call's buffer to its file, as the call would have,
 * and with zero_rest zeros for the rest of it. */
static int write_part(struct sys_supervisor *s, const struct call *c, uint64_t keep, bool zero_rest,
		      struct sys_injection *inj)
{
	_cleanup_close_ int fd = grab_fd(s, c);
	_cleanup_free_ char *buf = malloc(keep ? keep : 1);
	int64_t off = inj->offset;
	ssize_t n;
	int r;

	if (fd < 0)
		return fd;
	if (!buf)
		return -ENOMEM;
	if ((r = gather(c, buf, keep)) < 0)
		return r;
	if (off < 0) {
		off = lseek(fd, 0, SEEK_CUR);
		inj->offset = fcntl(fd, F_GETFL) & O_APPEND ? lseek(fd, 0, SEEK_END) : off;
		n = write(fd, buf, keep);
	} else {
		n = pwrite(fd, buf, keep, off);
	}
	if (n < 0)
		return -errno;
	inj->kept = (uint64_t)n;
	if (zero_rest && inj->requested > inj->kept)
		return write_zeros(fd, inj->offset + n, inj->requested - inj->kept, inj);
	return 0;
}

/* "/proc/PID/root" + path: the caller's file as the supervisor reaches it. */
static void via_root(const struct call *c, const char *path, char *out, size_t len)
{
	snprintf(out, len, "/proc/%d/root%s", c->pid, path);
}

/* The flags and mode of an open call, from its arguments (openat2: its struct open_how). */
static int open_args(const struct call *c, int *flags, mode_t *mode)
{
	const __u64 *a = c->d->args;
	uint64_t how[2];
	int r;

	switch (c->k->path == 0 ? 0 : 1) {
	case 0: /* open(path, flags, mode), creat(path, mode) */
#ifdef SYS_creat
		if (c->k->nr == SYS_creat) {
			*flags = O_CREAT | O_WRONLY | O_TRUNC;
			*mode = (mode_t)a[1];
			return 0;
		}
#endif
		*flags = (int)a[1];
		*mode = (mode_t)a[2];
		return 0;
	default: /* openat(dir, path, flags, mode), openat2(dir, path, how, size) */
		if (c->k->nr == SYS_openat) {
			*flags = (int)a[2];
			*mode = (mode_t)a[3];
			return 0;
		}
		if ((r = peek(c->pid, a[2], how, sizeof(how))) < 0)
			return r;
		*flags = (int)how[0];
		*mode = (mode_t)how[1];
		return 0;
	}
}

/* Makes a path call on the caller's behalf (crash: after). */
static int redo_path_call(const struct call *c)
{
	char a[PATH_MAX + 32], b[PATH_MAX + 32];
	const __u64 *args = c->d->args;
	mode_t mode;
	int fd, flags, r;

	via_root(c, c->full, a, sizeof(a));
	switch (c->k->call) {
	case SYS_CALL_OPENAT:
		if ((r = open_args(c, &flags, &mode)) < 0)
			return r;
		fd = open(a, flags | O_CLOEXEC, mode);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	case SYS_CALL_RENAME:
		via_root(c, c->full2, b, sizeof(b));
		return renameat2(AT_FDCWD, a, AT_FDCWD, b,
				 c->k->nr == SYS_renameat2 ? (unsigned)args[4] : 0) < 0 ?
			       -errno :
			       0;
	case SYS_CALL_UNLINK:
		return unlinkat(AT_FDCWD, a, c->k->nr == SYS_unlinkat ? (int)args[2] : 0) < 0 ?
			       -errno :
			       0;
	default:
		return -EOPNOTSUPP;
	}
}

/* Makes an fd call on the caller's behalf (crash: after). */
static int redo_fd_call(struct sys_supervisor *s, const struct call *c)
{
	_cleanup_close_ int fd = grab_fd(s, c);
	const __u64 *a = c->d->args;
	int r;

	if (fd < 0)
		return fd;
	switch (c->k->call) {
	case SYS_CALL_FSYNC:
		r = fsync(fd);
		break;
	case SYS_CALL_FDATASYNC:
		r = fdatasync(fd);
		break;
	case SYS_CALL_SYNC_FILE_RANGE:
		r = sync_file_range(fd, (off_t)a[1], (off_t)a[2], (unsigned)a[3]);
		break;
	case SYS_CALL_FTRUNCATE:
		r = ftruncate(fd, (off_t)a[1]);
		break;
	case SYS_CALL_FALLOCATE:
		r = fallocate(fd, (int)a[1], (off_t)a[2], (off_t)a[3]);
		break;
	default: /* reads change nothing durable */
		r = 0;
	}
	return r < 0 ? -errno : 0;
}

static int redo(struct sys_supervisor *s, const struct call *c, uint64_t len,
		struct sys_injection *inj)
{
	if (SYS_CALL_WRITES & (1u << c->k->call))
		return write_part(s, c, len, false, inj);
	if (c->k->fd >= 0)
		return redo_fd_call(s, c);
	return redo_path_call(c);
}

static int act(struct sys_supervisor *s, const struct call *c, const struct sys_decision *d,
	       struct sys_injection *inj)
{
	uint64_t id = s->req->id;
	int r = 0;

	switch (d->action) {
	case SYS_ACT_ERRNO:
		return respond(s, id, d->err, 0, 0);
	case SYS_ACT_DELAY:
		if (s->n_pend == MAX_PENDING)
			return let_run(s, id);
		s->pend[s->n_pend++] = (struct pending){ id, time_mono_ns() + d->delay_ns };
		return 0;
	case SYS_ACT_CRASH_BEFORE:
		break;
	case SYS_ACT_CRASH_AFTER:
		r = redo(s, c, inj->requested, inj);
		break;
	case SYS_ACT_SHORT:
	case SYS_ACT_TORN:
		r = write_part(s, c, d->keep, d->zero_rest, inj);
		break;
	case SYS_ACT_NONE:
		return let_run(s, id);
	}
	if (r < 0)
		inj->err = -r;
	if (d->crash && (r = kill_node(s, inj)) < 0)
		return r;
	/* Killed callers never see this answer; a short write that lives on does. */
	if (inj->err || inj->killed)
		return respond(s, id, inj->err ? inj->err : EIO, 0, 0);
	return respond(s, id, 0, (int64_t)inj->kept, 0);
}

static int receive(struct sys_supervisor *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return 0;
	memset(s->req, 0, s->req_size);
	if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_RECV, s->req) < 0)
		return errno == ENOENT || errno == EINTR ? 0 : -errno;
	return 1;
}

int sys_supervisor_handle(struct sys_supervisor *s, struct sys_injection *inj)
{
	struct call *c = s->call;
	struct sys_call_info info;
	struct sys_decision d;
	int r = answer_due(s);

	if (r < 0 || (r = receive(s)) <= 0)
		return r;
	if (s->disarmed)
		return let_run(s, s->req->id);
	s->seen++;
	c->d = &s->req->data;
	c->pid = (pid_t)s->req->pid;
	c->k = sys_kcall_find(c->d->nr);
	c->full[0] = c->full2[0] = '\0';
	c->n_iov = 0;
	/* A call let run needs no check that its caller is still there (answering a vanished
	 * one is harmless); one acted on does, after the reads that pid reuse could fool. */
	if ((NATIVE_ARCH && c->d->arch != NATIVE_ARCH) || !c->k || describe(s, c, &info) < 0 ||
	    !sys_decide(s->rules->v, s->rules->n, s->counts, s->seed, &info, &d) ||
	    !id_valid(s, s->req->id))
		return let_run(s, s->req->id);
	record(s, c, &info, &d, inj);
	s->injected++;
	r = act(s, c, &d, inj);
	return r < 0 ? r : 1;
}

void sys_supervisor_arm(struct sys_supervisor *s, bool armed)
{
	if (armed && s->disarmed)
		s->t0_ns = time_mono_ns(); /* `from:` rules count from the arming */
	s->disarmed = !armed;
}

void sys_injection_format(const struct sys_injection *inj, struct strbuf *sb)
{
	const char *e = errname_str(inj->err);

	strbuf_appendf(sb, "%s %s of %s", sys_action_name(inj->action), inj->syscall,
		       inj->path[0] ? inj->path : "?");
	if (inj->path2[0])
		strbuf_appendf(sb, " -> %s", inj->path2);
	if (inj->fd >= 0)
		strbuf_appendf(sb, " (fd %d)", inj->fd);
	if (inj->offset >= 0)
		strbuf_appendf(sb, " at offset %lld", (long long)inj->offset);
	if (inj->action == SYS_ACT_SHORT || inj->action == SYS_ACT_TORN ||
	    (inj->action == SYS_ACT_CRASH_AFTER && inj->requested))
		strbuf_appendf(sb, ": kept %llu of %llu bytes", (unsigned long long)inj->kept,
			       (unsigned long long)inj->requested);
	if (inj->zeroed)
		strbuf_appendf(sb, ", the other %llu landed as zeros",
			       (unsigned long long)inj->zeroed);
	if (inj->err)
		strbuf_appendf(sb, "%s %s",
			       inj->action == SYS_ACT_ERRNO ? ": failed with" : ": could not act:",
			       e ? e : strerror(inj->err));
	if (inj->action == SYS_ACT_DELAY)
		strbuf_appendf(sb, ": delayed %lldms", (long long)(inj->delay_ns / 1000000));
	if (inj->killed)
		strbuf_append(sb, ", node killed");
	strbuf_appendf(sb, " (rule %zu at line %d, call #%llu, pid %d)", inj->rule + 1,
		       inj->rule_line, (unsigned long long)inj->nth, (int)inj->pid);
}
