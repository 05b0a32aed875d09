/* Helper processes during a drill (readiness probes, `exec` and `wait command` steps, the
 * target's checker): started in a node's namespaces or in the lab, output captured through
 * a pipe, watched through a pidfd, killed at their timeout; all on the event loop, so the
 * workload's clock never stalls behind them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/failpoint.h"
#include "common/linux.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

#define HELPER_OUTPUT_MAX (64 * 1024)
#define P_PIDFD_ 3 /* waitid's idtype for a pidfd (5.4); glibc 2.36 does not name it */
#define PROBE_ATTEMPT_MAX_NS (2 * NSEC_PER_SEC)

struct helper {
	struct helper *next, **pprev; /* in the run's list of helpers still running */
	struct drill_run *r;
	int pidfd, out_fd;
	pid_t pid;
	struct loop_op *timer, *rd;
	bool timed_out;
	struct strbuf out;
	helper_done_fn done;
	void *ud;
};

static void helper_link(struct drill_run *r, struct helper *h);
static void helper_unlink(struct helper *h);

static void drain(struct helper *h)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(h->out_fd, buf, sizeof(buf))) > 0)
		if (h->out.len < HELPER_OUTPUT_MAX)
			strbuf_appendn(&h->out, buf, (size_t)n);
}

static void on_output(struct loop *l, void *ud, int res)
{
	struct helper *h = ud;

	h->rd = NULL;
	drain(h);
	if (res > 0 && !(res & (POLLHUP | POLLERR)))
		loop_poll(l, h->out_fd, POLLIN, on_output, h, &h->rd);
}

static void on_exit_cb(struct loop *l, void *ud, int res)
{
	struct helper *h = ud;
	int status = 0;

	if (lab_proc_wait(h->pidfd, 0, &status) == -ETIMEDOUT) {
		loop_poll(l, h->pidfd, POLLIN, on_exit_cb, h, NULL);
		return;
	}
	loop_cancel(l, h->timer);
	loop_cancel(l, h->rd);
	drain(h); /* the helper's pid namespace is gone: every writer is closed */
	helper_unlink(h);
	close(h->pidfd);
	close(h->out_fd);
	h->done(h->r, h->ud, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		h->timed_out, h->out.buf ? h->out.buf : "");
	strbuf_release(&h->out);
	free(h);
}

static void on_timeout(struct loop *l, void *ud, int res)
{
	struct helper *h = ud;

	h->timer = NULL;
	h->timed_out = true;
	/* its pid namespace dies with it; kill(2) where pidfd_send_signal is missing is safe
	 * because the helper is not reaped yet, so its pid cannot have been reused */
	if (sys_pidfd_send_signal(h->pidfd, SIGKILL, NULL, 0) < 0 && errno == ENOSYS)
		kill(h->pid, SIGKILL);
}

static int start(struct drill_run *r, struct run_node *node, char *const *argv, int64_t timeout_ns,
		 bool node_pids, helper_done_fn done, void *ud)
{
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct helper *h = calloc(1, sizeof(*h));
	int p[2], k;

	if (!h)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(h);
		return -errno;
	}
	cmd.argv = (const char *const *)argv;
	cmd.stdout_fd = cmd.stderr_fd = p[1];
	cmd.node_pids = node_pids;
	if (node) { /* helpers on a node run as its user, in its environment */
		cmd.user = run_node_target(node)->user;
		cmd.envp = run_node_envp(node);
	}
	k = node ? node_exec(run_node_lab(node), &cmd, &h->pid, &h->pidfd) :
		   lab_exec(r->lab, &cmd, &h->pid, &h->pidfd);
	close(p[1]);
	if (k < 0) {
		close(p[0]);
		free(h);
		return k;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*h = (struct helper){
		.r = r, .pidfd = h->pidfd, .pid = h->pid, .out_fd = p[0], .done = done, .ud = ud
	};
	helper_link(r, h);
	loop_poll(r->loop, h->out_fd, POLLIN, on_output, h, &h->rd);
	loop_poll(r->loop, h->pidfd, POLLIN, on_exit_cb, h, NULL);
	if (timeout_ns >= 0)
		loop_timer_at(r->loop, time_mono_ns() + timeout_ns, on_timeout, h, &h->timer);
	return 0;
}

