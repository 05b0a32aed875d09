/* The rule that hands a node's ingress to the delay queue (delay_queue.h), as an nftables
 * table built with libnftnl: table ip chaosdrill_delay, an input chain, and per sender
 *   meta iif != lo [ip saddr FROM] target NFQUEUE rev 3 {queuenum, queues_total 1}
 * The verdict is the xtables NFQUEUE target run by nft_compat, which is what `iptables-nft
 * -j NFQUEUE` installs: kernels built without the native nft `queue` expression
 * (CONFIG_NFT_QUEUE) still have it (CONFIG_NFT_COMPAT + xt_NFQUEUE), and both give the same
 * nf_queue() call. No bypass flag: with no engine bound the packets drop, never pass
 * undelayed. lo is never queued, so the engine's duplicates (sent over lo) pass once.
 *
 * Usage (as nft.h, whose transport it shares):
 *   net_delay_rule_batch(queue, from, n_from, &b);   net_nft_send(fd, &b);   // -EEXIST
 *   net_delay_rule_open_batch(&b);                  net_nft_send(fd, &b);   // heal:
 *   ... let every held packet go (net_delay_flush) ...
 *   net_delay_rule_del_batch(&b);                   net_nft_send(fd, &b);
 *   net_nft_batch_release(&b);
 */
#ifndef CHAOSDRILL_FAULTS_NET_DELAY_RULE_H
#define CHAOSDRILL_FAULTS_NET_DELAY_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "faults/net/nft.h"

#define NET_DELAY_TABLE "chaosdrill_delay"

/* The table with its chain and rules (NLM_F_EXCL: -EEXIST if a delay is in force); from
 * (IPv4, network order) may be NULL when n_from is 0: every packet not from lo. */
int net_delay_rule_batch(uint16_t queue, const uint32_t *from, size_t n_from,
			 struct net_nft_batch *b);
/* Opens the way before the table goes: an accept rule ahead of the queue's, so that no packet
 * is queued any more. Deleting the table drops every packet still held in the kernel's
 * queue (nf_queue_nf_hook_drop), so the heal first opens, then lets the held ones go, then
 * deletes. */
int net_delay_rule_open_batch(struct net_nft_batch *b);
/* Deletes the table: the node's ruleset is as before. */
int net_delay_rule_del_batch(struct net_nft_batch *b);

#endif
