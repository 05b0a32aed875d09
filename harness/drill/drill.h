/* harness/drill/: a drill file and everything it names, loaded and checked without a
 * process or a kernel call: the scenario (scenarios/parser/), its target (target.h:
 * target.yaml, its params and templates), its faults (faults/, each by its own parser), its
 * recovery steps (steps.h), and the {placeholders} of their argv (template.h).
 *
 * A drill ready to run or report on: the scenario, its target, and every fault and
 * recovery step parsed by its plug-in. All checks that need no process or kernel call
 * happen here, so `validate` and `run` reject the same files with the same messages.
 *
 * Usage:
 *   struct drill_options o = { .params = kv, .n_params = n };
 *   struct drill *d;
 *   r = drill_load("scenarios/demo.yaml", &o, &d, &err);   // err: file:line:col
 *   drill_free(d);
 */
#ifndef CHAOSDRILL_HARNESS_DRILL_H
#define CHAOSDRILL_HARNESS_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "faults/fault.h"
#include "harness/drill/steps.h"
#include "harness/drill/target.h"
#include "scenarios/parser/scenario.h"
#include "targets/driver.h"

struct drill_options {
	const char *const *params; /* "KEY=VALUE" strings from --param, borrowed */
	size_t n_params;
	bool has_seed; /* --seed */
	uint64_t seed;
};

struct drill_fault {
	const struct scenario_fault *sf; /* borrowed from sc */
	const struct fault_ops *ops;
	void *state; /* owned, freed by ops->free */
};

struct drill_step {
	const struct scenario_step *ss; /* borrowed from sc */
	struct step_spec spec;		/* owned */
};

struct drill;

/* One target of the drill (scenario.h's scenario_target) with its definition. */
struct drill_target {
	const struct scenario_target *st;   /* borrowed from sc */
	struct target_def *target;	    /* owned */
	const struct target_driver *driver; /* NULL when this target has no workload */
	bool no_workload;		    /* `workload: none`, or a target without a driver */
	/* The drill as this target's nodes, workload and verdicts see it: with one target the
	 * drill itself; with several a shallow copy (faults, steps, nodes shared) whose sc
	 * (target, params, disk, workload, expect), target, driver and no_workload are this
	 * target's. */
	const struct drill *view;
	struct drill *own_view; /* owned, several targets only */
	struct scenario *own_sc;
};

struct drill {
	struct scenario *sc; /* owned */
	/* the first target's (with several, no_workload: no target has a workload) */
	struct target_def *target;
	const struct target_driver *driver; /* NULL when the drill has no workload */
	bool no_workload;		    /* `workload: none`, or a target without a driver */
	struct drill_target *targets;	    /* [sc->n_targets], owned */
	size_t n_targets;
	struct drill_fault *faults;
	size_t n_faults;
	struct drill_step *steps;
	size_t n_steps;
	const char **node_names; /* n = sc->n_nodes, borrowed strings */
	uint64_t seed;		 /* --seed, else the file's, else drawn */
	bool seed_drawn;
};

/* The view of the target node belongs to. */
const struct drill *drill_node_view(const struct drill *d, const struct scenario_node *node);

int drill_load(const char *path, const struct drill_options *opts, struct drill **out,
	       struct cd_error *err);
void drill_free(struct drill *d);

#endif