int helper_start(struct drill_run *r, struct run_node *node, char *const *argv, int64_t timeout_ns,
		 helper_done_fn done, void *ud)
{
	return start(r, node, argv, timeout_ns, false, done, ud);
}

int helper_start_exec(struct drill_run *r, struct run_node *node, char *const *argv,
		      int64_t timeout_ns, helper_done_fn done, void *ud)
{
	return start(r, node, argv, timeout_ns, true, done, ud);
}

struct probe_loop {
	struct probe_loop *next, **pprev; /* in the run's list of probes still trying */
	struct drill_run *r;
	struct run_node *n; /* NULL: in the lab */
	char *const *argv;  /* borrowed */
	bool readiness;
	int64_t deadline; /* monotonic */
	int64_t tried;	  /* monotonic: when the current attempt started */
	helper_done_fn done;
	void *ud;
};

/* The readiness probes' record, this file's alone: when they passed (for RTO: the outage
 * ends only after the probe passed again), per target (a target's outage waits for its
 * own nodes' probes), and how long the longest try took. */
struct probe_passes {
	int64_t *passes; /* drill clock, in order */
	size_t n, cap;
};

struct run_probes {
	struct probe_passes *t; /* [n_t]: one per target */
	size_t n_t;
	int64_t took_max_ns;
	/* What is in flight on the loop. A drill interrupted (or failed) while a probe or a
	 * helper runs leaves the loop with their callbacks never called: freed here. */
	struct helper *helpers;
	struct probe_loop *loops;
};

static void helper_link(struct drill_run *r, struct helper *h)
{
	if (!r->probes)
		return;
	h->next = r->probes->helpers;
	if (h->next)
		h->next->pprev = &h->next;
	h->pprev = &r->probes->helpers;
	r->probes->helpers = h;
}

static void helper_unlink(struct helper *h)
{
	if (!h->pprev)
		return;
	*h->pprev = h->next;
	if (h->next)
		h->next->pprev = h->pprev;
	h->next = NULL;
	h->pprev = NULL;
}

static void loop_link(struct drill_run *r, struct probe_loop *p)
{
	if (!r->probes)
		return;
	p->next = r->probes->loops;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = &r->probes->loops;
	r->probes->loops = p;
}

static void loop_unlink(struct probe_loop *p)
{
	if (!p->pprev)
		return;
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->next = NULL;
	p->pprev = NULL;
}

/* After the loop is gone: the helper is killed (if its namespace did not take it along)
 * and reaped where it is our child and already dead, its fds closed. */
static void helper_abandon(struct helper *h)
{
	siginfo_t si;

	helper_unlink(h);
	sys_pidfd_send_signal(h->pidfd, SIGKILL, NULL, 0);
	/* ECHILD: not ours to reap; not dead yet: a zombie until we exit, never a hang */
	waitid((idtype_t)P_PIDFD_, (id_t)h->pidfd, &si, WEXITED | WNOHANG);
	close(h->pidfd);
	close(h->out_fd);
	strbuf_release(&h->out);
	free(h);
}

int run_probes_new(struct drill_run *r)
{
	size_t n = r->n_wls ? r->n_wls : 1;

	r->probes = calloc(1, sizeof(*r->probes));
	if (!r->probes)
		return -ENOMEM;
	r->probes->t = calloc(n, sizeof(*r->probes->t));
	if (!r->probes->t) {
		free(r->probes);
		r->probes = NULL;
		return -ENOMEM;
	}
	r->probes->n_t = n;
	return 0;
}

void run_probes_free(struct drill_run *r)
{
	while (r->probes && r->probes->helpers)
		helper_abandon(r->probes->helpers);
	while (r->probes && r->probes->loops) {
		struct probe_loop *p = r->probes->loops;

		loop_unlink(p);
		free(p);
	}
	for (size_t i = 0; r->probes && i < r->probes->n_t; i++)
		free(r->probes->t[i].passes);
	if (r->probes)
		free(r->probes->t);
	free(r->probes);
	r->probes = NULL;
}

