/* Process creation for the lab: clone3 with a pidfd, the child's path from clone to execve
 * (cgroup, namespaces, /proc, fds, user, parent-death tie), helper tracking, waiting and
 * run-with-timeout. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux.h"
#include "common/timeutil.h"
#include "harness/lab/lab_internal.h"

/* struct clone_args as of Linux 5.7 (the size tells the kernel which fields we pass);
 * declared here because <linux/sched.h> clashes with glibc's <sched.h>. */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

#define CLONE_INTO_CGROUP_ 0x200000000ULL

static void child_signals_reset(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL); /* glibc-internal signals fail: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Three ways, best first: clone3 straight into the cgroup (no migration: writing
 * cgroup.procs takes a global rwsem whose writer waits for an RCU grace period, 10-15 ms);
 * clone3 without; clone(2) where clone3 is missing (valgrind). */
static long do_clone(unsigned long flags, int *pidfd, int cgroup_dirfd, bool *in_cgroup)
{
	struct clone_args_v2 ca = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	long r;

	if (cgroup_dirfd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP_;
		ca.cgroup = (uint64_t)cgroup_dirfd;
		*in_cgroup = true;
		r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r >= 0 || errno == ENOSYS)
			goto out;
		ca.flags &= ~CLONE_INTO_CGROUP_;
	}
	*in_cgroup = false;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
out:
	/* clone(2) argument order of x86-64 and arm64: flags, stack, parent_tid (the pidfd). */
	if (r < 0 && errno == ENOSYS) {
		*in_cgroup = false;
		r = syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, NULL, pidfd, NULL, NULL);
	}
	return r;
}

pid_t proc_clone(unsigned long flags, int *pidfd, int cgroup_dirfd,
		 int (*fn)(void *, bool in_cgroup), void *arg)
{
	sigset_t all, old;
	bool in_cgroup = false;
	long r;
	int saved;

	/* No harness signal handler may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = do_clone(flags, pidfd, cgroup_dirfd, &in_cgroup);
	if (r == 0) {
		child_signals_reset();
		_exit(fn(arg, in_cgroup));
	}
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return (pid_t)r;
}

void proc_close_fds(int lowfd, int keep)
{
	if (keep >= lowfd) {
		if (keep > lowfd)
			close_range((unsigned)lowfd, (unsigned)keep - 1, 0);
		lowfd = keep + 1;
	}
	if (close_range((unsigned)lowfd, ~0U, 0) < 0) {
		int fd;

		for (fd = lowfd; fd < 4096; fd++)
			if (fd != keep)
				close(fd);
	}
}

int proc_signal(int pidfd, pid_t pid, int sig)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0)
		return -EBADF;
	if (sys_pidfd_send_signal(pidfd, sig, NULL, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	if (pid <= 0 || poll(&p, 1, 0) != 0)
		return -ESRCH;
	return kill(pid, sig) < 0 ? -errno : 0;
}

int proc_tie_to_parent(int parent_pidfd)
{
	struct pollfd p = { .fd = parent_pidfd, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	/* The harness may have died before the prctl: its pidfd is then readable. */
	if (parent_pidfd >= 0 && poll(&p, 1, 0) != 0)
		return -ESRCH;
	return 0;
}

enum child_step {
	STEP_CGROUP = 1,
	STEP_SETNS,
	STEP_PROC,
	STEP_FDS,
	STEP_CHDIR,
	STEP_USER,
	STEP_PARENT,
	STEP_PRE_EXEC,
	STEP_EXEC,
};

static const char *const step_names[] = {
	[STEP_CGROUP] = "join its cgroup",
	[STEP_SETNS] = "join the namespaces (setns with a pidfd needs Linux 5.8)",
	[STEP_PROC] = "mount /proc for its pid namespace",
	[STEP_FDS] = "set up stdin/stdout/stderr",
	[STEP_CHDIR] = "change to its working directory",
	[STEP_USER] = "drop privileges to the user",
	[STEP_PARENT] = "tie itself to the harness",
	[STEP_PRE_EXEC] = "prepare for exec (pre_exec: e.g. install its seccomp filter)",
	[STEP_EXEC] = "execute the program",
};

/* send(2), not write(2): a seccomp filter installed by pre_exec may trap write, and its
 * supervisor is the harness, which is waiting for this very message. */
static _Noreturn void child_fail(int fd, int step)
{
	int msg[2] = { step, errno };

	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) < 0)
		_exit(126);
	_exit(127);
}

