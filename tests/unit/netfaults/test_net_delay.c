/* Unit tests of the delay fault's pure parts: the scenario forms and located errors, the
 * nfnetlink_queue messages and the NFQUEUE rule as bytes, and the engine's verdict
 * schedule under a fake clock, talking to a fake kernel over a socketpair. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "faults/fault.h"
#include "faults/net/delay_queue.h"
#include "faults/net/delay_rule.h"
#include "faults/net/nfq.h"
#include "scenarios/parser/yaml_load.h"

extern const struct fault_ops fault_delay_ops;

static const char *const names[] = { "n1", "n2", "n3" };

static int parse(const char *yaml, void **st, struct cd_error *err)
{
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 3 };
	struct cfg_node *tree;
	int r;

	memset(err, 0, sizeof(*err));
	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, err), 0);
	*st = NULL;
	r = fault_delay_ops.parse(tree, &ctx, st, err);
	cfg_node_free(tree);
	return r;
}

static void test_parse(void **unused)
{
	static const char *const good[] = {
		"{node: n2, mean: 50ms}",
		"{node: n2, mean: 50ms, jitter: 10ms, from: [n1], duplicate: 1%, reorder: 5%}",
		"{node: n3, mean: 1s, from: n1, duplicate: 0.25, seed: 7}",
	};
	struct cd_error err;
	void *st;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(good[i], &st, &err), 0);
		fault_delay_ops.free(st);
	}
	assert_int_equal(parse("{node: n2, mean: 50ms}", &st, &err), 0);
	assert_string_equal(fault_delay_ops.node(st), "n2");
	fault_delay_ops.free(st);
}

static void test_parse_errors(void **unused)
{
	static const struct {
		const char *yaml, *msg;
		int col;
	} bad[] = {
		{ "{node: n2}", "needs a mean", 1 },
		{ "{mean: 5ms}", "needs the receiving node", 1 },
		{ "{node: n9, mean: 5ms}", "no node named 'n9'", 8 },
		{ "{node: n2, mean: fast}", "bad duration", 18 },
		{ "{node: n2, mean: 0ms}", "above 0", 18 },
		{ "{node: n2, mean: 5ms, jitter: 6ms}", "must not exceed the mean", 31 },
		{ "{node: n2, mean: 5ms, duplicate: 101%}", "bad duplicate", 34 },
		{ "{node: n2, mean: 5ms, reorder: -1}", "bad reorder", 32 },
		{ "{node: n2, mean: 5ms, from: [n2]}", "own packets", 30 },
		{ "{node: n2, mean: 5ms, jiter: 1ms}", "jitter", 23 },
		{ "n2", "delay ({node: n1, mean: 50ms})", 1 },
	};
	struct cd_error err;
	void *st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(parse(bad[i].yaml, &st, &err) < 0);
		if (!strstr(err.msg, bad[i].msg) || err.col != bad[i].col)
			fail_msg("%s: %d:%d: %s", bad[i].yaml, err.line, err.col, err.msg);
		assert_int_equal(err.line, 1);
	}
}

extern const struct fault_ops fault_bandwidth_ops;

/* bandwidth: a rate (bits or bytes per second) and its queue; errors located. */
static void test_bandwidth_parse(void **unused)
{
	static const struct {
		const char *yaml, *msg;
		int col;
	} bad[] = {
		{ "{node: n2}", "bandwidth needs a rate", 1 },
		{ "{node: n2, rate: fast}", "bad rate 'fast'", 18 },
		{ "{node: n2, rate: 1kbit}", "from 8kbit to 100gbit", 18 },
		{ "{node: n2, rate: 10mbit, queue: 0ms}", "queue must be above 0", 33 },
		{ "{node: n2, rate: 10mbit, mean: 5ms}", "unknown key 'mean'", 26 },
		{ "{node: n2, rate: 10mbit, from: n2}", "cannot limit its own packets", 32 },
	};
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 3 };
	struct cfg_node *tree;
	struct cd_error err;
	void *st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(yaml_load_string("t.yaml", bad[i].yaml, strlen(bad[i].yaml), &tree,
						  &err),
				 0);
		assert_true(fault_bandwidth_ops.parse(tree, &ctx, &st, &err) < 0);
		cfg_node_free(tree);
		if (!strstr(err.msg, bad[i].msg) || err.col != bad[i].col)
			fail_msg("%s: %d:%d: %s", bad[i].yaml, err.line, err.col, err.msg);
	}
	assert_int_equal(yaml_load_string("t.yaml", "{node: n2, rate: 1MiB/s, from: [n1]}", 36,
					  &tree, &err),
			 0);
	assert_int_equal(fault_bandwidth_ops.parse(tree, &ctx, &st, &err), 0);
	cfg_node_free(tree);
	assert_string_equal(fault_bandwidth_ops.node(st), "n2");
	fault_bandwidth_ops.free(st);
	/* delay takes a rate too; a queue without one is an error */
	assert_int_equal(parse("{node: n2, mean: 5ms, rate: 512kbit, queue: 50ms}", &st, &err), 0);
	fault_delay_ops.free(st);
	assert_true(parse("{node: n2, mean: 5ms, queue: 50ms}", &st, &err) < 0);
	assert_non_null(strstr(err.msg, "give a rate too"));
}

