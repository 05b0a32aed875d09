/* The state of one drill while it runs, shared by the files of the runner: run.c (the
 * sequence), run_nodes.c (node supervision), run_helper.c (probes, exec steps, checkers as
 * async children), run_steps.c (recovery), run_report.c (verdicts and outputs). */
#ifndef CHAOSDRILL_HARNESS_RUN_INTERNAL_H
#define CHAOSDRILL_HARNESS_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/strbuf.h"
#include "faults/attach.h"
#include "harness/drill/drill.h"
#include "harness/lab/lab.h"
#include "harness/record/ledger.h"
#include "harness/run/loop.h"
#include "harness/run/run.h"
#include "harness/drill/template.h"
#include "harness/record/timeline.h"
#include "harness/record/verify.h"
#include "harness/run/workload.h"

struct drill_run;

/* A node of the drill (run_nodes.c's: opaque elsewhere, read through run_node_*()). */
struct run_node;

/* A child (probe, exec step, checker) run asynchronously with output captured. */
struct helper;
typedef void (*helper_done_fn)(struct drill_run *r, void *ud, int status, bool timed_out,
			       const char *output);

struct fault_run {
	bool injected, healed, failed;
	int64_t injected_ns, healed_ns; /* drill clock */
	char *what;			/* owned: what the injection did */
	char *heal_what;		/* owned */
	int error;			/* -errno when failed */
	void *heal_timer; /* owned until the heal fires (a drill may end before it) */
};

enum step_state { STEP_PENDING, STEP_RUNNING, STEP_OK, STEP_FAILED, STEP_SKIPPED };

struct step_run {
	enum step_state state;
	int64_t start_ns, end_ns;
	char *message; /* owned: why it failed */
	struct strbuf output;
};

/* One target's workload and what its verdicts are made of (run.c's). A drill has one per
 * target; run_select() makes one of them current: r->d and r->sc (that target's view of
 * the drill, drill.h), r->wl, r->ledger, r->wl_node, r->adapters and r->verdict are then
 * its, so the code that knew one target reads them as it did. */
struct run_wl {
	const struct drill *d;
	struct workload *wl;
	struct ledger *ledger;
	struct run_node *wl_node;
	struct workload_adapters adapters;
	struct run_verdict *verdict;
	char *adapters_dir; /* owned: where its adapters' stderr goes */
};

/* One drill while it runs. Every field has one owner that writes it; the other files of
 * the runner read the first two groups and reach the rest through its owner's functions. */
struct drill_run {
	/* run.c's, fixed before the drill starts (d and sc: the current target's view, see
	 * struct run_wl; base: the drill as loaded) */
	const struct drill *d;
	const struct scenario *sc;
	const struct drill *base;
	struct run_wl *wls; /* one per target, [n_wls] */
	size_t n_wls, cur;
	struct run_result *res;
	struct lab *lab;
	struct loop *loop;
	struct ledger *ledger;
	struct timeline *tl;
	struct fault_env env; /* run_fault_env_ops with .harness = this run */
	int64_t t0;	      /* CLOCK_MONOTONIC at drill start */
	char run_dir[4096];
	bool quiet;
	/* run.c's, as the drill goes */
	int64_t steady_ns; /* drill clock of time 0 of the fault schedule */
	struct workload *wl;
	struct run_node *wl_node;	   /* where the workload writes (run_workload_move) */
	struct workload_adapters adapters; /* driver lines: how the workload starts them */
	bool stop; /* the drill cannot go on (env_error says why): run_until returns */
	bool interrupted;
	int interrupt_sig;
	char *env_error; /* why the drill could not run (exit 3): run_env_error() */
	int sigfd;
	struct loop_op *progress; /* the progress line's timer */
	/* the other files' own, opaque here */
	struct run_node *nodes; /* run_nodes.c's, [n_nodes] */
	size_t n_nodes;
	struct run_sched *sched;	/* run_steps.c's: what the faults and steps did */
	struct run_probes *probes;	/* run_helper.c's: when the readiness probes passed */
	struct run_verdict *verdict;	/* run_report.c's: the final read and the verdicts */
	struct run_attachments *attach; /* run_attach.c's: the nodes' attachments */
	struct run_live *live;		/* run_live.c's: the progress line on a terminal */
};