static int child_fds(const struct proc_spec *s)
{
	int tmp[3], i;

	/* Copy first: a source may sit on one of the targets 0..2. */
	for (i = 0; i < 3; i++) {
		tmp[i] = fcntl(s->fds[i], F_DUPFD_CLOEXEC, 3);
		if (tmp[i] < 0)
			return -1;
	}
	for (i = 0; i < 3; i++)
		if (dup2(tmp[i], i) < 0)
			return -1;
	/* Anything a library left without O_CLOEXEC must not reach the program. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	return 0;
}

static int exec_child(void *arg, bool in_cgroup)
{
	const struct proc_spec *s = arg;

	if (!in_cgroup && s->cgroup_fd >= 0 && write(s->cgroup_fd, "0", 1) < 0)
		child_fail(s->err_fd, STEP_CGROUP);
	if (s->join_pidfd >= 0 && setns(s->join_pidfd, s->join_flags) < 0)
		child_fail(s->err_fd, STEP_SETNS);
	if (s->new_pid &&
	    (unshare(CLONE_NEWNS) < 0 ||
	     mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	     mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0))
		child_fail(s->err_fd, STEP_PROC);
	if (child_fds(s) < 0)
		child_fail(s->err_fd, STEP_FDS);
	if (chdir(s->cwd) < 0)
		child_fail(s->err_fd, STEP_CHDIR);
	if (s->drop && (setgroups((size_t)s->ngroups, s->groups) < 0 || setgid(s->gid) < 0 ||
			setuid(s->uid) < 0))
		child_fail(s->err_fd, STEP_USER);
	/* After setuid: a credential change clears the parent-death signal. */
	if (proc_tie_to_parent(s->parent_pidfd) < 0)
		child_fail(s->err_fd, STEP_PARENT);
	if (s->pre_exec) {
		int r = s->pre_exec(s->pre_exec_ud);

		if (r < 0) {
			errno = -r;
			child_fail(s->err_fd, STEP_PRE_EXEC);
		}
	}
	execve(s->path, s->argv, s->envp);
	child_fail(s->err_fd, STEP_EXEC);
}

int lab_find_program(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/'))
		return snprintf(buf, len, "%s", name) < (int)len ? 0 : -ENAMETOOLONG;
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (snprintf(buf, len, "%.*s/%s", (int)(end - p), p, name) >= (int)len)
			continue;
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Resolved in the harness: NSS lookups are not safe between clone and execve. */
static int resolve_user(const char *user, struct proc_spec *s)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long uid = strtoul(user, &end, 10);
	int r;

	if (*user && !*end)
		r = getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res);
	else
		r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r != 0)
		return -r;
	if (!res)
		return -ESRCH;
	s->uid = pw.pw_uid;
	s->gid = pw.pw_gid;
	s->ngroups = (int)ARRAY_SIZE(s->groups);
	if (getgrouplist(pw.pw_name, pw.pw_gid, s->groups, &s->ngroups) < 0)
		return -E2BIG;
	s->drop = true;
	return 0;
}

static const char *const default_env[] = { LAB_DEFAULT_PATH, NULL };

/* Fills the exec fields of s from cmd; *devnull is opened when some fd asks for it. */
static int prepare(struct proc_spec *s, const struct lab_cmd *cmd, char *path, size_t len,
		   int *devnull)
{
	const int want[3] = { cmd->stdin_fd, cmd->stdout_fd, cmd->stderr_fd };
	int r, i;

	if (!cmd->argv || !cmd->argv[0])
		return lab_fail(EINVAL, "empty command");
	r = lab_find_program(cmd->argv[0], path, len);
	if (r < 0)
		return lab_fail(-r, "%s: not found in PATH", cmd->argv[0]);
	if (cmd->user && (r = resolve_user(cmd->user, s)) < 0)
		return lab_fail(-r, "user %s: unknown or unreadable", cmd->user);
	for (i = 0; i < 3; i++) {
		if (want[i] < 0 && *devnull < 0) {
			*devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (*devnull < 0)
				return lab_fail(errno, "open /dev/null");
		}
		s->fds[i] = want[i] >= 0 ? want[i] : *devnull;
	}
	s->path = path;
	s->argv = (char *const *)cmd->argv;
	s->envp = (char *const *)(cmd->envp ? cmd->envp : default_env);
	if (cmd->cwd)
		s->cwd = cmd->cwd;
	return 0;
}

