/* The end of a drill: verdicts (RTO, RPO, integrity) from the ledger, final read and
 * timeline; the report model (reports/report.h) filled from them; result.json, junit.xml,
 * timeline.jsonl and the ledger written to the run directory; the summary printed; the
 * exit code decided. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"

#include "common/failpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "harness/run/conn.h"
#include "harness/run/run_internal.h"

#define MAX_PROPS 24

/* A string owned by the result (the suite points at it). NULL on ENOMEM. */
static const char *rstr(struct run_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *rstr(struct run_result *res, const char *fmt, ...)
{
	char *s, **v;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return NULL;
	v = realloc(res->strings, (res->n_strings + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return NULL;
	}
	res->strings = v;
	v[res->n_strings++] = s;
	return s;
}

static const char *dur(struct run_result *res, int64_t ns)
{
	char b[32];

	units_format_duration(ns, b, sizeof(b));
	return rstr(res, "%s", b);
}

static const char *ms(struct run_result *res, int64_t ns)
{
	return rstr(res, "%lld", (long long)(ns / NSEC_PER_MSEC));
}

/* Milliseconds to a tenth, for properties: "1.6". */
static const char *ms1(struct run_result *res, int64_t ns)
{
	return rstr(res, "%lld.%lld", (long long)(ns / NSEC_PER_MSEC),
		    (long long)(ns % NSEC_PER_MSEC / 100000));
}

/* A latency: to a tenth of a millisecond below 10 ms ("1.6ms"), else as dur(). */
static const char *lat(struct run_result *res, int64_t ns)
{
	if (ns >= 0 && ns < 10 * NSEC_PER_MSEC)
		return rstr(res, "%lld.%lldms", (long long)(ns / NSEC_PER_MSEC),
			    (long long)(ns % NSEC_PER_MSEC / 100000));
	return dur(res, ns);
}

struct case_builder {
	struct run_result *res;
	struct report_case *c;
	struct report_property *props;
};

static struct case_builder new_case(struct run_result *res, enum report_case_kind kind,
				    const char *id, const char *name)
{
	struct case_builder b = { res, &res->cases[res->suite.n_cases++], NULL };
	struct report_property **cp = &res->case_props[res->n_case_props++];

	*cp = calloc(MAX_PROPS, sizeof(**cp));
	b.props = *cp;
	*b.c = (struct report_case){
		.kind = kind, .id = id, .name = name, .start_ns = -1, .props = b.props
	};
	return b;
}

/* A verdict's name: "rto", or in a drill of several targets "rto [kvlog]" (the current
 * target's); its id: "expect.rto", or "kvlog.expect.rto" (JUnit prefixes its properties
 * with it). */
static const char *tlabel(struct drill_run *r, const char *word)
{
	return run_multi(r) ? rstr(r->res, "%s [%s]", word, r->d->target->name) : word;
}

static const char *tid(struct drill_run *r, const char *id)
{
	return run_multi(r) ? rstr(r->res, "%s.%s", r->d->target->name, id) : id;
}

static void prop_as(struct case_builder *b, const char *name, const char *value,
		    enum report_value_type type)
{
	if (b->props && b->c->n_props < MAX_PROPS && value)
		b->props[b->c->n_props++] = (struct report_property){ name, value, type };
}

/* Text ("what", "signal"), and a figure: a number in result.json. */
static void prop(struct case_builder *b, const char *name, const char *value)
{
	prop_as(b, name, value, REPORT_TEXT);
}

static void num(struct case_builder *b, const char *name, const char *value)
{
	prop_as(b, name, value, REPORT_NUMBER);
}

/* The time between two writes of one client: they take turns. */
static int64_t write_interval(const struct drill_run *r)
{
	return (int64_t)((double)r->sc->workload.clients * 1e9 / r->sc->workload.rate);
}

/* How late the readiness probe may pass after the node is ready: the try under way when
 * it became ready fails, the next starts an interval after that one ended and passes when
 * it ends. */
static int64_t probe_lag(const struct drill_run *r)
{
	return PROBE_INTERVAL_NS + 2 * run_probe_took_max(r);
}

/* Whether some fault's outage ended only once the readiness probe passed. */
static int run_verify_inputs(struct drill_run *r, struct verify_fault **out, size_t *n)
{
	struct verify_fault *f = calloc(r->d->n_faults + 1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct drill_fault *df = &r->d->faults[i];

		if (!run_fault_result(r, i)->injected)
			continue;
		f[*n].at_ns = run_fault_result(r, i)->injected_ns;
		if (df->ops->effects) { /* it strikes after its injection: from its first strike */
			struct fault_effects e;

			df->ops->effects(df->state, &r->env, &e);
			if (e.first_ns < 0)
				continue; /* it never struck: no outage of its own */
			f[*n].at_ns = e.first_ns;
		}
		f[*n].heal_ns = run_fault_result(r, i)->healed ? run_fault_result(r, i)->healed_ns :
								 -1;
		(*n)++;
	}
	for (size_t i = 1; i < *n; i++) /* insertion sort: a handful of faults */
		for (size_t j = i; j > 0 && f[j].at_ns < f[j - 1].at_ns; j--) {
			struct verify_fault t = f[j];

			f[j] = f[j - 1];
			f[j - 1] = t;
		}
	*out = f;
	return 0;
}

/* The verdicts' state, this file's alone: the final read and what was computed from it. */
struct run_verdict {
	struct final_read fr;
	int final_read_error;	  /* -errno of the final read, 0 if it worked */
	char final_read_why[512]; /* what the adapter said or did when it failed, or "" */
	uint64_t final_keys;
	struct verify_result vres;
	struct verify_fault *vfaults; /* what vres.rto[i] is about: fault times, sorted */
	size_t n_vfaults;
	bool verified;
};

int run_verdict_new(struct drill_run *r)
{
	r->verdict = calloc(1, sizeof(*r->verdict));
	return r->verdict ? 0 : -ENOMEM;
}

void run_verdict_free(struct drill_run *r)
{
	if (!r->verdict)
		return;
	final_read_release(&r->verdict->fr);
	verify_result_release(&r->verdict->vres);
	free(r->verdict->vfaults);
	free(r->verdict);
	r->verdict = NULL;
}

const struct verify_result *run_verdicts(const struct drill_run *r,
					 const struct verify_fault **faults, size_t *n)
{
	if (!r->verdict || !r->verdict->verified)
		return NULL;
	*faults = r->verdict->vfaults;
	*n = r->verdict->n_vfaults;
	return &r->verdict->vres;
}

#define FINAL_READ_TIMEOUT_MS 10000

/* Every key the node the workload writes to holds, checked against the ledger. */
void run_final_read(struct drill_run *r)
{
	struct run_verdict *v = r->verdict;
	int64_t t = run_now(r);
	int k = final_read_init(&v->fr, r->ledger);
	char why[1024] = "";

	if (k >= 0 && run_adapters(r))
		k = run_adapter_read_all(r, r->wl_node, FINAL_READ_TIMEOUT_MS, final_read_kv,
					 &v->fr, why, sizeof(why));
	else if (k >= 0)
		k = conn_read_all(r->d->driver, run_node_addr(r->wl_node), r->d->target->port,
				  FINAL_READ_TIMEOUT_MS, final_read_kv, &v->fr);
	v->final_read_error = k < 0 ? k : 0;
	snprintf(v->final_read_why, sizeof(v->final_read_why), "%s%s", why[0] ? ": " : "", why);
	v->final_keys = v->fr.keys;
	timeline_add(r->tl, run_now(r), TL_FINAL_READ, -1, run_node_name(r->wl_node), k < 0 ? k : 0,
		     "%s%s%s%llu keys in %lld ms%s%s%s%s", run_multi(r) ? "[" : "",
		     run_multi(r) ? r->d->target->name : "", run_multi(r) ? "] " : "",
		     (unsigned long long)v->fr.keys, (long long)((run_now(r) - t) / NSEC_PER_MSEC),
		     k < 0 ? ": " : "", k < 0 ? strerror(-k) : "", why[0] ? ": " : "", why);
}

static int run_verify(struct drill_run *r)
{
	struct verify_fault *f = NULL;
	size_t n = 0, n_probe_ok = 0;
	int k = run_verify_inputs(r, &f, &n);
	struct verify_input in = {
		.ledger = r->ledger,
		.faults = f,
		.n_faults = n,
		.probe_ok_ns = run_probe_passes(r, &n_probe_ok),
		.n_probe_ok = n_probe_ok,
		.rto_ops = r->sc->expect.rto_ops,
		.slow_ns = r->sc->expect.slow_ns,
		.steady_from_ns = r->steady_ns,
		.write_interval_ns = write_interval(r),
		.probe_lag_ns = probe_lag(r),
	};

	if (k < 0)
		return k;
	if (!r->verdict->fr.seen && (k = final_read_init(&r->verdict->fr, r->ledger)) < 0) {
		free(f);
		return k;
	}
	k = verify_run(&in, &r->verdict->fr, &r->verdict->vres);
	r->verdict->vfaults = f; /* freed with the run */
	r->verdict->n_vfaults = n;
	r->verdict->verified = k >= 0;
	return k;
}

static bool reached(const struct drill_run *r)
{
	return !r->env_error && !r->interrupted;
}

/* A fault that strikes after its injection (a syscall fault at matching calls): each
 * strike is a line of the case's details; one that never struck had no effect. */
static void fault_effects(struct drill_run *r, size_t i, struct case_builder *b, bool *noeffect,
			  const char **none, const char **hint)
{
	const struct drill_fault *df = &r->d->faults[i];
	struct fault_effects e;

	if (!df->ops->effects)
		return;
	df->ops->effects(df->state, &r->env, &e);
	num(b, "injections", rstr(r->res, "%u", e.count));
	if (e.count)
		b->c->details = rstr(r->res, "%s", e.details);
	*noeffect = e.count == 0 && reached(r);
	*none = e.none;
	*hint = e.hint;
}

static void fault_cases(struct drill_run *r, bool *bad)
{
	struct run_result *res = r->res;

	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct drill_fault *df = &r->d->faults[i];
		const struct fault_run *f = run_fault_result(r, i);
		const char *node = df->ops->node(df->state);
		bool f_noeffect = false;
		const char *none = "", *hint = "";
		struct case_builder b = new_case(
			res, REPORT_CASE_FAULT, rstr(res, "fault.%zu.%s", i + 1, df->sf->kind),
			rstr(res, "%s %s", df->sf->kind, node ? node : ""));

		num(&b, "at_ms", ms(res, df->sf->at_ns));
		if (f->injected || f->failed) {
			b.c->start_ns = f->injected_ns;
			b.c->duration_ns = f->healed ? f->healed_ns - f->injected_ns : 0;
			num(&b, "injected_ms", ms(res, f->injected_ns - r->steady_ns));
		}
		if (f->what) /* copies: the suite outlives the run's own state */
			prop(&b, "what", rstr(res, "%s", f->what));
		if (f->healed)
			num(&b, "healed_ms", ms(res, f->healed_ns - r->steady_ns));
		if (f->injected)
			fault_effects(r, i, &b, &f_noeffect, &none, &hint);
		if (f_noeffect) {
			b.c->status = REPORT_ERROR;
			b.c->message = rstr(res, "%s %s: armed, but %s before the drill ended%s",
					    df->sf->kind, node ? node : "", none, hint);
			b.c->details = rstr(
				res,
				"%s\nA fault that has no effect is an error of the drill, not a pass.",
				b.c->message);
			*bad = true;
		} else if (f->failed) {
			b.c->status = REPORT_ERROR;
			b.c->message = rstr(res, "%s%s%s: %s", df->sf->kind, node ? " " : "",
					    node ? node : "",
					    f->what ? f->what : strerror(-f->error));
			b.c->details = rstr(
				res,
				"%s\nA fault that has no effect is an error of the drill, not a pass.",
				b.c->message);
			*bad = true;
		} else if (!f->injected) {
			b.c->status = REPORT_SKIP;
			b.c->message = "not reached";
		}
	}
}

static const char *step_title(struct run_result *res, const struct drill_step *s)
{
	const struct step_spec *sp = &s->spec;

	switch (sp->kind) {
	case STEP_WAIT:
		return rstr(res, "wait %s %s",
			    sp->wait == STEP_WAIT_PROBE ? "ready" :
			    sp->wait == STEP_WAIT_TCP	? "tcp" :
							  "command",
			    sp->node ? sp->node : "");
	case STEP_EXEC:
		return rstr(res, "exec %s%s%s", sp->argv[0], sp->node ? " on " : "",
			    sp->node ? sp->node : "");
	case STEP_SLEEP:
		return rstr(res, "sleep %s", dur(res, sp->duration_ns));
	case STEP_SIGNAL:
		return rstr(res, "signal %s %s", step_signal_name(sp->signal), sp->node);
	default:
		return rstr(res, "%s %s", s->ss->kind, sp->node ? sp->node : "");
	}
}

static void step_cases(struct drill_run *r, bool *bad)
{
	struct run_result *res = r->res;

	for (size_t i = 0; i < r->d->n_steps; i++) {
		const struct drill_step *ds = &r->d->steps[i];
		const struct step_run *s = run_step_result(r, i);
		const char *title = step_title(res, ds);
		bool action = ds->ss->fault == SCENARIO_ACTION;
		struct case_builder b = new_case(
			res, action ? REPORT_CASE_ACTION : REPORT_CASE_STEP,
			rstr(res, "%s.%zu.%s", step_word(r, i), step_number(r, i), ds->ss->kind),
			ds->ss->name ? ds->ss->name : title);

		if (s->state == STEP_OK || s->state == STEP_FAILED) {
			b.c->start_ns = s->start_ns;
			b.c->duration_ns = s->end_ns - s->start_ns;
			num(&b, "duration_ms", ms(res, b.c->duration_ns));
		}
		b.c->output = s->output.buf ? rstr(res, "%s", s->output.buf) : NULL;
		if (s->state == STEP_FAILED) {
			b.c->status = REPORT_FAIL;
			b.c->message =
				rstr(res, "%s: %s", title, s->message ? s->message : "failed");
			b.c->details = rstr(res, "%s %zu (%s) failed after %s: %s%s",
					    step_word(r, i), step_number(r, i), title,
					    dur(res, s->end_ns - s->start_ns),
					    s->message ? s->message : "failed",
					    action ? "" : "\nThe steps after it were skipped.");
			*bad = true;
		} else if (s->state != STEP_OK) {
			b.c->status = REPORT_SKIP;
			b.c->message =
				action ? "not run: the drill stopped before its time" :
					 "not run: an earlier step failed or the drill stopped";
		}
	}
}

/* How the latency bound `slow` was chosen, for the report. */
static const char *slow_origin(struct drill_run *r)
{
	struct run_result *res = r->res;
	const struct verify_result *v = &r->verdict->vres;

	switch (v->slow_source) {
	case VERIFY_SLOW_SET:
		return "set by the drill (expect: slow)";
	case VERIFY_SLOW_STEADY:
		return rstr(
			res,
			"%d x the steady-state p99 latency %s (%llu writes after the warm-up, before the first fault)",
			VERIFY_SLOW_MULT, lat(res, v->steady_p99_ns),
			(unsigned long long)v->steady_n);
	case VERIFY_SLOW_FLOOR:
		return rstr(
			res,
			"the floor: %d x the steady-state p99 latency %s (%llu writes after the warm-up, before the first fault) is less",
			VERIFY_SLOW_MULT, lat(res, v->steady_p99_ns),
			(unsigned long long)v->steady_n);
	default:
		return "the floor: no write was acknowledged before the first fault";
	}
}

/* What the figure may be off by: never below the true outage, at most bound_ns above. */
static const char *error_bound(struct drill_run *r)
{
	struct run_result *res = r->res;
	const struct verify_result *v = &r->verdict->vres;
	const struct scenario_workload *w = &r->sc->workload;

	return rstr(
		res,
		"never below the true outage, at most %s above it: one write interval %s (%u clients at %.0f/s) + one write latency %s (steady-state p99)%s",
		lat(res, v->bound_ns), lat(res, write_interval(r)), w->clients, w->rate,
		lat(res, v->steady_p99_ns),
		v->bound_probe ?
			rstr(res,
			     " + the readiness probe's lag %s (a try every %s, each taking up to %s: two of them)",
			     lat(res, probe_lag(r)), lat(res, PROBE_INTERVAL_NS),
			     lat(res, run_probe_took_max(r))) :
			"");
}

static void rto_fault_line(struct drill_run *r, struct strbuf *sb, size_t i)
{
	struct run_result *res = r->res;
	const struct verify_rto *v = &r->verdict->vres.rto[i];

	strbuf_appendf(sb, "fault %zu: ", i + 1);
	if (!v->outage) {
		strbuf_appendf(
			sb,
			"no casualty: every write after it was acknowledged within %s (RTO 0)\n",
			dur(res, r->verdict->vres.slow_ns));
		return;
	}
	strbuf_appendf(sb, "outage detected after %s (first casualty)", dur(res, v->detect_ns));
	if (v->first_ok_ns >= 0)
		strbuf_appendf(sb, ", first on-time acknowledgement after %s",
			       dur(res, v->first_ok_ns));
	if (!v->recovered)
		strbuf_appendf(
			sb, "; no %u consecutive on-time acknowledgements before the drill ended",
			r->sc->expect.rto_ops);
	else
		strbuf_appendf(
			sb,
			"; RTO %s: the acknowledgement of the first of %u consecutive on-time writes%s, sent at %s and acknowledged in %s",
			dur(res, v->rto_ns), r->sc->expect.rto_ops,
			v->probe_gated ? " sent after the readiness probe passed" : "",
			dur(res, v->end_sent_ns), lat(res, v->end_latency_ns));
	if (v->since_heal_ns >= 0)
		strbuf_appendf(sb, " (%s after the heal)", dur(res, v->since_heal_ns));
	strbuf_appendf(sb, "; casualties: %llu failed, %llu timed out, %llu acknowledged late",
		       (unsigned long long)v->failed, (unsigned long long)v->unknown,
		       (unsigned long long)v->late);
	if (v->late)
		strbuf_appendf(sb, " after waiting out the outage (wait median %s, max %s)",
			       dur(res, v->late_wait_p50_ns), dur(res, v->late_wait_max_ns));
	strbuf_append(sb, "\n");
}

static const char *rto_details(struct drill_run *r)
{
	struct run_result *res = r->res;
	struct strbuf sb = STRBUF_INIT;
	const char *out;

	strbuf_appendf(
		&sb,
		"A casualty is a write that failed, timed out, or was acknowledged later than %s, the latency bound: %s.\n",
		dur(res, r->verdict->vres.slow_ns), slow_origin(r));
	for (size_t i = 0; i < r->verdict->vres.n_rto; i++)
		rto_fault_line(r, &sb, i);
	strbuf_appendf(&sb, "The RTO is %s.\n", error_bound(r));
	for (size_t i = 0; i < r->d->n_steps; i++)
		if (run_step_result(r, i)->state == STEP_OK ||
		    run_step_result(r, i)->state == STEP_FAILED)
			strbuf_appendf(&sb, "step %zu %s took %s\n", i + 1, r->d->steps[i].ss->kind,
				       dur(res, run_step_result(r, i)->end_ns -
							run_step_result(r, i)->start_ns));
	out = rstr(res, "%s", sb.buf ? sb.buf : "");
	strbuf_release(&sb);
	return out;
}

/* The verdict line's warning when the figure cannot resolve a tenth of the target: the
 * workload writes too seldom, or its writes are too slow, for it. */
static const char *sparse_warning(struct drill_run *r)
{
	struct run_result *res = r->res;

	if (!verify_too_sparse(&r->verdict->vres, r->sc->expect.rto_ns))
		return "";
	return rstr(
		res,
		"; warning: measured only to within +%s (a write every %s per client, steady-state p99 %s%s), more than a tenth of the %s target",
		lat(res, r->verdict->vres.bound_ns), lat(res, write_interval(r)),
		lat(res, r->verdict->vres.steady_p99_ns),
		r->verdict->vres.bound_probe ?
			rstr(res, ", the readiness probe's lag %s", lat(res, probe_lag(r))) :
			"",
		dur(res, r->sc->expect.rto_ns));
}

/* Without a workload: RTO from the first fault's injection to the readiness probe's first
 * pass after it (within a probe interval and one try of the probe). */
static void rto_ready_case(struct drill_run *r, bool *bad)
{
	struct run_result *res = r->res;
	const struct scenario_expect *e = &r->sc->expect;
	struct case_builder b =
		new_case(res, REPORT_CASE_EXPECT, tid(r, "expect.rto"),
			 rstr(res, "%s <= %s", tlabel(r, "rto"), dur(res, e->rto_ns)));
	int64_t f0 = -1, ready = -1, rto;
	size_t n = 0;
	const int64_t *passes = run_probe_passes(r, &n);

	num(&b, "target_ms", ms(res, e->rto_ns));
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct fault_run *f = run_fault_result(r, i);

		if (f && f->injected && (f0 < 0 || f->injected_ns < f0))
			f0 = f->injected_ns;
	}
	if (!reached(r) || f0 < 0) {
		b.c->status = REPORT_SKIP;
		b.c->message = f0 < 0 && reached(r) ?
				       "not measured: no fault was injected" :
				       "not measured: the drill did not run to its end";
		return;
	}
	for (size_t i = 0; i < n && ready < 0; i++)
		if (passes[i] > f0)
			ready = passes[i];
	if (ready < 0) {
		b.c->status = REPORT_FAIL;
		b.c->message =
			"not recovered: the readiness probe never passed after the fault "
			"(no workload: RTO is fault to ready; wait: {probe: ready} measures it)";
		*bad = true;
		return;
	}
	rto = ready - f0;
	num(&b, "rto_ms", ms(res, rto));
	num(&b, "rto_error_bound_ms", ms1(res, PROBE_INTERVAL_NS + run_probe_took_max(r)));
	b.c->status = rto > e->rto_ns ? REPORT_FAIL : REPORT_PASS;
	b.c->message = rstr(res, "RTO %s %s target %s (no workload: from the fault to ready)",
			    dur(res, rto), rto > e->rto_ns ? ">" : "<=", dur(res, e->rto_ns));
	b.c->details = rstr(res,
			    "%s\nThe first fault was injected at %s; the readiness probe passed "
			    "again at %s (error bound: one probe interval and one try, %s).",
			    b.c->message, dur(res, f0 - r->steady_ns),
			    dur(res, ready - r->steady_ns),
			    dur(res, PROBE_INTERVAL_NS + run_probe_took_max(r)));
	*bad |= b.c->status != REPORT_PASS;
}