static const struct nfgenmsg *nfg(const struct nlmsghdr *nlh)
{
	return NLMSG_DATA(nlh);
}

static const struct nlattr *attr1(const struct nlmsghdr *nlh)
{
	return (const struct nlattr *)((const char *)NLMSG_DATA(nlh) +
				       NLMSG_ALIGN(sizeof(struct nfgenmsg)));
}

static void test_nfq_bytes(void **unused)
{
	struct net_nfq_msg m;
	const struct nlmsghdr *h;
	const struct nfqnl_msg_verdict_hdr *v;
	uint16_t want[] = { NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN };
	size_t left;
	int i = 0;

	assert_int_equal(net_nfq_bind_msg(205, 8192, &m), 0);
	assert_int_equal(m.acks, 3);
	left = m.len;
	for (h = (const struct nlmsghdr *)m.buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left), i++) {
		assert_int_equal(h->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG);
		assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
		assert_int_equal(ntohs(nfg(h)->res_id), 205);
		assert_int_equal(attr1(h)->nla_type, want[i]);
	}
	assert_int_equal(i, 3);
	h = (const struct nlmsghdr *)m.buf;
	assert_int_equal(((const struct nfqnl_msg_config_cmd *)(attr1(h) + 1))->command,
			 NFQNL_CFG_CMD_BIND);

	assert_int_equal(net_nfq_verdict_msg(205, 77, NF_ACCEPT, &m), 0);
	h = (const struct nlmsghdr *)m.buf;
	assert_int_equal(m.len, NLMSG_ALIGN(h->nlmsg_len));
	assert_int_equal(h->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT);
	assert_int_equal(m.acks, 0);
	assert_int_equal(attr1(h)->nla_type, NFQA_VERDICT_HDR);
	v = (const void *)(attr1(h) + 1);
	assert_int_equal(ntohl(v->id), 77);
	assert_int_equal(ntohl(v->verdict), NF_ACCEPT);
}

static void test_nfq_parse(void **unused)
{
	char buf[256] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlmsgerr *e = NLMSG_DATA(h);
	struct net_nfq_packet p;

	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	e->error = -EPERM;
	assert_int_equal(net_nfq_parse(h, &p), -EPERM);
	e->error = 0;
	assert_int_equal(net_nfq_parse(h, &p), 0);
	h->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
	assert_int_equal(net_nfq_parse(h, &p), -EBADMSG); /* no packet header */
}

