/* `chaosdrill run -j N`: drills in parallel, one child process per drill, each running the
 * serial path (its own lab, with its own name cd-PID-N and a subnet of the pool), at most
 * N at a time. The parent only watches: it prefixes each child's output lines with the
 * drill's name (whole lines, never interleaved), forwards SIGINT/SIGTERM/SIGHUP to the
 * children (each writes its reports and tears its lab down), and at the end
 * writes one JUnit file for the call, index.html in the out directory, and a summary.
 *
 * What a child hands its parent goes through a pipe of its own, in a format of this file
 * (a line per suite, then the suite's JUnit document), never read back from result.json.
 *
 * Usage:
 *   struct run_jobs_options o = { .jobs = 4, .repeat = 1, .out_dir = "runs", .junit = f };
 *   int rc = run_jobs(names, n, &o, run_one, ud);  // the worst exit code of the drills
 */
#ifndef CHAOSDRILL_HARNESS_RUN_JOBS_H
#define CHAOSDRILL_HARNESS_RUN_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/run/run.h"

/* Runs drill i in the calling process (a child), filling res[0..repeat-1]; returns its
 * exit code (the worst of its repeats). */
typedef int (*run_jobs_drill_fn)(void *ud, size_t i, struct run_result *res);

struct run_jobs_options {
	unsigned jobs;	     /* at most this many drills at once, >= 1 */
	unsigned repeat;     /* suites per drill (--repeat) */
	const char *out_dir; /* run directories; index.html goes here */
	const char *junit;   /* one JUnit file for the call, or NULL */
	bool quiet;
};

/* names: the drills' names (borrowed), n of them. Returns the worst exit code of the
 * drills (3 > 1 > 0), EXIT_ENVIRONMENT also when the reports of the call could not be
 * written or a child died without its report. */
int run_jobs(const char *const *names, size_t n, const struct run_jobs_options *o,
	     run_jobs_drill_fn fn, void *ud);

/* The pure parts, for the unit tests. */

/* One suite of a child's message: "S\t<exit>\t<duration_ns>\t<name>\t<run_dir>\t<rto>\t
 * <error>\n" (tabs and line ends inside fields made spaces; an empty field is absent). */
struct run_jobs_suite {
	int exit_code;
	long long duration_ns;
	char *name, *run_dir, *rto, *error; /* owned, or NULL */
};
/* Appends a suite's line. */
void run_jobs_encode_suite(struct strbuf *sb, const struct run_jobs_suite *s);
/* Parses the message: its suites (caller frees with run_jobs_suites_free) and where the
 * JUnit document starts (after the line "J"), or -EINVAL. */
int run_jobs_decode(const char *buf, size_t len, struct run_jobs_suite **suites, size_t *n,
		    size_t *junit_at);
void run_jobs_suites_free(struct run_jobs_suite *v, size_t n);
/* "55ms", "kvlog 24ms, sqlite 27ms" from a suite's rto_ms properties; NULL if none.
 * Caller frees. */
char *run_jobs_rto(const struct report_suite *s);

#endif