/* The outage fault i of the current target's view caused (as run_verify_inputs() placed
 * it), or NULL: not injected, or it never struck. */
static const struct verify_rto *fault_rto(struct drill_run *r, size_t i)
{
	const struct drill_fault *df = &r->d->faults[i];
	const struct fault_run *f = run_fault_result(r, i);
	int64_t at = f ? f->injected_ns : -1;

	if (!f || !f->injected)
		return NULL;
	if (df->ops->effects) {
		struct fault_effects e;

		df->ops->effects(df->state, &r->env, &e);
		at = e.first_ns;
	}
	for (size_t j = 0; at >= 0 && j < r->verdict->n_vfaults && j < r->verdict->vres.n_rto; j++)
		if (r->verdict->vfaults[j].at_ns == at)
			return &r->verdict->vres.rto[j];
	return NULL;
}

/* Each fault's RTO ("fault2_rto_ms"), where its outage ended: the history keeps them. */
static void fault_rto_props(struct drill_run *r, struct case_builder *b)
{
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct verify_rto *v = fault_rto(r, i);

		if (v && (v->recovered || !v->outage))
			num(b, rstr(r->res, "fault%zu_rto_ms", i + 1), ms(r->res, v->rto_ns));
	}
}

static void rto_case(struct drill_run *r, bool *bad)
{
	struct run_result *res = r->res;
	const struct scenario_expect *e = &r->sc->expect;
	const struct verify_result *v = &r->verdict->vres;
	struct case_builder b =
		new_case(res, REPORT_CASE_EXPECT, tid(r, "expect.rto"),
			 rstr(res, "%s <= %s", tlabel(r, "rto"), dur(res, e->rto_ns)));
	uint64_t late = 0;

	num(&b, "target_ms", ms(res, e->rto_ns));
	if (!reached(r) || !r->verdict->verified) {
		b.c->status = REPORT_SKIP;
		b.c->message = "not measured: the drill did not run to its end";
		return;
	}
	num(&b, "rto_ms", ms(res, v->rto_ns));
	num(&b, "rto_error_bound_ms", ms1(res, v->bound_ns));
	num(&b, "slow_ms", ms1(res, v->slow_ns));
	if (v->n_rto && v->rto[0].outage) {
		num(&b, "detection_ms", ms(res, v->rto[0].detect_ns));
		if (v->rto[0].first_ok_ns >= 0)
			num(&b, "first_success_ms", ms(res, v->rto[0].first_ok_ns));
	}
	for (size_t i = 0; i < v->n_rto; i++)
		late += v->rto[i].late;
	num(&b, "late_acknowledgements", rstr(res, "%llu", (unsigned long long)late));
	fault_rto_props(r, &b);
	b.c->details = rto_details(r);
	if (!v->recovered) {
		b.c->status = REPORT_FAIL;
		b.c->message = rstr(
			res,
			"not recovered: no %u consecutive writes acknowledged within %s after the fault",
			e->rto_ops, dur(res, v->slow_ns));
	} else if (v->rto_ns > e->rto_ns) {
		b.c->status = REPORT_FAIL;
		b.c->message = rstr(res, "RTO %s > target %s%s%s", dur(res, v->rto_ns),
				    dur(res, e->rto_ns), v->rto_ns ? "" : " (no casualty)",
				    sparse_warning(r));
	} else {
		b.c->message = rstr(res, "RTO %s <= target %s%s%s", dur(res, v->rto_ns),
				    dur(res, e->rto_ns), v->rto_ns ? "" : " (no casualty)",
				    sparse_warning(r));
	}
	*bad |= b.c->status != REPORT_PASS;
}

