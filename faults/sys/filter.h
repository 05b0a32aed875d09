/* The seccomp filter of syscall faults, built as data, applied in the child. Only the
 * syscalls some rule names go to the supervisor (SECCOMP_RET_USER_NOTIF); io_uring_setup
 * fails with ENOSYS when the rules ask for it; everything else is allowed in the kernel.
 * The filter covers the native ABI only.
 *
 * Usage:
 *   struct sys_filter *f;  sys_filter_build(rules, &f, &err);   // harness, before fork
 *   socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
 *   // child, between fork and exec (async-signal-safe: no allocation, raw syscalls):
 *   fd = sys_filter_install(f);  sys_fd_send(sv[1], fd);  close(fd);  execve(...);
 *   // harness:
 *   listener = sys_fd_recv(sv[0]);   -> sys_supervisor_new(listener, ...)
 *   sys_filter_free(f);
 */
#ifndef CHAOSDRILL_FAULTS_SYS_FILTER_H
#define CHAOSDRILL_FAULTS_SYS_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "faults/sys/rule.h"

struct sock_filter;

struct sys_filter {
	struct sock_filter *insns; /* owned; a classic BPF program */
	unsigned short len;	   /* instructions */
	uint32_t calls;		   /* the call names trapped (1 << enum sys_call) */
	size_t n_trapped;	   /* kernel syscalls sent to the supervisor */
	long trapped[32];	   /* their numbers */
	bool io_uring_enosys;
};

/* Builds the filter of rs (borrowed). -EOPNOTSUPP (err says which) when the kernel or
 * libseccomp lacks user notification; -EINVAL when no rule names a call. Caller frees. */
int sys_filter_build(const struct sys_rules *rs, struct sys_filter **out, struct cd_error *err);
void sys_filter_free(struct sys_filter *f);

/* In the child: installs f and returns the listener fd (close-on-exec), or -errno. Without
 * CAP_SYS_ADMIN it sets no_new_privs first. Uses SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
 * (Linux 5.19) where the kernel has it, so signals do not restart a call being handled. */
int sys_filter_install(const struct sys_filter *f);

/* Passes fd over a unix socket (SCM_RIGHTS); 0 or -errno. Async-signal-safe. */
int sys_fd_send(int sock, int fd);
/* Receives one fd (close-on-exec) or -errno. */
int sys_fd_recv(int sock);

/* Whether the running kernel can send syscalls to a supervisor (seccomp user notification,
 * Linux 5.0; CONTINUE 5.5; pidfd_getfd 5.6): 0, or -EOPNOTSUPP with *why set. */
int sys_filter_probe(const char **why);

#endif
