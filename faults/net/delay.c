/* Fault `delay: {node: n2, mean: 50ms, jitter: 10ms, from: [n1], duplicate: 1%,
 * reorder: 5%, rate: 10mbit, queue: 200ms, seed: 7}` (seed: by default the drill's, mixed
 * with the node's name): the packets arriving at the node (from the listed nodes, or from
 * anywhere but lo) reach it mean +- jitter late (uniform),
 * a share of them twice, a share at once ahead of the held ones (netem's `reorder`), at
 * most `rate` bits per second (a link: each packet waits for the ones before it; past
 * `queue` of waiting, dropped). On the receiver's ingress, as loss.
 * Fault `bandwidth: {node: n2, rate: 1mbit, from: [n1], queue: 200ms}` is the rate alone.
 * Heal stops queueing (an accept rule ahead of the queue's), lets every held packet go at
 * once, then deletes the table and stops the queue: the node's ruleset is as before.
 * Deleting the table while packets are held would drop them (the kernel flushes a hook's
 * queued packets when the hook goes), and TCP would resend them only on its backed-off
 * timer: an outage of up to a second more than the delay.
 *
 * Mechanism: an NFQUEUE rule (delay_rule.h) hands the packets to a delay queue
 * (delay_queue.h) that the runner's event loop runs (delay_attach.h, the node's attachment); the
 * queue answers NF_ACCEPT at each packet's due time. This works on kernels without
 * sch_netem (and without the nft `queue` expression: the rule uses the xtables target as
 * iptables-nft does). A kernel that has neither nfnetlink_queue nor the NFQUEUE target
 * makes inject fail with a sentence saying which, never a silent no-op. */
#include <errno.h>
#include <linux/netlink.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "faults/fault.h"
#include "faults/net/delay_attach.h"
#include "faults/net/delay_queue.h"
#include "faults/net/delay_rule.h"
#include "faults/net/map.h"

#define DEFAULT_SEED 0xcdU
#define MAX_MEAN_NS (60LL * 1000000000)
#define DEFAULT_QUEUE_NS (200LL * 1000000) /* of waiting for the link, then tail drop */

struct delay_state {
	const char *node;		    /* borrowed from ctx->nodes */
	const char *from[NET_NFT_MAX_FROM]; /* borrowed from ctx->nodes */
	size_t n_from;
	struct net_delay_spec spec;
	struct net_delay *q; /* while in force */
	struct net_delay_stats last; /* the queue's at its heal (replay's draws) */
	bool healed;
	bool seed_given; /* the fault's own `seed:`; else the drill's decides (at injection) */
};

/* "1mbit", "500kbit", "2.5gbit", "64000bit" (bits/s, decimal as tc), or "1MiB/s",
 * "100KiB/s", "125000B/s" (bytes/s). */
static int parse_rate(const struct cfg_node *v, const char *kind, uint64_t *bps,
		      struct cd_error *err)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {
		{ "bit", 1 },
		{ "kbit", 1e3 },
		{ "mbit", 1e6 },
		{ "gbit", 1e9 },
		{ "B/s", 8 },
		{ "KiB/s", 8 * 1024.0 },
		{ "MiB/s", 8 * 1048576.0 },
		{ "GiB/s", 8 * 1073741824.0 },
	};
	const char *s;
	char *end;
	double x;
	int r = cfg_string(v, &s, err);

	if (r < 0)
		return r;
	errno = 0;
	x = strtod(s, &end);
	for (size_t i = 0; end != s && !errno && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) != 0 || !(x * units[i].mul >= 8000) ||
		    x * units[i].mul > 1e11)
			continue;
		*bps = (uint64_t)llround(x * units[i].mul);
		return 0;
	}
	return cfg_error(v, err,
			 "%s: bad rate '%s': expected bits/s like 512kbit, 10mbit, 1gbit "
			 "or bytes/s like 1MiB/s, from 8kbit to 100gbit",
			 kind, s);
}

/* rate and queue, when given (required is for bandwidth). */
static int parse_link(const struct cfg_node *args, const char *kind, bool required,
		      struct net_delay_spec *s, struct cd_error *err)
{
	const struct cfg_node *v = cfg_get(args, "rate"), *q = cfg_get(args, "queue");
	int r;

	if (!v && required)
		return cfg_error(args, err, "%s needs a rate (rate: 10mbit)", kind);
	if (v && (r = parse_rate(v, kind, &s->rate_bps, err)) < 0)
		return r;
	s->queue_ns = DEFAULT_QUEUE_NS;
	if (q && !v)
		return cfg_error(q, err, "%s: queue is the rate's buffer: give a rate too", kind);
	if (q && (r = cfg_duration(q, &s->queue_ns, err)) < 0)
		return r;
	if (q && (s->queue_ns <= 0 || s->queue_ns > MAX_MEAN_NS))
		return cfg_error(q, err, "%s: queue must be above 0 and at most 60s", kind);
	return 0;
}