static const char *lost_list(struct drill_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out;

	for (size_t i = 0; i < r->verdict->vres.n_lost_ids; i++)
		strbuf_appendf(&sb, "%sw%llu", i ? ", " : "",
			       (unsigned long long)r->verdict->vres.lost_ids[i]);
	if (r->verdict->vres.lost > r->verdict->vres.n_lost_ids)
		strbuf_appendf(&sb, ", ... (%llu in all)",
			       (unsigned long long)r->verdict->vres.lost);
	out = rstr(r->res, "%s", sb.buf ? sb.buf : "");
	strbuf_release(&sb);
	return out;
}

static void rpo_case(struct drill_run *r, bool *bad)
{
	struct run_result *res = r->res;
	const struct scenario_expect *e = &r->sc->expect;
	const struct verify_result *v = &r->verdict->vres;
	bool window = e->rpo_kind == SCENARIO_RPO_WINDOW;
	struct case_builder b = new_case(res, REPORT_CASE_EXPECT, tid(r, "expect.rpo"),
					 window ? rstr(res, "%s <= %s", tlabel(r, "rpo"),
						       dur(res, e->rpo_window_ns)) :
						  rstr(res, "%s <= %llu", tlabel(r, "rpo"),
						       (unsigned long long)e->rpo_count));

	if (!reached(r) || !r->verdict->verified) {
		b.c->status = REPORT_SKIP;
		b.c->message = "not measured: the drill did not run to its end";
		return;
	}
	if (r->verdict->final_read_error) {
		b.c->status = REPORT_FAIL;
		b.c->message =
			rstr(res, "final read from %s failed (%s%s): lost writes cannot be counted",
			     run_node_name(r->wl_node), strerror(-r->verdict->final_read_error),
			     r->verdict->final_read_why);
		*bad = true;
		return;
	}
	num(&b, "rpo_lost_writes", rstr(res, "%llu", (unsigned long long)v->lost));
	num(&b, "rpo_window_ms", ms(res, v->rpo_window_ns));
	num(&b, "acknowledged", rstr(res, "%llu", (unsigned long long)v->acked));
	num(&b, "unknown_present", rstr(res, "%llu", (unsigned long long)v->unknown_present));
	num(&b, "unknown", rstr(res, "%llu", (unsigned long long)(v->unknown + v->pending)));
	if (window ? v->lost && v->rpo_window_ns > e->rpo_window_ns : v->lost > e->rpo_count)
		b.c->status = REPORT_FAIL;
	b.c->message = rstr(res, "%llu of %llu acknowledged writes lost%s%s (window %s)",
			    (unsigned long long)v->lost, (unsigned long long)v->acked,
			    v->lost ? ": " : "", v->lost ? lost_list(r) : "",
			    dur(res, v->rpo_window_ns));
	b.c->details = rstr(
		res,
		"%s\nThe final read from %s returned %llu keys. Writes whose outcome was unknown (timed out) may be present or absent: %llu of %llu were present.",
		b.c->message, run_node_name(r->wl_node), (unsigned long long)r->verdict->final_keys,
		(unsigned long long)v->unknown_present,
		(unsigned long long)(v->unknown + v->pending));
	*bad |= b.c->status != REPORT_PASS;
}