/* The fake kernel: queues a packet (id, a 28-byte IPv4 datagram to 10.213.0.3). */
static void kernel_queue(int k, uint32_t id)
{
	char buf[256] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nfgenmsg *g = NLMSG_DATA(h);
	struct nlattr *a = (struct nlattr *)((char *)g + NLMSG_ALIGN(sizeof(*g)));
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(id), .hw_protocol = htons(0x0800) };
	unsigned char ip[28] = { 0x45, 0, 0, 28, [8] = 64, [9] = 17, 10, 213, 0, 2, 10, 213, 0, 3 };

	h->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	g->res_id = htons(205);
	a->nla_type = NFQA_PACKET_HDR;
	a->nla_len = NLA_HDRLEN + sizeof(ph);
	memcpy(a + 1, &ph, sizeof(ph));
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	a->nla_type = NFQA_PAYLOAD;
	a->nla_len = NLA_HDRLEN + sizeof(ip);
	memcpy(a + 1, ip, sizeof(ip));
	h->nlmsg_len = (uint32_t)((char *)a + NLA_ALIGN(a->nla_len) - buf);
	assert_int_equal(write(k, buf, h->nlmsg_len), h->nlmsg_len);
}

/* The ids of the verdicts the engine sent, in order, and what each said (verdicts may be
 * NULL: then every one must be NF_ACCEPT); returns how many. */
