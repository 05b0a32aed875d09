/* `chaosdrill trend`'s plain-text report of one drill: the table of its runs over time
 * (date, seed, verdict, RTO, each step's duration), then each figure of the newest run
 * against its past, the flagged ones first in their line. Pure: appends to a strbuf. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/units.h"
#include "harness/history/trend.h"

void trend_format_date(int64_t real_ns, char buf[32])
{
	time_t t = (time_t)(real_ns / NSEC_PER_SEC);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm))
		strcpy(buf, "?");
}

void trend_format_duration(int64_t ns, char buf[32])
{
	if (ns < 0)
		strcpy(buf, "-");
	else
		units_format_duration(ns, buf, 32);
}

/* One cell: a duration, "!" after it when the newest run's is flagged. */
static void cell(char buf[40], int64_t ns, bool flagged)
{
	char d[32];

	trend_format_duration(ns, d);
	snprintf(buf, 40, "%s%s", d, flagged ? "!" : "");
}

static int width(const char *s, int min)
{
	int n = (int)strlen(s);

	return n > min ? n : min;
}

/* Ends a table row without the padding of its last cell. */
static void end_row(struct strbuf *out)
{
	while (out->len && out->buf[out->len - 1] == ' ')
		out->buf[--out->len] = '\0';
	strbuf_append(out, "\n");
}

static void table(const struct history_run *runs, size_t n, const struct trend_verdict *v,
		  const struct trend_check *cols, size_t n_cols, struct strbuf *out)
{
	struct trend_check rto = { .kind = TREND_RTO, .id = "", .name = "RTO" };
	char date[32], c[40], label[300];
	int *w = calloc(n_cols ? n_cols : 1, sizeof(*w));

	if (!w) {
		out->oom = true;
		return;
	}
	strbuf_appendf(out, "  %-19s  %-20s  %-7s  %-9s", "date (UTC)", "seed", "verdict", "RTO");
	for (size_t k = 0; k < n_cols; k++) {
		trend_label(&cols[k], label, sizeof(label));
		w[k] = width(label, 9);
		strbuf_appendf(out, "  %-*s", w[k], label);
	}
	end_row(out);
	for (size_t i = 0; i < n; i++) {
		const struct history_run *r = &runs[i];
		bool newest = r == v->newest;

		trend_format_date(r->started_ns, date);
		cell(c, trend_value(r, &rto), newest && trend_flagged(v, &rto));
		strbuf_appendf(out, "  %-19s  %-20" PRIu64 "  %-7s  %-9s", date, r->seed,
			       history_verdict(r->exit_code), c);
		for (size_t k = 0; k < n_cols; k++) {
			cell(c, trend_value(r, &cols[k]), newest && trend_flagged(v, &cols[k]));
			strbuf_appendf(out, "  %-*s", w[k], c);
		}
		end_row(out);
	}
	free(w);
}

static void check_line(const struct trend_check *c, const struct trend_options *o,
		       struct strbuf *out)
{
	char name[300], now[32], med[32], delta[32], floor[32];

	trend_label(c, name, sizeof(name));
	if (c->kind == TREND_FAILING) {
		strbuf_appendf(out,
			       "  NEWLY FAILS  %s: failed in the newest run, passed in each of "
			       "the previous %zu\n",
			       name, c->n_past);
		return;
	}
	trend_format_duration(c->newest_ns, now);
	trend_format_duration(c->median_ns, med);
	if (!c->judged) {
		strbuf_appendf(out,
			       "  not judged   %s: %s; %zu previous runs measured it (needs %u)\n",
			       name, now, c->n_past, o->min_runs);
		return;
	}
	trend_format_duration(c->newest_ns > c->median_ns ? c->newest_ns - c->median_ns :
							    c->median_ns - c->newest_ns,
			      delta);
	trend_format_duration(o->min_delta_ns, floor);
	strbuf_appendf(out, "  %-11s  %s: %s against a median of %s over %zu runs (%s%s",
		       c->flagged ? "REGRESSION" : "ok", name, now, med, c->n_past,
		       c->newest_ns >= c->median_ns ? "+" : "-", delta);
	if (c->median_ns > 0)
		strbuf_appendf(out, ", %+lld %%",
			       (long long)((c->newest_ns - c->median_ns) * 100 / c->median_ns));
	strbuf_appendf(out, "%s", c->flagged ? "; flagged above " : ")\n");
	if (c->flagged)
		strbuf_appendf(out, "+%u %% and +%s)\n", o->margin_pct, floor);
}

void trend_text(const struct history_run *runs, size_t n, const struct trend_verdict *v,
		const struct trend_options *o, struct strbuf *out)
{
	struct trend_check *cols = NULL;
	size_t n_cols = 0;
	char first[32], last[32];

	if (!n)
		return;
	trend_format_date(runs[0].started_ns, first);
	trend_format_date(runs[n - 1].started_ns, last);
	strbuf_appendf(out, "%s: %zu run%s, %s to %s UTC\n", runs[0].drill, n, n == 1 ? "" : "s",
		       first, last);
	if (trend_columns(runs, n, &cols, &n_cols) < 0) {
		out->oom = true;
		return;
	}
	table(runs, n, v, cols, n_cols, out);
	free(cols);
	if (v->too_few)
		strbuf_appendf(out,
			       "  the newest run against the previous %zu: too few runs to judge "
			       "(needs %u)\n",
			       v->n_past, o->min_runs);
	else
		strbuf_appendf(out, "  the newest run against the previous %zu:\n", v->n_past);
	for (size_t i = 0; !v->too_few && i < v->n_checks; i++)
		check_line(&v->checks[i], o, out);
	if (v->n_flagged)
		strbuf_appendf(out, "%s: REGRESSION (%zu flagged)\n", runs[0].drill, v->n_flagged);
	else
		strbuf_appendf(out, "%s: no regression%s\n", runs[0].drill,
			       v->too_few ? " judged (too few runs)" : "");
}