static void integrity_case(struct drill_run *r, bool *bad)
{
	struct run_result *res = r->res;
	const struct verify_result *v = &r->verdict->vres;
	struct case_builder b = new_case(res, REPORT_CASE_EXPECT, tid(r, "expect.integrity"),
					 tlabel(r, "integrity"));
	struct strbuf sb = STRBUF_INIT, msg = STRBUF_INIT;
	bool before_checkers;

	if (!reached(r) || !r->verdict->verified) {
		b.c->status = REPORT_SKIP;
		b.c->message = "not checked: the drill did not run to its end";
		return;
	}
	if (r->verdict->final_read_error)
		strbuf_appendf(&sb, "final read from %s failed: %s%s\n", run_node_name(r->wl_node),
			       strerror(-r->verdict->final_read_error), r->verdict->final_read_why);
	if (r->verdict->fr.phantoms || r->verdict->fr.corrupt)
		strbuf_appendf(
			&sb,
			"%llu values the workload never wrote and %llu corrupt values (first: %s)\n",
			(unsigned long long)r->verdict->fr.phantoms,
			(unsigned long long)r->verdict->fr.corrupt, r->verdict->fr.first_bad);
	if (v->failed_present)
		strbuf_appendf(
			&sb,
			"%llu writes the target refused are present all the same (first: w%llu)\n",
			(unsigned long long)v->failed_present,
			(unsigned long long)v->failed_present_ids[0]);
	before_checkers = sb.len > 0;
	for (size_t i = 0; i < run_node_count(r); i++) {
		const struct run_node *n = run_node_at(r, i);
		const char *output, *checker;
		int status;

		if (run_node_view(n) != r->d) /* another target's node */
			continue;
		if (!(checker = run_node_checker(n, &status, &output)) || status == 0)
			continue;
		if (!output)
			output = "";
		/* the message names the first failing checker with its first line, even
		 * when another finding (a failed final read) comes first */
		if (!msg.len)
			strbuf_appendf(
				&msg, "; %s on %s: %s %d: %.*s", checker, run_node_name(n),
				status < 0 ? "could not run, code" : "exit", status,
				(int)strcspn(output, "\n") > 200 ? 200 : (int)strcspn(output, "\n"),
				output);
		strbuf_appendf(&sb, "%s on %s: %s %d\n%s\n", checker, run_node_name(n),
			       status < 0 ? "could not run, code" : "exit", status, output);
	}
	num(&b, "values_checked", rstr(res, "%llu", (unsigned long long)r->verdict->final_keys));
	num(&b, "phantoms", rstr(res, "%llu", (unsigned long long)r->verdict->fr.phantoms));
	num(&b, "corrupt", rstr(res, "%llu", (unsigned long long)r->verdict->fr.corrupt));
	if (sb.len) {
		b.c->status = REPORT_FAIL;
		b.c->details = rstr(res, "%s", sb.buf);
		/* a checker's line that is the first line already is not said twice */
		b.c->message = rstr(res, "integrity violated: %.*s%s", (int)strcspn(sb.buf, "\n"),
				    sb.buf, before_checkers ? (msg.len ? msg.buf : "") : "");
		*bad = true;
	} else {
		b.c->message = rstr(res, "%llu values intact; checker passed on every node",
				    (unsigned long long)r->verdict->final_keys);
	}
	strbuf_release(&sb);
	strbuf_release(&msg);
}

