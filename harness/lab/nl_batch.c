/* Netlink requests as plain bytes, sent from a forked child: see nl_batch.h. No libnl, no
 * allocation: the child that sends may be a fork of a multi-threaded harness. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "harness/lab/nl_batch.h"

void nl_batch_init(struct nl_batch *b)
{
	b->len = 0;
	b->n = 0;
}

int nl_batch_add(struct nl_batch *b, const struct nlmsghdr *msg)
{
	struct nlmsghdr *h;

	if (msg->nlmsg_len < NLMSG_HDRLEN)
		return -EINVAL;
	if (b->n == NL_BATCH_MSGS || NLMSG_ALIGN(msg->nlmsg_len) > sizeof(b->buf) - b->len)
		return -ENOSPC;
	h = (struct nlmsghdr *)(b->buf + b->len);
	memcpy(h, msg, msg->nlmsg_len);
	memset((uint8_t *)h + msg->nlmsg_len, 0, NLMSG_ALIGN(msg->nlmsg_len) - msg->nlmsg_len);
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = b->n + 1;
	h->nlmsg_pid = 0;
	b->off[b->n++] = (uint32_t)b->len;
	b->len += NLMSG_ALIGN(msg->nlmsg_len);
	return 0;
}

int nl_batch_set_ifindex(struct nl_batch *b, unsigned i, int ifindex)
{
	struct nlmsghdr *h;
	int32_t v = ifindex;

	if (i >= b->n)
		return -EINVAL;
	h = (struct nlmsghdr *)(b->buf + b->off[i]);
	if (h->nlmsg_type < RTM_NEWLINK || h->nlmsg_type > RTM_GETADDR ||
	    h->nlmsg_len < NLMSG_HDRLEN + 8)
		return -EINVAL;
	/* ifinfomsg.ifi_index and ifaddrmsg.ifa_index both sit at byte 4. */
	memcpy((uint8_t *)NLMSG_DATA(h) + 4, &v, sizeof(v));
	return 0;
}

int nl_batch_acks(const struct nl_batch *b, const void *buf, size_t len, uint32_t *acked, int *err,
		  unsigned *failed)
{
	const uint8_t *p = buf;

	while (len > 0) {
		struct nlmsghdr h;
		int32_t error;
		size_t step;

		if (len < NLMSG_HDRLEN)
			return -EBADMSG;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return -EBADMSG;
		if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_seq >= 1 && h.nlmsg_seq <= b->n) {
			if (h.nlmsg_len < NLMSG_LENGTH(sizeof(error)))
				return -EBADMSG;
			memcpy(&error, p + NLMSG_HDRLEN, sizeof(error));
			*acked |= 1U << (h.nlmsg_seq - 1);
			if (error < 0 && *err == 0) {
				*err = error;
				*failed = h.nlmsg_seq - 1;
			}
		}
		step = NLMSG_ALIGN(h.nlmsg_len) < len ? NLMSG_ALIGN(h.nlmsg_len) : len;
		p += step;
		len -= step;
	}
	return 0;
}

int nl_batch_send(int fd, const struct nl_batch *b, unsigned from, unsigned to, unsigned *failed)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t acks[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	uint32_t want = 0, acked = 0;
	size_t end;
	ssize_t n;
	int err = 0, r;

	*failed = from;
	if (from >= to || to > b->n)
		return -EINVAL;
	end = to == b->n ? b->len : b->off[to];
	for (unsigned i = from; i < to; i++)
		want |= 1U << i;
	while (sendto(fd, b->buf + b->off[from], end - b->off[from], 0, (struct sockaddr *)&kernel,
		      sizeof(kernel)) < 0)
		if (errno != EINTR)
			return -errno;
	/* rtnetlink handles the requests inside sendto: the acks are queued already. */
	while ((acked & want) != want) {
		n = recv(fd, acks, sizeof(acks), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r = nl_batch_acks(b, acks, (size_t)n, &acked, &err, failed);
		if (r < 0)
			return r;
	}
	return err;
}
