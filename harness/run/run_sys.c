/* Syscall faults during a drill (faults/sys/syscall.h). With seccomp, the faulted node's
 * filter is built when the drill is set up, installed by every incarnation started while
 * the fault may still act (in the child, right before exec), and answered by a supervisor
 * on the event loop. With preload, every incarnation starts with the shim (run_shim.c),
 * whose log a timer reads while the rules are armed. Either way what was injected goes to
 * the timeline and to the fault's report, in the same words. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/failpoint.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "faults/sys/syscall.h"
#include "faults/sys/filter.h"
#include "faults/sys/supervisor.h"
#include "harness/run/run_internal.h"

/* How often the shim's log is read while its rules are armed: a crash it made waits
 * this long at most for the harness to kill the rest of the node. */
#define SHIM_POLL_NS (5 * NSEC_PER_MSEC)

struct run_sys {
	struct run_node *n;
	size_t fault;                 /* index in d->faults */
	const struct sys_rules *rules;
	enum fault_syscall_mechanism mech;
	struct sys_filter *filter;    /* seccomp: owned */
	struct sys_supervisor *sup;   /* seccomp: the current incarnation's, owned */
	struct loop_op *poll, *timer;
	int sock[2];                  /* seccomp: listener handover during a start */
	struct run_shim *shim;        /* preload: owned */
	struct loop_op *tick;         /* preload: the next read of its log */
	uint32_t lost;                /* preload: injections it could not log, counted so far */
	bool armed, spent;            /* spent: it killed the node, or was healed */
	unsigned injections;
	int64_t first_ns;             /* drill time of the first injection, -1 before */
	struct strbuf what;           /* one line per injection */
};

static int prepare_seccomp(struct drill_run *r, struct run_sys *s)
{
	struct cd_error err = { 0 };
	int k = sys_filter_build(s->rules, &s->filter, &err);

	if (k >= 0 && (k = failpoint("seccomp.build", -EINVAL)) < 0)
		snprintf(err.msg, sizeof(err.msg), "libseccomp cannot build the filter: %s", strerror(-k));

	if (k < 0)
		return run_env_error(r, "syscall fault on %s: %s", s->n->sn->name,
				     err.msg[0] ? err.msg : strerror(-k));
	return 0;
}

int run_sys_prepare(struct drill_run *r)
{
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct drill_fault *df = &r->d->faults[i];
		struct run_node *n;
		int k;

		if (df->ops != &fault_syscall_ops)
			continue;
		n = run_node_find(r, fault_syscall_node(df->state));
		if (n->sys) {
			if (asprintf(&r->env_error, "node %s has two syscall faults; give it one with several rules",
				     n->sn->name) < 0)
				r->env_error = NULL;
			return -EINVAL;
		}
		n->sys = calloc(1, sizeof(*n->sys));
		if (!n->sys)
			return -ENOMEM;
		*n->sys = (struct run_sys){ .n = n, .fault = i, .rules = fault_syscall_rules(df->state),
					    .mech = fault_syscall_mechanism(df->state),
					    .sock = { -1, -1 }, .first_ns = -1 };
		if (n->sys->mech == FAULT_SYSCALL_PRELOAD)
			k = run_shim_new(n, n->sys->rules, &n->sys->shim);
		else
			k = prepare_seccomp(r, n->sys);
		if (k < 0)
			return k;
	}
	return 0;
}

/* In the node's child, right before exec: install the filter, hand the listener over. */
static int install(void *ud)
{
	struct run_sys *s = ud;
	int fd = failpoint("seccomp.install", -EBUSY), k;

	if (fd >= 0)
		fd = sys_filter_install(s->filter);
	if (fd < 0)
		return fd;
	k = sys_fd_send(s->sock[1], fd);
	close(fd);
	return k;
}

