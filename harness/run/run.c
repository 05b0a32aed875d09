/* Running one drill (shared/DESIGN.md §2): run directory, lab up, nodes started and ready,
 * workload to steady state, faults on schedule, recovery steps, tail, final read, checker,
 * verdicts, reports, lab down. SIGINT/SIGTERM end it early and still write the report. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

#define READY_TIMEOUT_NS (30 * NSEC_PER_SEC)

int64_t run_now(const struct drill_run *r)
{
	return time_mono_ns() - r->t0;
}

void run_select(struct drill_run *r, size_t i)
{
	struct run_wl *c = &r->wls[r->cur];

	if (i == r->cur)
		return;
	*c = (struct run_wl){ r->d,	   r->wl,      r->ledger,      r->wl_node,
			      r->adapters, r->verdict, c->adapters_dir };
	c = &r->wls[i];
	r->d = c->d;
	r->sc = c->d->sc;
	r->wl = c->wl;
	r->ledger = c->ledger;
	r->wl_node = c->wl_node;
	r->adapters = c->adapters;
	r->verdict = c->verdict;
	r->cur = i;
}

bool run_multi(const struct drill_run *r)
{
	return r->n_wls > 1;
}

void run_say(const struct drill_run *r, int64_t t_ns, const char *fmt, ...)
{
	char buf[1024], when[32];
	va_list ap;

	if (r->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->steady_ns > 0) {
		int64_t rel = t_ns - r->steady_ns, ms = (rel < 0 ? -rel : rel) / NSEC_PER_MSEC;

		snprintf(when, sizeof(when), "%s%lld.%03llds", rel < 0 ? "-" : "",
			 (long long)(ms / 1000), (long long)(ms % 1000));
	} else {
		snprintf(when, sizeof(when), "setup");
	}
	run_live_clear(r);
	fprintf(stdout, "  %9s  %s\n", when, buf);
	fflush(stdout);
}

bool run_until(struct drill_run *r, bool (*done)(struct drill_run *r, void *arg), void *arg,
	       int64_t deadline_ns)
{
	for (;;) {
		int64_t now = run_now(r), wait = 200 * NSEC_PER_MSEC;

		if (done && done(r, arg))
			return true;
		if (r->interrupted || r->stop)
			return false;
		if (deadline_ns >= 0 && now >= deadline_ns)
			return !done;
		if (deadline_ns >= 0 && deadline_ns - now < wait)
			wait = deadline_ns - now;
		if (loop_step(r->loop, wait) < 0)
			return false;
	}
}

/* One signal read from the signalfd, if any: the drill is interrupted. */
static bool take_signal(struct drill_run *r)
{
	struct signalfd_siginfo si;

	if (r->sigfd < 0 || read(r->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	if (r->interrupted)
		return true;
	r->interrupted = true;
	r->interrupt_sig = (int)si.ssi_signo;
	timeline_add(r->tl, run_now(r), TL_INTERRUPTED, -1, NULL, (int)si.ssi_signo, "%s",
		     strsignal((int)si.ssi_signo));
	log_warn("%s: interrupted by %s; tearing the lab down", r->sc->drill,
		 strsignal((int)si.ssi_signo));
	return true;
}

static void on_signal(struct loop *l, void *ud, int res)
{
	struct drill_run *r = ud;

	(void)res;
	take_signal(r);
	loop_poll(l, r->sigfd, POLLIN, on_signal, r, NULL);
}

/* SIGINT, SIGTERM and SIGHUP end a drill the same way: the lab torn down, the reports
 * written, saying so. They are blocked from the drill's first moment (a signal during the
 * set-up waits in the signalfd instead of killing the harness mid-way) and stay blocked
 * after it: cmd_run blocked them for the whole command, and looks for one that came while
 * the reports were being written (run_signal_pending). */
static void interrupt_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

int run_signals_block(void)
{
	sigset_t set;

	interrupt_set(&set);
	return sigprocmask(SIG_BLOCK, &set, NULL) < 0 ? -errno : 0;
}

int run_signal_pending(void)
{
	static const struct timespec now = { 0, 0 };
	sigset_t set;
	int sig;

	interrupt_set(&set);
	sig = sigtimedwait(&set, NULL, &now);
	return sig > 0 ? sig : 0;
}

static int open_signals(struct drill_run *r)
{
	sigset_t set;
	int k = failpoint("run.signals", -EMFILE);

	if (k < 0)
		return k;
	if ((k = run_signals_block()) < 0)
		return k;
	interrupt_set(&set);
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return r->sigfd < 0 ? -errno : 0;
}

/* Once the loop exists: a signal that came during the set-up is read at once. */
static int watch_signals(struct drill_run *r)
{
	return loop_poll(r->loop, r->sigfd, POLLIN, on_signal, r, NULL);
}

/* runs/<drill>-<UTC time>[-N] */
static int make_run_dir(struct drill_run *r, const char *out_dir)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];
	int k;

	if (strlen(out_dir) > 2048)
		return -ENAMETOOLONG; /* node data paths and logs are built under it */
	if ((k = fs_mkdir_p(out_dir, 0755)) < 0)
		return k;
	/* Absolute: helpers (the fault file system, adapters, steps) run in other directories
	 * and are handed paths under it. */
	_cleanup_free_ char *abs = realpath(out_dir, NULL);
	if (!abs)
		return -errno;
	if (strlen(abs) > 2048)
		return -ENAMETOOLONG;
	out_dir = abs;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1; i < 1000; i++) {
		if (i == 1)
			snprintf(r->run_dir, sizeof(r->run_dir), "%s/%s-%s", out_dir, r->sc->drill,
				 ts);
		else
			snprintf(r->run_dir, sizeof(r->run_dir), "%s/%s-%s-%d", out_dir,
				 r->sc->drill, ts, i);
		if (mkdir(r->run_dir, 0755) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* The drill file's text past the header a run directory's copy starts with (a replay runs
 * that copy), and the "# drill file: PATH" it names (*from, caller frees; NULL if none). */
static const char *skip_header(const char *src, size_t len, char **from)
{
	static const char *const lines[] = { "# resolved by chaosdrill ", "# --param ",
					     "# drill file: " };
	const char *p = src, *end = src + len;

	*from = NULL;
	if (strncmp(src, lines[0], strlen(lines[0])))
		return src; /* a drill file of the user's: all of it is the drill */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t i = 0;

		while (i < ARRAY_SIZE(lines) && strncmp(p, lines[i], strlen(lines[i])))
			i++;
		if (i == ARRAY_SIZE(lines))
			break;
		if (i == 2 && !*from)
			*from = strndup(p + strlen(lines[2]),
					(size_t)((nl ? nl : end) - p) - strlen(lines[2]));
		p = nl ? nl + 1 : end;
	}
	return p;
}

/* scenario.yaml (the file as written, with what resolved it: seed, --param, the drill file
 * it came from) and schedule.json (every resolved choice: enough to replay). */
static int write_inputs(struct drill_run *r)
{
	const struct drill *d = r->d;
	struct strbuf sb = STRBUF_INIT;
	char path[4200], *src = NULL;
	_cleanup_free_ char *from = NULL;
	const char *body;
	size_t len = 0;
	int k = fs_read_all(r->sc->file, 4 << 20, &src, &len);

	if (k < 0)
		return k;
	body = skip_header(src, len, &from);
	/* nothing in a drill file is relative to its folder (targets are found by name, argv
	 * through {placeholders}): replay runs this copy; the original's path is kept */
	if (!from && !(from = realpath(r->sc->file, NULL)))
		from = strdup(r->sc->file);
	strbuf_appendf(&sb, "# resolved by chaosdrill %s: seed %llu%s\n", CHAOSDRILL_VERSION,
		       (unsigned long long)d->seed, d->seed_drawn ? " (drawn)" : "");
	for (size_t i = 0; i < r->sc->n_overrides; i++) {
		const struct scenario_param *o = &r->sc->overrides[i];

		strbuf_appendf(&sb, "# --param %s%s%s=%s\n", o->target ? o->target : "",
			       o->target ? "." : "", o->key, o->value);
	}
	strbuf_appendf(&sb, "# drill file: %s\n", from ? from : "?");
	strbuf_appendn(&sb, body, (size_t)(src + len - body));
	free(src);
	snprintf(path, sizeof(path), "%s/scenario.yaml", r->run_dir);
	k = strbuf_failed(&sb) ? -ENOMEM : fs_write_atomic(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	if (k < 0)
		return k;
	strbuf_appendf(&sb, "{\n  \"drill\": ");
	strbuf_append_json_string(&sb, r->sc->drill);
	strbuf_appendf(&sb, ",\n  \"seed\": \"%llu\",\n  \"file\": ", (unsigned long long)d->seed);
	strbuf_append_json_string(&sb, from ? from : "?");
	strbuf_append(&sb, ",\n  \"params\": {");
	for (size_t i = 0; i < r->sc->n_overrides; i++) {
		const struct scenario_param *o = &r->sc->overrides[i];
		_cleanup_free_ char *key = NULL;

		if (asprintf(&key, "%s%s%s", o->target ? o->target : "", o->target ? "." : "",
			     o->key) < 0)
			key = NULL;
		strbuf_appendf(&sb, "%s", i ? ", " : "");
		strbuf_append_json_string(&sb, key ? key : o->key);
		strbuf_append(&sb, ": ");
		strbuf_append_json_string(&sb, r->sc->overrides[i].value);
	}
	strbuf_append(&sb, "},\n  \"faults\": [");
	for (size_t i = 0; i < d->n_faults; i++) {
		const struct scenario_fault *f = d->faults[i].sf;

		strbuf_appendf(&sb, "%s\n    {\"kind\": ", i ? "," : "");
		strbuf_append_json_string(&sb, f->kind);
		strbuf_appendf(&sb, ", \"node\": ");
		strbuf_append_json_string(&sb, d->faults[i].ops->node(d->faults[i].state));
		strbuf_appendf(&sb, ", \"at_ms\": %lld", (long long)(f->at_ns / NSEC_PER_MSEC));
		if (f->has_heal)
			strbuf_appendf(&sb, ", \"heal_%s_ms\": %lld",
				       f->heal_is_after ? "after" : "at",
				       (long long)(f->heal_ns / NSEC_PER_MSEC));
		strbuf_append(&sb, "}");
	}
	strbuf_append(&sb, "\n  ]\n}\n");
	snprintf(path, sizeof(path), "%s/schedule.json", r->run_dir);
	k = strbuf_failed(&sb) ? -ENOMEM : fs_write_atomic(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	return k;
}

int run_env_error(struct drill_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->env_error)
		return -EIO;
	va_start(ap, fmt);
	if (vasprintf(&r->env_error, fmt, ap) < 0)
		r->env_error = NULL;
	va_end(ap);
	return -EIO;
}

/* The harness joins the lab's network namespace, so workload clients and the final read
 * reach the nodes with any client library; *host_ns (caller closes) gets us back. */
static int enter_lab_netns(struct drill_run *r, int *host_ns)
{
	char path[64];
	int fd, k = 0;

	*host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)lab_holder_pid(r->lab));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*host_ns < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		k = -errno;
	if (fd >= 0)
		close(fd);
	return k;
}

