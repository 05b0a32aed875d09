/* One run's history figures, taken from the report model the run built (reports/report.h):
 * the drill-level properties ("rto_ms", or "kvlog.rto_ms" with several targets), the RTO
 * expectation's per-fault figures ("fault2_rto_ms"), and the steps' and expectations'
 * cases. Pure: no I/O. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "harness/history/history.h"

static const char *const verdicts[] = { "pass", "fail", "bad input", "error" };
static const char *const statuses[] = {
	[REPORT_PASS] = "pass",
	[REPORT_FAIL] = "fail",
	[REPORT_ERROR] = "error",
	[REPORT_SKIP] = "skip",
};

const char *history_verdict(int exit_code)
{
	return exit_code >= 0 && exit_code < 4 ? verdicts[exit_code] : "error";
}

const char *history_status_name(enum report_status s)
{
	return (unsigned)s < sizeof(statuses) / sizeof(statuses[0]) ? statuses[s] : "error";
}

int history_status_parse(const char *s, enum report_status *out)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (s && !strcmp(s, statuses[i])) {
			*out = (enum report_status)i;
			return 0;
		}
	return -EINVAL;
}

/* A figure as a whole number ("24", "1.6" rounds to 2); -1 if it is none. */
static int64_t figure(const char *v)
{
	char *end;
	double d;

	if (!v || !*v)
		return -1;
	d = strtod(v, &end);
	if (*end || !isfinite(d) || d < 0 || d > 9e15)
		return -1;
	return (int64_t)llround(d);
}

