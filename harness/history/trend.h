/* Regressions over a drill's history: the newest run against the runs before it. Pure.
 *
 * The rules (README § History and trend):
 *   - a figure (the RTO; with several targets, each target's; each recovery step's or
 *     action's duration) regressed when the newest run's value is above the median of the
 *     same figure over the previous `last` runs by more than `margin_pct` percent of that
 *     median AND by more than `min_delta_ns`: both, so that noise on 20 ms figures (30 ms
 *     is +50 %) is not a regression, nor is +150 ms on a 2 s RTO;
 *   - a step, action or expectation newly fails when it failed (or erred) in the newest run
 *     and passed in every one of the previous runs;
 *   - nothing is judged with fewer than `min_runs` previous runs (a figure: fewer than
 *     min_runs previous runs that measured it).
 *
 * Usage:
 *   struct trend_options o = TREND_OPTIONS_DEFAULT;
 *   struct trend_verdict v;
 *   trend_check(runs, n, &o, &v);        // runs: one drill's, oldest first
 *   ... v.checks[i], v.n_flagged ...
 *   trend_verdict_release(&v);
 */
#ifndef CHAOSDRILL_HARNESS_TREND_H
#define CHAOSDRILL_HARNESS_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "harness/history/history.h"

struct trend_options {
	unsigned last;	      /* the previous runs the newest is compared with */
	unsigned margin_pct;  /* how far above the median, in percent of it */
	int64_t min_delta_ns; /* ... and at least this far */
	unsigned min_runs;    /* fewer previous runs: nothing is judged */
};

#define TREND_OPTIONS_DEFAULT                                                                   \
	(struct trend_options)                                                                  \
	{                                                                                       \
		.last = 5, .margin_pct = 50, .min_delta_ns = 100 * 1000 * 1000LL, .min_runs = 3 \
	}

enum trend_kind {
	TREND_RTO,	/* the RTO (of a target, in a drill of several) */
	TREND_DURATION, /* a step's or action's duration */
	TREND_FAILING,	/* a case that failed in the newest run, passed before */
};

/* One figure of the newest run against its past. Steps and actions are matched across
 * runs by name and rank among the steps of that name (a step added to the drill does not
 * shift the others), expectations by id. */
struct trend_check {
	enum trend_kind kind;
	const char *id;	  /* borrowed from the newest run: the target for an RTO ("" for the */
	const char *name; /* drill's), else the case's id; name: "RTO" or the case's name */
	enum history_case_kind case_kind; /* DURATION and FAILING: the case's */
	unsigned nth;	   /* a step's or action's rank among those of its name (0: first) */
	int64_t newest_ns; /* TREND_FAILING: -1 */
	int64_t median_ns; /* of the previous runs' values; -1 if none */
	size_t n_past;	   /* how many previous runs measured it */
	bool judged;	   /* enough previous runs to judge it */
	bool flagged;
};

struct trend_verdict {
	const struct history_run *newest; /* borrowed; NULL without runs */
	size_t n_past;			  /* previous runs in the window */
	bool too_few;			  /* fewer than min_runs of them: nothing judged */
	struct trend_check *checks;	  /* owned */
	size_t n_checks;
	size_t n_flagged;
};

/* The median of v[0..n) (sorts v); the mean of the middle two when n is even; -1 if n is 0. */
int64_t trend_median(int64_t *v, size_t n);
/* Whether value is a regression against median under o's margin and floor. */
bool trend_regressed(int64_t value_ns, int64_t median_ns, const struct trend_options *o);
/* Judges runs[n - 1] against the `last` runs before it. runs: one drill's, oldest first
 * (borrowed; must outlive out). Returns 0 or -ENOMEM. */
int trend_check(const struct history_run *runs, size_t n, const struct trend_options *o,
		struct trend_verdict *out);
void trend_verdict_release(struct trend_verdict *v);

/* A check's figure in a run: the RTO of check->id's target, or the duration of the step
 * matching it; -1 when the run did not measure it. */
int64_t trend_value(const struct history_run *run, const struct trend_check *c);
/* Whether v flagged the figure key names (kind, and target or step). */
bool trend_flagged(const struct trend_verdict *v, const struct trend_check *key);
/* "RTO", "RTO [kvlog]", "restart n1", or the second step of that name "restart n1 #2". */
void trend_label(const struct trend_check *c, char *buf, size_t len);

/* The steps and actions of a drill's runs (oldest first) as duration checks to plot or
 * tabulate (only kind, name and nth set): the newest run's, in its order, then those only
 * older runs had. *out is the caller's to free. Returns 0 or -ENOMEM. */
int trend_columns(const struct history_run *runs, size_t n, struct trend_check **out,
		  size_t *n_out);

/* "2026-12-07 16:10:33" (UTC) for a wall-clock time in ns. */
void trend_format_date(int64_t real_ns, char buf[32]);
/* A duration as units_format_duration says it ("1.250s", "42ms"), or "-" for -1. */
void trend_format_duration(int64_t ns, char buf[32]);

/* The plain-text report of one drill (its runs oldest first, and its verdict): a table of
 * date, seed, verdict, RTO and each step's duration, one row per run, then what was
 * judged. Appends to out. */
void trend_text(const struct history_run *runs, size_t n, const struct trend_verdict *v,
		const struct trend_options *o, struct strbuf *out);

/* One drill's runs and verdict, for the HTML page. */
struct trend_drill {
	const struct history_run *runs;
	size_t n;
	const struct trend_verdict *verdict;
};

/* A self-contained HTML page (inline CSS and SVG, no script, no network): per drill a plot
 * of the RTO and the steps' durations over its runs, the flagged points marked, and the
 * table. Appends to out; returns 0 or -ENOMEM. */
int trend_html(const struct trend_drill *drills, size_t n, const struct trend_options *o,
	       const char *title, struct strbuf *out);

#endif