/* A checker's verdict on one node as a testcase of its own: check-online always, the
 * offline check when no workload makes it part of integrity. */
static void checker_case(struct drill_run *r, const struct run_node *n, bool online, bool *bad)
{
	struct run_result *res = r->res;
	const char *node = run_node_name(n), *what = online ? "check-online" : "check";
	const char *output, *argv0;
	int64_t t0 = -1, t1 = -1;
	int status;
	struct case_builder b;

	argv0 = online ? run_node_check_online(n, &status, &output, &t0, &t1) :
			 run_node_checker(n, &status, &output);
	if (!argv0)
		return;
	b = new_case(res, REPORT_CASE_EXPECT,
		     rstr(res, "expect.%s.%s", online ? "check_online" : "check", node),
		     rstr(res, "%s on %s", what, node));
	if (t0 >= 0 && status != -1) {
		b.c->start_ns = t0;
		b.c->duration_ns = t1 - t0;
	}
	if (status == -1 && (!reached(r) || r->interrupted)) {
		b.c->status = REPORT_SKIP;
		b.c->message = "not run: the drill did not run to its end";
		return;
	}
	num(&b, "exit", rstr(res, "%d", status));
	b.c->output = *output ? rstr(res, "%s", output) : NULL;
	if (status == 0) {
		b.c->message = rstr(res, "%s passed on %s", argv0, node);
		return;
	}
	b.c->status = REPORT_FAIL;
	b.c->message = rstr(res, "%s on %s: %s", argv0, node,
			    status == -4 ? "the node was not running" :
			    status == -3 ? "could not start" :
			    status == -2 ? "timed out" :
			    status == -1 ? "not run" :
					   rstr(res, "exit %d", status));
	b.c->details = rstr(res, "%s\n%s", b.c->message, output);
	*bad = true;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* p50/p99 latency (ms, 0.1 precision as text) of acknowledged writes started in [from, to). */
static const char *latency(struct drill_run *r, int64_t from, int64_t to, bool p99)
{
	const struct ledger *l = r->ledger;
	int64_t *v = malloc((l->n ? l->n : 1) * sizeof(*v)), x;
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->ops[i].outcome == LEDGER_OK && l->ops[i].start_ns >= from &&
		    l->ops[i].start_ns < to)
			v[n++] = l->ops[i].end_ns - l->ops[i].start_ns;
	if (!n) {
		free(v);
		return NULL;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	x = v[p99 ? (n - 1) * 99 / 100 : n / 2] / 100000; /* tenths of a millisecond */
	free(v);
	return rstr(r->res, "%lld.%lld", (long long)(x / 10), (long long)(x % 10));
}

/* The phases of the drill for latency: before the first fault, from it until the last
 * heal or the end of recovery, after. */
static void phases(struct drill_run *r, int64_t *f0, int64_t *f1)
{
	*f0 = *f1 = -1;
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct fault_run *f = run_fault_result(r, i);
		int64_t end = f->healed ? f->healed_ns : f->injected_ns;

		if (!f->injected)
			continue;
		if (*f0 < 0 || f->injected_ns < *f0)
			*f0 = f->injected_ns;
		if (end > *f1)
			*f1 = end;
	}
	if (run_recovered_ns(r) > *f1)
		*f1 = run_recovered_ns(r);
}

