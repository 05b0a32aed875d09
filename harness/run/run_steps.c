/* The fault schedule and the recovery runbook during a drill: faults injected and healed
 * on timers, recovery steps run one after another, each timed and in the timeline.
 *
 * Its state is this file's alone (struct run_sched): what each fault and step did, the
 * variables of the steps' argv and the argv themselves (alive as long as their helpers).
 * The report reads the results through run_fault_result(), run_step_result() and
 * run_recovered_ns(). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

#define TCP_RETRY_NS (50 * NSEC_PER_MSEC)
#define TCP_ATTEMPT_NS (500 * NSEC_PER_MSEC)
#define RESTART_WAIT_NS (5 * NSEC_PER_SEC)

struct run_sched {
	struct fault_run *faults;  /* [d->n_faults] */
	struct step_run *steps;	   /* [d->n_steps] */
	int64_t recovered_ns;	   /* drill clock when the last step ended, -1 before */
	struct template_vars vars; /* {bin}, {run}, {NODE.addr}, {NODE.port}, ... */
	char **owned;		   /* names and values of vars */
	size_t n_owned;
	char ***argv; /* expanded argv of steps, alive until the run ends */
	size_t n_argv;
};

int run_sched_new(struct drill_run *r)
{
	struct run_sched *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	r->sched = s;
	s->recovered_ns = -1;
	s->faults = calloc(r->d->n_faults + 1, sizeof(*s->faults));
	s->steps = calloc(r->d->n_steps + 1, sizeof(*s->steps));
	return s->faults && s->steps ? 0 : -ENOMEM;
}

void run_sched_free(struct drill_run *r)
{
	struct run_sched *s = r->sched;

	if (!s)
		return;
	for (size_t i = 0; s->faults && i < r->d->n_faults; i++) {
		free(s->faults[i].what);
		free(s->faults[i].heal_what);
		free(s->faults[i].heal_timer); /* never fired: the drill ended first */
	}
	for (size_t i = 0; s->steps && i < r->d->n_steps; i++) {
		free(s->steps[i].message);
		strbuf_release(&s->steps[i].output);
	}
	free(s->faults);
	free(s->steps);
	for (size_t i = 0; i < s->n_owned; i++)
		free(s->owned[i]);
	free(s->owned);
	for (size_t i = 0; i < s->n_argv; i++)
		template_argv_free(s->argv[i]);
	free(s->argv);
	template_vars_release(&s->vars);
	free(s);
	r->sched = NULL;
}

const struct fault_run *run_fault_result(const struct drill_run *r, size_t i)
{
	return r->sched && r->sched->faults ? &r->sched->faults[i] : NULL;
}

const struct step_run *run_step_result(const struct drill_run *r, size_t i)
{
	return r->sched && r->sched->steps ? &r->sched->steps[i] : NULL;
}

int64_t run_recovered_ns(const struct drill_run *r)
{
	return r->sched ? r->sched->recovered_ns : -1;
}

static int own(struct run_sched *s, char *str)
{
	char **v;

	if (!str)
		return -ENOMEM;
	v = realloc(s->owned, (s->n_owned + 1) * sizeof(*v));
	if (!v) {
		free(str);
		return -ENOMEM;
	}
	s->owned = v;
	v[s->n_owned++] = str;
	return 0;
}

/* Variables of recovery steps' argv: {bin}, {run}, {nodes}, {timeout_ms}, {NODE.addr},
 * {NODE.port}, {NODE.hostport} (with several targets, {bin}, {nodes} and {timeout_ms}
 * are the first target's unless the step names a node: step_vars). */
