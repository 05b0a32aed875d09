/* The nftables tables of network faults through libnftnl, the only file of faults/ that
 * uses it: loss (nft.h) and the delay queue's rule (delay_rule.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "common/cleanup.h"
#include "faults/net/delay_rule.h"
#include "faults/net/nft.h"

#define BATCH_CAP (64 * 1024)
#define CHAIN "input"

DEFINE_CLEANUP_FUNC(struct nftnl_table, nftnl_table_free)
DEFINE_CLEANUP_FUNC(struct nftnl_chain, nftnl_chain_free)
DEFINE_CLEANUP_FUNC(struct nftnl_rule, nftnl_rule_free)

/* Appends one message; build fills its payload. */
struct cursor {
	struct net_nft_batch *b;
	uint32_t seq;
};

static struct nlmsghdr *put_hdr(struct cursor *c, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	if (c->b->len + 4096 > BATCH_CAP)
		return NULL;
	nlh = nftnl_nlmsg_build_hdr(c->b->buf + c->b->len, type, NFPROTO_IPV4, flags, c->seq++);
	return nlh;
}

static void put_done(struct cursor *c, struct nlmsghdr *nlh)
{
	c->b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (nlh->nlmsg_flags & NLM_F_ACK)
		c->b->acks++;
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

static int add_table(struct cursor *c, const char *table, uint16_t type, uint16_t flags)
{
	_cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, table) < 0)
		return -ENOMEM;
	if (!(nlh = put_hdr(c, type, flags | NLM_F_ACK)))
		return -E2BIG;
	nftnl_table_nlmsg_build_payload(nlh, t);
	put_done(c, nlh);
	return 0;
}

static int add_chain(struct cursor *c, const char *table)
{
	_cleanup_(nftnl_chain_freep) struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!ch)
		return -ENOMEM;
	if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table) < 0 ||
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

/* An expression of `name` with up to four u32 attributes (attr 0 ends the list). */
static int expr(struct nftnl_rule *r, const char *name, const uint16_t *attr, const uint32_t *val)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < 5 && attr[i]; i++)
		nftnl_expr_set_u32(e, attr[i] - 1, val[i]);
	nftnl_rule_add_expr(r, e); /* the rule owns it now */
	return 0;
}

static int cmp(struct nftnl_rule *r, enum nft_cmp_ops op, uint32_t data)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &data, sizeof(data));
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* Attribute numbers are passed +1 so that 0 ends a list. */
#define A(x) ((uint16_t)((x) + 1))

/* Packets not from lo (ifindex 1 in every netns). */
static int not_lo(struct nftnl_rule *r)
{
	static const uint16_t meta[] = { A(NFTNL_EXPR_META_KEY), A(NFTNL_EXPR_META_DREG), 0 };
	static const uint32_t metav[] = { NFT_META_IIF, NFT_REG_1 };
	int e = expr(r, "meta", meta, metav);

	return e < 0 ? e : cmp(r, NFT_CMP_NEQ, 1);
}

/* Packets from one IPv4 source address (network order). */
static int saddr(struct nftnl_rule *r, uint32_t addr)
{
	static const uint16_t pl[] = { A(NFTNL_EXPR_PAYLOAD_DREG), A(NFTNL_EXPR_PAYLOAD_BASE),
				       A(NFTNL_EXPR_PAYLOAD_OFFSET), A(NFTNL_EXPR_PAYLOAD_LEN), 0 };
	static const uint32_t plv[] = { NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, 12, 4 };
	int e = expr(r, "payload", pl, plv);

	return e < 0 ? e : cmp(r, NFT_CMP_EQ, addr);
}

/* A rule of table's input chain; caller frees (or hands to append_rule). */
static struct nftnl_rule *new_rule(const char *table)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r && (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) < 0 ||
		  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN) < 0)) {
		nftnl_rule_free(r);
		return NULL;
	}
	if (r)
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return r;
}

/* A new rule: at the end of the chain with NLM_F_APPEND, else at its head. */
static int put_rule(struct cursor *c, struct nftnl_rule *r, uint16_t flags)
{
	struct nlmsghdr *nlh = put_hdr(c, NFT_MSG_NEWRULE, flags | NLM_F_CREATE | NLM_F_ACK);

	if (!nlh)
		return -E2BIG;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	put_done(c, nlh);
	return 0;
}

static int append_rule(struct cursor *c, struct nftnl_rule *r)
{
	return put_rule(c, r, NLM_F_APPEND);
}

/* numgen random mod 10000 < per10k drop; numgen is host order, cmp lt is big-endian. */
static int chance_drop(struct nftnl_rule *r, uint32_t per10k)
{
	static const uint16_t ng[] = { A(NFTNL_EXPR_NG_DREG), A(NFTNL_EXPR_NG_MODULUS),
				       A(NFTNL_EXPR_NG_TYPE), 0 };
	static const uint32_t ngv[] = { NFT_REG_1, 10000, NFT_NG_RANDOM };
	static const uint16_t bo[] = { A(NFTNL_EXPR_BYTEORDER_DREG), A(NFTNL_EXPR_BYTEORDER_SREG),
				       A(NFTNL_EXPR_BYTEORDER_OP),   A(NFTNL_EXPR_BYTEORDER_LEN),
				       A(NFTNL_EXPR_BYTEORDER_SIZE), 0 };
	static const uint32_t bov[] = { NFT_REG_1, NFT_REG_1, NFT_BYTEORDER_HTON, 4, 4 };
	static const uint16_t imm[] = { A(NFTNL_EXPR_IMM_DREG), A(NFTNL_EXPR_IMM_VERDICT), 0 };
	static const uint32_t immv[] = { NFT_REG_VERDICT, NF_DROP };
	int e;

	if ((e = expr(r, "numgen", ng, ngv)) < 0 || (e = expr(r, "byteorder", bo, bov)) < 0 ||
	    (e = cmp(r, NFT_CMP_LT, htonl(per10k))) < 0)
		return e;
	return expr(r, "immediate", imm, immv);
}

