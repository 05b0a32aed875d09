/* The drop map of a partition: shapes, scenario forms and the route plan (map.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "faults/net/map.h"
#include "faults/net/nft.h"

static const char *const shape_names[] = { "halves", "majority-minority", "bridge", "ring", NULL };

void net_map_init(struct net_map *m, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->n = n < NET_MAP_MAX ? n : NET_MAP_MAX;
}

void net_map_drop(struct net_map *m, size_t to, size_t from)
{
	if (to < m->n && from < m->n && to != from)
		m->drop[to] |= UINT64_C(1) << from;
}

void net_map_split(struct net_map *m, const int *group)
{
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->n; j++)
			if (group[i] >= 0 && group[j] >= 0 && group[i] != group[j])
				net_map_drop(m, i, j);
}

size_t net_shape_min(enum net_shape shape)
{
	switch (shape) {
	case NET_SHAPE_HALVES:
		return 2;
	case NET_SHAPE_MAJORITY_MINORITY:
	case NET_SHAPE_BRIDGE:
		return 3;
	case NET_SHAPE_RING:
		return 4; /* with 3, every node's neighbours are everyone */
	}
	return SIZE_MAX;
}

/* Each node sees the nodes within ring distance d, d the smallest giving a majority
 * (2d + 1 >= n/2 + 1): every node sees a majority, and no two see the same one. */
static void ring(struct net_map *m)
{
	size_t n = m->n, d = (n / 2 + 1) / 2;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			size_t dist = i > j ? i - j : j - i;

			if (n - dist < dist)
				dist = n - dist;
			if (dist > d)
				net_map_drop(m, i, j);
		}
	}
}

int net_map_shape(struct net_map *m, enum net_shape shape)
{
	size_t n = m->n, h = n / 2;
	int group[NET_MAP_MAX];

	if (n < net_shape_min(shape))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		switch (shape) {
		case NET_SHAPE_HALVES:
			group[i] = i >= h;
			break;
		case NET_SHAPE_MAJORITY_MINORITY:
			group[i] = i >= h + 1;
			break;
		case NET_SHAPE_BRIDGE:
			group[i] = i < h ? 0 : i == h ? -1 : 1;
			break;
		case NET_SHAPE_RING:
			ring(m);
			return 0;
		}
	}
	net_map_split(m, group);
	return 0;
}

size_t net_map_count(const struct net_map *m)
{
	size_t c = 0;

	for (size_t i = 0; i < m->n; i++)
		c += (size_t)__builtin_popcountll(m->drop[i]);
	return c;
}

size_t net_map_routes(const struct net_map *m, struct net_route_req *out, size_t max)
{
	size_t c = 0;

	for (size_t on = 0; on < m->n; on++) {
		for (size_t to = 0; to < m->n; to++) {
			if (!net_map_drops(m, to, on))
				continue;
			if (c < max)
				out[c] = (struct net_route_req){ .on = (uint16_t)on,
								 .to = (uint16_t)to };
			c++;
		}
	}
	return c;
}

void net_map_describe(const struct net_map *m, const char *const *names, struct strbuf *out)
{
	const char *sep = "";

	for (size_t i = 0; i < m->n; i++) {
		if (!m->drop[i])
			continue;
		strbuf_appendf(out, "%s%s drops", sep, names[i]);
		for (size_t j = 0; j < m->n; j++)
			if (net_map_drops(m, i, j))
				strbuf_appendf(out, " %s", names[j]);
		sep = "; ";
	}
}

/* ---- scenario forms ---- */

static uint64_t all_nodes(size_t n)
{
	return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}

static int add_node(const struct cfg_node *v, const struct fault_parse_ctx *ctx, uint64_t *set,
		    struct cd_error *err)
{
	const char *name;
	int r = cfg_string(v, &name, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_nodes; i++) {
		if (strcmp(ctx->nodes[i], name) != 0)
			continue;
		if ((*set >> i) & 1)
			return cfg_error(v, err, "partition: node '%s' is given twice", name);
		*set |= UINT64_C(1) << i;
		return 0;
	}
	return cfg_error(v, err, "partition: no node named '%s' in this drill", name);
}

/* A node or a list of nodes, as a bit set. */
static int node_set(const struct cfg_node *v, const struct fault_parse_ctx *ctx, uint64_t *set,
		    struct cd_error *err)
{
	int r;

