/* report.html: one self-contained page per drill (inline CSS and SVG, no script, nothing
 * fetched): the verdicts, writes and latency over time with fault and recovery bands and
 * the RTO marked, every case with its figures. A pure function of the report model;
 * integer coordinates only, so the output does not depend on the locale. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "reports/report.h"
#include "reports/report_internal.h"
#include "reports/xml.h"

#define W 960	 /* chart width */
#define PAD_L 56 /* room for the y labels */
#define PAD_R 12
#define TOP 26	  /* room for band labels and the RTO marker */
#define H_OPS 160 /* writes per bucket */
#define GAP 18
#define H_LAT 100 /* latency */
#define H_AXIS 24
#define H (TOP + H_OPS + GAP + H_LAT + H_AXIS)

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
	".v{padding:2px 8px;border-radius:4px;color:#fff;font-size:15px;margin-left:8px}"
	".pass{background:#2a7d3b}.fail{background:#c0392b}.error{background:#8e44ad}.skip{background:#888}"
	"table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;"
	"text-align:left;vertical-align:top}th{background:#f4f4f4}"
	".kpi{display:inline-block;margin:12px 18px 0 0;padding:8px 14px;border:1px solid #ddd;"
	"border-radius:6px}.kpi b{display:block;font-size:20px}"
	"pre{white-space:pre-wrap;background:#f7f7f7;padding:6px;margin:4px 0;font-size:12px}"
	"svg text{font:11px system-ui,sans-serif;fill:#444}.muted{color:#666}"
	"h3{font-size:15px;margin:18px 0 4px}";

struct chart {
	const struct report_series *s;
	int64_t t0, t1;	  /* drill time at the left and right edges */
	uint32_t max_ops; /* per bucket */
	uint32_t max_us;  /* latency */
};

static int x_of(const struct chart *c, int64_t t)
{
	int64_t span = c->t1 > c->t0 ? c->t1 - c->t0 : 1;

	if (t < c->t0)
		t = c->t0;
	if (t > c->t1)
		t = c->t1;
	return PAD_L + (int)((t - c->t0) * (W - PAD_L - PAD_R) / span);
}

static const char *verdict_class(const struct report_suite *s)
{
	if (s->error || s->exit_code >= 2)
		return "error";
	return s->exit_code ? "fail" : "pass";
}

static const char *prop_of(const struct report_suite *s, const char *name)
{
	for (size_t i = 0; i < s->n_props; i++)
		if (s->props[i].name && strcmp(s->props[i].name, name) == 0)
			return s->props[i].value;
	return NULL;
}

static void row(struct strbuf *sb, const char *key, const char *value)
{
	if (!value)
		return;
	strbuf_appendf(sb, "<tr><th>%s</th><td>", key);
	xml_append_text(sb, value);
	strbuf_append(sb, "</td></tr>");
}

