/* Resolving a drill's `nemesis:` (scenarios/parser/nemesis.h) into concrete faults before
 * the drill starts: every time, kind, node and heal drawn from the drill's seed (the same
 * seed, the same faults), then added to the scenario as `faults:` items, so the runner,
 * schedule.json and the reports treat them like written ones.
 *
 * Scheduling rules: a fault goes to a node only when the node is free: a fault with a
 * duration holds its node until its heal (heal: {at: ...}, so it is healed before the next
 * fault of that node, which comes at least NEMESIS_SETTLE_NS after); a fault with its own
 * recovery steps frees it at once (the runner runs those steps before the next fault); a
 * fault with neither (a kill without a restart) holds it to the end. `minority` never has
 * more than (nodes-1)/2 nodes held at once. A time at which no node may take the fault
 * drawn passes without a fault.
 *
 * Usage:
 *   struct nemesis_plan_input in = { nm, names, n_nodes, leader, heals };
 *   r = nemesis_plan(&in, seed, &faults, &n, &err);   // pure; caller frees faults
 *   r = nemesis_resolve(d, &kinds, &err);             // plan + add to d->sc (drill.c)
 */
#ifndef CHAOSDRILL_HARNESS_NEMESIS_H
#define CHAOSDRILL_HARNESS_NEMESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "scenarios/parser/nemesis.h"
#include "scenarios/parser/scenario.h"

#define NEMESIS_SETTLE_NS (100 * 1000000LL)

struct nemesis_plan_input {
	const struct nemesis *nm;
	const char *const *nodes; /* the drill's node names */
	size_t n_nodes;
	const char *leader; /* the leading node's name, or NULL: the drill has none */
	const bool *heals;  /* [nm->n_kinds]: the kind accepts heal: */
};

/* One resolved fault. */
struct nemesis_fault {
	size_t kind; /* index into nm->kinds */
	size_t node; /* index into nodes */
	int64_t at_ns;
	bool has_heal;
	int64_t heal_at_ns;
};

/* The faults of in's nemesis for seed, in time order; *out (caller frees) may be NULL when
 * n is 0. Errors (a list naming an unknown node, leader without one, minority of fewer than
 * 3 nodes, duration on a kind that does not heal) are located in the drill file. Pure. */
int nemesis_plan(const struct nemesis_plan_input *in, uint64_t seed, struct nemesis_fault **out,
		 size_t *n, struct cd_error *err);

struct drill;
struct scenario_kinds;
/* Plans d->sc->nemesis with d->seed and adds its faults to d->sc (scenario_add_fault);
 * nothing to do without a nemesis. Needs d's targets loaded (for the leader). */
int nemesis_resolve(struct drill *d, const struct scenario_kinds *kinds, struct cd_error *err);
/* The name of the node that leads in d: the first whose role param is primary or leader,
 * when its target has a role param; else the first node the workload writes to. */
const char *nemesis_leader(const struct drill *d);

#endif
