/* The `nemesis:` block of a drill file: a randomized fault schedule, as written. The
 * parser checks its shape, types and units; harness/drill/nemesis.h resolves it from the
 * drill's seed into concrete faults before the drill starts.
 *
 *   nemesis:
 *     from: 1s              # first fault no earlier (default 0)
 *     until: 20s            # no fault after it; and/or count: N (at most N faults)
 *     every: 2s..4s         # time from one fault to the next, drawn per fault
 *     nodes: any            # any | leader | minority | [n1, n2]: the default of each kind
 *     faults:               # the kinds drawn from, each with its body as in faults:
 *       - kill: {}          #   (without node:, the nemesis picks it)
 *         recovery: [{restart: "{node}"}, {wait: {probe: ready, node: "{node}"}}]
 *       - stop: {}
 *         duration: 500ms..2s   # healed after it (kinds that heal)
 *         weight: 2             # drawn twice as often (default 1)
 *         nodes: leader
 */
#ifndef CHAOSDRILL_SCENARIOS_NEMESIS_H
#define CHAOSDRILL_SCENARIOS_NEMESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/error.h"

/* MIN..MAX (or one duration: MIN == MAX). */
struct nemesis_range {
	int64_t min_ns, max_ns;
};

enum nemesis_nodes_kind {
	NEMESIS_NODES_ANY,	/* any node of the drill */
	NEMESIS_NODES_LEADER,	/* the leader, resolved at plan time */
	NEMESIS_NODES_MINORITY, /* any node, never more than a minority faulted at once */
	NEMESIS_NODES_LIST,	/* the nodes named */
};

struct nemesis_nodes {
	enum nemesis_nodes_kind kind;
	const char **names; /* LIST: owned array of borrowed names */
	size_t n_names;
	const struct cfg_node *at; /* where it was written (NULL: the default) */
};

/* One kind the nemesis draws from. */
struct nemesis_kind {
	const char *kind;		 /* a fault kind */
	const struct cfg_node *body;	 /* its body (a map, or an empty scalar), borrowed */
	const struct cfg_node *recovery; /* its own recovery steps ("{node}" stands for the
					  * node drawn), or NULL; borrowed */
	bool has_duration;
	struct nemesis_range duration;
	unsigned weight;
	bool has_nodes;
	struct nemesis_nodes nodes;
	const struct cfg_node *at; /* the kind's key */
};

#define NEMESIS_MAX_FAULTS 256

struct nemesis {
	struct nemesis_kind *kinds; /* owned */
	size_t n_kinds;
	struct nemesis_nodes nodes;
	struct nemesis_range every;
	int64_t from_ns;
	bool has_until, has_count;
	int64_t until_ns;
	uint64_t count;
	const struct cfg_node *at; /* the nemesis: value */
};

/* Parses v (the value of `nemesis:`); fault_kinds is NULL-terminated. *out is owned by the
 * caller (nemesis_free); on failure nothing is left allocated. */
int nemesis_parse(const struct cfg_node *v, const char *const *fault_kinds, struct nemesis **out,
		  struct cd_error *err);
void nemesis_free(struct nemesis *nm);
/* "2s..5s" or "2s"; MIN <= MAX. */
int nemesis_parse_range(const struct cfg_node *v, struct nemesis_range *out, struct cd_error *err);

#endif