int run_sched_vars(struct drill_run *r)
{
	struct run_sched *s = r->sched;
	int k = template_set(&s->vars, "bin", r->d->target->bin_dir);

	k |= template_set(&s->vars, "targets_bin", target_bin_root());
	k |= template_set(&s->vars, "run", r->run_dir);
	if (run_node_count(r)) { /* the same for every node: steps in the lab have them too */
		k |= template_set(&s->vars, "nodes",
				  template_get(run_node_vars(run_node_at(r, 0)), "nodes"));
		k |= template_set(&s->vars, "timeout_ms",
				  template_get(run_node_vars(run_node_at(r, 0)), "timeout_ms"));
	}
	for (size_t i = 0; i < run_node_count(r) && k >= 0; i++) {
		const struct run_node *n = run_node_at(r, i);
		const char *addr = run_node_addr(n), *port = run_node_port(n);
		char *name, *hp;
		int a;

		a = asprintf(&name, "%s.addr", run_node_name(n));
		k = own(s, a < 0 ? NULL : name);
		k |= template_set(&s->vars, name, addr);
		a = asprintf(&name, "%s.port", run_node_name(n));
		k |= own(s, a < 0 ? NULL : name);
		k |= template_set(&s->vars, name, port);
		a = asprintf(&name, "%s.hostport", run_node_name(n));
		k |= own(s, a < 0 ? NULL : name);
		a = asprintf(&hp, "%s:%s", addr, port);
		k |= own(s, a < 0 ? NULL : hp);
		k |= template_set(&s->vars, name, hp);
	}
	return k ? -ENOMEM : 0;
}

struct fault_timer {
	struct drill_run *r;
	size_t i;
};

static void on_heal(struct loop *l, void *ud, int res)
{
	struct fault_timer *ft = ud;
	struct drill_run *r = ft->r;
	const struct drill_fault *df = &r->d->faults[ft->i];
	struct fault_run *f = &r->sched->faults[ft->i];
	struct strbuf what = STRBUF_INIT;
	int k = df->ops->heal(df->state, &r->env, &what);

	f->healed_ns = run_now(r);
	f->healed = k >= 0;
	if (k < 0) {
		f->failed = true;
		f->error = k;
		timeline_add(r->tl, f->healed_ns, TL_FAULT_FAILED, (int)ft->i,
			     df->ops->node(df->state), k, "heal failed: %s", strerror(-k));
		run_say(r, f->healed_ns, "heal of fault %zu (%s) FAILED: %s", ft->i + 1,
			df->sf->kind, strerror(-k));
	} else {
		f->heal_what = strbuf_detach(&what);
		timeline_add(r->tl, f->healed_ns, TL_FAULT_HEALED, (int)ft->i,
			     df->ops->node(df->state), 0, "%s", f->heal_what);
		run_say(r, f->healed_ns, "heal %s: %s", df->sf->kind, f->heal_what);
	}
	strbuf_release(&what);
	f->heal_timer = NULL;
	free(ft);
}

/* Injects fault i now (the caller waited for its time) and arms its heal. */
static void run_fault_inject(struct drill_run *r, size_t i)
{
	const struct drill_fault *df = &r->d->faults[i];
	struct fault_run *f = &r->sched->faults[i];
	struct strbuf what = STRBUF_INIT;
	struct fault_timer *ft;
	int k = df->ops->inject(df->state, &r->env, &what);
	int64_t heal_at;

	f->injected_ns = run_now(r);
	if (k < 0) {
		const char *why = k == -ESRCH ? "no effect: the node was not running" :
						strerror(-k);

		f->failed = true;
		f->error = k;
		if (what.len) /* the fault said what went wrong: keep it, with the errno's text */
			strbuf_appendf(&what, " (%s)", why);
		else
			strbuf_appendf(&what, "%s", why);
		f->what = strbuf_detach(&what);
		timeline_add(r->tl, f->injected_ns, TL_FAULT_FAILED, (int)i,
			     df->ops->node(df->state), k, "%s", f->what);
		run_say(r, f->injected_ns, "fault %s FAILED: %s", df->sf->kind, f->what);
		return;
	}
	f->injected = true;
	f->what = strbuf_detach(&what);
	timeline_add(r->tl, f->injected_ns, TL_FAULT_INJECTED, (int)i, df->ops->node(df->state), 0,
		     "%s", f->what);
	run_say(r, f->injected_ns, "fault %s: %s", df->sf->kind, f->what);
	if (!df->sf->has_heal || !(ft = calloc(1, sizeof(*ft))))
		return;
	*ft = (struct fault_timer){ r, i };
	heal_at = df->sf->heal_is_after ? f->injected_ns + df->sf->heal_ns :
					  r->steady_ns + df->sf->heal_ns;
	if (loop_timer_at(r->loop, r->t0 + heal_at, on_heal, ft, NULL) < 0)
		free(ft);
	else
		f->heal_timer = ft;
}

