/* Netlink requests as plain bytes: built in the harness (netlink.c fills them with libnl),
 * sent later by a child between clone and its end (a node's holder), where libnl cannot run:
 * nothing here allocates, and sending is async-signal-safe. Unit tests read the bytes.
 *
 * Usage:
 *   struct nl_batch b;
 *   nl_batch_init(&b);
 *   nl_batch_add(&b, nlmsg_hdr(msg));           // request 0: a copy, seq 1, acked
 *   nl_batch_add(&b, nlmsg_hdr(msg2));          // request 1: seq 2
 *   ... fork ...
 *   nl_batch_set_ifindex(&b, 1, ifindex);       // filled in once known (in the child)
 *   nl_batch_send(fd, &b, 0, 2, &failed);       // one sendmsg, then every ack read
 */
#ifndef CHAOSDRILL_HARNESS_NL_BATCH_H
#define CHAOSDRILL_HARNESS_NL_BATCH_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#define NL_BATCH_MAX 1024 /* bytes */
#define NL_BATCH_MSGS 8

struct nl_batch {
	size_t len;		     /* bytes of buf in use */
	unsigned n;		     /* requests */
	uint32_t off[NL_BATCH_MSGS]; /* where request i starts in buf */
	uint8_t buf[NL_BATCH_MAX] __attribute__((aligned(NLMSG_ALIGNTO)));
};

void nl_batch_init(struct nl_batch *b);
/* Appends a copy of msg (borrowed; nlmsg_len bytes) as request b->n, with NLM_F_REQUEST and
 * NLM_F_ACK added and sequence number b->n + 1. -ENOSPC when b is full, -EINVAL on a
 * message shorter than its header. */
int nl_batch_add(struct nl_batch *b, const struct nlmsghdr *msg);
/* The interface index of request i, an ifinfomsg (RTM_*LINK) or ifaddrmsg (RTM_*ADDR)
 * request: both keep it 4 bytes into their header. -EINVAL for another request type. */
int nl_batch_set_ifindex(struct nl_batch *b, unsigned i, int ifindex);
/* Reads the acks in buf (len bytes, as received): sets bit i of *acked for each ack of a
 * request i of b, and keeps the first failure, its -errno in *err and index in *failed,
 * while *err is 0. Other messages are skipped. -EBADMSG if buf is not a sequence of
 * netlink messages. */
int nl_batch_acks(const struct nl_batch *b, const void *buf, size_t len, uint32_t *acked, int *err,
		  unsigned *failed);
/* Sends requests [from, to) of b in one sendmsg on fd (NETLINK_ROUTE, borrowed) and reads
 * until each is acked. 0, or the first failure's -errno with *failed = its index (from when
 * the send itself failed). Async-signal-safe. */
int nl_batch_send(int fd, const struct nl_batch *b, unsigned from, unsigned to, unsigned *failed);

#endif