static int dupstr(char **dst, const char *s)
{
	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* The target a qualified name is about: "kvlog.rto_ms" -> "kvlog" (tlen 5), key "rto_ms";
 * "rto_ms" -> "" (tlen 0). For case ids, sep is ".expect." and the key follows it. */
static const char *split(const char *name, size_t *tlen)
{
	const char *dot = strrchr(name, '.');

	*tlen = dot ? (size_t)(dot - name) : 0;
	return dot ? dot + 1 : name;
}

static struct history_target *target(struct history_run *run, const char *name, size_t len)
{
	struct history_target *t;

	for (size_t i = 0; i < run->n_targets; i++)
		if (strlen(run->targets[i].target) == len &&
		    !strncmp(run->targets[i].target, name, len))
			return &run->targets[i];
	t = realloc(run->targets, (run->n_targets + 1) * sizeof(*t));
	if (!t)
		return NULL;
	run->targets = t;
	t += run->n_targets;
	*t = (struct history_target){ strndup(name, len), -1, -1, -1, -1 };
	if (!t->target)
		return NULL;
	run->n_targets++;
	return t;
}

/* The drill-level properties: each target's RTO, RPO and integrity. */
static int suite_figures(const struct report_suite *s, struct history_run *run)
{
	for (size_t i = 0; i < s->n_props; i++) {
		const char *name = s->props[i].name, *v = s->props[i].value, *key;
		struct history_target *t;
		size_t tlen;

		if (!name)
			continue;
		key = split(name, &tlen);
		if (strcmp(key, "rto_ms") && strcmp(key, "rpo_lost_writes") &&
		    strcmp(key, "rpo_window_ms") && strcmp(key, "integrity") &&
		    strcmp(key, "recovered"))
			continue;
		if (!(t = target(run, name, tlen)))
			return -ENOMEM;
		if (!strcmp(key, "rto_ms") && t->rto_ms != -2)
			t->rto_ms = figure(v);
		else if (!strcmp(key, "recovered") && v && !strcmp(v, "false"))
			t->rto_ms = -2; /* no figure: the outage never ended (-1 below) */
		else if (!strcmp(key, "rpo_lost_writes"))
			t->rpo_lost = figure(v);
		else if (!strcmp(key, "rpo_window_ms"))
			t->rpo_window_ms = figure(v);
		else if (!strcmp(key, "integrity") && v)
			t->integrity = !strcmp(v, "true") ? 1 : !strcmp(v, "false") ? 0 : -1;
	}
	return 0;
}

static int add_fault(struct history_run *run, const char *tname, size_t tlen, unsigned n,
		     int64_t rto_ms)
{
	struct history_fault *f = realloc(run->faults, (run->n_faults + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	run->faults = f;
	f += run->n_faults;
	*f = (struct history_fault){ strndup(tname, tlen), n, rto_ms };
	if (!f->target)
		return -ENOMEM;
	run->n_faults++;
	return 0;
}

/* N of "faultN_rto_ms", or 0. */
static unsigned fault_number(const char *name)
{
	char *end;
	unsigned long n;

	if (strncmp(name, "fault", 5) || name[5] < '1' || name[5] > '9')
		return 0;
	n = strtoul(name + 5, &end, 10);
	return strcmp(end, "_rto_ms") || n > 1000000 ? 0 : (unsigned)n;
}

/* The RTO expectation's case ("expect.rto", "kvlog.expect.rto"): the RTO of a drill without
 * a workload (not among the drill's properties) and each fault's ("fault2_rto_ms"). */
static int rto_case(const struct report_case *c, struct history_run *run)
{
	size_t tlen = strlen(c->id) - strlen("expect.rto");
	struct history_target *t;

	if (tlen && c->id[tlen - 1] != '.')
		return 0;
	tlen -= tlen ? 1 : 0;
	if (!(t = target(run, c->id, tlen)))
		return -ENOMEM;
	for (size_t i = 0; i < c->n_props; i++) {
		const char *name = c->props[i].name;
		int64_t v = figure(c->props[i].value);

		if (!name || v < 0)
			continue;
		if (!strcmp(name, "rto_ms") && t->rto_ms == -1)
			t->rto_ms = v;
		else if (fault_number(name) > 0 &&
			 add_fault(run, c->id, tlen, fault_number(name), v) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static int add_case(struct history_run *run, const struct report_case *c)
{
	static const enum history_case_kind kinds[] = {
		[REPORT_CASE_STEP] = HISTORY_STEP,
		[REPORT_CASE_ACTION] = HISTORY_ACTION,
		[REPORT_CASE_EXPECT] = HISTORY_EXPECT,
	};
	struct history_case *hc = &run->cases[run->n_cases];

	*hc = (struct history_case){
		.kind = kinds[c->kind],
		.status = c->status,
		.duration_ns = c->start_ns >= 0 ? c->duration_ns : -1,
	};
	if (dupstr(&hc->id, c->id) < 0 || dupstr(&hc->name, c->name ? c->name : c->id) < 0 ||
	    dupstr(&hc->message, c->message) < 0)
		return -ENOMEM;
	run->n_cases++;
	return 0;
}

static int cases(const struct report_suite *s, struct history_run *run)
{
	run->cases = calloc(s->n_cases ? s->n_cases : 1, sizeof(*run->cases));
	if (!run->cases)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct report_case *c = &s->cases[i];

		if (c->kind == REPORT_CASE_FAULT || !c->id)
			continue;
		if (add_case(run, c) < 0)
			return -ENOMEM;
		if (c->kind == REPORT_CASE_EXPECT && ends_with(c->id, "expect.rto") &&
		    rto_case(c, run) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The run's totals over its targets. */
static void totals(struct history_run *run)
{
	run->rto_ms = run->rpo_lost = run->rpo_window_ms = -1;
	run->integrity = -1;
	for (size_t i = 0; i < run->n_targets; i++) {
		struct history_target *t = &run->targets[i];

		if (t->rto_ms < -1)
			t->rto_ms = -1;
		if (t->rto_ms > run->rto_ms)
			run->rto_ms = t->rto_ms;
		if (t->rpo_lost >= 0)
			run->rpo_lost = (run->rpo_lost < 0 ? 0 : run->rpo_lost) + t->rpo_lost;
		if (t->rpo_window_ms > run->rpo_window_ms)
			run->rpo_window_ms = t->rpo_window_ms;
		if (t->integrity >= 0)
			run->integrity = run->integrity == 0 ? 0 : t->integrity;
	}
}

int history_run_from_suite(const struct report_suite *s, const char *drill, struct history_run *out)
{
	int k = 0;

	*out = (struct history_run){
		.started_ns = s->started_real_ns,
		.seed = s->seed,
		.exit_code = s->exit_code,
		.duration_ms = s->duration_ns / NSEC_PER_MSEC,
	};
	if (dupstr(&out->drill, drill	? drill :
				s->name ? s->name :
					  "") < 0 ||
	    dupstr(&out->version, CHAOSDRILL_VERSION) < 0 ||
	    dupstr(&out->run_dir, s->run_dir) < 0 || dupstr(&out->hostname, s->hostname) < 0 ||
	    dupstr(&out->error, s->error) < 0)
		k = -ENOMEM;
	if (k >= 0)
		k = suite_figures(s, out);
	if (k >= 0)
		k = cases(s, out);
	if (k < 0) {
		history_run_release(out);
		return k;
	}
	totals(out);
	return 0;
}

void history_run_release(struct history_run *run)
{
	for (size_t i = 0; i < run->n_targets; i++)
		free(run->targets[i].target);
	for (size_t i = 0; i < run->n_faults; i++)
		free(run->faults[i].target);
	for (size_t i = 0; i < run->n_cases; i++) {
		free(run->cases[i].id);
		free(run->cases[i].name);
		free(run->cases[i].message);
	}
	free(run->targets);
	free(run->faults);
	free(run->cases);
	free(run->drill);
	free(run->version);
	free(run->run_dir);
	free(run->hostname);
	free(run->error);
	*run = (struct history_run){ 0 };
}

void history_runs_release(struct history_runs *runs)
{
	for (size_t i = 0; i < runs->n; i++)
		history_run_release(&runs->v[i]);
	free(runs->v);
	runs->v = NULL;
	runs->n = 0;
}
