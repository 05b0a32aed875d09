/* Packet loss on a node's ingress as an nftables table, built with libnftnl: the one file
 * of faults/ that includes libnftnl headers; its errors become -errno here. Build, then
 * apply: the batch is plain bytes that unit tests inspect without privileges.
 *
 * Usage:
 *   struct net_nft_batch b;
 *   net_nft_loss_batch(&loss, &b);     // table ip chaosdrill_loss { chain input { ... } }
 *   fd = env->node_socket(h, node, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
 *   net_nft_send(fd, &b);              // one atomic transaction, every message acked
 *   net_nft_del_batch(&b); net_nft_send(fd, &b);    // heal: the table goes, nothing else
 *   net_nft_batch_release(&b);
 */
#ifndef CHAOSDRILL_FAULTS_NET_NFT_H
#define CHAOSDRILL_FAULTS_NET_NFT_H

#include <stddef.h>
#include <stdint.h>

#define NET_NFT_TABLE "chaosdrill_loss"
#define NET_NFT_MAX_FROM 64

struct net_nft_loss {
	uint32_t per10k;		 /* drop probability in 1/10000 (3000 = 30%) */
	size_t n_from;			 /* 0: every packet not from lo */
	uint32_t from[NET_NFT_MAX_FROM]; /* IPv4 source addresses, network byte order */
};

struct net_nft_batch {
	char *buf; /* owned */
	size_t len;
	unsigned acks; /* messages the kernel acknowledges */
};

/* The transaction creating the table (NLM_F_EXCL: -EEXIST if it is there already), its
 * input chain and the rules: [ip saddr == FROM |  meta iif != lo] numgen random mod 10000
 * < per10k drop. */
int net_nft_loss_batch(const struct net_nft_loss *loss, struct net_nft_batch *b);
/* The transaction deleting the table. */
int net_nft_del_batch(struct net_nft_batch *b);
void net_nft_batch_release(struct net_nft_batch *b);
/* Sends b over fd (a NETLINK_NETFILTER socket, borrowed) and waits (2 s at most) for its
 * acks; the first error of the transaction as -errno. */
int net_nft_send(int fd, const struct net_nft_batch *b);

#endif
