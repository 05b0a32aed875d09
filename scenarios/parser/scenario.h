/* scenarios/parser/: the parser of drill files (the .yaml files of scenarios/): yaml_load.c (the
 * only libyaml user) turns YAML into a located tree (common/cfg.h), scenario.c into the
 * structs below.
 *
 * A drill file as plain structs (shared/DESIGN.md §4). The parser checks shape, types
 * and units of every key it owns, and keeps the bodies of faults and recovery steps as
 * located trees: their kinds are plug-ins (faults/, harness/) that check their own
 * arguments, so kinds known to the caller are passed in. No process or kernel calls.
 *
 * Usage:
 *   struct scenario_kinds kinds = { .faults = fault_names, .steps = step_names };
 *   struct scenario *sc;
 *   r = scenario_load(path, &kinds, &sc, &err);   // err: file:line:col: message
 *   ... sc->nodes[i].name, sc->faults[j].kind, sc->faults[j].args ...
 *   scenario_free(sc);
 */
#ifndef CHAOSDRILL_SCENARIOS_SCENARIO_H
#define CHAOSDRILL_SCENARIOS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/error.h"
#include "scenarios/parser/nemesis.h"

#define SCENARIO_MAX_NODES 256
#define SCENARIO_NODE_NAME_MAX 32

/* Where a value was written, for errors found after parsing (unknown target, ...). */
struct scenario_pos {
	int line, col;
};

/* key=value, from `params:` (strings borrowed from the tree) or --param (owned by the
 * scenario's overrides). */
struct scenario_param {
	const char *key;
	const char *value;
	struct scenario_pos pos;     /* of the value; 0:0 for --param */
	struct scenario_pos key_pos; /* of the key */
	const char *target;	     /* --param TARGET.KEY=VALUE: only that target's nodes
				      * (owned), else NULL */
};

enum scenario_disk_fs { SCENARIO_DISK_NONE, SCENARIO_DISK_TMPFS, SCENARIO_DISK_EXT4 };

/* disk: {size: 64MiB, fs: tmpfs|ext4}: the node's data dir on a file system of its own
 * with that much room (so disk-full can fill it for real). */
struct scenario_disk {
	enum scenario_disk_fs fs; /* NONE: the data dir is a plain directory of the run dir */
	uint64_t size;		  /* bytes */
	struct scenario_pos pos;
};

struct scenario_node {
	char name[SCENARIO_NODE_NAME_MAX];
	struct scenario_disk disk;     /* the node's own `disk:`, else fs NONE */
	struct scenario_param *params; /* per-node overrides of the scenario's params */
	size_t n_params;
	struct scenario_pos pos;
	size_t target; /* its target: sc->targets[target] */
};

/* NONE (`workload: none`): no clients, for targets without a driver; the drill measures
 * what its faults, steps and checkers show, never RPO or integrity. */
enum scenario_workload_kind { SCENARIO_WORKLOAD_SET, SCENARIO_WORKLOAD_NONE };

#define SCENARIO_WORKLOAD_NODES_MAX 64

struct scenario_workload {
	enum scenario_workload_kind kind;
	double rate; /* operations per second, all clients together */
	unsigned clients;
	int64_t timeout_ns;  /* per operation: past it, the outcome is unknown */
	int64_t tail_ns;     /* how long the workload goes on after recovery */
	int64_t warmup_ns;   /* steady state before time 0 of the fault schedule */
	uint64_t value_size; /* bytes per written value */
	const char *node;    /* node the clients write to (default: the first); node: [a, b]
			      * gives the first of the list, the final read's node */
	const char **nodes;  /* owned array of borrowed names: client i writes to nodes[i %
			      * n_nodes]; nodes[0] == node */
	size_t n_nodes;
	struct scenario_pos pos;
};

struct scenario_fault {
	const char *kind; /* one of scenario_kinds.faults */
	const char *name; /* optional label, or NULL */
	int64_t at_ns;	  /* after steady state */
	bool has_heal;
	bool heal_is_after; /* heal `after` the injection, else `at` an absolute time */
	int64_t heal_ns;
	const struct cfg_node *args; /* the kind's body (borrowed from sc->tree) */
	const struct cfg_node *item; /* the whole list item (at:, heal:, recovery:, ...) */
	bool from_nemesis;	     /* resolved from `nemesis:` (scenario_add_fault) */
	struct scenario_pos pos;
};

/* scenario_step.fault of the drill's `actions:`: steps at their own time, independent of
 * faults (`actions: [{at: 2s, exec: {node: n1, argv: [...]}}]`: a backup while the
 * workload runs). */
#define SCENARIO_ACTION (-2)

struct scenario_step {
	int fault;		     /* the fault whose own recovery this is, or -1: the drill's,
				      * or SCENARIO_ACTION */
	int64_t at_ns;		     /* an action's time (after steady state) */
	const char *kind;	     /* one of scenario_kinds.steps */
	const char *name;	     /* optional label, or NULL */
	const struct cfg_node *args; /* borrowed from sc->tree */
	struct scenario_pos pos;
};

