/* The report model: everything a drill's reports say, as plain data. The harness fills it
 * from (scenario, timeline, ledger, verdicts); the writers (junit.c, json.c) are pure
 * functions of it and never touch files, clocks or the environment.
 *
 * Usage:
 *   struct report_suite s = { .name = "kvlog-demo", ... .cases = cases, .n_cases = n };
 *   struct strbuf out = STRBUF_INIT;
 *   junit_write(&s, 1, &out);         // one <testsuites> for all drills of a call
 *   result_json_write(&s, &out);      // result.json of one drill
 *   fs_write_atomic(path, out.buf, out.len, 0644); strbuf_release(&out);
 *
 * All strings are borrowed (NULL means absent) and may hold anything: control characters,
 * ANSI escapes, invalid UTF-8, "]]>"; the writers escape or drop what their format forbids.
 * Times are monotonic nanoseconds since the drill started; writers print integer
 * milliseconds ("1.250" seconds in JUnit, 1250 in JSON), locale-free.
 */
#ifndef CHAOSDRILL_REPORTS_REPORT_H
#define CHAOSDRILL_REPORTS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

/* What a property's value is, for result.json: text stays a JSON string, a number is
 * written as a JSON number (its unit is in its name: _ms, _us, a count otherwise), a flag as
 * true/false. A number or flag whose value is NULL was not measured: null in result.json,
 * left out of JUnit and the page. */
enum report_value_type {
	REPORT_TEXT,   /* "SIGKILL", "torn write of txn.log..." */
	REPORT_NUMBER, /* "1250", "1.6": a JSON number as text (written as a string if not) */
	REPORT_FLAG,   /* "true" or "false" */
};

struct report_property {
	const char *name;  /* "rto_ms", "rpo_lost_writes", "keep_bytes" */
	const char *value; /* already formatted: "1250", "0", "true" */
	enum report_value_type type;
};

enum report_case_kind {
	REPORT_CASE_FAULT,  /* one fault injection (with its heal) */
	REPORT_CASE_STEP,   /* one recovery step */
	REPORT_CASE_EXPECT, /* one expectation: rto, rpo, integrity, a custom check */
	REPORT_CASE_ACTION, /* one of the drill's actions (a step at its own time) */
};

enum report_status {
	REPORT_PASS,
	REPORT_FAIL,  /* an expectation missed, a step's check failed: JUnit <failure> */
	REPORT_ERROR, /* could not be carried out (fault had no effect, step crashed): <error> */
	REPORT_SKIP,  /* not reached (drill aborted before it): <skipped> */
};

struct report_case {
	enum report_case_kind kind;
	const char *id;	     /* stable, unique within the suite: "fault.1.kill", "step.2.wait",
			      * "expect.rto"; prefixes its properties in JUnit */
	const char *name;    /* human: "kill n1 at 2.000s", "restart n1", "rto <= 2s" */
	int64_t start_ns;    /* since drill start; -1 if it never started */
	int64_t duration_ns; /* >= 0 */
	enum report_status status;
	const char *message; /* one line, for a failure/error/skip: "RTO 2.400s > target 2s" */
	const char *details; /* failure text with figures (GitLab shows this, not message) */
	const char *output;  /* captured output of a step: JUnit <system-out> */
	const struct report_property *props;
	size_t n_props;
};

struct report_suite {
	const char *name; /* drill name; unique among suites of one file (--repeat: "x#2") */
	const char *description;
	const char *target;
	const char *runbook;
	uint64_t seed;
	int64_t started_real_ns; /* wall clock (CLOCK_REALTIME) at drill start, for timestamps */
	int64_t duration_ns;	 /* whole drill */
	const char *hostname;
	const char *run_dir;
	const char *error; /* set when the drill could not run (exit 3) or was interrupted */
	int exit_code;	   /* 0 met, 1 missed, 2 bad input, 3 environment */
	const struct report_property *props; /* drill-level figures: rto_ms, rpo_lost, ... */
	size_t n_props;
	const struct report_case *cases;
	size_t n_cases;
};

/* The drill over time, for report.html: writes per time bucket and bands for faults and
 * recovery steps. Times are drill nanoseconds, like the cases'. */
