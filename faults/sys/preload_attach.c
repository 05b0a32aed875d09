/* The preload attachment of syscall faults: the check that the node's program can take the
 * shim at all, the shim's control block in the node's folder of the run directory, the
 * environment that loads the shim into every incarnation, and the shim's log read back as
 * injections every 5 ms while the rules are armed. A crash the shim made killed only the
 * calling process: the rest of the node is killed here. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/timeutil.h"
#include "faults/sys/attach.h"
#include "faults/sys/attach_common.h"
#include "faults/sys/shimctl.h"

/* How often the shim's log is read while its rules are armed: a crash it made waits
 * this long at most for the rest of the node to be killed. */
#define POLL_NS (5 * 1000000LL)

struct preload_attach {
	struct sys_attach s;	 /* first: see attach_common.h */
	struct sys_shimctl *ctl; /* owned */
	char *so, *ctl_path;	 /* owned: the shim, its control block (absolute) */
	struct attach_op *tick;	 /* the next read of its log */
	uint32_t lost;		 /* injections it could not log, counted so far */
	uint32_t attached;	 /* the block's attach count before this incarnation */
};

static struct preload_attach *of(struct node_attach *a)
{
	return (struct preload_attach *)a;
}

const char *sys_shim_library(void)
{
	const char *e = getenv("CHAOSDRILL_SHIM");

	return e && *e ? e : CHAOSDRILL_SHIM_SO;
}

static const char *host_path(void)
{
	return sys_shim_library();
}

static int arm(struct sys_attach *s, bool armed);

static int attach_new(const struct attach_host *host, struct node_attach **out)
{
	struct preload_attach *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	sys_attach_init(
		&p->s, host, "preload",
		" (mechanism: preload sees only the libc calls of the program the node starts, not raw "
		"system calls, stdio's own writes or programs it runs; mechanism: seccomp sees them all)",
		arm);
	*out = (struct node_attach *)p;
	return 0;
}

static int want(struct node_attach *a, const void *fault_state, size_t fault)
{
	return sys_attach_want(&of(a)->s, fault_state, fault);
}

