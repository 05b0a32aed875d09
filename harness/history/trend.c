/* The regression rules of trend.h: the newest run of a drill against the median of the
 * runs before it, with a margin and an absolute floor, and cases that newly fail. Pure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "harness/history/trend.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t trend_median(int64_t *v, size_t n)
{
	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_i64);
	if (n % 2)
		return v[n / 2];
	return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

bool trend_regressed(int64_t value_ns, int64_t median_ns, const struct trend_options *o)
{
	int64_t delta = value_ns - median_ns;

	if (value_ns < 0 || median_ns < 0 || delta <= 0)
		return false;
	/* in 128 bits: a median of hours times a margin of thousands of percent */
	return (__int128)delta * 100 > (__int128)median_ns * o->margin_pct &&
	       delta > o->min_delta_ns;
}

/* The rank of run->cases[i] among the run's steps and actions of its name. */
static unsigned nth_of(const struct history_run *run, size_t i)
{
	unsigned n = 0;

	for (size_t j = 0; j < i; j++)
		n += run->cases[j].kind != HISTORY_EXPECT &&
		     !strcmp(run->cases[j].name, run->cases[i].name);
	return n;
}

/* The case of run that c is about: a step or action by name and rank, an expectation by id. */
static const struct history_case *find_case(const struct history_run *run,
					    const struct trend_check *c)
{
	unsigned n = 0;

	for (size_t i = 0; i < run->n_cases; i++) {
		const struct history_case *hc = &run->cases[i];

		if (c->case_kind == HISTORY_EXPECT) {
			if (hc->kind == HISTORY_EXPECT && !strcmp(hc->id, c->id))
				return hc;
		} else if (hc->kind != HISTORY_EXPECT && !strcmp(hc->name, c->name) &&
			   n++ == c->nth) {
			return hc;
		}
	}
	return NULL;
}

static int64_t rto_ns(const struct history_run *run, const char *target)
{
	int64_t ms = run->rto_ms;

	if (target[0]) {
		ms = -1;
		for (size_t i = 0; i < run->n_targets; i++)
			if (!strcmp(run->targets[i].target, target))
				ms = run->targets[i].rto_ms;
	}
	return ms < 0 ? -1 : ms * NSEC_PER_MSEC;
}

int64_t trend_value(const struct history_run *run, const struct trend_check *c)
{
	const struct history_case *hc;

	if (c->kind == TREND_RTO)
		return rto_ns(run, c->id);
	hc = find_case(run, c);
	if (!hc || (hc->status != REPORT_PASS && hc->status != REPORT_FAIL))
		return -1; /* absent, skipped, or could not be carried out */
	return hc->duration_ns;
}

static bool same_figure(const struct trend_check *a, const struct trend_check *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == TREND_RTO || a->case_kind == HISTORY_EXPECT)
		return !strcmp(a->id, b->id);
	return !strcmp(a->name, b->name) && a->nth == b->nth;
}

bool trend_flagged(const struct trend_verdict *v, const struct trend_check *key)
{
	for (size_t i = 0; i < v->n_checks; i++)
		if (v->checks[i].flagged && same_figure(&v->checks[i], key))
			return true;
	return false;
}

void trend_label(const struct trend_check *c, char *buf, size_t len)
{
	if (c->kind == TREND_RTO)
		snprintf(buf, len, "RTO%s%s%s", c->id[0] ? " [" : "", c->id, c->id[0] ? "]" : "");
	else if (c->nth)
		snprintf(buf, len, "%s #%u", c->name, c->nth + 1);
	else
		snprintf(buf, len, "%s", c->name);
}

int trend_columns(const struct history_run *runs, size_t n, struct trend_check **out, size_t *n_out)
{
	struct trend_check *c = NULL, *g;
	size_t k = 0;

	*out = NULL;
	*n_out = 0;
	for (size_t r = n; r-- > 0;)
		for (size_t i = 0; i < runs[r].n_cases; i++) {
			struct trend_check col = { .kind = TREND_DURATION,
						   .id = runs[r].cases[i].id,
						   .name = runs[r].cases[i].name,
						   .case_kind = runs[r].cases[i].kind,
						   .nth = nth_of(&runs[r], i) };
			bool seen = false;

			for (size_t j = 0; j < k && !seen; j++)
				seen = same_figure(&c[j], &col);
			if (col.case_kind == HISTORY_EXPECT || seen)
				continue;
			if (!(g = realloc(c, (k + 1) * sizeof(*c)))) {
				free(c);
				return -ENOMEM;
			}
			c = g;
			c[k++] = col;
		}
	*out = c;
	*n_out = k;
	return 0;
}

