/* The delay queue's nftables table through libnftnl (net_delay_rule.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "common/cleanup.h"
#include "faults/net_delay_rule.h"

#define BATCH_CAP (64 * 1024)
#define CHAIN "input"

DEFINE_CLEANUP_FUNC(struct nftnl_table, nftnl_table_free)
DEFINE_CLEANUP_FUNC(struct nftnl_chain, nftnl_chain_free)
DEFINE_CLEANUP_FUNC(struct nftnl_rule, nftnl_rule_free)

struct cursor {
	struct net_nft_batch *b;
	uint32_t seq;
};

static struct nlmsghdr *put_hdr(struct cursor *c, uint16_t type, uint16_t flags)
{
	if (c->b->len + 4096 > BATCH_CAP)
		return NULL;
	if (flags & NLM_F_ACK)
		c->b->acks++;
	return nftnl_nlmsg_build_hdr(c->b->buf + c->b->len, type, NFPROTO_IPV4, flags, c->seq++);
}

static void put_done(struct cursor *c, struct nlmsghdr *nlh)
{
	c->b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int begin(struct cursor *c, struct net_nft_batch *b)
{
	memset(b, 0, sizeof(*b));
	if (!(b->buf = calloc(1, BATCH_CAP)))
		return -ENOMEM;
	*c = (struct cursor){ .b = b, .seq = 1 };
	b->len += NLMSG_ALIGN(nftnl_batch_begin(b->buf, c->seq++)->nlmsg_len);
	return 0;
}

static int end(struct cursor *c)
{
	if (c->b->len + NLMSG_HDRLEN * 2 > BATCH_CAP)
		return -E2BIG;
	c->b->len += NLMSG_ALIGN(nftnl_batch_end(c->b->buf + c->b->len, c->seq++)->nlmsg_len);
	return 0;
}

static int add_table(struct cursor *c, uint16_t type, uint16_t flags)
{
	_cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, NET_DELAY_TABLE) < 0)
		return -ENOMEM;
	if (!(nlh = put_hdr(c, type, flags | NLM_F_ACK)))
		return -E2BIG;
	nftnl_table_nlmsg_build_payload(nlh, t);
	put_done(c, nlh);
	return 0;
}

static int add_chain(struct cursor *c)
{
	_cleanup_(nftnl_chain_freep) struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!ch)
		return -ENOMEM;
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, NET_DELAY_TABLE) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, CHAIN) < 0 ||
	    nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter") < 0)
		return -ENOMEM;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	if (!(nlh = put_hdr(c, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK)))
		return -E2BIG;
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	put_done(c, nlh);
	return 0;
}

/* reg1 := LEN bytes (meta key, or payload at offset); then cmp OP reg1 with data. */
static int load_cmp(struct nftnl_rule *r, struct nftnl_expr *load, enum nft_cmp_ops op,
		    uint32_t data)
{
	struct nftnl_expr *cmp;

	if (!load)
		return -ENOMEM;
	nftnl_rule_add_expr(r, load); /* the rule owns it now */
	if (!(cmp = nftnl_expr_alloc("cmp")))
		return -ENOMEM;
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &data, sizeof(data));
	nftnl_rule_add_expr(r, cmp);
	return 0;
}

static int not_lo(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_IIF);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return load_cmp(r, e, NFT_CMP_NEQ, 1); /* lo is ifindex 1 in every netns */
}

static int saddr(struct nftnl_rule *r, uint32_t addr)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	}
	return load_cmp(r, e, NFT_CMP_EQ, addr);
}

/* The xtables target as iptables-nft sends it: name, revision, and the target's info
 * padded to XT_ALIGN (nft_compat checks the size). */
static int nfqueue(struct nftnl_rule *r, uint16_t queue)
{
	struct nftnl_expr *e = nftnl_expr_alloc("target");
	struct xt_NFQ_info_v3 *info = calloc(1, XT_ALIGN(sizeof(*info)));

	if (!e || !info) {
		free(info);
		nftnl_expr_free(e);
		return -ENOMEM;
	}
	info->queuenum = queue;
	info->queues_total = 1;
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, XT_ALIGN(sizeof(*info))); /* e owns it */
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int add_rule(struct cursor *c, uint16_t queue, const uint32_t *from)
{
	_cleanup_(nftnl_rule_freep) struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int e;

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NET_DELAY_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN) < 0)
		return -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	if ((e = not_lo(r)) < 0 || (from && (e = saddr(r, *from)) < 0) ||
	    (e = nfqueue(r, queue)) < 0)
		return e;
	if (!(nlh = put_hdr(c, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK)))
		return -E2BIG;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	put_done(c, nlh);
	return 0;
}

int net_delay_rule_batch(uint16_t queue, const uint32_t *from, size_t n_from,
			 struct net_nft_batch *b)
{
	struct cursor c;
	int r;

	if (n_from > NET_NFT_MAX_FROM || (n_from && !from))
		return -EINVAL;
	if ((r = begin(&c, b)) < 0)
		return r;
	if ((r = add_table(&c, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL)) < 0 ||
	    (r = add_chain(&c)) < 0)
		goto fail;
	for (size_t i = 0; i < (n_from ? n_from : 1); i++)
		if ((r = add_rule(&c, queue, n_from ? &from[i] : NULL)) < 0)
			goto fail;
	if ((r = end(&c)) < 0)
		goto fail;
	return 0;
fail:
	net_nft_batch_release(b);
	return r;
}

int net_delay_rule_del_batch(struct net_nft_batch *b)
{
	struct cursor c;
	int r;

	if ((r = begin(&c, b)) < 0 || (r = add_table(&c, NFT_MSG_DELTABLE, 0)) < 0 ||
	    (r = end(&c)) < 0)
		net_nft_batch_release(b);
	return r;
}
