/* report.html's per-operation plots: every operation's latency as a point (x its start,
 * y its latency on a log scale, coloured by outcome, as Jepsen's latency plots), and a
 * close-up of each fault's window at a fine time resolution with the fault, heal,
 * recovery steps and the measured RTO marked. Integer coordinates only (locale-free). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "reports/report.h"
#include "reports/report_internal.h"
#include "reports/xml.h"

#define W 960
#define PAD_L 56
#define PAD_R 12

/* A plot's frame: drill time [t0, t1] across, latency [lo_us, hi_us] (decades) up. */
struct frame {
	int64_t t0, t1;
	int top, h; /* the points' area */
	double lo_us, hi_us;
};

static const char *const op_colors[] = { "#3c9a50", "#d64541", "#e6a23c" };
static const char *const op_names[] = { "ok", "failed", "unknown" };

void report_html_h2(struct strbuf *sb, const char *title, const char *target)
{
	strbuf_appendf(sb, "<h2>%s", title);
	if (target) {
		strbuf_append(sb, " [");
		xml_append_text(sb, target);
		strbuf_append(sb, "]");
	}
	strbuf_append(sb, "</h2>\n");
}

size_t report_ops_stride(size_t n_ok, size_t n_other, size_t max)
{
	size_t room;

	if (n_ok + n_other <= max || !n_ok)
		return 1;
	room = max > n_other + max / 10 ? max - n_other : max / 10;
	return (n_ok + room - 1) / room;
}

static int x_at(const struct frame *f, int64_t t)
{
	int64_t span = f->t1 > f->t0 ? f->t1 - f->t0 : 1;

	if (t < f->t0)
		t = f->t0;
	if (t > f->t1)
		t = f->t1;
	return PAD_L + (int)((t - f->t0) * (W - PAD_L - PAD_R) / span);
}

/* Log scale; a latency never answered sits on the top edge. */
static int y_at(const struct frame *f, int64_t latency_ns)
{
	double us = latency_ns < 0 ? f->hi_us : (double)latency_ns / 1000.0;
	double k;

	if (us < f->lo_us)
		us = f->lo_us;
	if (us > f->hi_us)
		us = f->hi_us;
	k = (log10(us) - log10(f->lo_us)) / (log10(f->hi_us) - log10(f->lo_us));
	return f->top + f->h - (int)(k * f->h);
}

/* The decades that hold every answered latency of the ops in [t0, t1]. */
static void decades(struct frame *f, const struct report_series *s)
{
	int64_t lo = INT64_MAX, hi = 0;

	for (size_t i = 0; i < s->n_ops; i++) {
		const struct report_op *op = &s->ops[i];

		if (op->latency_ns < 0 || op->start_ns < f->t0 || op->start_ns > f->t1)
			continue;
		lo = op->latency_ns < lo ? op->latency_ns : lo;
		hi = op->latency_ns > hi ? op->latency_ns : hi;
	}
	if (lo == INT64_MAX)
		lo = hi = 1000000;
	f->lo_us = 10;
	while (f->lo_us * 10 <= (double)lo / 1000.0)
		f->lo_us *= 10;
	f->hi_us = f->lo_us * 10;
	while (f->hi_us < (double)hi / 1000.0)
		f->hi_us *= 10;
}

static void y_axis(struct strbuf *sb, const struct frame *f)
{
	static const char *const names[] = { "10 µs",  "100 µs", "1 ms", "10 ms",
					     "100 ms", "1 s",	 "10 s", "100 s" };
	double us = 10;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++, us *= 10) {
		int y;

		if (us < f->lo_us || us > f->hi_us)
			continue;
		y = y_at(f, (int64_t)(us * 1000));
		strbuf_appendf(sb,
			       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
			       "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
			       PAD_L, y, W - PAD_R, y, PAD_L - 4, y + 4, names[i]);
	}
}