/* The folder of a file, resolved; NULL if it does not exist. Caller frees. */
static char *folder_of(const char *file)
{
	char *p = realpath(file, NULL), *slash = p ? strrchr(p, '/') : NULL;

	if (slash)
		*slash = '\0';
	return p;
}

/* Host paths nodes need although their /tmp and /run are private: the targets' binaries
 * and definitions, the run directory (a checkout under /tmp must still work), the harness
 * (chaosdrill node-disk) and what the drill's attachments run in nodes (faultfs, the
 * preload shim). NULL-terminated; the caller frees each. */
#define MAX_KEEP 12

static void keep_paths(struct drill_run *r, char *keep[MAX_KEEP])
{
	const char *att[MAX_KEEP - 4];
	size_t n = 0;

	keep[n++] = realpath(target_bin_root(), NULL);
	keep[n++] = realpath(target_src_root(), NULL);
	keep[n++] = realpath(r->run_dir, NULL);
	keep[n++] = folder_of("/proc/self/exe");
	run_attach_host_paths(r->d, att, MAX_KEEP - 4);
	for (size_t i = 0; att[i] && n + 1 < MAX_KEEP; i++)
		keep[n++] = folder_of(att[i]);
	for (size_t i = 0, j = 0; i <= n; i++) /* drop the ones that do not exist */
		if (i == n)
			keep[j] = NULL;
		else if (keep[i])
			keep[j++] = keep[i];
}