static struct trend_check *add_check(struct trend_verdict *v, enum trend_kind kind,
				     const struct history_run *run, size_t i)
{
	struct trend_check *c = realloc(v->checks, (v->n_checks + 1) * sizeof(*c));

	if (!c)
		return NULL;
	v->checks = c;
	c += v->n_checks++;
	*c = (struct trend_check){ .kind = kind, .newest_ns = -1, .median_ns = -1 };
	if (kind == TREND_RTO) { /* i: a target, or the drill's RTO past the last */
		c->id = i < run->n_targets ? run->targets[i].target : "";
		c->name = "RTO";
	} else {
		c->id = run->cases[i].id;
		c->name = run->cases[i].name;
		c->case_kind = run->cases[i].kind;
		c->nth = nth_of(run, i);
	}
	return c;
}

/* A figure's check: its median over the previous runs that measured it. */
static int judge_figure(const struct history_run *past, size_t n_past,
			const struct history_run *newest, const struct trend_options *o,
			struct trend_check *c)
{
	int64_t *v = malloc((n_past ? n_past : 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_past; i++) {
		int64_t x = trend_value(&past[i], c);

		if (x >= 0)
			v[c->n_past++] = x;
	}
	c->median_ns = trend_median(v, c->n_past);
	free(v);
	c->newest_ns = trend_value(newest, c);
	c->judged = c->n_past >= o->min_runs && c->newest_ns >= 0;
	c->flagged = c->judged && trend_regressed(c->newest_ns, c->median_ns, o);
	return 0;
}

/* The figures: the RTO (each target's too, with several), each step's duration. */
static int figures(const struct history_run *past, size_t n_past, const struct history_run *newest,
		   const struct trend_options *o, struct trend_verdict *v)
{
	struct trend_check *c = add_check(v, TREND_RTO, newest, newest->n_targets);

	if (!c || judge_figure(past, n_past, newest, o, c) < 0)
		return -ENOMEM;
	for (size_t i = 0; newest->n_targets > 1 && i < newest->n_targets; i++) {
		c = add_check(v, TREND_RTO, newest, i);
		if (!c || judge_figure(past, n_past, newest, o, c) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < newest->n_cases; i++) {
		const struct history_case *hc = &newest->cases[i];

		if (hc->kind == HISTORY_EXPECT || hc->duration_ns < 0)
			continue;
		c = add_check(v, TREND_DURATION, newest, i);
		if (!c || judge_figure(past, n_past, newest, o, c) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Whether the case passed in every previous run. */
static bool passed_before(const struct history_run *past, size_t n_past,
			  const struct trend_check *c)
{
	for (size_t i = 0; i < n_past; i++) {
		const struct history_case *hc = find_case(&past[i], c);

		if (!hc || hc->status != REPORT_PASS)
			return false;
	}
	return n_past > 0;
}

static int newly_failing(const struct history_run *past, size_t n_past,
			 const struct history_run *newest, const struct trend_options *o,
			 struct trend_verdict *v)
{
	if (n_past < o->min_runs)
		return 0;
	for (size_t i = 0; i < newest->n_cases; i++) {
		const struct history_case *hc = &newest->cases[i];
		struct trend_check *c;

		if (hc->status != REPORT_FAIL && hc->status != REPORT_ERROR)
			continue;
		if (!(c = add_check(v, TREND_FAILING, newest, i)))
			return -ENOMEM;
		if (!passed_before(past, n_past, c)) {
			v->n_checks--; /* it failed before: not new */
			continue;
		}
		c->n_past = n_past;
		c->judged = c->flagged = true;
	}
	return 0;
}

int trend_check(const struct history_run *runs, size_t n, const struct trend_options *o,
		struct trend_verdict *out)
{
	const struct history_run *past;
	int k;

	*out = (struct trend_verdict){ 0 };
	if (!n)
		return 0;
	out->newest = &runs[n - 1];
	out->n_past = n - 1 < o->last ? n - 1 : o->last;
	out->too_few = out->n_past < o->min_runs;
	past = &runs[n - 1 - out->n_past];
	k = figures(past, out->n_past, out->newest, o, out);
	if (k >= 0)
		k = newly_failing(past, out->n_past, out->newest, o, out);
	if (k < 0) {
		trend_verdict_release(out);
		return k;
	}
	for (size_t i = 0; i < out->n_checks; i++)
		out->n_flagged += out->checks[i].flagged;
	return 0;
}

void trend_verdict_release(struct trend_verdict *v)
{
	free(v->checks);
	*v = (struct trend_verdict){ 0 };
}