static bool run_faults_all_in(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->d->n_faults; i++)
		if (!r->sched->faults[i].injected && !r->sched->faults[i].failed)
			return false;
	return true;
}

bool run_faults_all_healed(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct fault_run *f = &r->sched->faults[i];

		if (r->d->faults[i].sf->has_heal && f->injected && !f->healed && !f->failed)
			return false;
	}
	return run_faults_all_in(r, arg);
}

static void step_end(struct drill_run *r, size_t i, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

const char *step_word(const struct drill_run *r, size_t i)
{
	return r->d->steps[i].ss->fault == SCENARIO_ACTION ? "action" : "step";
}

/* A step's number as the drill's output says it: recovery steps in the drill's order,
 * actions among the actions. */
size_t step_number(const struct drill_run *r, size_t i)
{
	size_t n = 1;

	if (r->d->steps[i].ss->fault != SCENARIO_ACTION)
		return i + 1;
	for (size_t j = 0; j < i; j++)
		n += r->d->steps[j].ss->fault == SCENARIO_ACTION;
	return n;
}

static void step_end(struct drill_run *r, size_t i, bool ok, const char *fmt, ...)
{
	struct step_run *s = &r->sched->steps[i];
	char dur[32];
	va_list ap;

	if (s->state != STEP_RUNNING)
		return;
	s->end_ns = run_now(r);
	s->state = ok ? STEP_OK : STEP_FAILED;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&s->message, fmt, ap) < 0)
			s->message = NULL;
		va_end(ap);
	}
	timeline_add(r->tl, s->end_ns, TL_STEP_ENDED, (int)i, r->d->steps[i].spec.node, ok ? 0 : 1,
		     "%s", s->message ? s->message : "ok");
	units_format_duration(s->end_ns - s->start_ns, dur, sizeof(dur));
	run_say(r, s->end_ns, "%s %zu %s %s (%s)%s%s", step_word(r, i), step_number(r, i),
		r->d->steps[i].ss->kind, ok ? "ok" : "FAILED", dur, s->message ? ": " : "",
		s->message ? s->message : "");
}

/* The last non-empty line of a step's output (what a failing check says last), at most
 * 300 bytes of it: its start, *len its length; NULL when there is none. */
static const char *last_line(const char *out, size_t *len)
{
	const char *end, *start;

	*len = 0;
	if (!out)
		return NULL;
	end = out + strlen(out);
	while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (end == out)
		return NULL;
	start = end;
	while (start > out && start[-1] != '\n')
		start--;
	*len = (size_t)(end - start) > 300 ? 300 : (size_t)(end - start);
	return start;
}

static void on_step_helper(struct drill_run *r, void *ud, int status, bool timed_out,
			   const char *out)
{
	const char *line;
	size_t len;

	size_t i = (size_t)(uintptr_t)ud;
	const struct step_spec *sp = &r->d->steps[i].spec;
	struct step_run *s = &r->sched->steps[i];

	strbuf_append(&s->output, out ? out : "");
	if (sp->kind == STEP_EXEC) {
		if (timed_out)
			step_end(r, i, false, "timed out and was killed");
		else if (status != sp->exit_code && (line = last_line(out, &len)))
			step_end(r, i, false, "exit %d, expected %d: %.*s", status, sp->exit_code,
				 (int)len, line);
		else if (status != sp->exit_code)
			step_end(r, i, false, "exit %d, expected %d", status, sp->exit_code);
		else
			step_end(r, i, true, NULL);
		return;
	}
	if (status == 0 && !timed_out)
		step_end(r, i, true, NULL);
	else
		step_end(r, i, false, "%s", out && *out ? out : "timed out");
}