static void head(struct strbuf *sb, const struct report_suite *s)
{
	const char *v = verdict_class(s);
	char when[REPORT_UTC_LEN], dur[32], seed[24];

	strbuf_append(
		sb,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>chaosdrill: ");
	xml_append_text(sb, s->name);
	strbuf_appendf(sb, " (%s)</title><style>%s</style></head><body>\n<h1>", v, css);
	xml_append_text(sb, s->name);
	strbuf_appendf(sb, "<span class=\"v %s\">%s</span></h1>\n", v,
		       !strcmp(v, "pass") ? "PASS" :
		       !strcmp(v, "fail") ? "FAIL" :
					    "ERROR");
	if (s->description) {
		strbuf_append(sb, "<p>");
		xml_append_text(sb, s->description);
		strbuf_append(sb, "</p>\n");
	}
	if (s->error) {
		strbuf_append(sb, "<p><b>The drill did not run to its end:</b> ");
		xml_append_text(sb, s->error);
		strbuf_append(sb, "</p>\n");
	}
	units_format_duration(s->duration_ns, dur, sizeof(dur));
	snprintf(seed, sizeof(seed), "%" PRIu64, s->seed);
	strbuf_append(sb, "<table>");
	row(sb, "target", s->target);
	row(sb, "runbook", s->runbook);
	row(sb, "seed", seed);
	row(sb, "started", report_format_utc(s->started_real_ns, when) == 0 ? when : NULL);
	row(sb, "duration", dur);
	row(sb, "host", s->hostname);
	row(sb, "run directory", s->run_dir);
	strbuf_append(sb, "</table>\n");
}

static void kpi(struct strbuf *sb, const char *label, const char *value, const char *unit)
{
	if (!value)
		return;
	strbuf_append(sb, "<span class=\"kpi\"><b>");
	xml_append_text(sb, value);
	strbuf_appendf(sb, "%s</b>%s</span>", unit, label);
}

static void kpis(struct strbuf *sb, const struct report_suite *s)
{
	kpi(sb, "RTO (worst fault)", prop_of(s, "rto_ms"), " ms");
	kpi(sb, "acknowledged writes lost (RPO)", prop_of(s, "rpo_lost_writes"), "");
	kpi(sb, "lost-write window", prop_of(s, "rpo_window_ms"), " ms");
	kpi(sb, "integrity", prop_of(s, "integrity"), "");
	kpi(sb, "writes acknowledged", prop_of(s, "acknowledged"), "");
	strbuf_append(sb, "\n");
}

static void chart_scale(struct chart *c, const struct report_series *s)
{
	const struct report_bucket *last = &s->buckets[s->n_buckets - 1];

	c->s = s;
	c->t0 = s->buckets[0].start_ns;
	c->t1 = last->start_ns + s->bucket_ns;
	c->max_ops = 1;
	c->max_us = 1000;
	for (size_t i = 0; i < s->n_buckets; i++) {
		const struct report_bucket *b = &s->buckets[i];
		uint32_t total = b->ok + b->failed + b->unknown;

		if (total > c->max_ops)
			c->max_ops = total;
		if (b->p99_us > c->max_us)
			c->max_us = b->p99_us;
	}
}

/* Time ticks every 0.5/1/2/5/10/30/60 s, whichever gives at most 12, labelled from the
 * origin (steady state). */
static void time_axis(struct strbuf *sb, const struct chart *c)
{
	static const int64_t steps_ms[] = { 500, 1000, 2000, 5000, 10000, 30000, 60000, 300000 };
	int64_t step = steps_ms[0] * NSEC_PER_MSEC, origin = c->s->origin_ns;
	int y = TOP + H_OPS + GAP + H_LAT;

	for (size_t i = 0; i < sizeof(steps_ms) / sizeof(steps_ms[0]); i++) {
		step = steps_ms[i] * NSEC_PER_MSEC;
		if ((c->t1 - c->t0) / step <= 12)
			break;
	}
	strbuf_appendf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD_L,
		       y, W - PAD_R, y);
	for (int64_t t = origin - ((origin - c->t0) / step) * step; t <= c->t1; t += step) {
		int x = x_of(c, t);
		int64_t ms = (t - origin) / NSEC_PER_MSEC;

		if (t < c->t0)
			continue;
		strbuf_appendf(sb,
			       "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
			       "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s%" PRId64
			       ".%" PRId64 "s</text>",
			       x, y, x, y + 4, x, y + 16, ms < 0 ? "-" : "",
			       (ms < 0 ? -ms : ms) / 1000, ((ms < 0 ? -ms : ms) % 1000) / 100);
	}
}

static void bars(struct strbuf *sb, const struct chart *c)
{
	int base = TOP + H_OPS;

	strbuf_appendf(sb,
		       "<text x=\"4\" y=\"%d\">writes</text><text x=\"4\" y=\"%d\">max %u</text>",
		       TOP + 12, TOP + 26, c->max_ops);
	for (size_t i = 0; i < c->s->n_buckets; i++) {
		const struct report_bucket *b = &c->s->buckets[i];
		int x0 = x_of(c, b->start_ns), x1 = x_of(c, b->start_ns + c->s->bucket_ns),
		    y = base;
		const uint32_t parts[] = { b->ok, b->unknown, b->failed };
		static const char *const colors[] = { "#3c9a50", "#e6a23c", "#d64541" };

		for (int k = 0; k < 3; k++) {
			int h = (int)((uint64_t)parts[k] * H_OPS / c->max_ops);

			if (!h && parts[k])
				h = 1;
			if (!h)
				continue;
			y -= h;
			strbuf_appendf(
				sb,
				"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
				x0, y, x1 - x0 > 1 ? x1 - x0 - 1 : 1, h, colors[k]);
		}
	}
}