static int cannot(struct preload_attach *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cannot(struct preload_attach *p, int err, const char *fmt, ...)
{
	char why[PATH_MAX * 2 + 300], what[PATH_MAX * 2 + 200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, sizeof(why), "syscall fault on %s: %s", p->s.host.node, what);
	p->s.host.ops->cannot(p->s.host.h, why);
	return err;
}

/* The program the node starts must be one the dynamic loader preloads the shim into:
 * otherwise the fault would silently do nothing. */
static int check_program(struct preload_attach *p)
{
	const struct attach_host *h = &p->s.host;
	enum sys_shim_fit fit;
	int k;

	if (!h->program)
		return cannot(p, -ENOENT, "cannot find %s, the program the node starts",
			      h->argv[0]);
	k = sys_shim_fit(p->so, h->program, &fit);
	if (k < 0) {
		return cannot(p, k, "cannot read %s or the preload shim %s: %s", h->program, p->so,
			      strerror(-k));
	}
	if (fit != SYS_SHIM_FITS)
		return cannot(
			p, -ENOEXEC,
			"mechanism: preload cannot reach %s: it is %s; use mechanism: seccomp, which works for any program",
			h->program, sys_shim_fit_name(fit));
	return 0;
}

/* nodes/NAME/shim.ctl, absolute: the node resolves it from its own working directory. */
static int create_block(struct preload_attach *p)
{
	_cleanup_free_ char *dir = realpath(p->s.host.node_dir, NULL);
	int k;

	if (!dir || asprintf(&p->ctl_path, "%s/shim.ctl", dir) < 0) {
		p->ctl_path = NULL;
		return -errno;
	}
	if ((k = sys_shimctl_create(p->ctl_path, &p->ctl)) < 0)
		return k;
	/* a target that runs as another user maps it read-write too */
	if (p->s.host.user && chmod(p->ctl_path, 0666) < 0)
		return -errno;
	return failpoint("shim.block", -ENOSPC);
}

static int prepare(struct node_attach *a)
{
	struct preload_attach *p = of(a);
	int k;

	p->so = realpath(sys_shim_library(), NULL);
	if (!p->so)
		return cannot(
			p, -ENOENT,
			"the preload shim %s is missing (%s): build it (make build), or name it in $CHAOSDRILL_SHIM",
			sys_shim_library(), strerror(errno));
	if ((k = check_program(p)) < 0)
		return k;
	if ((k = create_block(p)) < 0)
		return cannot(p, k,
			      "cannot create the preload shim's control block in nodes/%s: %s",
			      p->s.host.node, strerror(-k));
	return 0;
}

/* Every incarnation starts with the shim: disarmed, it costs a load and a branch. */
static int before_start(struct node_attach *a, struct attach_start *st)
{
	struct preload_attach *p = of(a);
	int k;

	/* A target built with AddressSanitizer (its shared runtime) refuses to start when a
	 * library is preloaded before that runtime; the shim wraps no allocator function and
	 * reaches libc through ASan's own interceptors (RTLD_NEXT), so that check does not
	 * apply. Other programs ignore the variable. */
	if ((k = attach_start_setenv(st, "LD_PRELOAD", p->so, ':')) < 0 ||
	    (k = attach_start_setenv(st, SYS_SHIM_ENV, p->ctl_path, 0)) < 0 ||
	    (k = attach_start_setenv(st, "ASAN_OPTIONS", "verify_asan_link_order=0", 0)) < 0)
		return k;
	p->attached = sys_shimctl_attached(p->ctl);
	if (!p->s.armed || p->s.spent)
		return 0;
	/* As a new seccomp supervisor does: counts and `from:` start again (the previous
	 * incarnation's log was taken out when it exited). */
	p->lost = 0;
	return sys_shimctl_arm(p->ctl, p->s.rules, p->s.host.seed, p->s.host.data_path);
}

/* Takes out what the shim logged. final: the node's processes are gone (a slot one of
 * them never finished is skipped). */
static void drain(struct preload_attach *p, bool final)
{
	const struct attach_host *h = &p->s.host;
	struct sys_shim_event ev;
	struct sys_injection inj;
	uint32_t lost;

	while (sys_shimctl_next(p->ctl, final, &ev) == 1) {
		sys_shim_event_injection(&ev, p->s.rules, &inj);
		sys_attach_record(&p->s, &inj);
		if (inj.killed) {
			sys_shimctl_disarm(p->ctl);
			if (h->ops->pidfd(h->h) >= 0)
				h->ops->kill(h->h); /* the runner reaps it */
		}
	}
	lost = sys_shimctl_lost(p->ctl);
	if (lost > p->lost) {
		char line[120];

		snprintf(line, sizeof(line),
			 "%u more injection%s the shim could not log (its ring was full)",
			 lost - p->lost, lost - p->lost == 1 ? "" : "s");
		sys_attach_note(&p->s, h->ops->now(h->h), line);
		p->s.injections += lost - p->lost - 1; /* the note counted one */
		p->lost = lost;
	}
}

static void on_tick(void *ud, int res)
{
	struct preload_attach *p = ud;
	const struct attach_host *h = &p->s.host;

	p->tick = NULL;
	drain(p, false);
	if (p->s.armed && !p->s.spent &&
	    h->ops->timer_at(h->h, time_mono_ns() + POLL_NS, on_tick, p, &p->tick) < 0)
		p->tick = NULL;
}

static int arm(struct sys_attach *s, bool armed)
{
	struct preload_attach *p = (struct preload_attach *)s;
	const struct attach_host *h = &s->host;
	char why[PATH_MAX + 200];
	int k;

	if (!armed) {
		sys_shimctl_disarm(p->ctl);
		s->armed = false;
		s->spent = true;
		h->ops->cancel(h->h, p->tick);
		p->tick = NULL;
		drain(p, false);
		return 0;
	}
	if (h->ops->pidfd(h->h) < 0)
		return -ESRCH;
	/* Checked when it matters: a program that passed check_program may still drop the
	 * shim (it clears LD_PRELOAD and runs itself again, or runs setuid). */
	if (sys_shimctl_attached(p->ctl) == p->attached) {
		snprintf(
			why, sizeof(why),
			"syscall fault on %s: the preload shim did not load into %s (no process of the node mapped its control block); use mechanism: seccomp",
			h->node, h->program ? h->program : h->argv[0]);
		h->ops->cannot(h->h, why);
		return -ELIBACC;
	}
	if ((k = sys_shimctl_arm(p->ctl, s->rules, h->seed, h->data_path)) < 0)
		return k;
	s->armed = true;
	if (!p->tick)
		on_tick(p, 0);
	return 0;
}

/* What its processes logged before they went (or before the runner kills them). */
static void exited(struct node_attach *a, bool gone)
{
	drain(of(a), gone);
}

static void attach_free(struct node_attach *a)
{
	struct preload_attach *p = of(a);

	if (!p)
		return;
	p->s.host.ops->cancel(p->s.host.h, p->tick);
	sys_shimctl_free(p->ctl);
	free(p->so);
	free(p->ctl_path);
	sys_attach_release(&p->s);
	free(p);
}

const struct attach_ops sys_preload_attach_ops = {
	.name = "preload",
	.order = 40,
	.host_path = host_path,
	.new = attach_new,
	.want = want,
	.prepare = prepare,
	.before_start = before_start,
	.exited = exited,
	.free = attach_free,
};