struct step_timer {
	struct drill_run *r;
	size_t i;
};

static void on_sleep(struct loop *l, void *ud, int res)
{
	struct step_timer st = *(struct step_timer *)ud;

	free(ud);
	step_end(st.r, st.i, true, NULL);
}

struct tcp_wait {
	struct drill_run *r;
	size_t i;
	int fd;
	int64_t deadline; /* monotonic */
	struct loop_op *poll, *timer;
	struct sockaddr_in sa;
};

static void tcp_attempt(struct tcp_wait *t);

static void tcp_done(struct tcp_wait *t, bool ok)
{
	if (t->fd >= 0)
		close(t->fd);
	step_end(t->r, t->i, ok, ok ? NULL : "no TCP connection before the timeout");
	free(t);
}

static void tcp_retry(struct loop *l, void *ud, int res)
{
	tcp_attempt(ud);
}

static void tcp_next(struct tcp_wait *t)
{
	int64_t next = time_mono_ns() + TCP_RETRY_NS;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (next >= t->deadline || loop_timer_at(t->r->loop, next, tcp_retry, t, NULL) < 0)
		tcp_done(t, false);
}

static void tcp_writable(struct loop *l, void *ud, int res)
{
	struct tcp_wait *t = ud;
	int err = 0;
	socklen_t len = sizeof(err);

	t->poll = NULL;
	loop_cancel(l, t->timer);
	if (res > 0 && getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
		tcp_done(t, true);
	else
		tcp_next(t);
}

static void tcp_attempt_timeout(struct loop *l, void *ud, int res)
{
	struct tcp_wait *t = ud;

	t->timer = NULL;
	loop_cancel(l, t->poll);
	tcp_next(t);
}

static void tcp_attempt(struct tcp_wait *t)
{
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || (connect(t->fd, (struct sockaddr *)&t->sa, sizeof(t->sa)) < 0 &&
			  errno != EINPROGRESS)) {
		tcp_next(t);
		return;
	}
	loop_poll(t->r->loop, t->fd, POLLOUT, tcp_writable, t, &t->poll);
	loop_timer_at(t->r->loop, time_mono_ns() + TCP_ATTEMPT_NS, tcp_attempt_timeout, t,
		      &t->timer);
}

static int start_tcp_wait(struct drill_run *r, size_t i, struct run_node *n)
{
	struct tcp_wait *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	*t = (struct tcp_wait){ .r = r,
				.i = i,
				.fd = -1,
				.deadline = time_mono_ns() + r->d->steps[i].spec.timeout_ns };
	t->sa.sin_family = AF_INET;
	t->sa.sin_port = htons(r->d->steps[i].spec.port);
	inet_pton(AF_INET, run_node_addr(n), &t->sa.sin_addr);
	tcp_attempt(t);
	return 0;
}

/* {NODE.addr}, {NODE.port}, {NODE.hostport} for every node, {bin} and {run}, plus the
 * step's own node's variables when it names one: its {bin}, {nodes} and {timeout_ms} are
 * its target's (the same as the drill's, but in a drill of several targets). */
static int step_vars(struct drill_run *r, struct run_node *n, struct template_vars *v)
{
	int k = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < r->sched->vars.n; i++)
		k |= template_set(v, r->sched->vars.names[i], r->sched->vars.values[i]);
	if (n)
		for (size_t i = 0; i < run_node_vars(n)->n; i++)
			k |= template_set(v, run_node_vars(n)->names[i],
					  run_node_vars(n)->values[i]);
	return k ? -ENOMEM : 0;
}