/* What every drill has, whatever happens next: the state its report is made of, and its
 * run directory with the inputs (scenario.yaml, schedule.json). A drill that cannot get
 * this far still reports, on stdout and in --junit. */
static int begin(struct drill_run *r, const char *out_dir)
{
	int k = 0;

	r->tl = timeline_new();
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		r->ledger = ledger_new(r->d->seed, r->sc->workload.value_size);
		if (!r->ledger || run_verdict_new(r) < 0)
			k = -ENOMEM;
	}
	run_select(r, 0);
	if (!r->tl || k < 0 || run_sched_new(r) < 0 || run_probes_new(r) < 0)
		return run_env_error(r, "out of memory");
	if ((k = make_run_dir(r, out_dir)) >= 0 && (k = failpoint("run.dir", -EACCES)) < 0)
		rmdir(r->run_dir); /* made, but not to be used: leave nothing */
	if (k < 0) {
		r->run_dir[0] = '\0'; /* nothing to write the reports into */
		return run_env_error(r, "cannot create a run directory under %s: %s", out_dir,
				     strerror(-k));
	}
	timeline_add(r->tl, 0, TL_DRILL_START, -1, NULL, 0, "%s", r->run_dir);
	/* where the drill's clock is on the wall clock, for tools that relate their own
	 * timestamps (a node's logs) to the timeline */
	timeline_add(r->tl, 0, TL_NOTE, -1, NULL, 0, "t_ns 0 is CLOCK_REALTIME %lld",
		     (long long)(time_real_ns() - (time_mono_ns() - r->t0)));
	if ((k = write_inputs(r)) < 0 || (k = failpoint("run.inputs", -ENOSPC)) < 0)
		return run_env_error(r, "cannot write the run directory %s: %s", r->run_dir,
				     strerror(-k));
	return 0;
}