int run_sys_before_start(struct run_node *n, struct lab_cmd *cmd)
{
	struct run_sys *s = n->sys;

	if (s && s->shim) { /* every incarnation: disarmed, the shim costs a load and a branch */
		if (s->armed && !s->spent)
			s->lost = 0; /* re-arming restarts the shim's count too */
		return run_shim_before_start(s->shim, n, s->armed && !s->spent, cmd);
	}
	if (!s || s->spent)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->sock) < 0)
		return -errno;
	cmd->pre_exec = install;
	cmd->pre_exec_ud = s;
	return 0;
}

static void on_notify(struct loop *l, void *ud, int res);

static void watch(struct run_sys *s)
{
	struct loop *l = s->n->run->loop;
	int ms = sys_supervisor_timeout_ms(s->sup);

	if (!s->poll && loop_poll(l, sys_supervisor_fd(s->sup), POLLIN, on_notify, s, &s->poll) < 0)
		s->poll = NULL;
	if (ms >= 0 && !s->timer &&
	    loop_timer_at(l, time_mono_ns() + (int64_t)ms * 1000000, on_notify, s, &s->timer) < 0)
		s->timer = NULL;
}

/* One line of the fault's report and of the timeline, at the time the call was made (the
 * shim's log is read a little later). */
static void note(struct run_sys *s, int64_t at_ns, const char *line)
{
	struct drill_run *r = s->n->run;
	const char *mech = fault_syscall_mechanism_name(s->mech);

	if (!s->injections++)
		s->first_ns = at_ns;
	strbuf_appendf(&s->what, "%s%s", s->what.len ? "\n" : "", line);
	timeline_add(r->tl, at_ns, TL_NOTE, (int)s->fault, s->n->sn->name, 0, "syscall fault (%s): %s",
		     mech, line);
	run_say(r, at_ns, "syscall fault on %s (%s): %s", s->n->sn->name, mech, line);
}

static void record(struct run_sys *s, const struct sys_injection *inj)
{
	struct drill_run *r = s->n->run;
	struct strbuf line = STRBUF_INIT;

	sys_injection_format(inj, &line);
	note(s, inj->at_ns ? inj->at_ns - r->t0 : run_now(r), line.buf ? line.buf : "");
	if (inj->killed)
		s->spent = true; /* the next incarnation runs clean */
	strbuf_release(&line);
}

/* A notification (or a delayed call coming due): answer it, then watch again. */
static void on_notify(struct loop *l, void *ud, int res)
{
	struct run_sys *s = ud;
	struct sys_injection inj;
	int k;

	if (!s->sup)
		return;
	/* whichever fired (poll or timer) is done; the other one stays armed */
	if (res == 0) {
		s->timer = NULL;
	} else {
		s->poll = NULL;
	}
	k = sys_supervisor_handle(s->sup, &inj);
	if (k == 1)
		record(s, &inj);
	if (res > 0 && (res & (POLLHUP | POLLERR)))
		return; /* every process of the node is gone */
	watch(s);
}

int run_sys_after_start(struct run_node *n, int spawn_result)
{
	struct run_sys *s = n->sys;
	int listener, k;

	if (!s || s->sock[0] < 0)
		return spawn_result;
	close(s->sock[1]);
	s->sock[1] = -1;
	listener = spawn_result < 0 ? -EIO : sys_fd_recv(s->sock[0]);
	if (listener >= 0 && (k = failpoint("seccomp.listener", -EPROTO)) < 0) {
		close(listener);
		listener = k;
	}
	close(s->sock[0]);
	s->sock[0] = -1;
	if (spawn_result < 0)
		return spawn_result;
	if (listener < 0)
		return listener;
	k = sys_supervisor_new(listener, n->pidfd, s->rules, n->run->d->seed, LAB_DATA_PATH, &s->sup);
	if (k >= 0 && (k = failpoint("seccomp.supervisor", -ENOMEM)) < 0) {
		sys_supervisor_free(s->sup);
		s->sup = NULL;
	}
	if (k < 0)
		return k;
	sys_supervisor_arm(s->sup, s->armed);
	watch(s);
	return 0;
}

static void drain(struct run_sys *s, bool final);