static int parse_times(const struct cfg_node *args, struct delay_state *st, struct cd_error *err)
{
	struct net_delay_spec *s = &st->spec;
	const struct cfg_node *v;
	uint64_t seed = DEFAULT_SEED;
	int r;

	if (!(v = cfg_get(args, "mean")))
		return cfg_error(args, err, "delay needs a mean (mean: 50ms)");
	if ((r = cfg_duration(v, &s->mean_ns, err)) < 0)
		return r;
	if (s->mean_ns <= 0 || s->mean_ns > MAX_MEAN_NS)
		return cfg_error(v, err, "delay: mean must be above 0 and at most 60s");
	if ((v = cfg_get(args, "jitter")) && (r = cfg_duration(v, &s->jitter_ns, err)) < 0)
		return r;
	if (v && s->jitter_ns > s->mean_ns)
		return cfg_error(v, err,
				 "delay: jitter must not exceed the mean (a packet cannot "
				 "arrive before it was sent)");
	if ((r = cfg_get_uint(args, "seed", false, 0, UINT64_MAX, &seed, err)) < 0)
		return r;
	s->seed = seed;
	st->seed_given = cfg_get(args, "seed") != NULL;
	return parse_link(args, "delay", false, s, err);
}

static int delay_parse_args(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			    struct delay_state *st, struct cd_error *err)
{
	static const char *const keys[] = { "node",    "mean", "jitter", "from", "duplicate",
					    "reorder", "rate", "queue",	 "seed", NULL };
	const struct cfg_node *v;
	int r;

	if ((r = cfg_expect(args, CFG_MAP, "delay ({node: n1, mean: 50ms})", err)) < 0 ||
	    (r = cfg_check_keys(args, keys, "delay", err)) < 0)
		return r;
	if (!(v = cfg_get(args, "node")))
		return cfg_error(args, err, "delay needs the receiving node (node: n1)");
	if ((r = fault_parse_node(v, ctx, "delay", &st->node, err)) < 0 ||
	    (r = parse_times(args, st, err)) < 0)
		return r;
	if ((v = cfg_get(args, "duplicate")) &&
	    (r = net_parse_percent(v, "delay", "duplicate", true, &st->spec.duplicate_per10k,
				   err)) < 0)
		return r;
	if ((v = cfg_get(args, "reorder")) &&
	    (r = net_parse_percent(v, "delay", "reorder", true, &st->spec.reorder_per10k, err)) < 0)
		return r;
	if (!(v = cfg_get(args, "from")))
		return 0;
	return net_parse_from(v, ctx, "delay", "delay", st->node, st->from, NET_NFT_MAX_FROM,
			      &st->n_from, err);
}

static int bandwidth_parse_args(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
				struct delay_state *st, struct cd_error *err)
{
	static const char *const keys[] = { "node", "rate", "queue", "from", NULL };
	const struct cfg_node *v;
	int r;

	if ((r = cfg_expect(args, CFG_MAP, "bandwidth ({node: n1, rate: 10mbit})", err)) < 0 ||
	    (r = cfg_check_keys(args, keys, "bandwidth", err)) < 0)
		return r;
	if (!(v = cfg_get(args, "node")))
		return cfg_error(args, err, "bandwidth needs the receiving node (node: n1)");
	if ((r = fault_parse_node(v, ctx, "bandwidth", &st->node, err)) < 0 ||
	    (r = parse_link(args, "bandwidth", true, &st->spec, err)) < 0)
		return r;
	st->spec.seed = DEFAULT_SEED;
	if (!(v = cfg_get(args, "from")))
		return 0;
	return net_parse_from(v, ctx, "bandwidth", "limit", st->node, st->from, NET_NFT_MAX_FROM,
			      &st->n_from, err);
}

static int parse_with(int (*args_fn)(const struct cfg_node *, const struct fault_parse_ctx *,
				     struct delay_state *, struct cd_error *),
		      const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		      struct cd_error *err)
{
	struct delay_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	if ((r = args_fn(args, ctx, st, err)) < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static int delay_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		       struct cd_error *err)
{
	return parse_with(delay_parse_args, args, ctx, state, err);
}

static int bandwidth_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			   void **state, struct cd_error *err)
{
	return parse_with(bandwidth_parse_args, args, ctx, state, err);
}

