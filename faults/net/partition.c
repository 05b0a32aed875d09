/* Faults `partition:` and `isolate:`: a directed drop map (map.h) applied as routes in
 * the senders' network namespaces, healed by deleting exactly those routes.
 *
 * Scenario forms (node names are checked against the drill's):
 *   partition: {groups: [[n1], [n2, n3]]}    nodes of different groups drop each other
 *   partition: {isolate: n1}                 also a list; `isolate: n1` is the same fault
 *   partition: {from: n1, to: [n2]}          one-way: n2 never receives what n1 sends
 *   partition: halves | majority-minority | bridge | ring     (or {shape: NAME})
 *   isolate: leader (or primary; also partition: {isolate: leader})   the node whose
 *     leader probe (target.yaml probe: leader:) passes at the moment of injection, unless
 *     a node of the drill has that name
 *
 * Mechanism, measured (tests/integration/netfaults, 2-core VM, kernel 6.18): an
 * `unreachable` /32 route for the receiver's address in the sender's main table, added over
 * rtnetlink from inside the sender's namespace. Why routes rather than nftables sets:
 *  - libnl-route is already the lab's library and every kernel has the IPv4 FIB; nftables
 *    needs nf_tables (and libnftnl) which some machines lack;
 *  - a route takes 25-40 us to add: a 5-node ring (10 routes) is in force in 0.26-0.37 ms, the
 *    16 routes of three groups in 0.4-0.45 ms, and heal is faster still;
 *  - an established TCP connection is not reset: its segments fail the route lookup and
 *    TCP retransmits until heal, then carries on (the integration test checks this);
 *  - heal is exact: routes are added with NLM_F_EXCL (never replacing one) under protocol
 *    NET_NL_PROTO and deleted by their full key, so the table is as it was.
 * The cost: the sender's own connect()/send() fail at once with EHOSTUNREACH instead of
 * timing out (unreachable rather than blackhole, whose EINVAL would puzzle a target's
 * logs); the receiver's side sees silence, as in a real partition. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "common/cleanup.h"
#include "faults/fault.h"
#include "faults/net/map.h"
#include "faults/net/nl.h"

struct partition_state {
	struct net_map map;
	char *names[NET_MAP_MAX]; /* copies of the drill's node names */
	struct net_route_req *plan;
	size_t n_plan;
	size_t n_added; /* plan[0..n_added) is in force */
	uint32_t addr[NET_MAP_MAX];
	const char *single; /* the isolated node, for fault_ops.node; NULL if several */
	const char *select; /* "leader" or "primary": the map is made at injection, or NULL */
	bool struck;	    /* its last injection cut the links (replay's record) */
};

static void partition_free(void *state)
{
	struct partition_state *st = state;

	if (!st)
		return;
	for (size_t i = 0; i < NET_MAP_MAX; i++)
		free(st->names[i]);
	free(st->plan);
	free(st);
}

/* The plan of routes for st->map, and the single isolated node if there is one. */
static int build_plan(struct partition_state *st)
{
	uint64_t all = st->map.n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << st->map.n) - 1;
	size_t receivers = 0, who = 0;

	free(st->plan);
	st->n_plan = net_map_routes(&st->map, NULL, 0);
	if (!(st->plan = calloc(st->n_plan ? st->n_plan : 1, sizeof(*st->plan))))
		return -ENOMEM;
	net_map_routes(&st->map, st->plan, st->n_plan);
	/* One node cut from all others (isolate: n1) names that node in the timeline. */
	for (size_t i = 0; i < st->map.n; i++)
		if (st->map.drop[i] == (all & ~(UINT64_C(1) << i)))
			receivers++, who = i;
	st->single = receivers == 1 ? st->names[who] : NULL;
	return 0;
}

static int finish_parse(struct partition_state *st, const struct fault_parse_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_nodes && i < NET_MAP_MAX; i++)
		if (!(st->names[i] = strdup(ctx->nodes[i])))
			return -ENOMEM;
	return st->select ? 0 : build_plan(st);
}

