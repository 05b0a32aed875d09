/* harness/history/: the drills' history, for drills run again and again (monthly failover
 * drills) whose RTO is compared over time: each run's figures taken from its report model
 * (history_model.c), kept in a SQLite file (history_db.c, the only file that includes
 * sqlite3.h), and judged for regressions (trend.h).
 *
 * One run's figures as plain data, and the history file they go into.
 *
 * Usage:
 *   struct history *h;  struct cd_error err;
 *   history_open("drills.db", HISTORY_CREATE, &h, &err);     // once, before any drill runs
 *   struct history_run run;
 *   history_run_from_suite(&result.suite, &run);              // after each drill
 *   history_append(h, &run, &err);  history_run_release(&run);
 *   ...
 *   struct history_runs all;
 *   history_load(h, "kvlog-demo", &all, &err);                // NULL: every drill
 *   ... all.v[i] (by drill, oldest first) ...
 *   history_runs_release(&all);  history_close(h);
 *
 * Every string of a history_run is owned by it (history_run_release frees them). Figures
 * that were not measured are -1.
 */
#ifndef CHAOSDRILL_HARNESS_HISTORY_H
#define CHAOSDRILL_HARNESS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "reports/report.h"

/* The schema version this chaosdrill writes (history_db.c's migrations). */
#define HISTORY_SCHEMA_VERSION 1

enum history_case_kind {
	HISTORY_STEP,	/* a recovery step */
	HISTORY_ACTION, /* an action at its own time */
	HISTORY_EXPECT, /* an expectation: rto, rpo, integrity, a checker */
};

/* One target's figures; target is "" in a drill of one target. */
struct history_target {
	char *target;
	int64_t rto_ms;	       /* the largest of its faults' outages; -1 not measured */
	int64_t rpo_lost;      /* acknowledged writes lost; -1 not counted */
	int64_t rpo_window_ms; /* -1 not counted */
	int integrity;	       /* 1 intact, 0 violated, -1 not checked */
};

/* One fault's outage as one target's clients saw it. */
struct history_fault {
	char *target;	/* "" in a drill of one target */
	unsigned fault; /* 1-based, the drill's order ("fault.2.kill" is 2) */
	int64_t rto_ms;
};

/* A recovery step, an action or an expectation, and how it went. */
struct history_case {
	enum history_case_kind kind;
	char *id;   /* stable within the drill: "step.1.restart", "expect.rto" */
	char *name; /* human: "restart n1", "rto <= 2.000s" */
	enum report_status status;
	int64_t duration_ns; /* -1: it never ran */
	char *message;	     /* or NULL */
};

struct history_run {
	int64_t id;	    /* the row's, once stored or loaded; 0 before */
	char *drill;	    /* the drill's name (without --repeat's "#N") */
	int64_t started_ns; /* wall clock (UTC) at the drill's start */
	uint64_t seed;
	int exit_code;	     /* 0 met, 1 missed, 3 could not run */
	int64_t duration_ms; /* the whole drill */
	/* over all targets: the largest RTO, the lost writes' sum and largest window, and
	 * whether every target's data was intact */
	int64_t rto_ms, rpo_lost, rpo_window_ms;
	int integrity;
	char *version;			  /* chaosdrill's */
	char *run_dir, *hostname, *error; /* each may be NULL */
	struct history_target *targets;
	size_t n_targets;
	struct history_fault *faults;
	size_t n_faults;
	struct history_case *cases; /* steps, actions and expectations, in the report's order */
	size_t n_cases;
};

struct history_runs {
	struct history_run *v;
	size_t n;
};

/* The verdict's word for an exit code: "pass", "fail", "error". */
const char *history_verdict(int exit_code);
/* A case status's word ("pass", "fail", "error", "skip") and back (-EINVAL if unknown). */
const char *history_status_name(enum report_status s);
int history_status_parse(const char *s, enum report_status *out);

/* Fills out with the figures of one drill's report model (borrowed; copied). drill is the
 * drill's own name (suite->name carries "#N" with --repeat): NULL takes suite->name.
 * Returns 0, or -ENOMEM (out is then released). */
int history_run_from_suite(const struct report_suite *suite, const char *drill,
			   struct history_run *out);
void history_run_release(struct history_run *run);
void history_runs_release(struct history_runs *runs);

/* The history file. */
struct history;

enum history_mode {
	HISTORY_CREATE, /* read and append; create the file and its schema if new */
	HISTORY_READ,	/* read only; the file must exist and hold a history */
};

/* Opens path; checks that it is a chaosdrill history of a version this program knows (or
 * creates it, or brings an older one up to date, under HISTORY_CREATE). Several processes
 * may hold the same file open and append at once. On failure err says why (file = path)
 * and the return is -errno: -ENOENT, -EACCES, -EISDIR... from the system, -EINVAL when the
 * file is not a chaosdrill history, -EPROTONOSUPPORT when a newer chaosdrill wrote it,
 * -EBUSY when other processes held it locked too long. */
int history_open(const char *path, enum history_mode mode, struct history **out,
		 struct cd_error *err);
/* Stores one run (all or nothing). Sets run->id. Returns 0 or -errno (err says why). */
int history_append(struct history *h, struct history_run *run, struct cd_error *err);
/* Every stored run of drill (NULL: of every drill), ordered by drill name, then start
 * time. Returns 0 or -errno (err says why); out is empty on failure. */
int history_load(struct history *h, const char *drill, struct history_runs *out,
		 struct cd_error *err);
void history_close(struct history *h); /* accepts NULL */

#endif