	*set = 0;
	if (v->type == CFG_SCALAR)
		return add_node(v, ctx, set, err);
	if ((r = cfg_expect(v, CFG_SEQ, "a node or a list of nodes", err)) < 0)
		return r;
	if (v->n == 0)
		return cfg_error(v, err, "partition: an empty list of nodes");
	for (size_t i = 0; i < v->n; i++)
		if ((r = add_node(v->items[i], ctx, set, err)) < 0)
			return r;
	return 0;
}

static int parse_groups(const struct cfg_node *v, const struct fault_parse_ctx *ctx,
			struct net_map *m, struct cd_error *err)
{
	int group[NET_MAP_MAX], r;
	uint64_t seen = 0, set;

	if ((r = cfg_expect(v, CFG_SEQ, "groups (a list of lists of nodes)", err)) < 0)
		return r;
	if (v->n < 2)
		return cfg_error(v, err, "partition: groups needs at least two groups");
	for (size_t g = 0; g < v->n; g++) {
		if ((r = node_set(v->items[g], ctx, &set, err)) < 0)
			return r;
		if (set & seen)
			return cfg_error(v->items[g], err, "partition: node '%s' is in two groups",
					 ctx->nodes[__builtin_ctzll(set & seen)]);
		seen |= set;
		for (size_t i = 0; i < m->n; i++)
			if ((set >> i) & 1)
				group[i] = (int)g;
	}
	if (seen != all_nodes(m->n))
		return cfg_error(v, err,
				 "partition: node '%s' is in no group; list every node (or use "
				 "isolate, or from/to)",
				 ctx->nodes[__builtin_ctzll(~seen & all_nodes(m->n))]);
	net_map_split(m, group);
	return 0;
}

static int isolate(const struct cfg_node *v, const struct fault_parse_ctx *ctx, struct net_map *m,
		   struct cd_error *err)
{
	int group[NET_MAP_MAX], r;
	uint64_t set;

	if ((r = node_set(v, ctx, &set, err)) < 0)
		return r;
	for (size_t i = 0; i < m->n; i++)
		group[i] = (set >> i) & 1 ? (int)i + 1 : 0;
	net_map_split(m, group);
	return 0;
}

static int parse_one_way(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			 struct net_map *m, struct cd_error *err)
{
	const struct cfg_node *from = cfg_get(args, "from"), *to = cfg_get(args, "to");
	uint64_t fs, ts;
	int r;

	if (!from || !to)
		return cfg_error(args, err,
				 "partition: one-way needs both from and to "
				 "({from: n1, to: [n2]})");
	if ((r = node_set(from, ctx, &fs, err)) < 0 || (r = node_set(to, ctx, &ts, err)) < 0)
		return r;
	if (fs & ts)
		return cfg_error(to, err, "partition: node '%s' is in both from and to",
				 ctx->nodes[__builtin_ctzll(fs & ts)]);
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->n; j++)
			if (((ts >> i) & 1) && ((fs >> j) & 1))
				net_map_drop(m, i, j);
	return 0;
}

static int parse_shape(const struct cfg_node *v, struct net_map *m, struct cd_error *err)
{
	size_t idx;
	int r = cfg_enum(v, shape_names, &idx, err);

	if (r < 0)
		return r;
	if (net_map_shape(m, (enum net_shape)idx) < 0)
		return cfg_error(v, err,
				 "partition: shape %s needs at least %zu nodes, the drill "
				 "has %zu",
				 shape_names[idx], net_shape_min((enum net_shape)idx), m->n);
	return 0;
}

static int parse_form(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		      struct net_map *m, struct cd_error *err)
{
	static const char *const keys[] = { "groups", "isolate", "shape", "from", "to", NULL };
	const struct cfg_node *v;
	int r, forms;

	if (args->type == CFG_SCALAR) /* partition: halves */
		return parse_shape(args, m, err);
	if ((r = cfg_expect(args, CFG_MAP, "partition", err)) < 0 ||
	    (r = cfg_check_keys(args, keys, "partition", err)) < 0)
		return r;
	forms = !!cfg_get(args, "groups") + !!cfg_get(args, "isolate") + !!cfg_get(args, "shape") +
		!!(cfg_get(args, "from") || cfg_get(args, "to"));
	if (forms != 1)
		return cfg_error(args, err,
				 "partition takes exactly one of groups, isolate, "
				 "shape, or from/to");
	if ((v = cfg_get(args, "groups")))
		return parse_groups(v, ctx, m, err);
	if ((v = cfg_get(args, "isolate")))
		return isolate(v, ctx, m, err);
	if ((v = cfg_get(args, "shape")))
		return parse_shape(v, m, err);
	return parse_one_way(args, ctx, m, err);
}