/* The current target's figures into p[*n..max). */
static void target_props(struct drill_run *r, struct report_property *p, size_t *np, size_t max)
{
	struct run_result *res = r->res;
	const struct verify_result *v = &r->verdict->vres;
	size_t n = *np;

/* T: a figure of that type (NULL value: left out); L: a latency, null when no write of
 * the phase was acknowledged */
#define PT(nm, value, type, keep_null)                                                          \
	do {                                                                                    \
		const char *_v = (value);                                                       \
		if ((_v || (keep_null)) && n < max)                                             \
			p[n++] = (struct report_property){                                      \
				run_multi(r) ? rstr(res, "%s.%s", r->d->target->name, nm) : nm, \
				_v, type                                                        \
			};                                                                      \
	} while (0)
#define P(nm, value) PT(nm, value, REPORT_NUMBER, false)
#define F(nm, value) PT(nm, value, REPORT_FLAG, false)
#define L(nm, value) PT(nm, value, REPORT_NUMBER, true)
	if (!r->verdict)
		return;
	if (r->verdict->verified) {
		P("rto_ms", ms(res, v->rto_ns));
		P("rto_us", rstr(res, "%lld", (long long)(v->rto_ns / 1000)));
		P("rto_error_bound_ms", ms1(res, v->bound_ns));
		P("slow_ms", ms1(res, v->slow_ns));
		F("recovered", v->recovered ? "true" : "false");
		P("rpo_lost_writes", rstr(res, "%llu", (unsigned long long)v->lost));
		P("rpo_window_ms", ms(res, v->rpo_window_ns));
		P("operations", rstr(res, "%llu", (unsigned long long)v->ops));
		P("acknowledged", rstr(res, "%llu", (unsigned long long)v->acked));
		P("failed", rstr(res, "%llu", (unsigned long long)v->failed));
		P("unknown", rstr(res, "%llu", (unsigned long long)(v->unknown + v->pending)));
		F("integrity", v->integrity_ok ? "true" : "false");
	}
	if (r->verdict->verified) {
		int64_t f0, f1;

		phases(r, &f0, &f1);
		if (f0 >= 0) {
			L("latency_p50_ms_before", latency(r, 0, f0, false));
			L("latency_p99_ms_before", latency(r, 0, f0, true));
			L("latency_p50_ms_during", latency(r, f0, f1, false));
			L("latency_p99_ms_during", latency(r, f0, f1, true));
			L("latency_p50_ms_after", latency(r, f1, INT64_MAX, false));
			L("latency_p99_ms_after", latency(r, f1, INT64_MAX, true));
		}
	}
	P("workload_rate", rstr(res, "%.0f", r->sc->workload.rate));
	P("workload_clients", rstr(res, "%u", r->sc->workload.clients));
#undef P
#undef F
#undef L
#undef PT
	*np = n;
}