static void latency_line(struct strbuf *sb, const struct chart *c, bool p99)
{
	int base = TOP + H_OPS + GAP + H_LAT;
	bool open = false;

	for (size_t i = 0; i < c->s->n_buckets; i++) {
		const struct report_bucket *b = &c->s->buckets[i];
		uint32_t us = p99 ? b->p99_us : b->p50_us;
		int x = (x_of(c, b->start_ns) + x_of(c, b->start_ns + c->s->bucket_ns)) / 2;

		if (!us) { /* no acknowledged write in this bucket: break the line */
			if (open)
				strbuf_append(sb, "\"/>");
			open = false;
			continue;
		}
		if (!open)
			strbuf_appendf(
				sb,
				"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
				p99 ? "#8e44ad" : "#2c6fbb");
		strbuf_appendf(sb, "%s%d,%d", open ? " " : "", x,
			       base - (int)((uint64_t)us * H_LAT / c->max_us));
		open = true;
	}
	if (open)
		strbuf_append(sb, "\"/>");
}

static void latency(struct strbuf *sb, const struct chart *c)
{
	int top = TOP + H_OPS + GAP;

	strbuf_appendf(
		sb,
		"<text x=\"4\" y=\"%d\">latency</text><text x=\"4\" y=\"%d\">max %u ms</text>"
		"<text x=\"%d\" y=\"%d\" fill=\"#2c6fbb\">p50</text>"
		"<text x=\"%d\" y=\"%d\" fill=\"#8e44ad\">p99</text>",
		top + 12, top + 26, (c->max_us + 999) / 1000, W - 70, top + 10, W - 40, top + 10);
	latency_line(sb, c, false);
	latency_line(sb, c, true);
}

/* Labels are drawn only where they do not run into the previous one of their row; the
 * band keeps its label as a tooltip either way. */
static void bands(struct strbuf *sb, const struct chart *c)
{
	int free_x[2] = { 0, 0 }; /* first free x of the fault row and the step row */

	for (size_t i = 0; i < c->s->n_bands; i++) {
		const struct report_band *b = &c->s->bands[i];
		bool fault = b->kind == REPORT_BAND_FAULT;
		int x0 = x_of(c, b->start_ns), x1 = x_of(c, b->end_ns),
		    w = 6 * (int)strlen(b->label);

		strbuf_appendf(
			sb,
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" opacity=\"%s\">"
			"<title>",
			x0, TOP, x1 - x0 > 2 ? x1 - x0 : 2, H_OPS + GAP + H_LAT,
			fault ? "#d64541" : "#2c6fbb", fault ? "0.35" : "0.15");
		xml_append_text(sb, b->label);
		strbuf_append(sb, "</title></rect>");
		if (x0 < free_x[!fault])
			continue;
		free_x[!fault] = x0 + w + 8;
		strbuf_appendf(sb, "<text x=\"%d\" y=\"%d\"%s>", x0 + 2, fault ? TOP - 14 : TOP - 2,
			       fault ? " fill=\"#c0392b\"" : "");
		xml_append_text(sb, b->label);
		strbuf_append(sb, "</text>");
	}
}

static void rto_marker(struct strbuf *sb, const struct chart *c)
{
	const struct report_series *s = c->s;
	char d[32];
	int x0, x1, lx, y = TOP + 8;

	if (s->rto_from_ns < 0 || s->rto_to_ns < s->rto_from_ns)
		return;
	x0 = x_of(c, s->rto_from_ns);
	x1 = x_of(c, s->rto_to_ns);
	units_format_duration(s->rto_to_ns - s->rto_from_ns, d, sizeof(d));
	lx = x1 + 4 + 80 > W ? (x0 - 84 > PAD_L ? x0 - 84 : x0 + 4) : x1 + 4; /* stay inside */
	strbuf_appendf(
		sb,
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-width=\"2\"/>"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>"
		"<text x=\"%d\" y=\"%d\" font-weight=\"bold\" paint-order=\"stroke\" "
		"stroke=\"#fff\" stroke-width=\"3\">RTO %s</text>",
		x0, y, x1 > x0 ? x1 : x0 + 1, y, x0, y - 5, x0, y + 5, x1, y - 5, x1, y + 5, lx,
		y + 4, d);
}