/* "what: the error (what the lab says of it, when it says something)" */
static int lab_error(struct drill_run *r, const char *what, int k)
{
	const char *why = lab_last_error();

	return run_env_error(r, "%s: %s%s%s%s", what, strerror(-k), *why ? " (" : "", why,
			     *why ? ")" : "");
}

static int setup(struct drill_run *r, const char *subnet, int *host_ns)
{
	struct lab_options opt = LAB_OPTIONS_INIT;
	char *keep[MAX_KEEP];
	int k;

	if ((k = loop_new(&r->loop)) < 0 || (k = failpoint("run.loop", -ENOSYS)) < 0)
		return run_env_error(
			r, "io_uring is not available (%s): the harness's event loop needs it",
			strerror(-k));
	lab_init_process();
	keep_paths(r, keep);
	opt.keep_paths = (const char *const *)keep;
	opt.subnet = subnet;
	k = lab_new(&opt, &r->lab);
	for (int i = 0; keep[i]; i++)
		free(keep[i]);
	if (k < 0)
		return lab_error(r, "cannot set up the lab", k);
	/* which lab and addresses this drill had, for whoever looks beside other drills */
	timeline_add(r->tl, run_now(r), TL_NOTE, -1, NULL, 0, "lab %s, subnet %s",
		     lab_name(r->lab), lab_subnet(r->lab));
	if ((k = run_nodes_prepare(r)) < 0 || (k = lab_wait_ready(r->lab)) < 0)
		return lab_error(r, "cannot set up the nodes", k);
	if ((k = run_attach_prepare(r)) < 0 || (k = run_nodes_own(r)) < 0)
		return k; /* said why */
	if ((k = run_sched_vars(r)) < 0)
		return k;
	if ((k = enter_lab_netns(r, host_ns)) < 0 || (k = failpoint("run.netns", -EPERM)) < 0)
		return run_env_error(r, "cannot join the lab's network namespace: %s",
				     strerror(-k));
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		if ((k = run_adapters_prepare(r)) < 0)
			break;
		r->wl_node = run_node_find(r, r->sc->workload.node);
	}
	run_select(r, 0);
	if (k < 0)
		return k;
	run_say(r, run_now(r), "lab %s up (subnet %s): %zu node%s of %s, cgroups %s",
		lab_name(r->lab), lab_subnet(r->lab),
		run_node_count(r), run_node_count(r) == 1 ? "" : "s",
		run_multi(r) ? r->base->sc->target : r->d->target->name, lab_cgroup_kind(r->lab));
	return 0;
}

/* The workload of n's target moves (with several targets, the others stay). */
int run_workload_move(struct drill_run *r, struct run_node *n)
{
	size_t was = r->cur;
	int k;

	run_select(r, run_node_spec(n)->target);
	k = r->wl ? workload_retarget(r->wl, run_node_addr(n), r->d->target->port) : 0;
	if (k >= 0)
		r->wl_node = n;
	run_select(r, was);
	return k;
}