/* The drill's figures (with several targets, each target's, named "kvlog.rto_ms"). */
static void suite_props(struct drill_run *r)
{
	struct run_result *res = r->res;
	struct report_property *p = calloc(MAX_PROPS * r->n_wls, sizeof(*p));
	size_t n = 0;

	res->props = p;
	if (!p)
		return;
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		target_props(r, p, &n, MAX_PROPS * r->n_wls);
	}
	run_select(r, 0);
	res->suite.props = p;
	res->suite.n_props = n;
}

static int build_suite(struct drill_run *r)
{
	struct run_result *res = r->res;
	size_t max = r->d->n_faults + r->d->n_steps + 3 * r->n_wls + 2 * run_node_count(r);
	bool bad = false;

	res->cases = calloc(max, sizeof(*res->cases));
	res->case_props = calloc(max, sizeof(*res->case_props));
	if (!res->cases || !res->case_props)
		return EXIT_ENVIRONMENT;
	gethostname(res->hostname, sizeof(res->hostname) - 1);
	res->suite.name = r->sc->drill;
	res->suite.description = r->sc->description;
	res->suite.target = r->base->sc->target;
	res->suite.runbook = r->sc->runbook;
	res->suite.seed = r->d->seed;
	res->suite.hostname = res->hostname;
	res->suite.cases = res->cases;
	if (run_fault_result(r, 0) &&
	    run_step_result(r, 0)) { /* NULL only out of memory at the start */
		fault_cases(r, &bad);
		step_cases(r, &bad);
	}
	for (size_t i = 0; i < r->n_wls; i++) { /* each target's verdicts */
		run_select(r, i);
		if (r->sc->expect.has_rto && r->d->no_workload)
			rto_ready_case(r, &bad);
		else if (r->sc->expect.has_rto)
			rto_case(r, &bad);
		if (r->sc->expect.rpo_kind != SCENARIO_RPO_UNSET)
			rpo_case(r, &bad);
		if (r->sc->expect.has_integrity && r->sc->expect.integrity)
			integrity_case(r, &bad);
	}
	run_select(r, 0);
	for (size_t i = 0; i < run_node_count(r); i++) {
		checker_case(r, run_node_at(r, i), true, &bad);
		if (run_node_view(run_node_at(r, i))->no_workload) /* no integrity case holds it */
			checker_case(r, run_node_at(r, i), false, &bad);
	}
	suite_props(r);
	if (r->interrupted)
		run_env_error(r, "%s",
			      r->interrupt_sig ? strsignal(r->interrupt_sig) : "interrupted");
	if (r->env_error) {
		if (asprintf(&res->error, "%s%s", r->interrupted ? "interrupted by " : "",
			     r->env_error) < 0)
			res->error = NULL;
		res->suite.error = res->error ? res->error : "environment error";
		return EXIT_ENVIRONMENT;
	}
	return bad ? EXIT_MISSED : EXIT_MET;
}