static int kernel_verdicts_v(int k, uint32_t *ids, uint32_t *verdicts, int max)
{
	char buf[4096] __attribute__((aligned(4)));
	ssize_t n;
	int got = 0;

	while ((n = recv(k, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		size_t left = (size_t)n;

		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			const struct nfqnl_msg_verdict_hdr *v = (const void *)(attr1(h) + 1);

			assert_int_equal(h->nlmsg_type,
					 (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT);
			if (!verdicts)
				assert_int_equal(ntohl(v->verdict), NF_ACCEPT);
			assert_true(got < max);
			if (verdicts)
				verdicts[got] = ntohl(v->verdict);
			ids[got++] = ntohl(v->id);
		}
	}
	return got;
}

static int kernel_verdicts(int k, uint32_t *ids, int max)
{
	return kernel_verdicts_v(k, ids, NULL, max);
}

static int64_t fake_now;

static int64_t fake_clock(void *ud)
{
	(void)ud;
	return fake_now;
}

#define MS 1000000LL

/* An engine bound (the fake kernel acked the three bind messages) on a fake clock. */
static struct net_delay *engine(const struct net_delay_spec *spec, int *k, int dup_fd)
{
	char acks[3 * NLMSG_SPACE(sizeof(struct nlmsgerr))] __attribute__((aligned(4))) = { 0 };
	char bind[512];
	uint32_t none[1];
	struct net_delay *q;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	for (int i = 0; i < 3; i++) {
		struct nlmsghdr *h =
			(struct nlmsghdr *)(acks + i * NLMSG_SPACE(sizeof(struct nlmsgerr)));

		h->nlmsg_type = NLMSG_ERROR;
		h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	}
	assert_int_equal(write(sv[1], acks, sizeof(acks)), sizeof(acks));
	assert_int_equal(net_delay_new(sv[0], dup_fd, 205, spec, &q), 0);
	net_delay_set_clock(q, fake_clock, NULL);
	*k = sv[1];
	assert_true(recv(*k, bind, sizeof(bind), 0) > 0); /* the bind messages */
	assert_int_equal(kernel_verdicts(*k, none, 0), 0);
	return q;
}

static void test_schedule(void **unused)
{
	struct net_delay_spec spec = { .mean_ns = 10 * MS };
	uint32_t ids[8];
	int k;
	struct net_delay *q;

	fake_now = 1000 * MS;
	q = engine(&spec, &k, -1);
	assert_int_equal(net_delay_timeout_ms(q), -1);
	for (uint32_t id = 1; id <= 3; id++, fake_now += MS) {
		kernel_queue(k, id);
		assert_int_equal(net_delay_handle(q), 0);
	}
	/* held 1 @1010, 2 @1011, 3 @1012; now 1003 */
	assert_int_equal(net_delay_timeout_ms(q), 7);
	assert_int_equal(net_delay_next_ns(q), 1010 * MS);
	fake_now = 1011 * MS;
	assert_int_equal(net_delay_handle(q), 2);
	assert_int_equal(kernel_verdicts(k, ids, 8), 2);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	fake_now = 1011 * MS + 1;
	assert_int_equal(net_delay_timeout_ms(q), 1); /* rounded up: never early */
	assert_int_equal(net_delay_handle(q), 0);
	assert_int_equal(net_delay_flush(q), 1);
	assert_int_equal(kernel_verdicts(k, ids, 8), 1);
	assert_int_equal(ids[0], 3);
	net_delay_free(q);
	close(k);
}

/* A rate: each 28-byte packet takes 1 ms of a 224 kbit/s link, after the ones before it;
 * with a 2 ms queue the 4th of a burst of 5 would wait 3 ms: it and the 5th are dropped. */
static void test_rate(void **unused)
{
	struct net_delay_spec spec = { .rate_bps = 28 * 8 * 1000, .queue_ns = 2 * MS };
	struct net_delay_stats st;
	uint32_t ids[8], v[8];
	int k;
	struct net_delay *q;

	fake_now = 0;
	q = engine(&spec, &k, -1);
	for (uint32_t id = 1; id <= 5; id++)
		kernel_queue(k, id);
	assert_int_equal(net_delay_handle(q), 0);
	assert_int_equal(net_delay_next_ns(q), 1 * MS);
	assert_int_equal(kernel_verdicts_v(k, ids, v, 8), 2); /* the drops go out at once */
	assert_int_equal(ids[0], 4), assert_int_equal(v[0], NF_DROP);
	assert_int_equal(ids[1], 5), assert_int_equal(v[1], NF_DROP);
	fake_now = 2 * MS;
	assert_int_equal(net_delay_handle(q), 2);
	assert_int_equal(kernel_verdicts(k, ids, 8), 2);
	assert_int_equal(ids[0], 1), assert_int_equal(ids[1], 2);
	assert_int_equal(net_delay_next_ns(q), 3 * MS);
	/* the link is idle again by 10 ms: a new packet waits only its own 1 ms */
	fake_now = 10 * MS;
	kernel_queue(k, 6);
	assert_int_equal(net_delay_handle(q), 1); /* 3 was due */
	assert_int_equal(net_delay_next_ns(q), 11 * MS);
	net_delay_stats(q, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.queued, 4);
	net_delay_free(q);
	close(k);
}

/* Same seed, same packets: the same due times; jitter keeps them in mean +- jitter. */
static void draw(uint64_t seed, int64_t *due, int n)
{
	struct net_delay_spec spec = { .mean_ns = 50 * MS, .jitter_ns = 10 * MS, .seed = seed };
	uint32_t ids[1];
	int k;
	struct net_delay *q;

	fake_now = 0;
	q = engine(&spec, &k, -1);
	for (int i = 0; i < n; i++) {
		kernel_queue(k, (uint32_t)i);
		assert_int_equal(net_delay_handle(q), 0);
		due[i] = net_delay_next_ns(q);
		assert_true(due[i] >= 40 * MS && due[i] <= 60 * MS);
		assert_int_equal(net_delay_flush(q), 1);
		assert_int_equal(kernel_verdicts(k, ids, 1), 1);
		assert_int_equal(ids[0], (uint32_t)i);
	}
	net_delay_free(q);
	close(k);
}

/* The first due times of seed 7 are pinned as they were drawn when pinned: replay is a
 * promise, and a change here breaks every recorded drill's. */
static void test_seeded_jitter(void **unused)
{
	static const int64_t pinned[] = {
		50487949, 56752265, 46022128, 43083611, 59580641, 49283699
	};
	int64_t a[64], b[64], c[64];
	bool differ = false, spread_lo = false, spread_hi = false;

	draw(7, a, 64);
	draw(7, b, 64);
	draw(8, c, 64);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_equal(a, pinned, sizeof(pinned));
	for (int i = 0; i < 64; i++) {
		differ |= a[i] != c[i];
		spread_lo |= a[i] < 45 * MS;
		spread_hi |= a[i] > 55 * MS;
	}
	assert_true(differ && spread_lo && spread_hi);
}

/* reorder 100%: every packet goes at once; duplicate 100%: each copy is sent after its
 * verdict through the raw socket (here a unix socket that refuses the IPv4 address). */
static void test_reorder_duplicate(void **unused)
{
	struct net_delay_spec spec = { .mean_ns = 50 * MS,
				       .reorder_per10k = 10000,
				       .duplicate_per10k = 10000 };
	struct net_delay_stats s;
	uint32_t ids[4];
	int k, dup[2];
	struct net_delay *q;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dup), 0);
	fake_now = 0;
	q = engine(&spec, &k, dup[0]);
	kernel_queue(k, 9);
	assert_int_equal(net_delay_handle(q), 1);
	assert_int_equal(kernel_verdicts(k, ids, 4), 1);
	assert_int_equal(ids[0], 9);
	net_delay_stats(q, &s);
	assert_int_equal(s.queued, 1);
	assert_int_equal(s.reordered, 1);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(s.duplicated + s.dup_failed, 1);
	net_delay_free(q);
	close(k);
	close(dup[1]);
}

