/* faults/net/: network faults, made inside the nodes' own network namespaces: partition
 * and isolate as unreachable routes (nl.c, the family's libnl file), loss as nftables
 * numgen rules (nft.c, its libnftnl file), delay, duplicate, reorder and bandwidth as an
 * NFQUEUE rule feeding a delay queue (delay_queue.c over nfq.c) that the runner's event
 * loop runs as the node's attachment (delay_attach.c).
 * This header holds what the family shares: the drop map and the helpers below.
 *
 * The drop map of a network partition: a directed "who drops traffic from whom" relation
 * between the drill's nodes, so one primitive expresses every shape (groups, isolate,
 * one-way, halves, majority-minority, bridge, ring). Pure: built from the scenario at
 * validate time, turned into a plan of routes, checked by unit tests without privileges.
 *
 * Usage:
 *   struct net_map m;
 *   net_map_parse(args, &pctx, &m, &err);             // any `partition:` form
 *   n = net_map_routes(&m, NULL, 0);                  // how many routes the plan has
 *   net_map_routes(&m, reqs, n);                      // the plan, grouped by node
 *   net_map_describe(&m, names, &sb);                 // "n1 drops n2 n3; n2 drops n1; ..."
 */
#ifndef CHAOSDRILL_FAULTS_NET_MAP_H
#define CHAOSDRILL_FAULTS_NET_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "faults/fault.h"

/* One bit per sender: a partition spans at most 64 nodes. */
#define NET_MAP_MAX 64

struct net_map {
	size_t n;		    /* nodes, in the drill's order */
	uint64_t drop[NET_MAP_MAX]; /* bit j of drop[i]: node i drops what node j sends */
};

enum net_shape {
	NET_SHAPE_HALVES,	     /* first n/2 nodes | the rest */
	NET_SHAPE_MAJORITY_MINORITY, /* first n/2+1 nodes | the rest */
	NET_SHAPE_BRIDGE,	     /* halves, but the first node of the second half sees both */
	NET_SHAPE_RING,		     /* each node sees its ring neighbours: a majority, never
				      * the same majority as another node */
};

/* An empty map of n nodes (n <= NET_MAP_MAX). */
void net_map_init(struct net_map *m, size_t n);
static inline bool net_map_drops(const struct net_map *m, size_t to, size_t from)
{
	return (m->drop[to] >> from) & 1;
}
/* Node `to` drops what `from` sends. */
void net_map_drop(struct net_map *m, size_t to, size_t from);
/* group[i] is node i's group, -1 for a node that sees every group: nodes of different
 * groups drop each other, both ways. */
void net_map_split(struct net_map *m, const int *group);
/* A named shape over all m->n nodes; -EINVAL if it needs more nodes (net_shape_min). */
int net_map_shape(struct net_map *m, enum net_shape shape);
size_t net_shape_min(enum net_shape shape);
/* Directed pairs dropped. */
size_t net_map_count(const struct net_map *m);

/* Argument parsers the packet faults (loss, delay) share; kind names the fault in errors.
 * A node of the drill: fault_parse_node (faults/fault.h).
 *
 * "30", "2.5" or "12.25%": a percent in steps of 0.01, at most 100, above 0 unless
 * allow_zero; what names it in errors ("loss: bad percent"). */
int net_parse_percent(const struct cfg_node *v, const char *kind, const char *what, bool allow_zero,
		      uint32_t *per10k, struct cd_error *err);
/* from: a node or a list of at most max nodes, none of them the receiving node (verb says
 * what it would do to its own packets: "lose", "delay"). */
int net_parse_from(const struct cfg_node *v, const struct fault_parse_ctx *ctx, const char *kind,
		   const char *verb, const char *receiver, const char **from, size_t max, size_t *n,
		   struct cd_error *err);

struct net_nft_batch;
/* Sends b into the node's nf_tables (a netlink socket made there through env). On failure
 * what says why, in words of the fault kind; when the kernel refused for want of a
 * feature (no nfnetlink, or lacks: what the rule needs, like "nf_tables or its numgen
 * expression"), env->unsupported hears it too: the drill ends with exit 3. */
int net_send_nft(const struct fault_env *env, const char *node, const char *kind, const char *lacks,
		 const struct net_nft_batch *b, struct strbuf *what);

/* Reads the args of `partition:` (every form; see partition.c) into m. Node names are
 * checked against ctx; errors are located at the offending node. */
int net_map_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, struct net_map *m,
		  struct cd_error *err);
/* Reads `isolate: n1` or `isolate: [n1, n2]`: each listed node alone, the rest together. */
int net_map_parse_isolate(const struct cfg_node *v, const struct fault_parse_ctx *ctx,
			  struct net_map *m, struct cd_error *err);

/* One step of the plan: in node `on`'s network namespace, a drop route for the address of
 * node `to` (so `to` never receives what `on` sends). */
struct net_route_req {
	uint16_t on, to;
};
/* Writes up to max requests (ordered by `on`, then `to`) and returns how many the map
 * needs in all. */
size_t net_map_routes(const struct net_map *m, struct net_route_req *out, size_t max);
/* "n1 drops n2 n3; n2 drops n1": receivers in order, each with the senders it drops. */
void net_map_describe(const struct net_map *m, const char *const *names, struct strbuf *out);

#endif