int64_t run_now(const struct drill_run *r);
/* Makes target i's workload and verdicts the current ones (struct run_wl). */
void run_select(struct drill_run *r, size_t i);
/* Whether the drill holds several targets (then verdicts name theirs). */
bool run_multi(const struct drill_run *r);
/* The workload's clients write to n from now on (a `workload:` step). */
int run_workload_move(struct drill_run *r, struct run_node *n);
/* Prints an event line ("  2.000s  fault kill n1: ...") unless quiet. */
void run_say(const struct drill_run *r, int64_t t_ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Steps the loop until done(r, arg), the deadline (drill clock, < 0 none) or an
 * interrupt. Returns true when done. */
bool run_until(struct drill_run *r, bool (*done)(struct drill_run *r, void *arg), void *arg,
	       int64_t deadline_ns);

/* run_nodes.c: the nodes, their incarnations, readiness and checkers. */
int run_nodes_prepare(struct drill_run *r);
int run_node_start(struct run_node *n);
/* One incarnation whose start argv has params (a map of scalars, borrowed) over the
 * drill's: restart: {params: {...}}. NULL: run_node_start. */
int run_node_start_with(struct run_node *n, const struct cfg_node *params);
/* sig to the running incarnation's init (SIGKILL: the whole node). -ESRCH when down. */
int run_node_signal(struct run_node *n, int sig);
/* Wait status of the last incarnation that ended, -1 if none did. */
int run_node_last_status(const struct run_node *n);
size_t run_node_count(const struct drill_run *r);
struct run_node *run_node_at(struct drill_run *r, size_t i);
struct run_node *run_node_find(struct drill_run *r, const char *name); /* NULL: none */
size_t run_node_index(const struct run_node *n);
const struct scenario_node *run_node_spec(const struct run_node *n);
/* The drill as n's target sees it (drill.h's view: its target, params, workload, expect),
 * and that target's definition. */
const struct drill *run_node_view(const struct run_node *n);
const struct target_def *run_node_target(const struct run_node *n);
const char *run_node_name(const struct run_node *n);
const char *run_node_addr(const struct run_node *n);
const char *run_node_port(const struct run_node *n);
struct lab_node *run_node_lab(const struct run_node *n);
/* The running incarnation's init (pidfd borrowed, -1 when down; pid 0 when down). */
int run_node_pidfd(const struct run_node *n);
pid_t run_node_pid(const struct run_node *n);
unsigned run_node_incarnation(const struct run_node *n);
/* Its template variables ({addr}, {data}, the target's params...) and expanded argv. */
const struct template_vars *run_node_vars(const struct run_node *n);
char *const *run_node_start_argv(const struct run_node *n);
/* The environment of its processes (server and helpers): PATH and the target's env:. */
const char *const *run_node_envp(const struct run_node *n);
char *const *run_node_probe_argv(const struct run_node *n);
/* The target's adapter program talking to n (driver lines), NULL when it has none. */
char *const *run_node_client_argv(const struct run_node *n);
/* The target's checker on its data: argv[0] (NULL: the target has none), its exit status
 * (-1 not run, -2 timed out, -3 could not start) and output. */
const char *run_node_checker(const struct run_node *n, int *status, const char **output);
/* After the attachments are prepared, before the first start: the target's user owns each
 * data dir (chown through its disk and fault file system), then its `init:` runs there. */
int run_nodes_own(struct drill_run *r);
int run_nodes_wait_ready(struct drill_run *r, int64_t timeout_ns);
/* The target's check-online on every node while it runs (before teardown); a node that
 * is down fails it. Its result: argv[0] (NULL: none), status as run_node_checker's or -4
 * (the node was not running), output and when it ran. */
void run_nodes_check_online(struct drill_run *r);
const char *run_node_check_online(const struct run_node *n, int *status, const char **output,
				  int64_t *start_ns, int64_t *end_ns);
void run_nodes_stop(struct drill_run *r);
void run_nodes_check(struct drill_run *r);
void run_nodes_release(struct drill_run *r);
extern const struct fault_env run_fault_env_ops;

/* run_helper.c: between two tries of a probe. The readiness probe's lag adds to the
 * measured RTO (the outage ends only after it passed): the report states it. */
#define PROBE_INTERVAL_NS (10 * 1000 * 1000LL) /* 10 ms */
struct run_probes;
int run_probes_new(struct drill_run *r);
void run_probes_free(struct drill_run *r);
/* When readiness probes of the current target's nodes passed (drill clock, in order), and
 * the longest try of any. */
const int64_t *run_probe_passes(const struct drill_run *r, size_t *n);
int64_t run_probe_took_max(const struct drill_run *r);
/* Starts argv in node (NULL: the lab); done is called once. */
int helper_start(struct drill_run *r, struct run_node *node, char *const *argv, int64_t timeout_ns,
		 helper_done_fn done, void *ud);
/* The same for an `exec` step or action: on a running node it runs among the node's own
 * processes (its pid namespace joined, as `docker exec`; lab.h node_pids). */
int helper_start_exec(struct drill_run *r, struct run_node *node, char *const *argv,
		      int64_t timeout_ns, helper_done_fn done, void *ud);
/* Repeats argv in node (NULL: the lab) until it exits 0 (done status 0) or the timeout;
 * fails at once if node stops running. */
int probe_until(struct drill_run *r, struct run_node *n, char *const *argv, bool readiness,
		int64_t timeout_ns, helper_done_fn done, void *ud);
/* The node's readiness probe: passes are recorded for RTO (DESIGN §6). */
int probe_until_ready(struct drill_run *r, struct run_node *n, int64_t timeout_ns,
		      helper_done_fn done, void *ud);

/* run_steps.c: the schedule. run_sched_new at the drill's start (the report needs its
 * results whatever happens), run_sched_vars once the nodes have addresses, run_sched_run
 * from steady state: faults and their recovery steps, then the drill's recovery. */
struct run_sched;
int run_sched_new(struct drill_run *r);
int run_sched_vars(struct drill_run *r);
int run_sched_run(struct drill_run *r);
void run_sched_free(struct drill_run *r);
/* What fault i / step i did (NULL only when the drill ran out of memory at its start). */
const struct fault_run *run_fault_result(const struct drill_run *r, size_t i);
const struct step_run *run_step_result(const struct drill_run *r, size_t i);
/* "step" or "action" (the drill's actions:), and its number as the output says it. */
const char *step_word(const struct drill_run *r, size_t i);
size_t step_number(const struct drill_run *r, size_t i);
/* Drill clock when the recovery ended, -1 if it did not run. */
int64_t run_recovered_ns(const struct drill_run *r);
/* For run_until: every fault with a heal is healed (or failed). */
bool run_faults_all_healed(struct drill_run *r, void *arg);

/* run_seeded.c: what the seed decided, and the verdict, into the timeline (replay). */
void run_seeded_record(struct drill_run *r);
void run_verdict_record(struct drill_run *r, int code);

/* run_attach.c: node attachments (faults/attach.h). prepare makes each node's attachments
 * (what its faults need, and its own disk) and prepares them, before the first start; each
 * start goes through before_start (the attach_start it gives back, freed by the caller
 * after the spawn, holds the environment and pre-exec actions of cmd) and after_start;
 * exited when an incarnation ended (gone) or is about to be killed; stop once the nodes
 * are down. */
struct attach_start;
struct run_attachments;
int run_attach_prepare(struct drill_run *r);
int run_attach_before_start(struct drill_run *r, struct run_node *n, struct lab_cmd *cmd,
			    struct attach_start **out);
int run_attach_after_start(struct drill_run *r, struct run_node *n, int spawn_result);
void run_attach_exited(struct drill_run *r, struct run_node *n, bool gone);
void run_attach_stop(struct drill_run *r);
void run_attach_free(struct drill_run *r);
/* The node's attachment of that kind, or NULL (fault_env.attachment). */
struct node_attach *run_attach_find(struct drill_run *r, struct run_node *n,
				    const struct attach_ops *ops);
/* Host files the drill's attachments need nodes to see; paths[] NULL-terminated. */
size_t run_attach_host_paths(const struct drill *d, const char **paths, size_t max);

/* Records why the drill could not run (exit 3), once; returns -EIO. */
int run_env_error(struct drill_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* run_adapters.c: client adapters (driver lines). prepare (before the workload) makes
 * RUN_DIR/adapters and the workload's hooks; run_adapters gives them (NULL: the target's
 * driver speaks to nodes directly). A fatal note sets env_error and stop. */
int run_adapters_prepare(struct drill_run *r);
const struct workload_adapters *run_adapters(const struct drill_run *r);
/* The final read through a fresh adapter pointed at n: as conn_read_all; why gets what
 * went wrong, with the adapter's stderr. */
int run_adapter_read_all(struct drill_run *r, struct run_node *n, int timeout_ms, target_kv_fn kv,
			 void *ud, char *why, size_t why_len);

/* run_report.c: the final read, the verdicts, the reports. */
struct run_verdict;
int run_verdict_new(struct drill_run *r);
void run_verdict_free(struct drill_run *r);
void run_final_read(struct drill_run *r);
int run_report(struct drill_run *r);
/* The verdicts and the faults they are about (NULL before they were computed). */
const struct verify_result *run_verdicts(const struct drill_run *r,
					 const struct verify_fault **faults, size_t *n);
/* run_live.c: the live progress line when stdout is a terminal (not --quiet, not CI).
 * start once the loop exists; clear before printing any line to stdout (run_say does);
 * phase shows a phase of the harness's own ("verify") from now on; stop before the
 * summary (and before the loop is freed). */
struct run_live;
int run_live_start(struct drill_run *r);
void run_live_clear(const struct drill_run *r);
void run_live_draw(struct drill_run *r);
void run_live_phase(struct drill_run *r, const char *phase);
void run_live_stop(struct drill_run *r);

/* run_html.c: report.html in the run directory (after the suite is built). */
int run_write_html(struct drill_run *r);

#endif