#define PROGRESS_NS (5 * NSEC_PER_SEC)

/* Every 5 s while the workload runs: what it has seen so far. */
static void on_progress(struct loop *l, void *ud, int res)
{
	struct drill_run *r = ud;
	struct workload_stats st;

	if (r->interrupted)
		return;
	for (size_t i = 0; i < r->n_wls; i++) {
		struct workload *wl = i == r->cur ? r->wl : r->wls[i].wl;

		if (!wl)
			continue;
		st = workload_stats(wl);
		run_say(r, run_now(r),
			"progress%s%s%s: %llu writes acknowledged, %llu failed, %llu unknown",
			run_multi(r) ? " [" : "", run_multi(r) ? r->wls[i].d->target->name : "",
			run_multi(r) ? "]" : "", (unsigned long long)st.ok,
			(unsigned long long)st.failed, (unsigned long long)st.unknown);
	}
	loop_timer_at(l, time_mono_ns() + PROGRESS_NS, on_progress, r, &r->progress);
}

static bool time_reached(struct drill_run *r, void *arg)
{
	return run_now(r) >= *(int64_t *)arg;
}

/* The workload of target i (the current one's may not be in wls[] yet). */
static struct workload *wl_of(struct drill_run *r, size_t i)
{
	return i == r->cur ? r->wl : r->wls[i].wl;
}

static bool workload_drained(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->n_wls; i++)
		if (wl_of(r, i) && workload_pending(wl_of(r, i)) != 0)
			return false;
	return true;
}

/* Client i writes to the i mod n-th node of `workload: {node: [...]}` (the final read and
 * the verdicts are from the first, r->wl_node). */
static int start_workload(struct drill_run *r)
{
	const struct scenario_workload *wc = &r->sc->workload;
	const char *hosts[SCENARIO_WORKLOAD_NODES_MAX];
	uint16_t ports[SCENARIO_WORKLOAD_NODES_MAX];
	size_t n = wc->n_nodes;

	for (size_t i = 0; i < n; i++) {
		struct run_node *node = run_node_find(r, wc->nodes[i]);

		if (!node)
			return -EINVAL;
		hosts[i] = run_node_addr(node);
		ports[i] = r->d->target->port;
	}
	return workload_start_nodes(r->wl, hosts, ports, n);
}

static bool adapters_ready(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->n_wls; i++)
		if (wl_of(r, i) && !workload_ready(wl_of(r, i)))
			return false;
	return true;
}

/* A drill without a workload (a target whose driver comes later): time 0 of the schedule is
 * when the nodes are ready; faults, recovery and the tail as with one. */
static int drive_without_workload(struct drill_run *r)
{
	int64_t until;
	int k;

	r->steady_ns = run_now(r);
	failpoint_mark("steady");
	timeline_add(r->tl, r->steady_ns, TL_STEADY, -1, run_node_name(r->wl_node), 0,
		     "no workload: the nodes are ready");
	run_say(r, r->steady_ns,
		"nodes ready; no workload (the target has no driver, or workload: none)");
	if ((k = run_sched_run(r)) < 0)
		return k;
	if (!run_until(r, run_faults_all_healed, NULL, -1))
		return -EINTR;
	until = run_now(r) + r->sc->workload.tail_ns;
	if (!run_until(r, time_reached, &until, until))
		return -EINTR;
	return r->interrupted ? -EINTR : 0;
}

/* Each target's workload (several targets: every one that has a workload, each with its
 * own clients and ledger; the warm-up, tail and drain are the longest of theirs). */
static int start_workloads(struct drill_run *r, int64_t *warmup, int64_t *tail, int64_t *timeout)
{
	int k = 0;

	*warmup = *tail = *timeout = 0;
	for (size_t i = 0; i < r->n_wls && k >= 0; i++) {
		const struct scenario_workload *wc;
		struct workload_config c;

		run_select(r, i);
		if (r->d->no_workload)
			continue;
		wc = &r->sc->workload;
		c = (struct workload_config){ wc->rate,	    wc->clients, wc->timeout_ns,
					      r->d->driver, r->t0,	 run_adapters(r) };
		if ((k = workload_new(r->loop, &c, r->ledger, &r->wl)) < 0 ||
		    (k = start_workload(r)) < 0)
			break;
		*warmup = wc->warmup_ns > *warmup ? wc->warmup_ns : *warmup;
		*tail = wc->tail_ns > *tail ? wc->tail_ns : *tail;
		*timeout = wc->timeout_ns > *timeout ? wc->timeout_ns : *timeout;
	}
	run_select(r, 0);
	return k;
}