/* Ticks every 1/2/5 x 10^k ms, at most 12, labelled in ms (or s) from origin. */
static void x_axis(struct strbuf *sb, const struct frame *f, int64_t origin, int y)
{
	static const int64_t steps_ms[] = { 1,	 2,    5,    10,   20,	  50,	 100,	200,
					    500, 1000, 2000, 5000, 10000, 30000, 60000, 300000 };
	int64_t step = steps_ms[0] * NSEC_PER_MSEC;

	for (size_t i = 0; i < ARRAY_SIZE(steps_ms); i++) {
		step = steps_ms[i] * NSEC_PER_MSEC;
		if ((f->t1 - f->t0) / step <= 12)
			break;
	}
	strbuf_appendf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD_L,
		       y, W - PAD_R, y);
	for (int64_t t = origin + ((f->t0 - origin) / step) * step; t <= f->t1; t += step) {
		int64_t ms = (t - origin) / NSEC_PER_MSEC, a = ms < 0 ? -ms : ms;
		int x;

		if (t < f->t0)
			continue;
		x = x_at(f, t);
		strbuf_appendf(sb,
			       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
			       "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
			       x, y, x, y + 4, x, y + 16);
		if (step >= NSEC_PER_SEC)
			strbuf_appendf(sb, "%s%" PRId64 "s", ms < 0 ? "-" : "", a / 1000);
		else if (step >= 100 * NSEC_PER_MSEC)
			strbuf_appendf(sb, "%s%" PRId64 ".%" PRId64 "s", ms < 0 ? "-" : "",
				       a / 1000, a % 1000 / 100);
		else
			strbuf_appendf(sb, "%s%" PRId64 "ms", ms < 0 ? "-" : ms > 0 ? "+" : "", a);
		strbuf_append(sb, "</text>");
	}
}

/* One <g> per outcome, ok first so the others are drawn over it. Returns the count. */
static size_t points(struct strbuf *sb, const struct report_series *s, const struct frame *f)
{
	static const enum report_op_outcome order[] = { REPORT_OP_OK, REPORT_OP_UNKNOWN,
							REPORT_OP_FAILED };
	size_t n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		strbuf_appendf(sb, "<g class=\"op op-%s\" fill=\"%s\">", op_names[order[k]],
			       op_colors[order[k]]);
		for (size_t i = 0; i < s->n_ops; i++) {
			const struct report_op *op = &s->ops[i];

			if (op->outcome != order[k] || op->start_ns < f->t0 || op->start_ns > f->t1)
				continue;
			strbuf_appendf(sb, "<circle cx=\"%d\" cy=\"%d\" r=\"2\"/>",
				       x_at(f, op->start_ns), y_at(f, op->latency_ns));
			n++;
		}
		strbuf_append(sb, "</g>");
	}
	return n;
}

static void legend(struct strbuf *sb, int y)
{
	for (int k = 0; k < 3; k++)
		strbuf_appendf(sb,
			       "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/>"
			       "<text x=\"%d\" y=\"%d\">%s</text>",
			       W - 220 + 70 * k, y - 4, op_colors[k], W - 212 + 70 * k, y,
			       op_names[k]);
}

/* Bands of faults and steps in the frame, translucent, labels as tooltips. */
static void bands(struct strbuf *sb, const struct report_series *s, const struct frame *f, int top,
		  int h)
{
	for (size_t i = 0; i < s->n_bands; i++) {
		const struct report_band *b = &s->bands[i];
		bool fault = b->kind == REPORT_BAND_FAULT;
		int x0, x1;

		if (b->end_ns < f->t0 || b->start_ns > f->t1)
			continue;
		x0 = x_at(f, b->start_ns);
		x1 = x_at(f, b->end_ns);
		strbuf_appendf(
			sb,
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" opacity=\"%s\">"
			"<title>",
			x0, top, x1 - x0 > 2 ? x1 - x0 : 2, h, fault ? "#d64541" : "#2c6fbb",
			fault ? "0.18" : "0.12");
		xml_append_text(sb, b->label);
		strbuf_append(sb, "</title></rect>");
	}
}