/* Adds the rule for one source address (NULL: every packet) to the cursor's batch; arg is
 * the fault's own parameter. */
typedef int (*rule_fn)(struct cursor *c, const uint32_t *from, const void *arg);

/* A fault's whole transaction: its table (never one that exists already), the table's
 * input chain, and one rule per source in from[0..n_from), or one for all when n_from is
 * 0. Nothing is left in b on failure. */
static int table_batch(struct net_nft_batch *b, const char *table, const uint32_t *from,
		       size_t n_from, rule_fn add, const void *arg)
{
	struct cursor c;
	int r;

	if ((r = begin(&c, b)) < 0)
		return r;
	if ((r = add_table(&c, table, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL)) < 0 ||
	    (r = add_chain(&c, table)) < 0)
		goto fail;
	for (size_t i = 0; i < (n_from ? n_from : 1); i++)
		if ((r = add(&c, n_from ? &from[i] : NULL, arg)) < 0)
			goto fail;
	if ((r = end(&c)) < 0)
		goto fail;
	return 0;
fail:
	net_nft_batch_release(b);
	return r;
}

/* One source (or anything but lo) loses per10k/10000 of its packets (arg: the uint32_t). */
static int add_loss_rule(struct cursor *c, const uint32_t *from, const void *arg)
{
	_cleanup_(nftnl_rule_freep) struct nftnl_rule *r = new_rule(NET_NFT_TABLE);
	int e;

	if (!r)
		return -ENOMEM;
	if ((e = from ? saddr(r, *from) : not_lo(r)) < 0 ||
	    (e = chance_drop(r, *(const uint32_t *)arg)) < 0)
		return e;
	return append_rule(c, r);
}

int net_nft_loss_batch(const struct net_nft_loss *loss, struct net_nft_batch *b)
{
	if (loss->per10k > 10000 || loss->n_from > NET_NFT_MAX_FROM)
		return -EINVAL;
	return table_batch(b, NET_NFT_TABLE, loss->from, loss->n_from, add_loss_rule,
			   &loss->per10k);
}

static int del_table(struct net_nft_batch *b, const char *table)
{
	struct cursor c;
	int r;

	if ((r = begin(&c, b)) < 0 || (r = add_table(&c, table, NFT_MSG_DELTABLE, 0)) < 0 ||
	    (r = end(&c)) < 0)
		net_nft_batch_release(b);
	return r;
}

int net_nft_del_batch(struct net_nft_batch *b)
{
	return del_table(b, NET_NFT_TABLE);
}

/* The delay queue's table (delay_rule.h). */

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

/* Packets not from lo [from one source] go to the NFQUEUE queue (arg: the uint16_t). */
static int add_delay_rule(struct cursor *c, const uint32_t *from, const void *arg)
{
	_cleanup_(nftnl_rule_freep) struct nftnl_rule *r = new_rule(NET_DELAY_TABLE);
	int e;

	if (!r)
		return -ENOMEM;
	if ((e = not_lo(r)) < 0 || (from && (e = saddr(r, *from)) < 0) ||
	    (e = nfqueue(r, *(const uint16_t *)arg)) < 0)
		return e;
	return append_rule(c, r);
}

int net_delay_rule_batch(uint16_t queue, const uint32_t *from, size_t n_from,
			 struct net_nft_batch *b)
{
	if (n_from > NET_NFT_MAX_FROM || (n_from && !from))
		return -EINVAL;
	return table_batch(b, NET_DELAY_TABLE, from, n_from, add_delay_rule, &queue);
}

/* A rule at the head of the chain that accepts every packet, so none is queued after it:
 * NEWRULE without NLM_F_APPEND and without a position inserts first. */
int net_delay_rule_open_batch(struct net_nft_batch *b)
{
	static const uint16_t imm[] = { A(NFTNL_EXPR_IMM_DREG), A(NFTNL_EXPR_IMM_VERDICT), 0 };
	static const uint32_t immv[] = { NFT_REG_VERDICT, NF_ACCEPT };
	_cleanup_(nftnl_rule_freep) struct nftnl_rule *rule = new_rule(NET_DELAY_TABLE);
	struct cursor c;
	int r;

	if (!rule)
		return -ENOMEM;
	if ((r = begin(&c, b)) < 0)
		return r;
	if ((r = expr(rule, "immediate", imm, immv)) < 0 || (r = put_rule(&c, rule, 0)) < 0 ||
	    (r = end(&c)) < 0)
		net_nft_batch_release(b);
	return r;
}

int net_delay_rule_del_batch(struct net_nft_batch *b)
{
	return del_table(b, NET_DELAY_TABLE);
}

void net_nft_batch_release(struct net_nft_batch *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* Reads acks until every message is answered; stops early (draining what is queued) once
 * the kernel reported an error, since an aborted transaction acks nothing more. */
static int read_acks(int fd, unsigned want)
{
	char buf[16384] __attribute__((aligned(4)));
	int first = 0;

	while (want > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), first ? MSG_DONTWAIT : 0);
		int left = n > 0 ? (int)n : 0; /* int for NLMSG_OK/NEXT (see take()) */

		if (n < 0)
			return first ? first : errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			want--;
			if (e->error && !first)
				first = e->error;
		}
	}
	return first;
}

int net_nft_send(int fd, const struct net_nft_batch *b)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };

	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return read_acks(fd, b->acks);
}
