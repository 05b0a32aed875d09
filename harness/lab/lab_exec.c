/* Helpers in the lab netns, and run-with-timeout with captured output for probes, recovery
 * `exec` steps and checkers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux.h"
#include "common/timeutil.h"
#include "harness/lab/lab_internal.h"

#define RUN_OUTPUT_MAX (1 << 20)

int lab_start_helper(struct lab *lab, struct proc_spec *spec, const struct lab_cmd *cmd, pid_t *pid,
		     int *pidfd)
{
	int r;

	spec->cgroup = lab->cgroup_exec;
	r = proc_start(lab, spec, cmd, pid, pidfd);
	if (r < 0)
		return r;
	r = lab_track(lab, *pid, *pidfd);
	return r < 0 ? lab_fail(-r, "track a helper") : 0;
}

int lab_exec(struct lab *lab, const struct lab_cmd *cmd, pid_t *pid, int *pidfd)
{
	struct proc_spec spec = { .join_pidfd = lab->holder_pidfd,
				  .pidns_pidfd = -1,
				  .join_flags = CLONE_NEWNET,
				  .new_pid = true,
				  .cwd = "/" };
	int r = lab_ready(lab);

	return r < 0 ? r : lab_start_helper(lab, &spec, cmd, pid, pidfd);
}

struct capture {
	char *buf;
	size_t len, cap;
};

/* Appends what is readable; returns 0 at EOF, 1 if more may come, -errno on error. */
static int capture_read(int fd, struct capture *c)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	if (c->len + (size_t)n + 1 > c->cap && c->len < RUN_OUTPUT_MAX) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		char *b;

		while (cap < c->len + (size_t)n + 1)
			cap *= 2;
		b = realloc(c->buf, cap);
		if (!b)
			return -ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	if (c->len + (size_t)n + 1 <= c->cap) {
		memcpy(c->buf + c->len, chunk, (size_t)n);
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
	}
	return 1;
}

/* Reads until EOF; at the deadline kills the helper (its pid namespace goes with it, so the
 * pipe then reaches EOF too). */
static int drain(int rd, int pidfd, pid_t pid, int64_t timeout_ns, struct capture *c,
		 bool *timed_out)
{
	int64_t deadline = time_mono_ns() + timeout_ns;
	struct pollfd p = { .fd = rd, .events = POLLIN };
	int r;

	for (;;) {
		int64_t left = deadline - time_mono_ns();
		int ms = timeout_ns < 0 || *timed_out ? -1 :
			 left > 0		      ? (int)(left / 1000000) + 1 :
							0;

		r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			r = capture_read(rd, c);
			if (r <= 0)
				return r;
		} else if (r == 0 && !*timed_out) {
			*timed_out = true;
			proc_signal(pidfd, pid, SIGKILL);
		}
	}
}

int lab_run(struct lab *lab, struct lab_node *node, const struct lab_cmd *cmd, int64_t timeout_ns,
	    struct lab_run_result *res)
{
	struct lab_cmd c = *cmd;
	struct capture cap = { 0 };
	_cleanup_close_ int rd = -1, wr = -1, pidfd = -1;
	int pipefd[2], r, r2;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return lab_fail(errno, "pipe");
	rd = pipefd[0];
	wr = pipefd[1];
	c.stdout_fd = c.stderr_fd = wr;
	r = node ? node_exec(node, &c, &pid, &pidfd) : lab_exec(lab, &c, &pid, &pidfd);
	if (r < 0)
		return r;
	close(TAKE_FD(wr));
	r = drain(rd, pidfd, pid, timeout_ns, &cap, &res->timed_out);
	if (r < 0)
		proc_signal(pidfd, pid, SIGKILL);
	r2 = lab_proc_wait(pidfd, -1, &res->status);
	if (r < 0 || r2 < 0) {
		free(cap.buf);
		return lab_fail(r < 0 ? -r : -r2, "run %s", cmd->argv[0]);
	}
	res->output = cap.buf ? cap.buf : strdup("");
	res->len = cap.len;
	return res->output ? 0 : lab_fail(ENOMEM, "run %s", cmd->argv[0]);
}
