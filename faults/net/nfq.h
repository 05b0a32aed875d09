/* nfnetlink_queue spoken over a raw NETLINK_NETFILTER socket: the messages that bind a
 * queue, the verdicts, and the parse of the packets the kernel queues. Plain bytes: unit
 * tests check them without privileges; delay_queue.c sends them. No library: the protocol is
 * three message types and a handful of attributes, and libnetfilter_queue is not a
 * dependency of the project.
 *
 * Usage:
 *   struct net_nfq_msg m;
 *   net_nfq_bind_msg(queue, maxlen, &m);  send(fd, m.buf, m.len, 0);  // then read m.acks
 *   recv(fd, buf, ...);  for each nlmsg: net_nfq_parse(nlh, &pkt);     // 1: a packet
 *   net_nfq_verdict_msg(queue, pkt.id, NF_ACCEPT, &m);  send(fd, m.buf, m.len, 0);
 *   close(fd);                            // unbinds: the kernel forgets the queue
 */
#ifndef CHAOSDRILL_FAULTS_NET_NFQ_H
#define CHAOSDRILL_FAULTS_NET_NFQ_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

struct net_nfq_msg {
	char buf[256] __attribute__((aligned(4)));
	size_t len;
	unsigned acks; /* messages the kernel acknowledges */
};

/* Binds `queue` in the socket's netns to this socket (-EBUSY from the kernel if another
 * socket holds it), copies whole packets (up to 64 KiB) and allows maxlen packets queued;
 * three messages, each acked. */
int net_nfq_bind_msg(uint16_t queue, uint32_t maxlen, struct net_nfq_msg *m);
/* The verdict (NF_ACCEPT, NF_DROP) on packet id of queue; not acked. */
int net_nfq_verdict_msg(uint16_t queue, uint32_t id, uint32_t verdict, struct net_nfq_msg *m);

struct net_nfq_packet {
	uint16_t queue;
	uint32_t id;	      /* host order */
	uint16_t hw_protocol; /* network order, as the kernel sends it (0x0800: IPv4) */
	const void *payload;  /* the network header on: borrowed from the message */
	size_t len;
};

/* Reads one message of the kernel: 1 and *p for a queued packet, 0 for anything else
 * (an ack), -errno for an error message or a malformed packet. */
int net_nfq_parse(const struct nlmsghdr *nlh, struct net_nfq_packet *p);

#endif
