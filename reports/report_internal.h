/* Helpers the report writers share (not for callers of report.h): names of case kinds and
 * statuses, UTC timestamps, and the per-suite tallies that JUnit and result.json both state.
 */
#ifndef CHAOSDRILL_REPORTS_REPORT_INTERNAL_H
#define CHAOSDRILL_REPORTS_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "reports/report.h"

/* "2026-11-22T06:44:48Z" plus NUL */
#define REPORT_UTC_LEN 21
/* "9223372036854775.807" plus NUL, rounded up */
#define REPORT_SECONDS_LEN 32

struct report_tally {
	size_t tests, failures, errors, skipped;
};

/* "fault", "recovery", "expect": the JUnit classname suffix and the result.json kind. */
const char *report_kind_name(enum report_case_kind kind);
/* "pass", "fail", "error", "skip". */
const char *report_status_name(enum report_status status);
/* Wall-clock nanoseconds as ISO 8601 UTC, whole seconds. Returns 0, or -EINVAL if the time
 * is unknown (<= 0) or out of range. */
int report_format_utc(int64_t real_ns, char buf[static REPORT_UTC_LEN]);
/* Counts a suite's cases by status; a suite with an error counts one more test and error
 * (the drill itself, which the writers report as its own case). */
void report_tally_suite(const struct report_suite *suite, struct report_tally *t);

/* html_ops.c: report.html's plot of every operation's latency over [t0, t1] (nothing
 * without ops), and the close-ups of the series' fault windows. */
void report_html_points(struct strbuf *sb, const struct report_series *s, int64_t t0, int64_t t1);
void report_html_closeups(struct strbuf *sb, const struct report_series *s);
/* "<h2>TITLE [TARGET]</h2>" (no brackets without a target); title is trusted markup. */
void report_html_h2(struct strbuf *sb, const char *title, const char *target);

#endif
