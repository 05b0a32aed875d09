/* index.html: the summary page of a call that ran several drills (`run -j`): one row per
 * drill with its verdict, RTO and duration, linked to its run directory's report.html.
 * Self-contained (inline CSS, no script, nothing fetched). Pure: rows in, bytes out.
 *
 * Usage:
 *   struct report_index_row rows[] = { { .drill = "kvlog-demo", .exit_code = 0,
 *       .rto = "55ms", .duration_ns = 9e9, .link = "kvlog-demo-20261207T161000Z/report.html" } };
 *   report_index_write("chaosdrill run -j 4", rows, 1, &sb);
 */
#ifndef CHAOSDRILL_REPORTS_INDEX_H
#define CHAOSDRILL_REPORTS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

struct report_index_row {
	const char *drill;   /* the suite's name ("kvlog-demo", "kvlog-demo#2") */
	int exit_code;	     /* 0 PASS, 1 FAIL, 3 ERROR (2: bad input) */
	const char *rto;     /* "55ms", "kvlog 24ms, sqlite 27ms", or NULL: not measured */
	int64_t duration_ns; /* the drill's, < 0 unknown */
	const char *link;    /* href of its report.html (relative to index.html), or NULL */
	const char *run_dir; /* shown as text, or NULL */
	const char *error;   /* why it could not run, or NULL */
};

/* "PASS", "FAIL", "BAD INPUT", "ERROR" for an exit code. */
const char *report_index_verdict(int exit_code);
/* Appends the page. All strings borrowed, any bytes (escaped). 0 or -ENOMEM. */
int report_index_write(const char *title, const struct report_index_row *rows, size_t n,
		       struct strbuf *out);

#endif