static int start_exec(struct drill_run *r, size_t i, struct run_node *n, bool repeat)
{
	const struct step_spec *sp = &r->d->steps[i].spec;
	struct template_vars v;
	const char *bad = NULL;
	char **argv = NULL;
	int k = step_vars(r, n, &v);

	if (k >= 0)
		k = template_expand_argv(sp->argv, &v, &argv, &bad);
	template_vars_release(&v);
	if (k == -ENOENT || k == -EINVAL) {
		step_end(r, i, false, "unknown placeholder {%s} in argv", bad);
		return 0;
	}
	if (k < 0)
		return k;
	/* argv must live as long as the helper: keep it with the run's owned strings */
	if (repeat)
		k = probe_until(r, n, argv, false, sp->timeout_ns, on_step_helper,
				(void *)(uintptr_t)i);
	else
		k = helper_start_exec(r, n, argv, sp->timeout_ns, on_step_helper,
				      (void *)(uintptr_t)i);
	{
		char ***owned = realloc(r->sched->argv, (r->sched->n_argv + 1) * sizeof(*owned));

		if (owned) {
			r->sched->argv = owned;
			r->sched->argv[r->sched->n_argv++] = argv;
		} else {
			k = -ENOMEM; /* argv leaks rather than vanish under a running helper */
		}
	}
	return k;
}

static void on_ready_step(struct drill_run *r, void *ud, int status, bool timed_out,
			  const char *out)
{
	on_step_helper(r, ud, status, timed_out, out);
}

static bool node_down(struct drill_run *r, void *arg)
{
	return run_node_pidfd(arg) < 0;
}

#define KILL_WAIT_NS (10 * NSEC_PER_SEC)

/* "exited with 0", "killed by signal 9": how the node's last incarnation ended. */
static void exit_text(const struct run_node *n, char *buf, size_t len)
{
	int st = run_node_last_status(n);

	if (st < 0)
		snprintf(buf, len, "gone");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
			 step_signal_name(WTERMSIG(st)));
	else
		snprintf(buf, len, "exited with %d", WEXITSTATUS(st));
}

/* Waits (stepping the loop) up to wait_ns for n to be down; true if it is. */
static bool wait_down(struct drill_run *r, struct run_node *n, int64_t wait_ns)
{
	return run_until(r, node_down, n, run_now(r) + wait_ns) && run_node_pidfd(n) < 0;
}

/* kill: SIGKILL now, ended once the node is down. */
static int step_kill(struct drill_run *r, size_t i, struct run_node *n)
{
	pid_t pid = run_node_pid(n);
	int64_t t = run_now(r);
	char how[64], took[32];
	int k = run_node_signal(n, SIGKILL);

	if (k < 0)
		return k;
	if (!wait_down(r, n, KILL_WAIT_NS)) {
		step_end(r, i, false, "pid %d still running 10s after SIGKILL", (int)pid);
		return 0;
	}
	exit_text(n, how, sizeof(how));
	units_format_duration(run_now(r) - t, took, sizeof(took));
	step_end(r, i, true, "SIGKILL to pid %d: %s, down after %s", (int)pid, how, took);
	return 0;
}

/* shutdown: SIGTERM, SIGKILL after the timeout; the step says which one ended it. */
static int step_shutdown(struct drill_run *r, size_t i, struct run_node *n)
{
	const struct step_spec *sp = &r->d->steps[i].spec;
	pid_t pid = run_node_pid(n);
	int64_t t = run_now(r);
	char how[64], took[32], limit[32];
	int k = run_node_signal(n, SIGTERM);

	if (k < 0)
		return k;
	units_format_duration(sp->timeout_ns, limit, sizeof(limit));
	if (wait_down(r, n, sp->timeout_ns)) {
		exit_text(n, how, sizeof(how));
		units_format_duration(run_now(r) - t, took, sizeof(took));
		step_end(r, i, true, "stopped by SIGTERM after %s: %s", took, how);
		return 0;
	}
	timeline_add(r->tl, run_now(r), TL_NOTE, (int)i, sp->node, 0,
		     "still running %s after SIGTERM: SIGKILL", limit);
	if ((k = run_node_signal(n, SIGKILL)) < 0 && k != -ESRCH)
		return k;
	if (!wait_down(r, n, KILL_WAIT_NS)) {
		step_end(r, i, false, "pid %d still running after SIGTERM and SIGKILL", (int)pid);
		return 0;
	}
	exit_text(n, how, sizeof(how));
	step_end(r, i, true, "did not stop within %s of SIGTERM: SIGKILL, %s", limit, how);
	return 0;
}