/* Those of the current target's nodes (run_select). */
const int64_t *run_probe_passes(const struct drill_run *r, size_t *n)
{
	const struct probe_passes *p =
		r->probes && r->cur < r->probes->n_t ? &r->probes->t[r->cur] : NULL;

	*n = p ? p->n : 0;
	return p ? p->passes : NULL;
}

int64_t run_probe_took_max(const struct drill_run *r)
{
	return r->probes ? r->probes->took_max_ns : 0;
}

static void pass_recorded(struct drill_run *r, struct run_node *n, int64_t t)
{
	size_t i = run_node_spec(n)->target;
	struct probe_passes *p = r->probes && i < r->probes->n_t ? &r->probes->t[i] : NULL;

	if (!p)
		return;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		int64_t *v = realloc(p->passes, cap * sizeof(*v));

		if (!v)
			return; /* a pass not recorded only delays the end of an outage */
		p->passes = v;
		p->cap = cap;
	}
	p->passes[p->n++] = t;
}

static void probe_attempt(struct probe_loop *p);

static void finish_probe(struct probe_loop *p, int status, bool timed_out, const char *out)
{
	loop_unlink(p);
	p->done(p->r, p->ud, status, timed_out, out);
	free(p);
}

static void on_retry(struct loop *l, void *ud, int res)
{
	probe_attempt(ud);
}

static void on_probe(struct drill_run *r, void *ud, int status, bool timed_out, const char *out)
{
	struct probe_loop *p = ud;
	int64_t now = time_mono_ns();
	bool down = p->readiness && run_node_pidfd(p->n) < 0;

	if (p->readiness && r->probes &&
	    now - p->tried > r->probes->took_max_ns) /* its lag adds to the RTO's error */
		r->probes->took_max_ns = now - p->tried;

	if (status == 0 && !timed_out && !p->readiness) {
		finish_probe(p, 0, false, out);
		return;
	}
	if (status == 0 && !timed_out) {
		int64_t t = run_now(r);

		timeline_add(r->tl, t, TL_PROBE_OK, -1, run_node_name(p->n), 0, NULL);
		pass_recorded(r, p->n, t);
		finish_probe(p, 0, false, out);
		return;
	}
	if (down || now + PROBE_INTERVAL_NS >= p->deadline) {
		if (p->readiness)
			timeline_add(r->tl, run_now(r), TL_PROBE_FAILED, -1, run_node_name(p->n),
				     status, "%s",
				     down ? "the node is not running" : "gave up at the timeout");
		finish_probe(p, status ? status : 1, !down, down ? "the node is not running" : out);
		return;
	}
	if (loop_timer_at(r->loop, now + PROBE_INTERVAL_NS, on_retry, p, NULL) < 0)
		finish_probe(p, 1, false, "cannot schedule the next probe");
}

static void probe_attempt(struct probe_loop *p)
{
	int64_t left = p->deadline - time_mono_ns();
	int k;

	p->tried = time_mono_ns();
	if (p->readiness && run_node_pidfd(p->n) < 0) {
		on_probe(p->r, p, 1, false, "the node is not running");
		return;
	}
	k = failpoint("probe.start", -EAGAIN);
	if (k >= 0)
		k = helper_start(p->r, p->n, p->argv,
				 left < PROBE_ATTEMPT_MAX_NS ? left : PROBE_ATTEMPT_MAX_NS,
				 on_probe, p);
	if (k < 0)
		finish_probe(p, 1, false, strerror(-k));
}

int probe_until(struct drill_run *r, struct run_node *n, char *const *argv, bool readiness,
		int64_t timeout_ns, helper_done_fn done, void *ud)
{
	struct probe_loop *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*p = (struct probe_loop){ .r = r,
				  .n = n,
				  .argv = argv,
				  .readiness = readiness,
				  .deadline = time_mono_ns() + timeout_ns,
				  .done = done,
				  .ud = ud };
	loop_link(r, p);
	probe_attempt(p);
	return 0;
}

int probe_until_ready(struct drill_run *r, struct run_node *n, int64_t timeout_ns,
		      helper_done_fn done, void *ud)
{
	return probe_until(r, n, run_node_probe_argv(n), true, timeout_ns, done, ud);
}
