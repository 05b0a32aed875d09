/* Unit tests of the loss fault: its scenario forms and located errors, and the nftables
 * transaction it builds (plain bytes: no privileges, nothing reaches the kernel). */
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "faults/fault.h"
#include "faults/net/nft.h"
#include "scenarios/parser/yaml_load.h"

extern const struct fault_ops fault_loss_ops;

static const char *const names[] = { "n1", "n2", "n3" };

static int parse(const char *yaml, void **st, struct cd_error *err)
{
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 3 };
	struct cfg_node *tree;
	int r;

	memset(err, 0, sizeof(*err));
	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, err), 0);
	*st = NULL;
	r = fault_loss_ops.parse(tree, &ctx, st, err);
	cfg_node_free(tree);
	return r;
}

static void test_parse(void **unused)
{
	struct cd_error err;
	void *st;

	assert_int_equal(parse("{node: n2, percent: 30}", &st, &err), 0);
	assert_string_equal(fault_loss_ops.node(st), "n2");
	fault_loss_ops.free(st);
	assert_int_equal(parse("{node: n2, percent: 2.5%, from: n1}", &st, &err), 0);
	fault_loss_ops.free(st);
	assert_int_equal(parse("{node: n3, percent: 100, from: [n1, n2]}", &st, &err), 0);
	fault_loss_ops.free(st);
}

static void error_is(const char *yaml, int line, int col, const char *want)
{
	struct cd_error err;
	void *st;

	assert_int_equal(parse(yaml, &st, &err), -EINVAL);
	assert_null(st);
	if (!strstr(err.msg, want) || err.line != line || err.col != col)
		fail_msg("%s: got %d:%d '%s', want %d:%d '%s'", yaml, err.line, err.col, err.msg,
			 line, col, want);
}

static void test_errors(void **unused)
{
	error_is("{node: n9, percent: 30}", 1, 8, "no node named 'n9'");
	error_is("{percent: 30}", 1, 1, "needs the receiving node");
	error_is("{node: n1}", 1, 1, "needs a percent");
	error_is("{node: n1, percent: 0}", 1, 21, "bad percent '0'");
	error_is("{node: n1, percent: 101}", 1, 21, "bad percent");
	error_is("{node: n1, percent: 1.234}", 1, 21, "bad percent");
	error_is("{node: n1, percent: lots}", 1, 21, "bad percent");
	error_is("{node: n1, percent: 5, from: [n1]}", 1, 31, "cannot lose its own");
	error_is("{node: n1, percent: 5, from: [n4]}", 1, 31, "no node named 'n4'");
	error_is("{node: n1, percnt: 5}", 1, 12, "percent");
	error_is("n1", 1, 1, "");
}

/* Walks the batch: begin, the messages of types[], end; each but begin/end acked. */
static void batch_is(const struct net_nft_batch *b, const int *types, size_t n)
{
	const struct nlmsghdr *h = (const void *)b->buf;
	size_t left = b->len, i = 0;

	assert_int_equal(h->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	h = NLMSG_NEXT(h, left);
	for (; i < n; i++, h = NLMSG_NEXT(h, left)) {
		assert_true(NLMSG_OK(h, left));
		assert_int_equal(h->nlmsg_type, (NFNL_SUBSYS_NFTABLES << 8) | types[i]);
		assert_true(h->nlmsg_flags & NLM_F_ACK);
	}
	assert_true(NLMSG_OK(h, left));
	assert_int_equal(h->nlmsg_type, NFNL_MSG_BATCH_END);
	assert_int_equal(NLMSG_ALIGN(h->nlmsg_len), left);
	assert_int_equal(b->acks, n);
}

static void test_batch(void **unused)
{
	static const int one[] = { NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE };
	static const int two[] = { NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE,
				   NFT_MSG_NEWRULE };
	static const int del[] = { NFT_MSG_DELTABLE };
	struct net_nft_loss loss = { .per10k = 3000 };
	struct net_nft_batch b;

	assert_int_equal(net_nft_loss_batch(&loss, &b), 0);
	batch_is(&b, one, 3);
	assert_non_null(memmem(b.buf, b.len, NET_NFT_TABLE, sizeof(NET_NFT_TABLE)));
	assert_non_null(memmem(b.buf, b.len, "numgen", 7));
	net_nft_batch_release(&b);

	loss.n_from = 2;
	assert_int_equal(net_nft_loss_batch(&loss, &b), 0);
	batch_is(&b, two, 4); /* one rule per sender */
	net_nft_batch_release(&b);

	assert_int_equal(net_nft_del_batch(&b), 0);
	batch_is(&b, del, 1);
	net_nft_batch_release(&b);

	loss.per10k = 10001;
	assert_int_equal(net_nft_loss_batch(&loss, &b), -EINVAL);
	assert_int_equal(net_nft_send(-EPERM, &b), -EPERM); /* a failed node_socket passes on */
}

/* A kernel without nfnetlink (its netlink socket cannot be made): the fault fails with a
 * sentence naming what is missing and tells the harness the machine cannot make it. */
static int socket_err;
static char unsupported_why[512];

static int fake_socket(void *h, const char *node, int domain, int type, int protocol)
{
	return socket_err;
}

static int fake_addr(void *h, const char *node, uint32_t *addr)
{
	*addr = 0x0200d50a;
	return 0;
}

static void fake_unsupported(void *h, const char *why)
{
	snprintf(unsupported_why, sizeof(unsupported_why), "%s", why);
}

static void test_machine_lacks(void **unused)
{
	struct fault_env env = { .node_socket = fake_socket,
				 .node_addr = fake_addr,
				 .unsupported = fake_unsupported };
	struct strbuf what = STRBUF_INIT;
	struct cd_error err;
	void *st;

	assert_int_equal(parse("{node: n2, percent: 30}", &st, &err), 0);
	socket_err = -EPROTONOSUPPORT;
	assert_int_equal(fault_loss_ops.inject(st, &env, &what), -EPROTONOSUPPORT);
	assert_non_null(strstr(unsupported_why, "the kernel has no nfnetlink"));
	strbuf_release(&what);
	/* another failure (not allowed) is the drill's, not the machine's */
	unsupported_why[0] = '\0';
	socket_err = -EPERM;
	assert_true(fault_loss_ops.inject(st, &env, &what) < 0);
	assert_string_equal(unsupported_why, "");
	strbuf_release(&what);
	fault_loss_ops.free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_machine_lacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