/* `leader` or `primary` as the node to isolate, when no node has that name; else NULL. */
static const char *selector(const struct cfg_node *args, bool isolate,
			    const struct fault_parse_ctx *ctx)
{
	const struct cfg_node *v = isolate		 ? args :
				   args->type == CFG_MAP ? cfg_get(args, "isolate") :
							   NULL;

	if (!v || v->type != CFG_SCALAR ||
	    (strcmp(v->scalar, "leader") && strcmp(v->scalar, "primary")))
		return NULL;
	for (size_t i = 0; i < ctx->n_nodes; i++)
		if (strcmp(ctx->nodes[i], v->scalar) == 0)
			return NULL;
	if (!isolate && args->n != 1)
		return NULL; /* other keys beside: the map parser says what is wrong */
	return strcmp(v->scalar, "leader") == 0 ? "leader" : "primary";
}

static int parse_as(bool isolate, const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		    void **state, struct cd_error *err)
{
	struct partition_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	if (ctx->n_nodes > NET_MAP_MAX) {
		free(st);
		return cfg_error(args, err, "a partition spans at most %d nodes", NET_MAP_MAX);
	}
	st->select = selector(args, isolate, ctx);
	if (st->select) {
		net_map_init(&st->map, ctx->n_nodes);
		r = ctx->n_nodes < 2 ?
			    cfg_error(args, err, "isolate %s: the drill needs 2 nodes or more",
				      st->select) :
			    0;
	} else {
		r = isolate ? net_map_parse_isolate(args, ctx, &st->map, err) :
			      net_map_parse(args, ctx, &st->map, err);
	}
	if (r >= 0)
		r = finish_parse(st, ctx);
	if (r < 0) {
		partition_free(st);
		return r;
	}
	*state = st;
	return 0;
}

static int partition_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			   void **state, struct cd_error *err)
{
	return parse_as(false, args, ctx, state, err);
}

static int isolate_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			 void **state, struct cd_error *err)
{
	return parse_as(true, args, ctx, state, err);
}

static const char *partition_node(const void *state)
{
	return ((const struct partition_state *)state)->single;
}

static int open_in(const struct partition_state *st, const struct fault_env *env, size_t node,
		   struct net_nl **nl)
{
	return net_nl_open(env->node_socket(env->harness, st->names[node], AF_NETLINK,
					    SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
			   nl);
}

/* Deletes plan[0..count), one socket per sender; goes on past errors, returns the first. */
static int remove_routes(struct partition_state *st, const struct fault_env *env, size_t count,
			 struct strbuf *what)
{
	int first = 0, r;

	for (size_t lo = 0, hi; lo < count; lo = hi) {
		_cleanup_net_nl_ struct net_nl *nl = NULL;
		size_t on = st->plan[lo].on;

		for (hi = lo; hi < count && st->plan[hi].on == on; hi++)
			;
		if ((r = open_in(st, env, on, &nl)) < 0) {
			strbuf_appendf(what, "; no netlink socket in %s: %s", st->names[on],
				       strerror(-r));
			first = first ? first : r;
			continue;
		}
		for (size_t i = lo; i < hi; i++) {
			if ((r = net_nl_drop_del(nl, st->addr[st->plan[i].to])) >= 0)
				continue;
			strbuf_appendf(what, "; deleting the route to %s in %s: %s",
				       st->names[st->plan[i].to], st->names[on], strerror(-r));
			first = first ? first : r;
		}
	}
	return first;
}

/* Adds the whole plan, or nothing: on failure what was added is taken back. */
static int add_routes(struct partition_state *st, const struct fault_env *env, struct strbuf *what)
{
	int r = 0;

	for (size_t lo = 0, hi; lo < st->n_plan && r >= 0; lo = hi) {
		_cleanup_net_nl_ struct net_nl *nl = NULL;
		size_t on = st->plan[lo].on;

		for (hi = lo; hi < st->n_plan && st->plan[hi].on == on; hi++)
			;
		if ((r = open_in(st, env, on, &nl)) < 0) {
			strbuf_appendf(what, "no netlink socket in %s: %s", st->names[on],
				       strerror(-r));
			break;
		}
		for (size_t i = lo; i < hi && r >= 0; i++) {
			r = net_nl_drop_add(nl, st->addr[st->plan[i].to]);
			if (r < 0)
				strbuf_appendf(what, "adding an unreachable route to %s in %s: %s",
					       st->names[st->plan[i].to], st->names[on],
					       strerror(-r));
			else
				st->n_added++;
		}
	}
	if (r < 0) {
		remove_routes(st, env, st->n_added, what);
		st->n_added = 0;
	}
	return r;
}

/* isolate: leader: asks the harness which node leads now, and cuts that one off. */
static int resolve(struct partition_state *st, const struct fault_env *env, struct strbuf *what)
{
	int group[NET_MAP_MAX] = { 0 };
	const char *who = NULL;
	size_t i;
	int r = env->node_select ? env->node_select(env->harness, st->select, &who) : -ENOTSUP;

	if (r < 0) {
		strbuf_appendf(
			what, "isolate %s: %s", st->select,
			r == -ENOTSUP ?
				"the target has no leader probe (probe: leader: in target.yaml)" :
			r == -ENOENT   ? "no running node's leader probe passed" :
			r == -ENOTUNIQ ? "more than one node's leader probe passed" :
					 strerror(-r));
		return r;
	}
	for (i = 0; i < st->map.n && strcmp(st->names[i], who); i++)
		;
	if (i == st->map.n)
		return -ENOENT;
	group[i] = 1;
	net_map_init(&st->map, st->map.n);
	net_map_split(&st->map, group);
	if ((r = build_plan(st)) < 0)
		return r;
	strbuf_appendf(what, "%s is %s (its leader probe passed); ", st->select, who);
	return 0;
}

static int partition_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct partition_state *st = state;
	int r;

