/* What the seed decided, into the timeline for `chaosdrill replay --check`: one `seeded`
 * event per fault with its schedule (kind, node, time as scheduled) and when it actually
 * struck, then one per decision its family handed back (fault_ops.seeded: the torn call
 * and byte, the power cut's sectors, the delay queue's draws); and a `verdict` event with
 * the exit code and the expectations missed. Words: "key=value" the seed (or the file)
 * decides, "key~value" timing decides, "key^a,b" a sequence of draws (replay/compare.h). */
#include <stdio.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

static void fault_schedule(struct drill_run *r, size_t i)
{
	const struct drill_fault *df = &r->d->faults[i];
	const struct scenario_fault *sf = df->sf;
	const struct fault_run *f = run_fault_result(r, i);
	const char *node = df->ops->node(df->state);
	const char *outcome = f->injected ? "injected" : f->failed ? "failed" : "not-reached";
	char heal[64] = "", when[96] = "";

	if (sf->has_heal)
		snprintf(heal, sizeof(heal), " heal_%s_ms=%lld", sf->heal_is_after ? "after" : "at",
			 (long long)(sf->heal_ns / NSEC_PER_MSEC));
	if (r->steady_ns > 0 && (f->injected || f->failed))
		snprintf(when, sizeof(when), " injected_ms~%.3f",
			 (double)(f->injected_ns - r->steady_ns) / NSEC_PER_MSEC);
	if (r->steady_ns > 0 && f->healed)
		snprintf(when + strlen(when), sizeof(when) - strlen(when), " healed_ms~%.3f",
			 (double)(f->healed_ns - r->steady_ns) / NSEC_PER_MSEC);
	timeline_add(r->tl, run_now(r), TL_SEEDED, (int)i, node, 0,
		     "what=schedule kind=%s node=%s at_ms=%lld%s outcome=%s%s", sf->kind,
		     node ? node : "-", (long long)(sf->at_ns / NSEC_PER_MSEC), heal, outcome,
		     when);
}

/* One event per line the fault handed back. */
static void fault_decisions(struct drill_run *r, size_t i)
{
	const struct drill_fault *df = &r->d->faults[i];
	struct strbuf sb = STRBUF_INIT;
	const char *p, *nl;

	if (!df->ops->seeded)
		return;
	df->ops->seeded(df->state, &r->env, &sb);
	for (p = sb.buf; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if ((nl ? nl - p : (ptrdiff_t)strlen(p)) > 0)
			timeline_add(r->tl, run_now(r), TL_SEEDED, (int)i, df->ops->node(df->state),
				     0, "%.*s", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
	}
	strbuf_release(&sb);
}

void run_seeded_record(struct drill_run *r)
{
	timeline_add(r->tl, run_now(r), TL_SEEDED, -1, NULL, 0, "what=drill drill=%s seed=%llu",
		     r->sc->drill, (unsigned long long)r->d->seed);
	for (size_t i = 0; i < r->d->n_faults; i++) {
		fault_schedule(r, i);
		fault_decisions(r, i);
	}
}

void run_verdict_record(struct drill_run *r, int code)
{
	const struct report_suite *s = &r->res->suite;
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < s->n_cases; i++)
		if (s->cases[i].status == REPORT_FAIL || s->cases[i].status == REPORT_ERROR)
			strbuf_appendf(&sb, "%s%s", sb.len ? "," : "", s->cases[i].id);
	timeline_add(r->tl, run_now(r), TL_VERDICT, -1, NULL, code, "missed=%s",
		     sb.len ? sb.buf : "-");
	strbuf_release(&sb);
}