/* Every process of the node is gone (its init's pidfd is readable once they are). */
static bool node_gone(const struct run_node *n)
{
	struct pollfd p = { .fd = n->pidfd, .events = POLLIN };

	return n->pidfd < 0 || poll(&p, 1, 0) == 1;
}

void run_sys_node_exited(struct run_node *n)
{
	struct run_sys *s = n->sys;

	/* What its processes logged before they went (run_nodes_stop calls this before it
	 * kills the node: not final then). */
	if (s && s->shim)
		drain(s, node_gone(n));
	if (!s || !s->sup)
		return;
	loop_cancel(n->run->loop, s->poll);
	loop_cancel(n->run->loop, s->timer);
	s->poll = s->timer = NULL;
	sys_supervisor_free(s->sup);
	s->sup = NULL;
}

/* Takes out what the shim logged. A crash it made killed only the calling process (or,
 * in a pid namespace's init, only stopped the calling thread): the rest of the node goes
 * now, and nothing is armed for the next incarnation. */
static void drain(struct run_sys *s, bool final)
{
	struct sys_injection inj;
	uint32_t lost;

	while (run_shim_next(s->shim, final, &inj) == 1) {
		record(s, &inj);
		if (inj.killed) {
			run_shim_arm(s->shim, s->n, false);
			if (s->n->pidfd >= 0)
				node_kill(s->n->ln); /* on_node_exit reaps it */
		}
	}
	lost = run_shim_lost(s->shim);
	if (lost > s->lost) {
		struct strbuf line = STRBUF_INIT;

		strbuf_appendf(&line, "%u more injection%s the shim could not log (its ring was full)",
			       lost - s->lost, lost - s->lost == 1 ? "" : "s");
		note(s, run_now(s->n->run), line.buf ? line.buf : "");
		s->injections += lost - s->lost - 1; /* note counted one */
		s->lost = lost;
		strbuf_release(&line);
	}
}

static void on_tick(struct loop *l, void *ud, int res)
{
	struct run_sys *s = ud;

	s->tick = NULL;
	drain(s, false);
	if (s->armed && !s->spent &&
	    loop_timer_at(l, time_mono_ns() + SHIM_POLL_NS, on_tick, s, &s->tick) < 0)
		s->tick = NULL;
}

static int arm_shim(struct run_sys *s, bool armed)
{
	struct loop *l = s->n->run->loop;
	int k = run_shim_arm(s->shim, s->n, armed);

	if (k < 0)
		return k;
	s->armed = armed;
	if (armed) {
		if (!s->tick)
			on_tick(l, s, 0);
		return 0;
	}
	s->spent = true;
	loop_cancel(l, s->tick);
	s->tick = NULL;
	drain(s, false);
	return 0;
}

/* Arming needs a running incarnation with the filter or the shim (else the fault has no
 * effect); disarming (the heal) works with the node down too: later incarnations run
 * clean. */
int run_sys_arm(struct run_node *n, bool armed)
{
	struct run_sys *s = n->sys;

	if (s && s->shim)
		return arm_shim(s, armed);
	if (!s || (armed && !s->sup))
		return -ESRCH;
	s->armed = armed;
	if (!armed)
		s->spent = true;
	if (s->sup)
		sys_supervisor_arm(s->sup, armed);
	return 0;
}

int64_t run_sys_first_injection(const struct run_node *n)
{
	return n->sys ? n->sys->first_ns : -1;
}

const char *run_sys_injections(const struct run_node *n, unsigned *count)
{
	*count = n->sys ? n->sys->injections : 0;
	return n->sys && n->sys->what.buf ? n->sys->what.buf : "";
}

void run_sys_release(struct run_node *n)
{
	struct run_sys *s = n->sys;

	if (!s)
		return;
	loop_cancel(n->run->loop, s->tick);
	run_shim_free(s->shim);
	sys_supervisor_free(s->sup);
	sys_filter_free(s->filter);
	for (int i = 0; i < 2; i++)
		if (s->sock[i] >= 0)
			close(s->sock[i]);
	strbuf_release(&s->what);
	free(s);
	n->sys = NULL;
}