enum scenario_rpo { SCENARIO_RPO_UNSET, SCENARIO_RPO_COUNT, SCENARIO_RPO_WINDOW };

struct scenario_expect {
	bool has_rto;
	int64_t rto_ns;
	enum scenario_rpo rpo_kind;
	uint64_t rpo_count;    /* lost acknowledged writes allowed */
	int64_t rpo_window_ns; /* or: lost writes must lie within this window before the fault */
	bool has_integrity;
	bool integrity;
	unsigned rto_ops; /* N consecutive on-time successes that end the outage (default 3) */
	int64_t slow_ns;  /* latency past which an acknowledged write is a casualty; 0:
			       * derived from the steady state (harness/verify.h) */
};

/* One target of the drill and what belongs to it: `targets: [{target: kvlog, nodes: [db1],
 * params:, disk:, workload:, expect:}, ...]`. A drill with the single form (top-level
 * target:, nodes:, params:, workload:) has one, whose fields are the top-level ones. */
struct scenario_target {
	const char *name;
	struct scenario_pos pos;    /* of its target: value */
	size_t first_node, n_nodes; /* its nodes: sc->nodes[first_node .. + n_nodes) */
	struct scenario_param *params;
	size_t n_params;
	struct scenario_disk disk;	   /* for its nodes without their own */
	struct scenario_workload workload; /* its own clients, ledger, final read */
	struct scenario_expect expect;	   /* the top-level expect:, overridden by its own */
};

#define SCENARIO_MAX_TARGETS 16

struct scenario {
	const char *file;
	const char *drill;
	const char *description;
	const char *runbook;
	bool has_seed;
	uint64_t seed;
	const char *target;
	struct scenario_node *nodes;
	size_t n_nodes;
	struct scenario_param *params;
	size_t n_params;
	struct scenario_disk disk;	  /* the drill's `disk:`, for every node without its own */
	struct scenario_param *overrides; /* --param: win over scenario and node params */
	size_t n_overrides;
	struct scenario_workload workload;
	struct scenario_fault *faults;
	size_t n_faults;
	struct scenario_step *steps; /* every fault's own recovery steps, then the drill's,
				      * then its actions */
	size_t n_steps, cap_steps;
	bool has_recovery_at;
	int64_t recovery_at_ns;
	struct scenario_expect expect;
	/* every target (the single form: one, the top-level fields); multi: the drill has a
	 * `targets:` list (then target is every name joined by ", ", and workload the
	 * defaults: read each target's) */
	struct scenario_target *targets;
	size_t n_targets;
	bool multi;
	char *target_names; /* owned, multi only */
	struct scenario_pos drill_pos, target_pos, seed_pos, nodes_pos, params_pos;
	struct cfg_node *tree; /* owned: every borrowed string above points into it */
	struct nemesis *nemesis; /* `nemesis:`, owned, or NULL */
	struct cfg_node **added; /* owned: the trees of scenario_add_fault */
	size_t n_added;
};

struct scenario_kinds {
	const char *const *faults; /* NULL-terminated */
	const char *const *steps;  /* NULL-terminated */
};

int scenario_load(const char *path, const struct scenario_kinds *kinds, struct scenario **out,
		  struct cd_error *err);
/* Same, from a tree already loaded (takes ownership of tree, also on failure). */
int scenario_from_tree(struct cfg_node *tree, const struct scenario_kinds *kinds,
		       struct scenario **out, struct cd_error *err);
void scenario_free(struct scenario *sc);
/* Appends one fault, given as a `faults:` list item would be (at:, heal:, name:, recovery:
 * and its kind), as the nemesis resolves them (harness/drill/nemesis.h). Takes ownership of
 * item, also on failure. Its own recovery steps go after the other faults' own. */
int scenario_add_fault(struct scenario *sc, struct cfg_node *item,
		       const struct scenario_kinds *kinds, struct cd_error *err);

/* The node called name, or NULL. */
const struct scenario_node *scenario_node(const struct scenario *sc, const char *name);
/* Overrides a param for every node, as --param KEY=VALUE does (copies both strings); a key
 * TARGET.KEY where TARGET is one of the drill's targets overrides it for that target's
 * nodes only. */
int scenario_override_param(struct scenario *sc, const char *key, const char *value);
/* A param's value for a node (node may be NULL): an override, else the node's own, else
 * its target's (targets:), else the scenario's, else NULL. */
const char *scenario_param(const struct scenario *sc, const struct scenario_node *node,
			   const char *key);
/* The disk a node's data dir lives on: its own `disk:`, else the drill's (fs NONE: none). */
const struct scenario_disk *scenario_node_disk(const struct scenario *sc,
					       const struct scenario_node *node);
/* The target a node belongs to. */
const struct scenario_target *scenario_node_target(const struct scenario *sc,
						   const struct scenario_node *node);
/* The target called name, or NULL. */
const struct scenario_target *scenario_target(const struct scenario *sc, const char *name);
/* True if name is a valid node name: [A-Za-z0-9][A-Za-z0-9_-]*, at most 31 chars. */
bool scenario_valid_node_name(const char *name);

#endif