/* "steady state: ..." of each target's workload ("[kvlog] " with several). */
static void say_steady(struct drill_run *r)
{
	bool multi = run_multi(r);

	for (size_t i = 0; i < r->n_wls; i++) {
		const struct scenario_workload *wc;
		const char *t;

		run_select(r, i);
		if (r->d->no_workload)
			continue;
		wc = &r->sc->workload;
		t = r->d->target->name;
		timeline_add(r->tl, r->steady_ns, TL_STEADY, -1, run_node_name(r->wl_node), 0,
			     "%s%s%s%.0f/s from %u clients", multi ? "[" : "", multi ? t : "",
			     multi ? "] " : "", wc->rate, wc->clients);
		run_say(r, r->steady_ns,
			"steady state%s%s%s: %.0f writes/s from %u clients to %s%s",
			multi ? " [" : "", multi ? t : "", multi ? "]" : "", wc->rate, wc->clients,
			run_node_name(r->wl_node),
			wc->n_nodes > 1 ? " and the other nodes of the workload's list" : "");
	}
	run_select(r, 0);
}

/* From ready nodes to the end of the tail: workload, faults, recovery. */
static int drive(struct drill_run *r)
{
	int64_t until, warmup, tail, timeout;
	int k;

	if (r->base->no_workload)
		return drive_without_workload(r);
	if ((k = start_workloads(r, &warmup, &tail, &timeout)) < 0 ||
	    (k = failpoint("workload.start", -ECONNREFUSED)) < 0)
		return run_env_error(r, "cannot start the workload: %s", strerror(-k));
	/* adapters answer ping before the warm-up starts, or the drill ends here (exit 3) */
	if (!run_until(r, adapters_ready, NULL, -1))
		return -EINTR;
	until = run_now(r) + warmup;
	if (!run_until(r, time_reached, &until, -1))
		return -EINTR;
	r->steady_ns = run_now(r);
	failpoint_mark("steady");
	if (!r->quiet)
		loop_timer_at(r->loop, time_mono_ns() + PROGRESS_NS, on_progress, r, &r->progress);
	say_steady(r);
	if ((k = run_sched_run(r)) < 0)
		return k;
	if (!run_until(r, run_faults_all_healed, NULL, -1))
		return -EINTR;
	until = run_now(r) + tail;
	if (!run_until(r, time_reached, &until, -1))
		return -EINTR;
	for (size_t i = 0; i < r->n_wls; i++)
		if (wl_of(r, i))
			workload_stop(wl_of(r, i));
	loop_cancel(r->loop, r->progress);
	r->progress = NULL;
	until = run_now(r) + timeout + 100 * NSEC_PER_MSEC;
	run_until(r, workload_drained, NULL, until);
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		if (!r->wl)
			continue;
		workload_abandon(r->wl);
		if (run_multi(r))
			timeline_add(r->tl, run_now(r), TL_WORKLOAD_STOPPED, -1, NULL, 0,
				     "[%s] %zu operations", r->d->target->name, r->ledger->n);
		else
			timeline_add(r->tl, run_now(r), TL_WORKLOAD_STOPPED, -1, NULL, 0,
				     "%zu operations", r->ledger->n);
	}
	run_select(r, 0);
	return r->interrupted ? -EINTR : 0;
}

static void teardown(struct drill_run *r, int host_ns)
{
	run_attach_stop(r); /* nodes are down: faultfs flushes and unmounts */
	if (r->loop)
		loop_cancel(r->loop, r->progress);
	r->progress = NULL;
	for (size_t i = 0; i < r->n_wls; i++)
		if (wl_of(r, i))
			workload_abandon(wl_of(r, i));
	if (r->lab)
		run_nodes_stop(r);
	if (host_ns >= 0) {
		if (setns(host_ns, CLONE_NEWNET) < 0)
			log_error("cannot return to the host's network namespace: %s",
				  strerror(errno));
		close(host_ns);
	}
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		workload_free(r->wl);
		r->wl = NULL;
	}
	run_select(r, 0);
	lab_free(r->lab);
	r->lab = NULL;
}

