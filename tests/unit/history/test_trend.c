/* Unit tests of the regression rules of `chaosdrill trend` (harness/history/trend.h) on
 * synthetic histories: the median, the margin, the absolute floor, the window of previous
 * runs, too few runs, unmeasured figures, step durations, newly failing cases; and the
 * text and HTML writers on them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/units.h"
#include "harness/history/history.h"
#include "harness/history/trend.h"

#define MS NSEC_PER_MSEC
#define T0 1796660164000000000LL /* 2026-12-07 16:16:04 UTC */

static char *dup(const char *s)
{
	char *c = strdup(s);

	assert_non_null(c);
	return c;
}

/* Run i of drill "d": RTO rto_ms (-1: not measured), a restart step of step_ms (-1: it did
 * not run), the rto expectation with status rto_status. */
static void mk(struct history_run *r, int i, int64_t rto_ms, int64_t step_ms,
	       enum report_status rto_status)
{
	*r = (struct history_run){
		.drill = dup("d"),
		.started_ns = T0 + i * 3600 * NSEC_PER_SEC,
		.seed = 1000 + (uint64_t)i,
		.exit_code = rto_status == REPORT_PASS ? 0 : 1,
		.rto_ms = rto_ms,
		.rpo_lost = 0,
		.integrity = 1,
		.version = dup("0.1.0"),
	};
	r->targets = calloc(1, sizeof(*r->targets));
	r->cases = calloc(2, sizeof(*r->cases));
	assert_non_null(r->targets);
	assert_non_null(r->cases);
	r->targets[0] = (struct history_target){ dup(""), rto_ms, 0, 0, 1 };
	r->n_targets = 1;
	r->cases[0] = (struct history_case){ HISTORY_STEP,
					     dup("step.1.restart"),
					     dup("restart n1"),
					     step_ms < 0 ? REPORT_SKIP : REPORT_PASS,
					     step_ms < 0 ? -1 : step_ms * MS,
					     NULL };
	r->cases[1] = (struct history_case){
		HISTORY_EXPECT, dup("expect.rto"), dup("rto <= 2s"), rto_status, -1, NULL
	};
	r->n_cases = 2;
}