static const struct nlmsghdr *find_msg(const struct net_nft_batch *b, uint16_t msg)
{
	size_t left = b->len;

	for (const struct nlmsghdr *h = (const void *)b->buf; NLMSG_OK(h, left);
	     h = NLMSG_NEXT(h, left))
		if (h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | msg))
			return h;
	return NULL;
}

static void test_rule_bytes(void **unused)
{
	struct xt_NFQ_info_v3 info = { .queuenum = 205, .queues_total = 1 };
	uint32_t from[2] = { htonl(0x0ad50002), htonl(0x0ad50004) };
	struct net_nft_batch b;
	const struct nlmsghdr *h;

	assert_int_equal(net_delay_rule_batch(205, from, 2, &b), 0);
	assert_int_equal(b.acks, 4); /* table, chain, two rules */
	assert_non_null(h = find_msg(&b, NFT_MSG_NEWTABLE));
	assert_true(h->nlmsg_flags & NLM_F_EXCL);
	assert_non_null(memmem(b.buf, b.len, NET_DELAY_TABLE, sizeof(NET_DELAY_TABLE)));
	assert_non_null(h = find_msg(&b, NFT_MSG_NEWRULE));
	/* the xtables target as iptables-nft sends it, and the sender's address */
	assert_non_null(memmem(h, h->nlmsg_len, "NFQUEUE", 8));
	assert_non_null(memmem(h, h->nlmsg_len, &info, sizeof(info)));
	assert_non_null(memmem(h, h->nlmsg_len, &from[0], 4));
	assert_null(memmem(h, h->nlmsg_len, &from[1], 4));
	assert_non_null(memmem(h, h->nlmsg_len, "meta", 5));
	net_nft_batch_release(&b);

	assert_int_equal(net_delay_rule_batch(205, NULL, 0, &b), 0);
	assert_int_equal(b.acks, 3);
	assert_null(memmem(b.buf, b.len, &from[0], 4));
	net_nft_batch_release(&b);
	assert_int_equal(net_delay_rule_batch(205, NULL, 1, &b), -EINVAL);

	assert_int_equal(net_delay_rule_del_batch(&b), 0);
	assert_int_equal(b.acks, 1);
	assert_non_null(find_msg(&b, NFT_MSG_DELTABLE));
	assert_null(find_msg(&b, NFT_MSG_NEWRULE));
	net_nft_batch_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_nfq_bytes),
		cmocka_unit_test(test_nfq_parse),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_seeded_jitter),
		cmocka_unit_test(test_reorder_duplicate),
		cmocka_unit_test(test_rule_bytes),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_bandwidth_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
