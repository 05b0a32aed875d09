/* The delay queue: a harness-run engine that holds the packets an NFQUEUE rule hands it
 * (delay_rule.h) and lets each one go at its due time, so the node receives them late
 * (mean +- jitter), some twice (duplicate) and some ahead of the others (reorder). It is
 * netem's job done in user space for kernels without sch_netem. It never logs, forks or
 * sleeps: like the seccomp supervisor, it runs from the harness's event loop.
 *
 * Usage (harness event loop):
 *   struct net_delay *q;
 *   nfq = env->node_socket(h, node, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
 *   raw = env->node_socket(h, node, AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW); // dups
 *   net_delay_new(nfq, raw, NET_DELAY_QUEUE, &spec, &q);  // binds the queue in the netns
 *   ... install the rule that queues the node's ingress (delay_rule.h) ...
 *   poll net_delay_fd(q) for POLLIN with net_delay_timeout_ms(q) as timeout;
 *   on POLLIN or timeout:  net_delay_handle(q);   // takes packets, lets the due ones go
 *   ... delete the rule ...
 *   net_delay_free(q);     // lets every held packet go now, then unbinds
 *
 * Verdicts: NF_ACCEPT at the due time, in due order (nfnetlink_queue takes verdicts in any
 * order). With a rate, a packet is due once the link has sent every packet before it
 * (len * 8 / rate each), plus its delay; one that would wait more than queue_ns for the
 * link gets NF_DROP at once, as a full router buffer drops. A duplicate is the packet's bytes sent again, after its original, through a raw
 * IPv4 socket in the node's netns to the node's own address: it arrives over lo, which the
 * rule does not queue, so a copy is never delayed or copied again. NF_REPEAT cannot copy:
 * it runs the same skb through the hook again.
 */
#ifndef CHAOSDRILL_FAULTS_NET_DELAY_H
#define CHAOSDRILL_FAULTS_NET_DELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cleanup.h"

/* The queue number the delay fault uses in a node's netns (queues are per netns). */
#define NET_DELAY_QUEUE 205
/* Packets held at most; beyond, the kernel drops (as netem's limit does). */
#define NET_DELAY_MAXLEN 8192

/* Delay draws kept for replay (net_delay_stats.first_us). */
#define NET_DELAY_DRAWS_KEPT 24

struct net_delay_spec {
	int64_t mean_ns; /* each packet waits mean +- jitter, uniform, never < 0 */
	int64_t jitter_ns;
	uint32_t duplicate_per10k; /* this share is delivered twice */
	uint32_t reorder_per10k;   /* this share goes at once, ahead of the held ones */
	uint64_t rate_bps;	   /* 0, or a link of that many bits/s: each packet waits for
				    * the ones before it to be sent (netem's `rate`) */
	int64_t queue_ns;	   /* with rate: a packet that would wait longer than this
				    * for the link is dropped (a tail-drop buffer) */
	uint64_t seed;		   /* same seed, same packets: same draws */
};

struct net_delay_stats {
	uint64_t queued, accepted, duplicated, reordered;
	uint64_t dropped;    /* over the rate's queue */
	uint64_t overruns;   /* the socket's buffer overflowed: the kernel dropped packets */
	uint64_t dup_failed; /* copies the raw socket refused */
	/* Every packet's draws, for replay: how many packets drew, and the first delays
	 * drawn (microseconds, in arrival order); the same seed draws the same sequence, how
	 * many packets arrive depends on timing. */
	uint64_t draws;
	int64_t first_us[NET_DELAY_DRAWS_KEPT];
};

struct net_delay;

/* Takes ownership of nfq_fd (NETLINK_NETFILTER) and dup_fd (raw IPv4, -1 when
 * duplicate_per10k is 0), even on failure. Binds queue and waits (1 s at most) for the
 * kernel's acks: -EBUSY if the queue is bound already, -EPROTONOSUPPORT/-EINVAL/-ENOENT
 * without nfnetlink_queue. Caller frees with net_delay_free. */
int net_delay_new(int nfq_fd, int dup_fd, uint16_t queue, const struct net_delay_spec *spec,
		  struct net_delay **out);
/* Lets every held packet go now, closes the sockets (the kernel unbinds). Accepts NULL. */
void net_delay_free(struct net_delay *q);
DEFINE_CLEANUP_FUNC(struct net_delay, net_delay_free)

/* The fd to poll for POLLIN (borrowed). */
int net_delay_fd(const struct net_delay *q);
/* Milliseconds until the next packet is due (rounded up), 0 if one is due, -1 if none is
 * held. net_delay_next_ns: the due time itself (monotonic ns), INT64_MAX if none. */
int net_delay_timeout_ms(const struct net_delay *q);
int64_t net_delay_next_ns(const struct net_delay *q);
/* Takes what the kernel queued and lets the due packets go. Returns the verdicts issued
 * (>= 0) or -errno (the socket failed: the queue is useless, free it). */
int net_delay_handle(struct net_delay *q);
/* Lets every held packet go now; returns how many. */
int net_delay_flush(struct net_delay *q);
void net_delay_stats(const struct net_delay *q, struct net_delay_stats *out);
/* Tests: the clock the engine reads (default CLOCK_MONOTONIC ns). */
void net_delay_set_clock(struct net_delay *q, int64_t (*now)(void *ud), void *ud);

#endif