static void sample_note(struct strbuf *sb, const struct report_series *s)
{
	if (s->ok_stride <= 1 && s->window_stride <= 1 && s->n_ops == s->n_ops_total) {
		strbuf_appendf(sb, "All %zu operations are drawn.", s->n_ops_total);
		return;
	}
	strbuf_appendf(sb,
		       "%zu of %zu operations are drawn: every one that was not acknowledged; "
		       "of the acknowledged ones, ",
		       s->n_ops, s->n_ops_total);
	if (s->window_stride <= 1)
		strbuf_append(sb, "every one in the close-ups' windows and ");
	else
		strbuf_appendf(sb, "one in %zu in the close-ups' windows and ", s->window_stride);
	strbuf_appendf(sb,
		       "one in %zu elsewhere, taken in the ledger's order (the same run always "
		       "draws the same points).",
		       s->ok_stride);
}

void report_html_points(struct strbuf *sb, const struct report_series *s, int64_t t0, int64_t t1)
{
	struct frame f = { .t0 = t0, .t1 = t1, .top = 20, .h = 220 };
	int h = f.top + f.h + 28;

	if (!s->n_ops)
		return;
	decades(&f, s);
	report_html_h2(sb, "Latency of every operation", s->target);
	strbuf_append(sb, "<p class=\"muted\">One point per operation: x when it was sent, "
			  "y how long until its answer (log scale; an operation never answered "
			  "sits on the top edge), coloured by outcome. ");
	sample_note(sb, s);
	strbuf_appendf(sb,
		       "</p>\n<svg class=\"latency-points\" xmlns=\"http://www.w3.org/2000/svg\" "
		       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		       W, h, W, h);
	y_axis(sb, &f);
	bands(sb, s, &f, f.top, f.h);
	points(sb, s, &f);
	legend(sb, 14);
	x_axis(sb, &f, s->origin_ns, f.top + f.h);
	strbuf_append(sb, "</svg>\n");
}

/* A vertical mark across the close-up with its label at the top. */
static void mark(struct strbuf *sb, const struct frame *f, int64_t t, const char *color,
		 const char *dash, const char *label, int row)
{
	int x = x_at(f, t);

	strbuf_appendf(sb,
		       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
		       "stroke-width=\"1.5\"%s%s%s/>"
		       "<text x=\"%d\" y=\"%d\" fill=\"%s\" paint-order=\"stroke\" stroke=\"#fff\" "
		       "stroke-width=\"3\">%s</text>",
		       x, 12 + 12 * row, x, f->top + f->h, color,
		       dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "",
		       x + 3, 22 + 12 * row, color, label);
}

/* Bars of writes started per fine bucket, stacked ok / unknown / failed. */
static void fine_bars(struct strbuf *sb, const struct report_closeup *c, const struct frame *f,
		      int top, int h)
{
	static const char *const colors[] = { "#3c9a50", "#e6a23c", "#d64541" };
	uint32_t max = 1;

	for (size_t i = 0; i < c->n_buckets; i++) {
		const struct report_bucket *b = &c->buckets[i];

		if (b->ok + b->failed + b->unknown > max)
			max = b->ok + b->failed + b->unknown;
	}
	strbuf_appendf(sb,
		       "<text x=\"4\" y=\"%d\">writes</text><text x=\"4\" y=\"%d\">max %u</text>",
		       top + 12, top + 26, max);
	for (size_t i = 0; i < c->n_buckets; i++) {
		const struct report_bucket *b = &c->buckets[i];
		const uint32_t parts[] = { b->ok, b->unknown, b->failed };
		int x0 = x_at(f, b->start_ns), x1 = x_at(f, b->start_ns + c->bucket_ns),
		    y = top + h;

		for (int k = 0; k < 3; k++) {
			int bh = (int)((uint64_t)parts[k] * h / max);

			if (!bh && parts[k])
				bh = 1;
			if (!bh)
				continue;
			y -= bh;
			strbuf_appendf(
				sb,
				"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
				x0, y, x1 - x0 > 1 ? x1 - x0 - 1 : 1, bh, colors[k]);
		}
	}
}