static const char *delay_node(const void *state)
{
	return ((const struct delay_state *)state)->node;
}

static void delay_free(void *state)
{
	struct delay_state *st = state;

	if (st)
		net_delay_free(st->q); /* a harness that never healed: let the packets go */
	free(st);
}

/* Why the queue or the rule failed; *machine: because the kernel lacks a feature. */
static const char *why_queue(int r, bool *machine)
{
	*machine = r == -EPROTONOSUPPORT || r == -EOPNOTSUPP || r == -EINVAL;
	switch (r) {
	case -EPROTONOSUPPORT:
	case -EOPNOTSUPP:
	case -EINVAL:
		return " (the kernel has no nfnetlink_queue, and delay needs it without netem)";
	case -EBUSY:
	case -EPERM: /* nfnetlink_queue: the queue belongs to another socket */
		return " (a delay queue is already bound in this node: one delay per node)";
	default:
		return "";
	}
}

#define DELAY_LACKS                                                            \
	"nf_tables' xtables compat or the NFQUEUE target: CONFIG_NFT_COMPAT, " \
	"CONFIG_NETFILTER_XT_TARGET_NFQUEUE"

/* The engine, bound to its queue in the node's netns. */
/* The drill's seed mixed with the node's name (FNV-1a), so that two queues of one drill
 * draw apart. */
static uint64_t seed_for_node(uint64_t seed, const char *node)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (const char *p = node; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

static int open_queue(struct delay_state *st, const struct fault_env *env, struct strbuf *what)
{
	int nfq = env->node_socket(env->harness, st->node, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
				   NETLINK_NETFILTER);
	int raw = -1, r;

	if (nfq >= 0 && st->spec.duplicate_per10k &&
	    (raw = env->node_socket(env->harness, st->node, AF_INET, SOCK_RAW | SOCK_CLOEXEC,
				    IPPROTO_RAW)) < 0) {
		close(nfq);
		nfq = raw;
	}
	if (!st->seed_given) /* the drill's seed, apart per node: --seed changes the draws */
		st->spec.seed = seed_for_node(env->seed, st->node);
	if (nfq < 0)
		r = nfq;
	else
		r = net_delay_new(nfq, raw, NET_DELAY_QUEUE, &st->spec, &st->q);
	if (r >= 0 && (r = failpoint("net.nfqueue", -EPROTONOSUPPORT)) < 0) {
		net_delay_free(st->q);
		st->q = NULL;
	}
	if (r < 0) {
		bool machine;

		strbuf_appendf(what, "delay queue in %s: %s%s", st->node, strerror(-r),
			       why_queue(r, &machine));
		if (machine)
			fault_unsupported(env, what->buf);
	}
	return r;
}

static void describe(const struct delay_state *st, struct strbuf *what)
{
	const struct net_delay_spec *s = &st->spec;

	if (s->mean_ns)
		strbuf_appendf(what, "delay %.3gms +- %.3gms ", s->mean_ns / 1e6,
			       s->jitter_ns / 1e6);
	if (s->rate_bps)
		strbuf_appendf(what, "%s%.6g kbit/s at most (queue %.3gms, then tail drop) ",
			       s->mean_ns ? "and " : "rate ", s->rate_bps / 1e3, s->queue_ns / 1e6);
	strbuf_appendf(what, "of the packets arriving at %s from ", st->node);
	for (size_t i = 0; i < st->n_from; i++)
		strbuf_appendf(what, "%s%s", i ? ", " : "", st->from[i]);
	strbuf_appendf(what,
		       "%s, duplicate %u.%02u%%, reorder %u.%02u%% (NFQUEUE %d, delay queue "
		       "run by the harness)",
		       st->n_from ? "" : "anywhere", s->duplicate_per10k / 100,
		       s->duplicate_per10k % 100, s->reorder_per10k / 100, s->reorder_per10k % 100,
		       NET_DELAY_QUEUE);
}

static const struct attach_ops *delay_attach(const void *state)
{
	return &net_delay_attach_ops;
}

static struct node_attach *attachment(const struct delay_state *st, const struct fault_env *env)
{
	return env->attachment(env->harness, st->node, &net_delay_attach_ops);
}

static int delay_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct delay_state *st = state;
	uint32_t from[NET_NFT_MAX_FROM];
	struct net_nft_batch b;
	int r;

	if (st->q)
		return -EALREADY;
	st->healed = false; /* a drill run again (--repeat) says only what this run drew */
	for (size_t i = 0; i < st->n_from; i++)
		if ((r = env->node_addr(env->harness, st->from[i], &from[i])) < 0)
			return r;
	if ((r = net_delay_rule_batch(NET_DELAY_QUEUE, from, st->n_from, &b)) < 0)
		return r;
	if ((r = open_queue(st, env, what)) < 0)
		goto out;
	if ((r = net_delay_attach_run(attachment(st, env), st->q)) < 0) {
		strbuf_appendf(what, "delay: the harness cannot run the queue: %s", strerror(-r));
		goto out;
	}
	if ((r = net_send_nft(env, st->node, "delay", DELAY_LACKS, &b, what)) < 0) {
		net_delay_attach_run(attachment(st, env), NULL);
		goto out;
	}
	describe(st, what);
out:
	if (r < 0) {
		net_delay_free(st->q);
		st->q = NULL;
	}
	net_nft_batch_release(&b);
	return r;
}

