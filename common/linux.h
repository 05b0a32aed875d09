/* Raw syscalls that glibc 2.36 lacks or wraps unevenly, as static inline wrappers.
 * Each returns what the kernel returns (-1 with errno set); ENOSYS where the kernel or
 * headers do not know the call, so callers can detect and fall back. */
#ifndef CHAOSDRILL_COMMON_LINUX_H
#define CHAOSDRILL_COMMON_LINUX_H

#include <errno.h>
#include <signal.h>
#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static inline int sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static inline int sys_pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
#ifdef SYS_pidfd_getfd
	return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, flags);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static inline int sys_seccomp(unsigned int op, unsigned int flags, void *args)
{
#ifdef SYS_seccomp
	return (int)syscall(SYS_seccomp, op, flags, args);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* Linux 6.6: the target's wake-up of the supervisor (and back) switches on the same CPU
 * instead of going through the scheduler's idle paths: the seccomp notify round trip gets
 * cheaper. Older kernels: -1 with EINVAL or ENOTTY, and nothing changes. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
static inline int sys_seccomp_sync_wakeup(int listener_fd)
{
	return ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		     SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

#endif
