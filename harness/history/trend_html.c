/* `chaosdrill trend --html`: one self-contained page (inline CSS and SVG, no script,
 * nothing fetched) with, per drill, a plot of the RTO and each step's duration over its
 * runs, the newest run's flagged figures marked, and the text report beside it. Pure;
 * integer coordinates only, so the page does not depend on the locale. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "harness/history/trend.h"
#include "reports/xml.h"

#define W 900	 /* plot width */
#define H 300	 /* plot height, without the legend */
#define PAD_L 64 /* room for the y labels */
#define PAD_R 24
#define PAD_T 24 /* room for the regression label */
#define PAD_B 36 /* room for the x labels */
#define LEGEND_ROW 18

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
	".v{padding:2px 8px;border-radius:4px;color:#fff;font-size:14px;margin-left:8px}"
	".ok{background:#2a7d3b}.bad{background:#c0392b}.none{background:#888}"
	"pre{background:#f7f7f7;padding:8px;font-size:12px;overflow-x:auto}"
	"svg text{font:11px system-ui,sans-serif;fill:#444}.muted{color:#666}";

static const char *const palette[] = { "#1f4e99", "#e07b00", "#2a7d3b", "#8e44ad",
				       "#17a2b8", "#b5651d", "#6c757d", "#d63384" };

/* A plotted series: the RTO or a step's duration. */
struct series {
	struct trend_check key; /* what trend_value() reads */
	char label[300];
	bool flagged; /* its newest value */
};

struct plot {
	const struct trend_drill *d;
	int64_t max_ns; /* the top of the y axis */
};

/* 1, 2 or 5 times a power of ten, in ms, at least a quarter of max: four or so ticks. */
static int64_t tick_ns(int64_t max_ns)
{
	int64_t t = NSEC_PER_MSEC;

	for (;;) {
		for (int m = 1; m <= 5; m += m == 1 ? 1 : 3)
			if (t * m * 4 >= max_ns)
				return t * m;
		t *= 10;
	}
}

static int x_of(const struct plot *p, size_t i)
{
	if (p->d->n < 2)
		return PAD_L + (W - PAD_L - PAD_R) / 2;
	return PAD_L + (int)(i * (size_t)(W - PAD_L - PAD_R) / (p->d->n - 1));
}

static int y_of(const struct plot *p, int64_t ns)
{
	return PAD_T + (int)((p->max_ns - ns) * (H - PAD_T - PAD_B) / p->max_ns);
}

static void axes(const struct plot *p, struct strbuf *sb)
{
	int64_t tick = tick_ns(p->max_ns);
	char label[32], date[32];

	for (int64_t v = 0; v <= p->max_ns; v += tick) {
		trend_format_duration(v, label);
		strbuf_appendf(sb,
			       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
			       "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
			       PAD_L, y_of(p, v), W - PAD_R, y_of(p, v), PAD_L - 6, y_of(p, v) + 4,
			       label);
	}
	for (size_t i = 0; i < p->d->n; i++)
		strbuf_appendf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu</text>",
			       x_of(p, i), H - PAD_B + 16, i + 1);
	trend_format_date(p->d->runs[0].started_ns, date);
	strbuf_appendf(sb, "<text x=\"%d\" y=\"%d\">run 1: %s UTC</text>", PAD_L, H - 4, date);
	trend_format_date(p->d->runs[p->d->n - 1].started_ns, date);
	strbuf_appendf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">run %zu: %s UTC</text>",
		       W - PAD_R, H - 4, p->d->n, date);
}

/* The series' line (broken where a run did not measure it) and its points, each with a
 * tooltip; the newest point ringed and labelled when flagged. */
static void line(const struct plot *p, const struct series *s, const char *color, bool rto,
		 struct strbuf *sb)
{
	bool pen = false;
	char v[32], date[32];

	strbuf_appendf(sb, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%d\" d=\"", color,
		       rto ? 3 : 1);
	for (size_t i = 0; i < p->d->n; i++) {
		int64_t x = trend_value(&p->d->runs[i], &s->key);

		if (x >= 0)
			strbuf_appendf(sb, "%c%d %d ", pen ? 'L' : 'M', x_of(p, i), y_of(p, x));
		pen = x >= 0;
	}
	strbuf_append(sb, "\"/>");
	for (size_t i = 0; i < p->d->n; i++) {
		int64_t x = trend_value(&p->d->runs[i], &s->key);

		if (x < 0)
			continue;
		trend_format_duration(x, v);
		trend_format_date(p->d->runs[i].started_ns, date);
		strbuf_appendf(sb, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"%s\"><title>",
			       x_of(p, i), y_of(p, x), rto ? 4 : 3, color);
		xml_append_text(sb, s->label);
		strbuf_appendf(sb, ", run %zu (%s UTC): %s</title></circle>", i + 1, date, v);
		if (s->flagged && i == p->d->n - 1)
			strbuf_appendf(sb,
				       "<circle cx=\"%d\" cy=\"%d\" r=\"9\" fill=\"none\" "
				       "stroke=\"#c0392b\" stroke-width=\"2.5\"/>"
				       "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
				       "style=\"fill:#c0392b;font-weight:bold\">regression</text>",
				       x_of(p, i), y_of(p, x), x_of(p, i) - 12, y_of(p, x) - 10);
	}
}

