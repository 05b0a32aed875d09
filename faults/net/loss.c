/* Fault `loss: {node: n2, percent: 30, from: [n1]}`: drops that share of the packets
 * arriving at the node (from the listed nodes, or from anywhere but lo), on the receiver's
 * ingress, since loss on the sender's side is hidden by TCP (DESIGN §5). Heal deletes the
 * table, so the node's ruleset is as before.
 *
 * Why nftables `numgen random` and not netem: netem is a qdisc, so it acts on egress; on
 * the receiver's ingress it would need an ifb device and a redirect, and many kernels
 * (this project's CI included) have no netem at all. An input-hook rule needs only
 * nf_tables with numgen, and it draws per packet, which the measurement test checks
 * (1,000 probes within 5 points of the asked rate). */
#include <errno.h>
#include <linux/netlink.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "faults/fault.h"
#include "faults/net/nft.h"
#include "faults/net/map.h"

struct loss_state {
	const char *node;		    /* borrowed from ctx->nodes */
	const char *from[NET_NFT_MAX_FROM]; /* borrowed from ctx->nodes */
	size_t n_from;
	uint32_t per10k;
	bool in_force;
};

static int loss_parse_args(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			   struct loss_state *st, struct cd_error *err)
{
	static const char *const keys[] = { "node", "percent", "from", NULL };
	const struct cfg_node *v;
	int r;

	if ((r = cfg_expect(args, CFG_MAP, "loss ({node: n1, percent: 30})", err)) < 0 ||
	    (r = cfg_check_keys(args, keys, "loss", err)) < 0)
		return r;
	if (!(v = cfg_get(args, "node")))
		return cfg_error(args, err, "loss needs the receiving node (node: n1)");
	if ((r = fault_parse_node(v, ctx, "loss", &st->node, err)) < 0)
		return r;
	if (!(v = cfg_get(args, "percent")))
		return cfg_error(args, err, "loss needs a percent (percent: 30)");
	if ((r = net_parse_percent(v, "loss", "percent", false, &st->per10k, err)) < 0)
		return r;
	if (!(v = cfg_get(args, "from")))
		return 0;
	return net_parse_from(v, ctx, "loss", "lose", st->node, st->from, NET_NFT_MAX_FROM,
			      &st->n_from, err);
}

static int loss_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		      struct cd_error *err)
{
	struct loss_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	if ((r = loss_parse_args(args, ctx, st, err)) < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static const char *loss_node(const void *state)
{
	return ((const struct loss_state *)state)->node;
}

#define LOSS_LACKS "nf_tables or its numgen expression"

static int loss_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct loss_state *st = state;
	struct net_nft_loss loss = { .per10k = st->per10k, .n_from = st->n_from };
	struct net_nft_batch b;
	int r;

	if (st->in_force)
		return -EALREADY;
	for (size_t i = 0; i < st->n_from; i++)
		if ((r = env->node_addr(env->harness, st->from[i], &loss.from[i])) < 0)
			return r;
	if ((r = net_nft_loss_batch(&loss, &b)) < 0)
		return r;
	r = net_send_nft(env, st->node, "loss", LOSS_LACKS, &b, what);
	net_nft_batch_release(&b);
	if (r < 0)
		return r;
	st->in_force = true;
	strbuf_appendf(what, "loss %u.%02u%% of the packets arriving at %s from ", st->per10k / 100,
		       st->per10k % 100, st->node);
	for (size_t i = 0; i < st->n_from; i++)
		strbuf_appendf(what, "%s%s", i ? ", " : "", st->from[i]);
	strbuf_appendf(what, "%s (nftables numgen, input hook)", st->n_from ? "" : "anywhere");
	return 0;
}

static int loss_heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct loss_state *st = state;
	struct net_nft_batch b;
	int r;

	if (!st->in_force)
		return -EALREADY;
	if ((r = net_nft_del_batch(&b)) < 0)
		return r;
	r = net_send_nft(env, st->node, "loss", LOSS_LACKS, &b, what);
	net_nft_batch_release(&b);
	if (r < 0)
		return r;
	st->in_force = false;
	strbuf_appendf(what, "healed: deleted table ip %s in %s", NET_NFT_TABLE, st->node);
	return 0;
}

/* The share is the file's; which packets numgen drops the kernel's own random decides,
 * not the drill's seed (nftables has no seeded generator). */
static void loss_seeded(const void *state, const struct fault_env *env, struct strbuf *out)
{
	const struct loss_state *st = state;

	strbuf_appendf(out, "what=loss per10k=%u from=%zu draws=kernel-random\n", st->per10k,
		       st->n_from);
}

const struct fault_ops fault_loss_ops = {
	.name = "loss",
	.summary = "drop a share of the packets arriving at a node (from some nodes, or all)",
	.needs = "nf_tables with numgen (nftables), network namespaces",
	.heals = true,
	.parse = loss_parse,
	.node = loss_node,
	.inject = loss_inject,
	.heal = loss_heal,
	.free = free,
	.seeded = loss_seeded,
};