struct report_bucket {
	int64_t start_ns;
	uint32_t ok, failed, unknown; /* writes started in the bucket, by outcome */
	uint32_t p50_us, p99_us;      /* latency of its acknowledged writes, 0 if none */
};

enum report_band_kind { REPORT_BAND_FAULT, REPORT_BAND_STEP };

struct report_band {
	enum report_band_kind kind;
	int64_t start_ns, end_ns; /* end == start: an instant */
	const char *label;
};

/* One operation of the ledger, for the latency plot (a point per operation). */
enum report_op_outcome { REPORT_OP_OK, REPORT_OP_FAILED, REPORT_OP_UNKNOWN };

struct report_op {
	int64_t start_ns;
	int64_t latency_ns; /* until its answer (or its timeout); < 0: never answered */
	enum report_op_outcome outcome;
};

/* A fault's window at a fine time resolution: from a little before the fault to a little
 * after the end of its outage, its heal and its recovery steps. The buckets are computed
 * from the whole ledger; the points drawn are the series' ops in the window. */
struct report_closeup {
	const char *label;	/* the fault: "kill n1" */
	int64_t from_ns, to_ns; /* the window */
	int64_t bucket_ns;	/* fine: 1 ms to 100 ms */
	const struct report_bucket *buckets;
	size_t n_buckets;
	int64_t fault_ns;      /* injected (or first struck) */
	int64_t heal_ns;       /* -1: no heal */
	int64_t outage_end_ns; /* the acknowledgement that ended the outage (RTO), -1 */
};

struct report_series {
	const char *target; /* with several targets, whose writes these are; NULL with one */
	int64_t origin_ns;  /* shown as 0 on the time axis (steady state) */
	int64_t bucket_ns;
	const struct report_bucket *buckets;
	size_t n_buckets;
	const struct report_band *bands;
	size_t n_bands;
	int64_t rto_from_ns, rto_to_ns; /* the RTO marker, or -1 */
	/* every operation as a point, or a deterministic sample: all that were not
	 * acknowledged, one acknowledged in window_stride inside the close-ups' windows and
	 * one in ok_stride outside them (report_ops_stride), in the ledger's order */
	const struct report_op *ops;
	size_t n_ops;
	size_t n_ops_total;   /* in the ledger */
	size_t ok_stride;     /* 1: every acknowledged operation is drawn */
	size_t window_stride; /* the same inside the close-ups' windows */
	const struct report_closeup *closeups;
	size_t n_closeups;
	size_t n_closeups_omitted; /* faults past REPORT_MAX_CLOSEUPS, without one */
};

/* At most this many close-ups in one series (the first faults' ones). */
#define REPORT_MAX_CLOSEUPS 20
/* At most this many points in one latency plot of report.html. */
#define REPORT_MAX_POINTS 6000
/* ... of which the acknowledged operations in the close-ups' windows get up to this many. */
#define REPORT_MAX_WINDOW_POINTS 3000

/* The stride of acknowledged operations that keeps n_ok + n_other points (every
 * unacknowledged one is kept) within max: 1 when all fit. */
size_t report_ops_stride(size_t n_ok, size_t n_other, size_t max);

/* Appends report.html for one drill: self-contained (inline CSS and SVG, no script),
 * with the verdicts; for each series (one per target) a chart of writes and latency over
 * time with fault and recovery bands and the RTO marked, every operation's latency as a
 * point, and a close-up of each fault's window; every case and figure. n_series may be 0
 * (no chart). Returns 0, or -ENOMEM. */
int report_html_write(const struct report_suite *suite, const struct report_series *series,
		      size_t n_series, struct strbuf *out);

/* Appends a JUnit XML document (<testsuites> holding one <testsuite> per element of suites)
 * valid against shared/schemas/junit-10.xsd. Returns 0, or -ENOMEM. */
int junit_write(const struct report_suite *suites, size_t n_suites, struct strbuf *out);

/* Appends result.json for one drill. Returns 0, or -ENOMEM. */
int result_json_write(const struct report_suite *suite, struct strbuf *out);

#endif