	if (st->n_added)
		return -EALREADY;
	st->struck = false;
	if (st->select && (r = resolve(st, env, what)) < 0)
		return r;
	for (size_t i = 0; i < st->map.n; i++) {
		if ((r = env->node_addr(env->harness, st->names[i], &st->addr[i])) < 0) {
			strbuf_appendf(what, "no address for %s: %s", st->names[i], strerror(-r));
			return r;
		}
	}
	if ((r = add_routes(st, env, what)) < 0)
		return r;
	st->struck = true;
	strbuf_appendf(what, "partition (%zu unreachable routes in the senders' namespaces): ",
		       st->n_plan);
	net_map_describe(&st->map, (const char *const *)st->names, what);
	return 0;
}

static int partition_heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct partition_state *st = state;
	size_t n = st->n_added;
	int r;

	if (!n)
		return -EALREADY;
	strbuf_appendf(what, "healed: deleted the %zu routes", n);
	r = remove_routes(st, env, n, what);
	st->n_added = 0;
	return r;
}

/* Which links it cut (the file, or the leader probe for isolate: primary, decided):
 * each node and the nodes it no longer hears from. */
static void partition_seeded(const void *state, const struct fault_env *env,
			     struct strbuf *out)
{
	const struct partition_state *st = state;

	if (!st->struck)
		return;
	strbuf_appendf(out, "what=partition routes=%zu cut=", st->n_plan);
	for (size_t i = 0, first = 1; i < st->map.n; i++) {
		if (!st->map.drop[i])
			continue;
		strbuf_appendf(out, "%s%s<", first ? "" : ",", st->names[i]);
		first = 0;
		for (size_t j = 0, k = 0; j < st->map.n; j++)
			if (st->map.drop[i] & (UINT64_C(1) << j))
				strbuf_appendf(out, "%s%s", k++ ? "+" : "", st->names[j]);
	}
	strbuf_append(out, "\n");
}

const struct fault_ops fault_partition_ops = {
	.name = "partition",
	.summary = "drop traffic between nodes: groups, one-way from/to, isolate, or a shape "
		   "(halves, majority-minority, bridge, ring); heal restores the routes",
	.needs = "network namespaces, IPv4 routing (unreachable routes over rtnetlink)",
	.heals = true,
	.parse = partition_parse,
	.node = partition_node,
	.inject = partition_inject,
	.heal = partition_heal,
	.free = partition_free,
	.seeded = partition_seeded,
};

const struct fault_ops fault_isolate_ops = {
	.name = "isolate",
	.summary = "cut a node (or each of a list) off from every other node, both ways",
	.needs = "network namespaces, IPv4 routing (unreachable routes over rtnetlink)",
	.heals = true,
	.parse = isolate_parse,
	.node = partition_node,
	.inject = partition_inject,
	.heal = partition_heal,
	.free = partition_free,
	.seeded = partition_seeded,
};