static void legend(const struct series *s, size_t n, struct strbuf *sb)
{
	for (size_t i = 0; i < n; i++) {
		int y = H + 6 + (int)i * LEGEND_ROW;

		strbuf_appendf(sb,
			       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			       "stroke-width=\"%d\"/><text x=\"%d\" y=\"%d\">",
			       PAD_L, y, PAD_L + 24, y, palette[i % 8], i ? 1 : 3, PAD_L + 30,
			       y + 4);
		xml_append_text(sb, s[i].label);
		strbuf_append(sb, s[i].flagged ? " (flagged)</text>" : "</text>");
	}
}

static int plot(const struct trend_drill *d, struct strbuf *sb)
{
	struct trend_check *cols = NULL;
	struct series *s;
	size_t n_cols = 0, n;
	struct plot p = { d, 0 };

	if (trend_columns(d->runs, d->n, &cols, &n_cols) < 0 ||
	    !(s = calloc(n_cols + 1, sizeof(*s)))) {
		free(cols);
		return -ENOMEM;
	}
	s[0].key = (struct trend_check){ .kind = TREND_RTO, .id = "", .name = "RTO" };
	for (size_t i = 0; i < n_cols; i++)
		s[i + 1].key = cols[i];
	n = n_cols + 1;
	for (size_t i = 0; i < n; i++) {
		trend_label(&s[i].key, s[i].label, sizeof(s[i].label));
		s[i].flagged = trend_flagged(d->verdict, &s[i].key);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < d->n; r++)
			if (trend_value(&d->runs[r], &s[i].key) > p.max_ns)
				p.max_ns = trend_value(&d->runs[r], &s[i].key);
	p.max_ns = (p.max_ns / tick_ns(p.max_ns + 1) + 1) * tick_ns(p.max_ns + 1);
	strbuf_appendf(sb,
		       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		       "viewBox=\"0 0 %d %d\" role=\"img\">",
		       W, H + 8 + (int)n * LEGEND_ROW, W, H + 8 + (int)n * LEGEND_ROW);
	axes(&p, sb);
	for (size_t i = n; i-- > 0;) /* the RTO last: on top */
		line(&p, &s[i], palette[i % 8], i == 0, sb);
	legend(s, n, sb);
	strbuf_append(sb, "</svg>");
	free(s);
	free(cols);
	return 0;
}

static int section(const struct trend_drill *d, const struct trend_options *o, struct strbuf *sb)
{
	struct strbuf text = STRBUF_INIT;
	const struct trend_verdict *v = d->verdict;

	strbuf_append(sb, "<section><h2>");
	xml_append_text(sb, d->runs[0].drill);
	if (v->n_flagged)
		strbuf_appendf(sb, "<span class=\"v bad\">regression: %zu flagged</span>",
			       v->n_flagged);
	else
		strbuf_appendf(sb, "<span class=\"v %s\">%s</span>", v->too_few ? "none" : "ok",
			       v->too_few ? "too few runs to judge" : "no regression");
	strbuf_appendf(sb,
		       "</h2><p class=\"muted\">%zu runs; the newest against the median of "
		       "the previous %zu</p>",
		       d->n, v->n_past);
	if (plot(d, sb) < 0)
		return -ENOMEM;
	trend_text(d->runs, d->n, v, o, &text);
	strbuf_append(sb, "<pre>");
	xml_append_text(sb, text.buf ? text.buf : "");
	strbuf_append(sb, "</pre></section>");
	if (strbuf_failed(&text)) {
		strbuf_release(&text);
		return -ENOMEM;
	}
	strbuf_release(&text);
	return 0;
}

int trend_html(const struct trend_drill *drills, size_t n, const struct trend_options *o,
	       const char *title, struct strbuf *out)
{
	char floor[32];

	trend_format_duration(o->min_delta_ns, floor);
	strbuf_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
			   "<title>");
	xml_append_text(out, title);
	strbuf_appendf(out, "</title><style>%s</style></head><body><h1>", css);
	xml_append_text(out, title);
	strbuf_appendf(out,
		       "</h1><p class=\"muted\">A figure is flagged when the newest run's is above "
		       "the median of the previous %u runs by more than %u %% and by more than "
		       "%s (at least %u runs needed); a step or expectation when it newly "
		       "fails.</p>",
		       o->last, o->margin_pct, floor, o->min_runs);
	if (!n)
		strbuf_append(out, "<p>No runs.</p>");
	for (size_t i = 0; i < n; i++)
		if (drills[i].n && section(&drills[i], o, out) < 0)
			return -ENOMEM;
	strbuf_append(out, "</body></html>\n");
	return strbuf_failed(out) ? -ENOMEM : 0;
}