static int write_outputs(struct drill_run *r)
{
	struct strbuf sb = STRBUF_INIT;
	char path[4200];
	int k;

	if (!r->tl)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/timeline.jsonl", r->run_dir);
	if ((k = timeline_write_jsonl(r->tl, path)) < 0)
		return k;
	/* one ledger per target: "ledger", or with several targets "ledger.TARGET" */
	for (size_t i = 0; i < r->n_wls && k >= 0; i++) {
		run_select(r, i);
		if (!r->ledger) {
			k = -ENOMEM;
			break;
		}
		if (run_multi(r))
			snprintf(path, sizeof(path), "%s/ledger.%s", r->run_dir,
				 r->d->target->name);
		else
			snprintf(path, sizeof(path), "%s/ledger", r->run_dir);
		k = ledger_write(r->ledger, path);
	}
	run_select(r, 0);
	if (k < 0)
		return k;
	if ((k = result_json_write(&r->res->suite, &sb)) >= 0) {
		snprintf(path, sizeof(path), "%s/result.json", r->run_dir);
		k = fs_write_atomic(path, sb.buf, sb.len, 0644);
	}
	strbuf_release(&sb);
	if (k >= 0 && (k = junit_write(&r->res->suite, 1, &sb)) >= 0) {
		snprintf(path, sizeof(path), "%s/junit.xml", r->run_dir);
		k = fs_write_atomic(path, sb.buf, sb.len, 0644);
	}
	strbuf_release(&sb);
	if (k >= 0)
		k = run_write_html(r);
	if (k >= 0)
		k = failpoint("report.write", -ENOSPC);
	return k;
}

static const char *find_prop(const struct report_suite *s, const char *name)
{
	for (size_t i = 0; i < s->n_props; i++)
		if (!strcmp(s->props[i].name, name))
			return s->props[i].value ? s->props[i].value : "-";
	return "-";
}

/* t: the target whose figures these are (its props are "t.NAME"), or NULL with one. */
static void print_latency(const struct report_suite *s, const char *t)
{
	static const char *const names[] = { "latency_p50_ms_before", "latency_p99_ms_before",
					     "latency_p50_ms_during", "latency_p99_ms_during",
					     "latency_p50_ms_after",  "latency_p99_ms_after" };
	const char *v[ARRAY_SIZE(names)];
	char name[200], label[64];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(name, sizeof(name), "%s%s%s", t ? t : "", t ? "." : "", names[i]);
		v[i] = find_prop(s, name);
	}
	if (!strcmp(v[2], "-") && !strcmp(v[0], "-"))
		return;
	snprintf(label, sizeof(label), "latency%s%s%s", t ? " [" : "", t ? t : "", t ? "]" : "");
	printf("  %-22s      p50/p99 ms: before %s/%s, during %s/%s, after %s/%s\n", label, v[0],
	       v[1], v[2], v[3], v[4], v[5]);
}

static void print_summary(struct drill_run *r, int code)
{
	const struct report_suite *s = &r->res->suite;
	static const char *const verdict[] = { "PASS", "FAIL", "BAD INPUT", "COULD NOT RUN" };

	for (size_t i = 0; i < s->n_cases; i++) {
		const struct report_case *c = &s->cases[i];

		if (c->kind != REPORT_CASE_EXPECT && c->status == REPORT_PASS)
			continue;
		if (c->status == REPORT_SKIP && r->env_error)
			continue;
		printf("  %-22s %-4s %s\n", c->name,
		       c->status == REPORT_PASS ? "ok" :
		       c->status == REPORT_SKIP ? "skip" :
						  "FAIL",
		       c->message ? c->message : "");
	}
	for (size_t i = 0; i < r->n_wls; i++)
		print_latency(s, run_multi(r) ? r->wls[i].d->target->name : NULL);
	if (r->env_error)
		printf("  error: %s%s\n", r->interrupted ? "interrupted by " : "", r->env_error);
	if (r->run_dir[0])
		printf("  run directory: %s\n", r->run_dir);
	printf("%s: %s (exit %d)\n", r->sc->drill, verdict[code], code);
	fflush(stdout);
}

int run_report(struct drill_run *r)
{
	int code, k;

	run_live_stop(r); /* the summary's lines follow */
	for (size_t i = 0; i < r->n_wls; i++) {
		run_select(r, i);
		if (r->verdict && !r->env_error && !r->interrupted && !r->d->no_workload &&
		    run_verify(r) < 0)
			run_env_error(r, "out of memory while verifying");
	}
	run_select(r, 0);
	code = build_suite(r);
	r->res->suite.exit_code = code;
	if (r->tl && r->run_dir[0]) {
		run_seeded_record(r);
		run_verdict_record(r, code);
	}
	r->res->suite.duration_ns = r->t0 ? time_mono_ns() - r->t0 : 0;
	if (r->run_dir[0]) {
		r->res->run_dir = strdup(r->run_dir);
		r->res->suite.run_dir = r->res->run_dir;
		if ((k = write_outputs(r)) < 0 && !r->env_error) {
			/* the verdicts stand, but the drill's record is incomplete: the --junit file
			 * and the summary say so */
			run_env_error(r, "cannot write the reports in %s: %s", r->run_dir,
				      strerror(-k));
			free(r->res->error);
			r->res->error = r->env_error ? strdup(r->env_error) : NULL;
			r->res->suite.error = r->res->error ? r->res->error :
							      "cannot write the reports";
		}
		if (k < 0)
			code = r->res->suite.exit_code = EXIT_ENVIRONMENT;
	}
	print_summary(r, code);
	return code;
}