/* restart: {params: ...}: "sync=never, role=primary" for the step's message. */
static const char *params_text(const struct cfg_node *p, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; p && i < p->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", i ? ", " : "",
					p->keys[i]->scalar, p->items[i]->scalar);
	return buf;
}

/* Starts step i; its end comes through step_end (now or from a callback). */
static void step_start(struct drill_run *r, size_t i)
{
	const struct step_spec *sp = &r->d->steps[i].spec;
	struct step_run *s = &r->sched->steps[i];
	struct run_node *n = sp->node ? run_node_find(r, sp->node) : NULL;
	struct step_timer *st;
	char pbuf[256];
	int64_t deadline;
	int k = 0;

	s->state = STEP_RUNNING;
	s->start_ns = run_now(r);
	timeline_add(r->tl, s->start_ns, TL_STEP_STARTED, (int)i, sp->node, 0, "%s",
		     r->d->steps[i].ss->kind);
	switch (sp->kind) {
	case STEP_RESTART:
		/* a just-killed incarnation may not be reaped yet: give it a moment to go */
		deadline = run_now(r) + RESTART_WAIT_NS;
		run_until(r, node_down, n, deadline);
		k = run_node_start_with(n, sp->params);
		if (k == -EBUSY)
			step_end(r, i, false, "node %s is still running", sp->node);
		else if (k >= 0)
			step_end(r, i, true, "incarnation %u, pid %d%s%s", run_node_incarnation(n),
				 (int)run_node_pid(n), sp->params ? ", params " : "",
				 params_text(sp->params, pbuf, sizeof(pbuf)));
		break;
	case STEP_KILL:
	case STEP_SIGNAL:
	case STEP_SHUTDOWN:
		if (run_node_pidfd(n) < 0) {
			step_end(r, i, false, "node %s is not running", sp->node);
			break;
		}
		if (sp->kind == STEP_KILL)
			k = step_kill(r, i, n);
		else if (sp->kind == STEP_SHUTDOWN)
			k = step_shutdown(r, i, n);
		else if ((k = run_node_signal(n, sp->signal)) >= 0)
			step_end(r, i, true, "SIG%s to pid %d", step_signal_name(sp->signal),
				 (int)run_node_pid(n));
		break;
	case STEP_WAIT:
		if (!n)
			n = r->wl_node;
		if (sp->wait == STEP_WAIT_PROBE)
			k = probe_until_ready(r, n, sp->timeout_ns, on_ready_step,
					      (void *)(uintptr_t)i);
		else if (sp->wait == STEP_WAIT_TCP)
			k = start_tcp_wait(r, i, n);
		else
			k = start_exec(r, i, sp->node ? n : NULL, true);
		break;
	case STEP_EXEC:
		k = start_exec(r, i, n, false);
		break;
	case STEP_SLEEP:
		st = malloc(sizeof(*st));
		if (!st) {
			k = -ENOMEM;
			break;
		}
		*st = (struct step_timer){ r, i };
		k = loop_timer_at(r->loop, time_mono_ns() + sp->duration_ns, on_sleep, st, NULL);
		if (k < 0)
			free(st);
		break;
	case STEP_WORKLOAD:
		k = run_workload_move(r, n);
		if (k >= 0)
			step_end(r, i, true, "workload now writes to %s (%s:%s)", run_node_name(n),
				 run_node_addr(n), run_node_port(n));
		break;
	}
	if (k < 0)
		step_end(r, i, false, "%s", strerror(-k));
}

static bool step_done(struct drill_run *r, void *arg)
{
	return r->sched->steps[(size_t)(uintptr_t)arg].state != STEP_RUNNING;
}

