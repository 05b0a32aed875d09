/* The seccomp filter of syscall faults (filter.h): the one file that uses libseccomp.
 * libseccomp compiles the rules to classic BPF, exported into a memfd and read back as
 * plain data; the child installs that program with the raw seccomp(2) call. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux.h"
#include "faults/sys/filter.h"
#include "faults/sys/kcall.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static void ctx_release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

int sys_filter_probe(const char **why)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;

	if (sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		*why = errno == ENOSYS ?
			       "seccomp(2) is unavailable (a kernel without CONFIG_SECCOMP, "
			       "or running under valgrind, which does not emulate it)" :
			       "the kernel lacks seccomp user notification "
			       "(SECCOMP_RET_USER_NOTIF, Linux 5.0)";
		return -EOPNOTSUPP;
	}
	if (sys_pidfd_getfd(-1, 0, 0) < 0 && errno == ENOSYS) {
		*why = "the kernel lacks pidfd_getfd (Linux 5.6), needed for short and torn writes";
		return -EOPNOTSUPP;
	}
	if (seccomp_api_get() < 5) {
		*why = "libseccomp sees no user notification support (API level < 5)";
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Adds the NOTIFY rules of the calls rs names; records them in f. */
static int add_rules(scmp_filter_ctx ctx, const struct sys_rules *rs, struct sys_filter *f)
{
	const struct sys_kcall *k;
	size_t n;
	int r;

	for (size_t i = 0; i < rs->n; i++)
		f->calls |= rs->v[i].calls;
	k = sys_kcall_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (!(f->calls & (1u << k[i].call)))
			continue;
		if (f->n_trapped == ARRAY_SIZE(f->trapped))
			return -E2BIG;
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, (int)k[i].nr, 0);
		if (r < 0)
			return r;
		f->trapped[f->n_trapped++] = k[i].nr;
	}
#ifdef SYS_io_uring_setup
	if (rs->io_uring_enosys &&
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SYS_io_uring_setup, 0)) < 0)
		return r;
#endif
	f->io_uring_enosys = rs->io_uring_enosys;
	return 0;
}

/* The BPF program of ctx, read back from a memfd. */
static int export(scmp_filter_ctx ctx, struct sys_filter *f)
{
	_cleanup_close_ int fd = memfd_create("chaosdrill-seccomp", MFD_CLOEXEC);
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	f->insns = malloc((size_t)st.st_size);
	if (!f->insns)
		return -ENOMEM;
	if (pread(fd, f->insns, (size_t)st.st_size, 0) != st.st_size)
		return -EIO;
	f->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	return 0;
}

int sys_filter_build(const struct sys_rules *rs, struct sys_filter **out, struct cd_error *err)
{
	_cleanup_(ctx_release) scmp_filter_ctx ctx = NULL;
	struct sys_filter *f;
	const char *why;
	int r = sys_filter_probe(&why);

	if (r < 0)
		return cd_error_set(err, EOPNOTSUPP, "", 0, 0, "%s", why);
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return cd_error_set(err, ENOMEM, "", 0, 0, "libseccomp: seccomp_init failed");
	/* Other ABIs (x32, ia32 on x86-64) pass untouched rather than being killed. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	r = add_rules(ctx, rs, f);
	if (r >= 0 && f->n_trapped == 0)
		r = cd_error_set(err, EINVAL, "", 0, 0, "no rule names a call this kernel has");
	else if (r < 0)
		r = cd_error_set(err, -r, "", 0, 0, "libseccomp: adding a rule failed: %s",
				 strerror(-r));
	if (r >= 0 && (r = export(ctx, f)) < 0)
		r = cd_error_set(err, -r, "", 0, 0, "libseccomp: exporting the filter failed: %s",
				 strerror(-r));
	if (r < 0) {
		sys_filter_free(f);
		return r;
	}
	*out = f;
	return 0;
}

void sys_filter_free(struct sys_filter *f)
{
	if (!f)
		return;
	free(f->insns);
	free(f);
}

static int install(const struct sock_fprog *prog)
{
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER |
			      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	int fd = sys_seccomp(SECCOMP_SET_MODE_FILTER, (unsigned)flags, (void *)prog);

	if (fd < 0 && errno == EINVAL) {
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = sys_seccomp(SECCOMP_SET_MODE_FILTER, (unsigned)flags, (void *)prog);
	}
	return fd < 0 ? -errno : fd;
}

int sys_filter_install(const struct sys_filter *f)
{
	struct sock_fprog prog = { .len = f->len, .filter = f->insns };
	int fd = install(&prog);

	if (fd == -EACCES) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -errno;
		fd = install(&prog);
	}
	return fd;
}

int sys_fd_send(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int sys_fd_recv(int sock)
{
	char c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;
	int fd;

	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (n == 0 || !cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}