int proc_start(struct lab *lab, struct proc_spec *s, const struct lab_cmd *cmd, pid_t *pid,
	       int *pidfd)
{
	_cleanup_close_ int devnull = -1, rd = -1, fd = -1, cg = -1, cgdir = -1, own_pidns = -1;
	char path[PATH_MAX];
	int pipefd[2], msg[2];
	ssize_t n;
	pid_t p;
	int r;

	r = prepare(s, cmd, path, sizeof(path), &devnull);
	if (r < 0)
		return r;
	if (s->cgroup && *s->cgroup) {
		cg = cgroup_procs_open(s->cgroup);
		if (cg < 0)
			return lab_fail(-cg, "open %s/cgroup.procs", s->cgroup);
		cgdir = cgroup_dir_open(lab->cg.kind, s->cgroup);
	}
	s->cgroup_fd = cg;
	s->cgroup_dirfd = cgdir;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pipefd) < 0)
		return lab_fail(errno, "socketpair");
	rd = pipefd[0];
	s->err_fd = pipefd[1];
	s->pre_exec = cmd->pre_exec;
	s->pre_exec_ud = cmd->pre_exec_ud;
	s->parent_pidfd = lab->self_pidfd;
	if (s->pidns_pidfd >= 0) {
		/* setns moves only the children into a pid namespace: this thread's, for the
		 * one clone below, then back to its own (its active one, /proc/self/ns/pid) */
		own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own_pidns < 0)
			return lab_fail(errno, "open /proc/self/ns/pid");
		if (setns(s->pidns_pidfd, CLONE_NEWPID) < 0)
			return lab_fail(errno, "join the pid namespace of the node for %s",
					cmd->argv[0]);
	}
	p = proc_clone(s->new_pid ? CLONE_NEWPID : 0, &fd, s->cgroup_dirfd, exec_child, s);
	r = errno;
	if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
		/* every later child would be born in the node: nothing more may start */
		lab_fail(errno, "return to the harness's own pid namespace");
		abort();
	}
	close(pipefd[1]);
	if (p < 0)
		return lab_fail(r, "clone %s (new pid namespace)", cmd->argv[0]);
	/* EOF: execve succeeded (the socket was close-on-exec). */
	while ((n = read(rd, msg, sizeof(msg))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(msg)) {
		waitid(P_PIDFD, (id_t)fd, &(siginfo_t){ 0 }, WEXITED);
		return lab_fail(msg[1], "%s could not %s", cmd->argv[0],
				step_names[msg[0] > 0 && msg[0] <= STEP_EXEC ? msg[0] : STEP_EXEC]);
	}
	*pid = p;
	*pidfd = TAKE_FD(fd);
	return 0;
}

int lab_track(struct lab *lab, pid_t pid, int pidfd)
{
	siginfo_t si;
	size_t i, j;
	int dup;

	/* Forget helpers somebody already reaped, so long drills do not pile up fds. */
	for (i = j = 0; i < lab->n_procs; i++) {
		struct lab_proc *h = &lab->procs[i];

		if (waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
		    errno == ECHILD) {
			close(h->pidfd);
			continue;
		}
		lab->procs[j++] = *h;
	}
	lab->n_procs = j;
	if (lab->n_procs == lab->cap_procs) {
		size_t cap = lab->cap_procs ? lab->cap_procs * 2 : 16;
		struct lab_proc *v = realloc(lab->procs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		lab->procs = v;
		lab->cap_procs = cap;
	}
	dup = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0)
		return -errno;
	lab->procs[lab->n_procs++] = (struct lab_proc){ .pid = pid, .pidfd = dup };
	return 0;
}

static int wait_status(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return (si->si_status & 0xff) << 8;
	return (si->si_status & 0x7f) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

int lab_proc_wait(int pidfd, int64_t timeout_ns, int *wstatus)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int64_t deadline = time_mono_ns() + timeout_ns;
	siginfo_t si = { 0 };
	int r;

	while (timeout_ns >= 0) {
		int64_t left = deadline - time_mono_ns();

		r = poll(&p, 1, left > 0 ? (int)((left + 999999) / 1000000) : 0);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 0 && left <= 0)
			return -ETIMEDOUT;
	}
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			return -errno;
	if (wstatus)
		*wstatus = wait_status(&si);
	return 0;
}