/* Common to every form: a fault with no effect is an error of the drill (DESIGN §5). */
static int parse_with(int (*form)(const struct cfg_node *, const struct fault_parse_ctx *,
				  struct net_map *, struct cd_error *),
		      const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		      struct net_map *m, struct cd_error *err)
{
	int r;

	if (ctx->n_nodes > NET_MAP_MAX)
		return cfg_error(args, err, "partition: at most %d nodes, the drill has %zu",
				 NET_MAP_MAX, ctx->n_nodes);
	net_map_init(m, ctx->n_nodes);
	if ((r = form(args, ctx, m, err)) < 0)
		return r;
	if (net_map_count(m) == 0)
		return cfg_error(args, err,
				 "partition drops nothing: every node still reaches "
				 "every other");
	return 0;
}

int net_map_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, struct net_map *m,
		  struct cd_error *err)
{
	return parse_with(parse_form, args, ctx, m, err);
}

int net_map_parse_isolate(const struct cfg_node *v, const struct fault_parse_ctx *ctx,
			  struct net_map *m, struct cd_error *err)
{
	return parse_with(isolate, v, ctx, m, err);
}

int net_parse_percent(const struct cfg_node *v, const char *kind, const char *what, bool allow_zero,
		      uint32_t *per10k, struct cd_error *err)
{
	const char *s;
	char *end;
	double p;
	int r = cfg_string(v, &s, err);

	if (r < 0)
		return r;
	errno = 0;
	p = strtod(s, &end);
	if (*end == '%')
		end++;
	if (end == s || *end || errno || !((allow_zero ? p >= 0 : p > 0) && p <= 100) ||
	    fabs(p * 100 - round(p * 100)) > 1e-6)
		return cfg_error(
			v, err,
			"%s: bad %s '%s': expected a number %s and up to 100, like 30 or 2.5", kind,
			what, s, allow_zero ? "from 0" : "above 0");
	*per10k = (uint32_t)round(p * 100);
	return 0;
}

int net_parse_from(const struct cfg_node *v, const struct fault_parse_ctx *ctx, const char *kind,
		   const char *verb, const char *receiver, const char **from, size_t max, size_t *n,
		   struct cd_error *err)
{
	bool list = v->type == CFG_SEQ;
	const struct cfg_node *const *items = list ? (const struct cfg_node *const *)v->items : &v;
	size_t count = list ? v->n : 1;
	int r;

	if (v->type == CFG_MAP || count == 0 || count > max)
		return cfg_error(v, err, "%s: from takes a node or a list of nodes", kind);
	for (size_t i = 0; i < count; i++) {
		if ((r = fault_parse_node(items[i], ctx, kind, &from[i], err)) < 0)
			return r;
		if (from[i] == receiver)
			return cfg_error(items[i], err, "%s: %s cannot %s its own packets", kind,
					 receiver, verb);
	}
	*n = count;
	return 0;
}

int net_send_nft(const struct fault_env *env, const char *node, const char *kind, const char *lacks,
		 const struct net_nft_batch *b, struct strbuf *what)
{
	_cleanup_close_ int fd = env->node_socket(env->harness, node, AF_NETLINK,
						  SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	int r = failpoint("net.nft", -EOPNOTSUPP);

	if (r >= 0)
		r = net_nft_send(fd, b);
	if (r >= 0)
		return r;
	strbuf_appendf(what, "nftables in %s: %s", node, strerror(-r));
	switch (r) {
	case -EPROTONOSUPPORT:
		strbuf_appendf(what, " (the kernel has no nfnetlink: nf_tables is needed for %s)",
			       kind);
		break;
	case -ENOENT:
	case -EOPNOTSUPP:
		strbuf_appendf(what, " (the kernel lacks %s)", lacks);
		break;
	case -EEXIST:
		strbuf_appendf(what, " (a %s fault is already in force on this node)", kind);
		return r;
	default:
		return r;
	}
	fault_unsupported(env, what->buf);
	return r;
}
