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

struct run_node {
	struct drill_run *run;
	const struct scenario_node *sn;
	struct lab_node *ln;
	char addr[16], port[8];
	char *replicas, *peers;       /* owned */
	char data_dir[4096];          /* host path */
	int out_fd, err_fd;           /* logs, O_APPEND */
	pid_t pid;                    /* current incarnation, 0 when down */
	int pidfd;
	unsigned incarnation;
	struct template_vars vars;    /* start/probe/check templates */
	char **start_argv, **probe_argv, **check_argv; /* owned, expanded */
	char **leader_argv;           /* owned, expanded; NULL: the target has no leader probe */
	int check_status;             /* exit status of the target's checker, -1 not run */
	char *check_output;           /* owned */
	struct run_attach *att;       /* what fault families keep on it, by order (run_attach.c) */
	size_t n_att;
	struct attach_host host;      /* what its attachments are handed */
	char node_dir[4200];          /* host path: the run directory's nodes/NAME */
	char program[4096];           /* start_argv[0] as the node finds it, "" if not found */
};

/* A child (probe, exec step, checker) run asynchronously with output captured. */
struct helper;
typedef void (*helper_done_fn)(struct drill_run *r, void *ud, int status, bool timed_out,
			       const char *output);

struct fault_run {
	bool injected, healed, failed;
	int64_t injected_ns, healed_ns; /* drill clock */
	char *what;                      /* owned: what the injection did */
	char *heal_what;                 /* owned */
	int error;                       /* -errno when failed */
};

enum step_state { STEP_PENDING, STEP_RUNNING, STEP_OK, STEP_FAILED, STEP_SKIPPED };

struct step_run {
	enum step_state state;
	int64_t start_ns, end_ns;
	char *message; /* owned: why it failed */
	struct strbuf output;
};

struct drill_run {
	const struct drill *d;
	const struct scenario *sc;
	struct run_result *res;
	struct lab *lab;
	struct loop *loop;
	struct ledger *ledger;
	struct timeline *tl;
	struct workload *wl;
	struct run_node *nodes;
	size_t n_nodes;
	struct fault_env env;       /* run_fault_env_ops with .harness = this run */
	struct fault_run *faults;
	struct step_run *steps;
	size_t cur_step;            /* the step running or next */
	struct run_node *wl_node;   /* where the workload writes */
	int64_t t0;                 /* CLOCK_MONOTONIC at drill start */
	int64_t steady_ns;          /* drill clock of time 0 of the fault schedule */
	int64_t recovered_ns;       /* drill clock when the last step ended, -1 before */
	int64_t *probe_ok;          /* drill clock of readiness probe passes (all nodes) */
	size_t n_probe_ok, cap_probe_ok;
	int64_t probe_took_max_ns;  /* the longest readiness probe try */
	struct template_vars step_vars; /* {bin}, {run}, {NODE.addr}, {NODE.port}, ... */
	char **owned_strings;       /* names and values of step_vars */
	size_t n_owned_strings;
	char ***owned_argv;         /* expanded argv of steps, alive until the run ends */
	size_t n_owned_argv;
	int sigfd;
	struct loop_op *progress;   /* the progress line's timer */
	bool interrupted;
	int interrupt_sig;
	char run_dir[4096];
	char *env_error;            /* owned: why the drill could not run (exit 3) */
	bool quiet;
	int final_read_error;       /* -errno of the final read, 0 if it worked */
	uint64_t final_keys;
	struct verify_result vres;
	struct verify_fault *vfaults; /* what vres.rto[i] is about: fault times, sorted */
	size_t n_vfaults;
	struct final_read fr;
	bool verified;
};

int64_t run_now(const struct drill_run *r);
/* Prints an event line ("  2.000s  fault kill n1: ...") unless quiet. */
void run_say(const struct drill_run *r, int64_t t_ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Steps the loop until done(r, arg), the deadline (drill clock, < 0 none) or an
 * interrupt. Returns true when done. */
bool run_until(struct drill_run *r, bool (*done)(struct drill_run *r, void *arg), void *arg,
	       int64_t deadline_ns);

/* run_nodes.c */
int run_nodes_prepare(struct drill_run *r);
int run_node_start(struct run_node *n);
struct run_node *run_node_find(struct drill_run *r, const char *name);
int run_nodes_wait_ready(struct drill_run *r, int64_t timeout_ns);
void run_nodes_stop(struct drill_run *r);
void run_nodes_check(struct drill_run *r);
void run_nodes_release(struct drill_run *r);
extern const struct fault_env run_fault_env_ops;

/* run_helper.c: between two tries of a probe. The readiness probe's lag adds to the
 * measured RTO (the outage ends only after it passed): the report states it. */
#define PROBE_INTERVAL_NS (10 * 1000 * 1000LL) /* 10 ms */
/* Starts argv in node (NULL: the lab); done is called once. */
int helper_start(struct drill_run *r, struct run_node *node, char *const *argv,
		 int64_t timeout_ns, helper_done_fn done, void *ud);
/* Repeats argv in node (NULL: the lab) until it exits 0 (done status 0) or the timeout;
 * fails at once if node stops running. */
int probe_until(struct drill_run *r, struct run_node *n, char *const *argv, bool readiness,
		int64_t timeout_ns, helper_done_fn done, void *ud);
/* The node's readiness probe: passes are recorded for RTO (DESIGN §6). */
int probe_until_ready(struct drill_run *r, struct run_node *n, int64_t timeout_ns,
		      helper_done_fn done, void *ud);

/* run_steps.c */
void run_fault_inject(struct drill_run *r, size_t i);
bool run_faults_all_in(struct drill_run *r, void *arg);
bool run_faults_all_healed(struct drill_run *r, void *arg);
bool run_recovery(struct drill_run *r, int group);

/* run_attach.c: node attachments (faults/attach.h). prepare makes each node's attachments
 * (what its faults need, and its own disk) and prepares them, before the first start; each
 * start goes through before_start (the attach_start it gives back, freed by the caller
 * after the spawn, holds the environment and pre-exec actions of cmd) and after_start;
 * exited when an incarnation ended (gone) or is about to be killed; stop once the nodes
 * are down. */
struct attach_start;
int run_attach_prepare(struct drill_run *r);
int run_attach_before_start(struct run_node *n, struct lab_cmd *cmd, struct attach_start **out);
int run_attach_after_start(struct run_node *n, int spawn_result);
void run_attach_exited(struct run_node *n, bool gone);
void run_attach_stop(struct drill_run *r);
void run_attach_release(struct run_node *n);
/* The node's attachment of that kind, or NULL (fault_env.attachment). */
struct node_attach *run_attach_find(struct run_node *n, const struct attach_ops *ops);
/* Host files the drill's attachments need nodes to see; paths[] NULL-terminated. */
size_t run_attach_host_paths(const struct drill *d, const char **paths, size_t max);

/* Records why the drill could not run (exit 3), once; returns -EIO. */
int run_env_error(struct drill_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* run_report.c */
int run_verify(struct drill_run *r);
int run_report(struct drill_run *r);
/* run_html.c: report.html in the run directory (after the suite is built). */
int run_write_html(struct drill_run *r);

#endif
