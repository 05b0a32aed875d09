/* harness/run/: the runner of one drill, on an io_uring event loop (loop.c): nodes and
 * their incarnations (run_nodes.c), helpers and probes (run_helper.c), the fault schedule
 * and the recovery steps (run_steps.c), the workload and its ledger (workload.c), the
 * attachments fault families keep on nodes, each in its family's folder (run_attach.c
 * calls them, faults/attach.h), and the verdicts and reports at the end (run_report.c,
 * run_html.c).
 *
 * Running one drill: set up, fault, recover, verify, report, tear down. Fills a report
 * suite (the facts the report writers need) and returns the drill's exit code. */
#ifndef CHAOSDRILL_HARNESS_RUN_H
#define CHAOSDRILL_HARNESS_RUN_H

#include <stdbool.h>

#include "harness/drill/drill.h"
#include "reports/report.h"

/* The exit codes of shared/DESIGN.md §7: a drill's, and the command's. */
enum {
	EXIT_MET = 0,	      /* every expectation met */
	EXIT_MISSED = 1,      /* an expectation missed */
	EXIT_BAD_INPUT = 2,   /* usage, scenario error */
	EXIT_ENVIRONMENT = 3, /* privileges, missing kernel feature, target failed to start */
};

struct run_result {
	struct report_suite suite; /* strings point into the fields below or the drill */
	char *error;		   /* owned */
	char *run_dir;		   /* owned */
	char *name;		   /* owned: the suite's name with --repeat ("drill#2") */
	char hostname[256];
	char **strings; /* owned strings the suite points at */
	size_t n_strings;
	struct report_case *cases;	     /* owned */
	struct report_property *props;	     /* owned: the suite's */
	struct report_property **case_props; /* owned: one array per case */
	size_t n_case_props;
	int interrupted; /* the signal that ended the drill early, or 0 */
};

struct run_options {
	const char *out_dir; /* run directories go under it */
	const char *subnet;  /* the lab's, or NULL for the default */
	bool quiet;	     /* only the verdict lines and errors */
};

/* Returns EXIT_MET, EXIT_MISSED or EXIT_ENVIRONMENT. d must outlive res. */
int run_drill(const struct drill *d, const struct run_options *o, struct run_result *res);
void run_result_release(struct run_result *res);
/* SIGINT, SIGTERM and SIGHUP blocked for the rest of the process: run_drill reads them
 * from a signalfd (a drill interrupted by any of them tears down and writes its reports).
 * Call once before the first drill. 0 or -errno. */
int run_signals_block(void);
/* Removes the temp files killed harnesses left in the run directories under out_dir and
 * beside junit (either may be NULL), only those of report files whose writer is dead
 * (run_sweep.c); say gets each path. The number removed, or -errno. */
int run_sweep_stale(const char *out_dir, const char *junit, void (*say)(void *, const char *),
		    void *ud);
/* The signal that came outside any drill (while reports were written), consumed, or 0. */
int run_signal_pending(void);

#endif