/* Runs the steps of group (a fault's own, or -1: the drill's recovery) in order; after a
 * failed step the rest of the group is skipped. Returns false if one failed. */
static bool run_recovery(struct drill_run *r, int group)
{
	bool failed = false;

	for (size_t i = 0; i < r->d->n_steps; i++) {
		if (r->d->steps[i].ss->fault != group)
			continue;
		if (failed || r->interrupted) {
			r->sched->steps[i].state = STEP_SKIPPED;
			continue;
		}
		step_start(r, i);
		run_until(r, step_done, (void *)(uintptr_t)i, -1);
		if (r->sched->steps[i].state == STEP_RUNNING) /* interrupted mid-step */
			step_end(r, i, false, "interrupted");
		failed = r->sched->steps[i].state != STEP_OK;
	}
	return !failed;
}

static bool time_reached(struct drill_run *r, void *arg)
{
	return run_now(r) >= *(int64_t *)arg;
}

static void on_action(struct loop *l, void *ud, int res)
{
	struct step_timer st = *(struct step_timer *)ud;

	free(ud);
	if (!st.r->interrupted)
		step_start(st.r, st.i);
}

/* Arms every action's timer (at its time after steady state); they run beside the faults
 * and the recovery. */
static void arm_actions(struct drill_run *r)
{
	for (size_t i = 0; i < r->d->n_steps; i++) {
		struct step_timer *st;

		if (r->d->steps[i].ss->fault != SCENARIO_ACTION)
			continue;
		st = malloc(sizeof(*st));
		if (!st || loop_timer_at(r->loop, r->t0 + r->steady_ns + r->d->steps[i].ss->at_ns,
					 on_action, st, NULL) < 0) {
			free(st);
			r->sched->steps[i].state = STEP_RUNNING; /* so that step_end records it */
			step_end(r, i, false, "cannot schedule it: out of memory");
			continue;
		}
		*st = (struct step_timer){ r, i };
	}
}

/* For run_until: every action has run to its end. */
static bool actions_done(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->d->n_steps; i++)
		if (r->d->steps[i].ss->fault == SCENARIO_ACTION &&
		    (r->sched->steps[i].state == STEP_PENDING ||
		     r->sched->steps[i].state == STEP_RUNNING))
			return false;
	return true;
}

/* Faults in time order, each followed by its own recovery steps if it has any (so a
 * fault's recovery delays the faults after it), then the drill's recovery: at its `at:`
 * time or once the last fault is in, whichever is later. */
int run_sched_run(struct drill_run *r)
{
	size_t n = r->d->n_faults, *order = calloc(n + 1, sizeof(*order));
	bool ok;
	int64_t until;

	if (!order)
		return -ENOMEM;
	arm_actions(r);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++) /* stable insertion sort by time */
		for (size_t j = i; j > 0 && r->d->faults[order[j]].sf->at_ns <
						    r->d->faults[order[j - 1]].sf->at_ns;
		     j--) {
			size_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < n && !r->interrupted; i++) {
		until = r->steady_ns + r->d->faults[order[i]].sf->at_ns;
		if (!run_until(r, time_reached, &until, until))
			break;
		run_fault_inject(r, order[i]);
		run_recovery(r, (int)order[i]);
	}
	free(order);
	until = r->steady_ns + r->sc->recovery_at_ns;
	if (r->interrupted ||
	    (r->sc->has_recovery_at && !run_until(r, time_reached, &until, until)))
		return -EINTR;
	ok = run_recovery(r, -1);
	r->sched->recovered_ns = run_now(r);
	timeline_add(r->tl, r->sched->recovered_ns, TL_RECOVERED, -1, NULL, !ok, "%s",
		     ok ? "recovery steps done" : "recovery failed");
	/* the drill goes on until every action has run (one due later holds it up) */
	if (!run_until(r, actions_done, NULL, -1))
		return -EINTR;
	return r->interrupted ? -EINTR : 0;
}