/* Builds a batch with make and sends it into the node's netns. */
static int send_rules(struct delay_state *st, const struct fault_env *env,
		      int (*make)(struct net_nft_batch *b), struct strbuf *what)
{
	struct net_nft_batch b;
	int r = make(&b);

	if (r < 0)
		return r;
	r = net_send_nft(env, st->node, "delay", DELAY_LACKS, &b, what);
	net_nft_batch_release(&b);
	return r;
}

static int delay_heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct delay_state *st = state;
	struct net_delay_stats s;
	int r;

	if (!st->q)
		return -EALREADY;
	/* Deleting the table drops what the kernel still holds for the queue: first no packet
	 * goes to the queue any more, then every held one goes on, then the table goes. */
	if ((r = send_rules(st, env, net_delay_rule_open_batch, what)) < 0)
		return r;
	net_delay_attach_run(attachment(st, env), NULL);
	net_delay_handle(st->q); /* what was queued before the accept rule came in */
	net_delay_flush(st->q);
	if ((r = send_rules(st, env, net_delay_rule_del_batch, what)) < 0)
		return r;
	net_delay_stats(st->q, &s);
	st->last = s;
	st->healed = true;
	net_delay_free(st->q);
	st->q = NULL;
	strbuf_appendf(what,
		       "healed: deleted table ip %s in %s; %llu packets were delayed, "
		       "%llu duplicated, %llu reordered, %llu dropped over the rate's queue",
		       NET_DELAY_TABLE, st->node, (unsigned long long)s.queued,
		       (unsigned long long)s.duplicated, (unsigned long long)s.reordered,
		       (unsigned long long)s.dropped);
	return 0;
}

/* The draws of the packets (delay_queue.h): the seed decides the sequence, timing how
 * many packets drew from it. */
static void delay_seeded(const void *state, const struct fault_env *env, struct strbuf *out)
{
	const struct delay_state *st = state;
	struct net_delay_stats s;

	if (st->q)
		net_delay_stats(st->q, &s);
	else if (st->healed)
		s = st->last;
	else
		return;
	strbuf_appendf(out, "what=delay-draws seed=%llu packets~%llu delays_us^",
		       (unsigned long long)st->spec.seed, (unsigned long long)s.draws);
	for (uint64_t i = 0; i < s.draws && i < NET_DELAY_DRAWS_KEPT; i++)
		strbuf_appendf(out, "%s%lld", i ? "," : "", (long long)s.first_us[i]);
	strbuf_appendf(out, " delayed~%llu duplicated~%llu reordered~%llu dropped~%llu\n",
		       (unsigned long long)s.queued, (unsigned long long)s.duplicated,
		       (unsigned long long)s.reordered, (unsigned long long)s.dropped);
}

const struct fault_ops fault_delay_ops = {
	.name = "delay",
	.summary = "delay the packets arriving at a node (mean, jitter), duplicate or reorder some",
	.needs = "nf_tables with xtables compat and the NFQUEUE target, nfnetlink_queue, "
		 "network namespaces",
	.heals = true,
	.parse = delay_parse,
	.node = delay_node,
	.inject = delay_inject,
	.heal = delay_heal,
	.free = delay_free,
	.attach = delay_attach,
	.seeded = delay_seeded,
};

const struct fault_ops fault_bandwidth_ops = {
	.name = "bandwidth",
	.summary = "limit the rate of the packets arriving at a node (a link of that many bits/s, "
		   "tail drop past its queue)",
	.needs = "as delay: nf_tables with xtables compat and the NFQUEUE target, nfnetlink_queue",
	.heals = true,
	.parse = bandwidth_parse,
	.node = delay_node,
	.inject = delay_inject,
	.heal = delay_heal,
	.free = delay_free,
	.attach = delay_attach,
	.seeded = delay_seeded,
};