static void chart(struct strbuf *sb, const struct report_series *s)
{
	struct chart c;

	if (!s || !s->n_buckets || s->bucket_ns <= 0)
		return;
	chart_scale(&c, s);
	report_html_h2(sb, "Writes and latency over time", s->target);
	strbuf_appendf(
		sb,
		"<p class=\"muted\">Each bar: writes started in %" PRId64
		" ms, green acknowledged, "
		"orange unknown (timed out), red failed. Red bands: faults; blue: recovery steps. "
		"0 s is steady state.</p>\n<svg class=\"overview\" "
		"xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\">",
		(int64_t)(s->bucket_ns / NSEC_PER_MSEC), W, H, W, H);
	bars(sb, &c);
	latency(sb, &c);
	bands(sb, &c); /* translucent, over the data */
	time_axis(sb, &c);
	rto_marker(sb, &c);
	strbuf_append(sb, "</svg>\n");
	report_html_points(sb, s, c.t0, c.t1);
	if (s->n_closeups)
		report_html_h2(sb, "Close-ups of the faults", s->target);
	report_html_closeups(sb, s);
}

static void case_row(struct strbuf *sb, const struct report_case *c, int64_t origin)
{
	char start[32] = "", dur[32];

	if (c->start_ns >= 0)
		units_format_duration(c->start_ns - origin, start, sizeof(start));
	units_format_duration(c->duration_ns, dur, sizeof(dur));
	strbuf_appendf(sb, "<tr><td><span class=\"v %s\">%s</span></td><td>%s</td><td>",
		       report_status_name(c->status), report_status_name(c->status),
		       report_kind_name(c->kind));
	xml_append_text(sb, c->name ? c->name : c->id);
	strbuf_appendf(sb, "</td><td>%s</td><td>%s</td><td>", start, dur);
	xml_append_text(sb, c->message);
	if (c->details || c->output || c->n_props) {
		strbuf_append(sb, "<details><summary>more</summary>");
		for (size_t i = 0; i < c->n_props; i++) {
			strbuf_append(sb, "<div>");
			xml_append_text(sb, c->props[i].name);
			strbuf_append(sb, ": ");
			xml_append_text(sb, c->props[i].value);
			strbuf_append(sb, "</div>");
		}
		if (c->details) {
			strbuf_append(sb, "<pre>");
			xml_append_text(sb, c->details);
			strbuf_append(sb, "</pre>");
		}
		if (c->output) {
			strbuf_append(sb, "<pre>");
			xml_append_text(sb, c->output);
			strbuf_append(sb, "</pre>");
		}
		strbuf_append(sb, "</details>");
	}
	strbuf_append(sb, "</td></tr>\n");
}

/* Start times are shown from origin (steady state), like the chart's axis. */
static void cases(struct strbuf *sb, const struct report_suite *s, int64_t origin)
{
	strbuf_append(
		sb, "<h2>Faults, recovery steps and expectations</h2>\n<table><tr><th>status</th>"
		    "<th>kind</th><th>name</th><th>start</th><th>took</th><th>result</th></tr>\n");
	for (size_t i = 0; i < s->n_cases; i++)
		case_row(sb, &s->cases[i], origin);
	strbuf_append(sb, "</table>\n<h2>Figures</h2>\n<table>");
	for (size_t i = 0; i < s->n_props; i++)
		if (s->props[i].name && s->props[i].value)
			row(sb, s->props[i].name, s->props[i].value);
	strbuf_append(sb, "</table>\n");
}

int report_html_write(const struct report_suite *suite, const struct report_series *series,
		      size_t n_series, struct strbuf *out)
{
	if (!suite || !out || (n_series && !series))
		return -EINVAL;
	head(out, suite);
	kpis(out, suite);
	for (size_t i = 0; i < n_series; i++)
		chart(out, &series[i]);
	cases(out, suite, n_series ? series[0].origin_ns : 0);
	strbuf_append(out, "<p class=\"muted\">chaosdrill</p>\n</body></html>\n");
	return strbuf_failed(out) ? -ENOMEM : 0;
}