/* n runs with RTOs rto[] (ms) and restart steps of 5 ms, all passing. */
static struct history_run *series(const int64_t *rto, size_t n)
{
	struct history_run *v = calloc(n, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		mk(&v[i], (int)i, rto[i], 5, REPORT_PASS);
	return v;
}

static void release(struct history_run *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		history_run_release(&v[i]);
	free(v);
}

static const struct trend_check *check_of(const struct trend_verdict *v, enum trend_kind kind,
					  const char *id)
{
	for (size_t i = 0; i < v->n_checks; i++)
		if (v->checks[i].kind == kind && !strcmp(v->checks[i].id, id))
			return &v->checks[i];
	return NULL;
}

static void test_median(void **state)
{
	int64_t one[] = { 7 }, odd[] = { 30, 10, 20 }, even[] = { 40, 10, 30, 20 },
		dup2[] = { 5, 5, 100, 5, 100 };

	assert_int_equal(trend_median(NULL, 0), -1);
	assert_int_equal(trend_median(one, 1), 7);
	assert_int_equal(trend_median(odd, 3), 20);
	assert_int_equal(trend_median(even, 4), 25); /* the mean of the middle two */
	assert_int_equal(trend_median(dup2, 5), 5);  /* outliers do not move it */
}

static void test_margin_and_floor(void **state)
{
	struct trend_options o = TREND_OPTIONS_DEFAULT;

	/* +75 %, but only +15 ms: noise on a 20 ms figure, under the 100 ms floor */
	assert_false(trend_regressed(35 * MS, 20 * MS, &o));
	/* +150 ms, but only +7.5 % of 2 s: under the 50 % margin */
	assert_false(trend_regressed(2150 * MS, 2000 * MS, &o));
	/* both: +1 s on 20 ms */
	assert_true(trend_regressed(1020 * MS, 20 * MS, &o));
	/* exactly at the margin is not above it; just above is */
	assert_false(trend_regressed(300 * MS, 200 * MS, &o));
	assert_true(trend_regressed(301 * MS, 200 * MS, &o));
	/* exactly at the floor is not above it */
	assert_false(trend_regressed(100 * MS, 0, &o));
	assert_true(trend_regressed(101 * MS, 0, &o)); /* any rise on 0 is above the margin */
	/* equal, lower, unmeasured */
	assert_false(trend_regressed(20 * MS, 20 * MS, &o));
	assert_false(trend_regressed(10 * MS, 20 * MS, &o));
	assert_false(trend_regressed(-1, 20 * MS, &o));
	assert_false(trend_regressed(900 * MS, -1, &o));
	/* other options */
	o.margin_pct = 10;
	o.min_delta_ns = 10 * MS;
	assert_true(trend_regressed(35 * MS, 20 * MS, &o));
	assert_false(trend_regressed(21 * MS, 20 * MS, &o));
	/* no overflow with hours and big margins */
	o.margin_pct = 100000;
	assert_false(trend_regressed(INT64_MAX / 2, 36000000LL * NSEC_PER_SEC, &o));
	assert_true(trend_regressed(INT64_MAX / 2, 3600000LL * NSEC_PER_SEC, &o));
}

static void test_rto_regression(void **state)
{
	const int64_t rto[] = { 24, 31, 19, 40, 22, 1030 };
	struct history_run *v = series(rto, 6);
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	const struct trend_check *c;

	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_ptr_equal(tv.newest, &v[5]);
	assert_int_equal(tv.n_past, 5);
	assert_false(tv.too_few);
	c = check_of(&tv, TREND_RTO, "");
	assert_non_null(c);
	assert_true(c->judged);
	assert_true(c->flagged);
	assert_int_equal(c->median_ns, 24 * MS);
	assert_int_equal(c->newest_ns, 1030 * MS);
	assert_int_equal(c->n_past, 5);
	/* the restart step stayed at 5 ms: judged, not flagged */
	c = check_of(&tv, TREND_DURATION, "step.1.restart");
	assert_non_null(c);
	assert_true(c->judged);
	assert_false(c->flagged);
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	release(v, 6);
}

static void test_noise_not_flagged(void **state)
{
	const int64_t rto[] = { 20, 22, 18, 21, 19, 60 }; /* +200 %, +40 ms */
	struct history_run *v = series(rto, 6);
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;

	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_true(check_of(&tv, TREND_RTO, "")->judged);
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	/* with a floor of 30 ms it is one */
	o.min_delta_ns = 30 * MS;
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	release(v, 6);
}

static void test_too_few_runs(void **state)
{
	const int64_t rto[] = { 20, 20, 20, 2000 };
	struct history_run *v = series(rto, 4);
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;

	/* two previous runs: nothing judged */
	assert_int_equal(trend_check(&v[1], 3, &o, &tv), 0);
	assert_true(tv.too_few);
	assert_int_equal(tv.n_past, 2);
	assert_false(check_of(&tv, TREND_RTO, "")->judged);
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	/* three: judged and flagged */
	assert_int_equal(trend_check(v, 4, &o, &tv), 0);
	assert_false(tv.too_few);
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	/* one run, no runs */
	assert_int_equal(trend_check(&v[3], 1, &o, &tv), 0);
	assert_true(tv.too_few);
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	assert_int_equal(trend_check(v, 0, &o, &tv), 0);
	assert_null(tv.newest);
	trend_verdict_release(&tv);
	release(v, 4);
}

/* Only the previous `last` runs count: an old baseline is forgotten. */
static void test_window(void **state)
{
	const int64_t rto[] = { 20, 20, 20, 20, 20, 1000, 1000, 1000, 1010 };
	struct history_run *v = series(rto, 9);
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;

	o.last = 3; /* 1000, 1000, 1000: the slow runs are the new normal */
	assert_int_equal(trend_check(v, 9, &o, &tv), 0);
	assert_int_equal(tv.n_past, 3);
	assert_int_equal(check_of(&tv, TREND_RTO, "")->median_ns, 1000 * MS);
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	o.last = 8; /* five at 20 ms, three at 1 s: median 20 ms */
	assert_int_equal(trend_check(v, 9, &o, &tv), 0);
	assert_int_equal(tv.n_past, 8);
	assert_int_equal(check_of(&tv, TREND_RTO, "")->median_ns, 20 * MS);
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	o.last = 100; /* more than there are */
	assert_int_equal(trend_check(v, 9, &o, &tv), 0);
	assert_int_equal(tv.n_past, 8);
	trend_verdict_release(&tv);
	release(v, 9);
}

/* Runs that measured no RTO (could not run, never recovered) are left out of the median. */
static void test_unmeasured(void **state)
{
	const int64_t rto[] = { -1, 20, -1, 20, -1, 900 };
	struct history_run *v = series(rto, 6);
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	const struct trend_check *c;

	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_false(tv.too_few); /* five previous runs */
	c = check_of(&tv, TREND_RTO, "");
	assert_int_equal(c->n_past, 2); /* two of them measured it */
	assert_false(c->judged);
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	/* the newest not measured: not judged either */
	history_run_release(&v[5]);
	mk(&v[5], 5, -1, 5, REPORT_PASS);
	v[1].rto_ms = v[2].rto_ms = v[4].rto_ms = 20;
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	c = check_of(&tv, TREND_RTO, "");
	assert_int_equal(c->n_past, 4);
	assert_false(c->judged);
	trend_verdict_release(&tv);
	release(v, 6);
}

static void test_step_regression(void **state)
{
	struct history_run v[6];
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	const struct trend_check *c;

	for (int i = 0; i < 5; i++)
		mk(&v[i], i, 30, 5 + i, REPORT_PASS);
	mk(&v[5], 5, 30, 400, REPORT_PASS); /* the RTO did not move; the step did */
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_false(check_of(&tv, TREND_RTO, "")->flagged);
	c = check_of(&tv, TREND_DURATION, "step.1.restart");
	assert_true(c->flagged);
	assert_int_equal(c->median_ns, 7 * MS);
	assert_string_equal(c->name, "restart n1");
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	/* a step skipped in some previous runs: those do not count */
	for (int i = 0; i < 3; i++) {
		history_run_release(&v[i]);
		mk(&v[i], i, 30, -1, REPORT_PASS);
	}
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	c = check_of(&tv, TREND_DURATION, "step.1.restart");
	assert_int_equal(c->n_past, 2);
	assert_false(c->judged);
	trend_verdict_release(&tv);
	for (int i = 0; i < 6; i++)
		history_run_release(&v[i]);
}

/* Run i with RTO rto_ms and the steps names[k] taking ms[k] each (ids by position, as the
 * report gives them). */
static void mk_steps(struct history_run *r, int i, int64_t rto_ms, const char *const *names,
		     const int64_t *ms, size_t n)
{
	mk(r, i, rto_ms, 5, REPORT_PASS);
	for (size_t k = 0; k < r->n_cases; k++) {
		free(r->cases[k].id);
		free(r->cases[k].name);
	}
	free(r->cases);
	r->cases = calloc(n, sizeof(*r->cases));
	assert_non_null(r->cases);
	for (size_t k = 0; k < n; k++) {
		char id[64];

		snprintf(id, sizeof(id), "step.%zu.x", k + 1);
		r->cases[k] = (struct history_case){ HISTORY_STEP, dup(id),    dup(names[k]),
						     REPORT_PASS,  ms[k] * MS, NULL };
	}
	r->n_cases = n;
}

/* A step added before the others (the must-show's regression: a sleep before the restart)
 * does not shift them; steps of one name are told apart by rank ("restart n1 #2"). */
static void test_steps_matched_by_name(void **state)
{
	static const char *const before[] = { "restart n1", "wait ready n1", "restart n1" };
	static const char *const after[] = { "sleep 1s", "restart n1", "wait ready n1",
					     "restart n1" };
	static const int64_t ms_before[] = { 5, 30, 4 }, ms_after[] = { 1000, 6, 31, 450 };
	struct history_run v[5];
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	struct trend_check *cols;
	size_t n_cols;
	char label[64];

	for (int i = 0; i < 4; i++)
		mk_steps(&v[i], i, 40, before, ms_before, 3);
	mk_steps(&v[4], 4, 40, after, ms_after, 4);
	assert_int_equal(trend_check(v, 5, &o, &tv), 0);
	assert_int_equal(tv.n_flagged, 1);
	for (size_t i = 0; i < tv.n_checks; i++) {
		const struct trend_check *c = &tv.checks[i];

		if (c->kind != TREND_DURATION)
			continue;
		trend_label(c, label, sizeof(label));
		if (!strcmp(label, "sleep 1s")) {
			assert_false(c->judged); /* new: no past */
		} else if (!strcmp(label, "restart n1")) {
			assert_int_equal(c->median_ns, 5 * MS);
			assert_false(c->flagged);
		} else if (!strcmp(label, "wait ready n1")) {
			assert_int_equal(c->median_ns, 30 * MS);
			assert_false(c->flagged);
		} else {
			assert_string_equal(label, "restart n1 #2");
			assert_int_equal(c->median_ns, 4 * MS);
			assert_true(c->flagged);
		}
	}
	/* the columns: the newest run's steps, in its order */
	assert_int_equal(trend_columns(v, 5, &cols, &n_cols), 0);
	assert_int_equal(n_cols, 4);
	trend_label(&cols[3], label, sizeof(label));
	assert_string_equal(label, "restart n1 #2");
	assert_int_equal(trend_value(&v[0], &cols[3]), 4 * MS);
	assert_int_equal(trend_value(&v[0], &cols[0]), -1); /* no sleep then */
	free(cols);
	trend_verdict_release(&tv);
	for (int i = 0; i < 5; i++)
		history_run_release(&v[i]);
}

/* With several targets, each target's RTO is judged too. */
static void test_targets(void **state)
{
	struct history_run v[4];
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	const struct trend_check *c;
	char label[64];

	for (int i = 0; i < 4; i++) {
		mk(&v[i], i, 300, 5, REPORT_PASS);
		free(v[i].targets[0].target);
		v[i].targets = realloc(v[i].targets, 2 * sizeof(*v[i].targets));
		assert_non_null(v[i].targets);
		v[i].targets[0] = (struct history_target){ dup("kvlog"), 300, 0, 0, 1 };
		v[i].targets[1] =
			(struct history_target){ dup("redis"), i == 3 ? 900 : 20, 0, 0, 1 };
		v[i].n_targets = 2;
	}
	assert_int_equal(trend_check(v, 4, &o, &tv), 0);
	c = check_of(&tv, TREND_RTO, "redis");
	assert_non_null(c);
	assert_true(c->flagged);
	trend_label(c, label, sizeof(label));
	assert_string_equal(label, "RTO [redis]");
	assert_false(check_of(&tv, TREND_RTO, "kvlog")->flagged);
	assert_false(check_of(&tv, TREND_RTO, "")->flagged); /* the drill's: the largest, 300 */
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	for (int i = 0; i < 4; i++)
		history_run_release(&v[i]);
}

static void test_newly_failing(void **state)
{
	struct history_run v[6];
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	const struct trend_check *c;

	for (int i = 0; i < 5; i++)
		mk(&v[i], i, 30, 5, REPORT_PASS);
	mk(&v[5], 5, 30, 5, REPORT_FAIL);
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	c = check_of(&tv, TREND_FAILING, "expect.rto");
	assert_non_null(c);
	assert_true(c->flagged);
	assert_int_equal(c->n_past, 5);
	assert_int_equal(tv.n_flagged, 1);
	trend_verdict_release(&tv);
	/* it failed before too (in the window): not new */
	history_run_release(&v[1]);
	mk(&v[1], 1, 30, 5, REPORT_FAIL);
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_null(check_of(&tv, TREND_FAILING, "expect.rto"));
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	/* ... but outside the window it is forgotten */
	o.last = 3;
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	assert_non_null(check_of(&tv, TREND_FAILING, "expect.rto"));
	trend_verdict_release(&tv);
	/* with too few previous runs, nothing */
	assert_int_equal(trend_check(&v[3], 3, &o, &tv), 0);
	assert_int_equal(tv.n_flagged, 0);
	trend_verdict_release(&tv);
	for (int i = 0; i < 6; i++)
		history_run_release(&v[i]);
}

static void test_text_and_html(void **state)
{
	const int64_t rto[] = { 24, 31, 19, 40, 22, 1030 };
	struct history_run *v = series(rto, 6);
	struct trend_options o = TREND_OPTIONS_DEFAULT;
	struct trend_verdict tv;
	struct trend_drill d = { v, 6, &tv };
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < 6; i++) {
		free(v[i].drill);
		v[i].drill = dup("kvlog-<demo>&");
	}
	assert_int_equal(trend_check(v, 6, &o, &tv), 0);
	trend_text(v, 6, &tv, &o, &sb);
	assert_false(strbuf_failed(&sb));
	assert_non_null(strstr(sb.buf, "kvlog-<demo>&: 6 runs, 2026-12-07 16:16:04 to"));
	assert_non_null(strstr(sb.buf, "restart n1"));
	assert_non_null(strstr(sb.buf, "1.030s!")); /* the flagged cell */
	assert_non_null(strstr(sb.buf, "  2026-12-07 17:16:04  1001 "));
	assert_non_null(strstr(sb.buf, "REGRESSION   RTO: 1.030s against a median of 24ms "
				       "over 5 runs (+1.006s, +4191 %; flagged above +50 % "
				       "and +100ms)"));
	assert_non_null(strstr(sb.buf, "kvlog-<demo>&: REGRESSION (1 flagged)\n"));
	strbuf_release(&sb);

	assert_int_equal(trend_html(&d, 1, &o, "t<", &sb), 0);
	assert_non_null(strstr(sb.buf, "<!DOCTYPE html>"));
	assert_non_null(strstr(sb.buf, "<title>t&lt;</title>"));
	assert_non_null(strstr(sb.buf, "kvlog-&lt;demo&gt;&amp;"));
	assert_non_null(strstr(sb.buf, "<svg"));
	assert_non_null(strstr(sb.buf, ">regression</text>"));
	assert_non_null(strstr(sb.buf, "RTO (flagged)"));
	assert_null(strstr(sb.buf, "<script"));
	assert_null(strstr(sb.buf, "href="));
	assert_null(strstr(sb.buf, "src="));
	strbuf_release(&sb);
	trend_verdict_release(&tv);
	release(v, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_margin_and_floor),
		cmocka_unit_test(test_rto_regression),
		cmocka_unit_test(test_noise_not_flagged),
		cmocka_unit_test(test_too_few_runs),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_unmeasured),
		cmocka_unit_test(test_step_regression),
		cmocka_unit_test(test_steps_matched_by_name),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_newly_failing),
		cmocka_unit_test(test_text_and_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
