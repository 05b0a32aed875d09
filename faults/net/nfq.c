/* nfnetlink_queue messages as bytes (nfq.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "faults/net/nfq.h"

#define NFQ_TYPE(msg) ((uint16_t)((NFNL_SUBSYS_QUEUE << 8) | (msg)))

static struct nlmsghdr *put_msg(struct net_nfq_msg *m, uint8_t type, uint16_t flags, uint8_t family,
				uint16_t queue)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(m->buf + m->len);
	struct nfgenmsg *g;

	if (m->len + NLMSG_SPACE(sizeof(*g)) > sizeof(m->buf))
		return NULL;
	memset(nlh, 0, NLMSG_SPACE(sizeof(*g)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*g));
	nlh->nlmsg_type = NFQ_TYPE(type);
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = (uint32_t)m->len + 1;
	g = NLMSG_DATA(nlh);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(queue);
	if (flags & NLM_F_ACK)
		m->acks++;
	return nlh;
}

static int put_attr(struct net_nfq_msg *m, struct nlmsghdr *nlh, uint16_t type, const void *data,
		    size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	if ((char *)a + NLA_ALIGN(NLA_HDRLEN + len) > m->buf + sizeof(m->buf))
		return -E2BIG;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
	return 0;
}

static void done(struct net_nfq_msg *m, struct nlmsghdr *nlh)
{
	m->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int config(struct net_nfq_msg *m, uint16_t queue, uint16_t type, const void *data,
		  size_t len)
{
	struct nlmsghdr *nlh = put_msg(m, NFQNL_MSG_CONFIG, NLM_F_ACK, AF_UNSPEC, queue);
	int r;

	if (!nlh)
		return -E2BIG;
	if ((r = put_attr(m, nlh, type, data, len)) < 0)
		return r;
	done(m, nlh);
	return 0;
}

int net_nfq_bind_msg(uint16_t queue, uint32_t maxlen, struct net_nfq_msg *m)
{
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	struct nfqnl_msg_config_params params = { .copy_range = htonl(0xffff),
						  .copy_mode = NFQNL_COPY_PACKET };
	uint32_t len = htonl(maxlen);
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = config(m, queue, NFQA_CFG_CMD, &cmd, sizeof(cmd))) < 0 ||
	    (r = config(m, queue, NFQA_CFG_PARAMS, &params, sizeof(params))) < 0)
		return r;
	return config(m, queue, NFQA_CFG_QUEUE_MAXLEN, &len, sizeof(len));
}

int net_nfq_verdict_msg(uint16_t queue, uint32_t id, uint32_t verdict, struct net_nfq_msg *m)
{
	struct nfqnl_msg_verdict_hdr v = { .verdict = htonl(verdict), .id = htonl(id) };
	struct nlmsghdr *nlh;
	int r;

	memset(m, 0, sizeof(*m));
	if (!(nlh = put_msg(m, NFQNL_MSG_VERDICT, 0, AF_UNSPEC, queue)))
		return -E2BIG;
	if ((r = put_attr(m, nlh, NFQA_VERDICT_HDR, &v, sizeof(v))) < 0)
		return r;
	done(m, nlh);
	return 0;
}

int net_nfq_parse(const struct nlmsghdr *nlh, struct net_nfq_packet *p)
{
	const struct nfgenmsg *g = NLMSG_DATA(nlh);
	const struct nlattr *a = (const struct nlattr *)((const char *)g + NLMSG_ALIGN(sizeof(*g)));
	size_t left = nlh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));
	bool have_hdr = false;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);

		return nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? -EBADMSG : e->error;
	}
	if (nlh->nlmsg_type != NFQ_TYPE(NFQNL_MSG_PACKET))
		return 0;
	if (nlh->nlmsg_len < NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g))))
		return -EBADMSG;
	memset(p, 0, sizeof(*p));
	p->queue = ntohs(g->res_id);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		const void *d = (const char *)a + NLA_HDRLEN;
		size_t n = a->nla_len - NLA_HDRLEN, step = NLA_ALIGN(a->nla_len);

		if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR &&
		    n >= sizeof(struct nfqnl_msg_packet_hdr)) {
			const struct nfqnl_msg_packet_hdr *h = d;

			p->id = ntohl(h->packet_id);
			p->hw_protocol = h->hw_protocol;
			have_hdr = true;
		} else if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PAYLOAD) {
			p->payload = d;
			p->len = n;
		}
		left -= step < left ? step : left;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return have_hdr ? 1 : -EBADMSG;
}