static void step_labels(struct strbuf *sb, const struct report_series *s, const struct frame *f,
			int y)
{
	int free_x = 0;

	for (size_t i = 0; i < s->n_bands; i++) {
		const struct report_band *b = &s->bands[i];
		int x;

		if (b->kind != REPORT_BAND_STEP || b->end_ns < f->t0 || b->start_ns > f->t1)
			continue;
		x = x_at(f, b->start_ns);
		if (x < free_x)
			continue;
		free_x = x + 6 * (int)strlen(b->label) + 8;
		strbuf_appendf(sb, "<text x=\"%d\" y=\"%d\" fill=\"#2c6fbb\">", x + 2, y);
		xml_append_text(sb, b->label);
		strbuf_append(sb, "</text>");
	}
}

static void rto_bar(struct strbuf *sb, const struct report_closeup *c, const struct frame *f, int y)
{
	char d[32];
	int x0, x1;

	if (c->outage_end_ns < 0)
		return;
	x0 = x_at(f, c->fault_ns);
	x1 = x_at(f, c->outage_end_ns);
	units_format_duration(c->outage_end_ns - c->fault_ns, d, sizeof(d));
	strbuf_appendf(sb,
		       "<g class=\"rto\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		       "stroke=\"#000\" stroke-width=\"3\"/><text x=\"%d\" y=\"%d\" "
		       "font-weight=\"bold\" paint-order=\"stroke\" stroke=\"#fff\" "
		       "stroke-width=\"3\">RTO %s</text></g>",
		       x0, y, x1 > x0 ? x1 : x0 + 1, y, x1 + 4 > W - 90 ? x0 - 90 : x1 + 4, y + 4,
		       d);
}

static void closeup(struct strbuf *sb, const struct report_series *s,
		    const struct report_closeup *c, size_t i)
{
	struct frame f = { .t0 = c->from_ns, .t1 = c->to_ns };
	const int top = 76, h_bars = 70, gap = 14, h_pts = 170;
	int h = top + h_bars + gap + h_pts + 28;
	char res[32], span[32];

	f.top = top + h_bars + gap;
	f.h = h_pts;
	decades(&f, s);
	units_format_duration(c->bucket_ns, res, sizeof(res));
	units_format_duration(c->to_ns - c->from_ns, span, sizeof(span));
	strbuf_appendf(sb, "<h3>Close-up of fault %zu: ", i + 1);
	xml_append_text(sb, c->label);
	strbuf_appendf(sb,
		       "</h3>\n<p class=\"muted\">%s around the fault, bars of %s; times from "
		       "the fault. Red: the fault; green dashed: its heal; black: the "
		       "acknowledgement that ended the outage (the RTO); blue: recovery "
		       "steps.</p>\n<svg class=\"closeup\" xmlns=\"http://www.w3.org/2000/svg\" "
		       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">",
		       span, res, W, h, W, h);
	bands(sb, s, &f, top, h_bars + gap + h_pts);
	fine_bars(sb, c, &f, top, h_bars);
	y_axis(sb, &f);
	points(sb, s, &f);
	x_axis(sb, &f, c->fault_ns, f.top + f.h);
	mark(sb, &f, c->fault_ns, "#c0392b", NULL, "fault", 0);
	if (c->heal_ns >= 0)
		mark(sb, &f, c->heal_ns, "#2a7d3b", "5,3", "heal", 1);
	if (c->outage_end_ns >= 0)
		mark(sb, &f, c->outage_end_ns, "#000", NULL, "recovered", 2);
	step_labels(sb, s, &f, top - 18);
	rto_bar(sb, c, &f, top - 6);
	strbuf_append(sb, "</svg>\n");
}

void report_html_closeups(struct strbuf *sb, const struct report_series *s)
{
	for (size_t i = 0; i < s->n_closeups; i++)
		if (s->closeups[i].n_buckets && s->closeups[i].to_ns > s->closeups[i].from_ns)
			closeup(sb, s, &s->closeups[i], i);
	if (s->n_closeups_omitted)
		strbuf_appendf(sb,
			       "<p class=\"muted\">%zu more faults have no close-up: a page shows "
			       "the first %zu.</p>\n",
			       s->n_closeups_omitted, s->n_closeups);
}