static void run_release(struct drill_run *r)
{
	run_attach_free(r); /* first: they borrow the nodes and the loop */
	run_nodes_release(r);
	if (r->sigfd >= 0)
		close(r->sigfd);
	loop_free(r->loop);
	run_sched_free(r);
	run_probes_free(r);
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		run_verdict_free(r);
		ledger_free(r->ledger);
		r->ledger = NULL;
		free(r->wls[i].adapters_dir);
	}
	free(r->wls);
	timeline_free(r->tl);
	free(r->env_error);
}

int run_drill(const struct drill *d, const struct run_options *o, struct run_result *res)
{
	struct drill_run r = { .d = d->targets[0].view,
			       .sc = d->targets[0].view->sc,
			       .base = d,
			       .res = res,
			       .t0 = time_mono_ns(),
			       .sigfd = -1,
			       .quiet = o->quiet };
	int host_ns = -1, k, code;

	memset(res, 0, sizeof(*res));
	r.wls = calloc(d->n_targets, sizeof(*r.wls));
	if (!r.wls)
		return EXIT_ENVIRONMENT;
	r.n_wls = d->n_targets;
	for (size_t i = 0; i < d->n_targets; i++)
		r.wls[i].d = d->targets[i].view;
	res->suite.started_real_ns = time_real_ns();
	r.env = run_fault_env_ops;
	r.env.harness = &r;
	r.env.seed = d->seed;
	if (!o->quiet)
		printf("chaosdrill: drill %s (target%s %s, seed %llu)\n", d->sc->drill,
		       d->sc->multi ? "s" : "", d->sc->multi ? d->sc->target : d->target->name,
		       (unsigned long long)d->seed);
	if ((k = open_signals(&r)) < 0) {
		if (begin(&r, o->out_dir) >= 0)
			run_env_error(&r, "cannot watch signals: %s", strerror(-k));
	} else if (begin(&r, o->out_dir) < 0) {
		/* said why */
	} else if (geteuid() != 0) {
		run_env_error(
			&r,
			"running a drill needs root (namespaces, cgroups, mounts): run it as root, "
			"e.g. with sudo");
	} else {
		k = setup(&r, o->subnet, &host_ns);
		if (k >= 0 && run_live_start(&r) < 0)
			k = run_env_error(&r, "out of memory");
		if (k >= 0 && (k = watch_signals(&r)) < 0)
			run_env_error(&r, "cannot watch signals: %s", strerror(-k));
		if (k >= 0 && (k = run_nodes_wait_ready(&r, READY_TIMEOUT_NS)) < 0 &&
		    !r.env_error && k != -EINTR)
			run_env_error(&r, "the nodes did not start: %s", strerror(-k));
		if (k >= 0)
			k = drive(&r);
		if (k >= 0)
			run_live_phase(&r, "verify");
		for (size_t i = 0; k >= 0 && i < r.n_wls; i++) {
			run_select(&r, i);
			if (!r.d->no_workload)
				run_final_read(&r);
		}
		run_select(&r, 0);
		if (k >= 0)
			run_nodes_check_online(&r);
		if (r.lab)
			run_nodes_stop(&r);
		if (k >= 0)
			run_nodes_check(&r);
		teardown(&r, host_ns);
		/* one that came after the loop's last turn; after a failed set-up it stays
		 * pending, and cmd_run ends the call on it */
		if (!r.env_error)
			take_signal(&r);
		if (k < 0 && !r.env_error && !r.interrupted)
			run_env_error(&r, "the drill stopped: %s", strerror(-k));
	}
	code = run_report(&r);
	res->interrupted = r.interrupted ? (r.interrupt_sig ? r.interrupt_sig : SIGINT) : 0;
	run_release(&r);
	return code;
}

void run_result_release(struct run_result *res)
{
	free(res->error);
	free(res->run_dir);
	free(res->name);
	for (size_t i = 0; i < res->n_strings; i++)
		free(res->strings[i]);
	free(res->strings);
	free(res->cases);
	free(res->props);
	for (size_t i = 0; i < res->n_case_props; i++)
		free(res->case_props[i]);
	free(res->case_props);
	memset(res, 0, sizeof(*res));
}
