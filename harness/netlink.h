/* Lab wiring over rtnetlink: the one file that talks to libnl-route (bridge, addresses,
 * link state, and the requests that wire a node from inside its own namespace). Every
 * function returns >= 0 or -errno; libnl's -NLE_* codes never leave netlink.c.
 *
 * Usage:
 *   struct netlink *nl;
 *   netlink_open(lab_netns_fd, &nl);               // socket bound to that netns
 *   netlink_bridge_add(nl, "br0", &br);            // created up
 *   netlink_addr4_add(nl, br, addr, 16);
 *   netlink_node_batch(&node, &batch);             // a node's wiring, sent by its holder
 *   netlink_close(nl);
 */
#ifndef CHAOSDRILL_HARNESS_NETLINK_H
#define CHAOSDRILL_HARNESS_NETLINK_H

#include <netinet/in.h>

#include "common/cleanup.h"

struct netlink;

/* Opens an rtnetlink socket inside the network namespace netns_fd (borrowed; -1: the
 * calling thread's own). The socket stays bound to that namespace. Caller frees. */
int netlink_open(int netns_fd, struct netlink **out);
void netlink_close(struct netlink *nl);

/* Sets IFF_UP on a link. */
int netlink_link_up(struct netlink *nl, int ifindex);
/* ifindex of a link by name; -ENODEV when there is none. */
int netlink_link_index(struct netlink *nl, const char *name, int *ifindex);
/* Creates a bridge, up, and returns its ifindex. */
int netlink_bridge_add(struct netlink *nl, const char *name, int *ifindex);
/* Adds an IPv4 address addr/prefix to a link. */
int netlink_addr4_add(struct netlink *nl, int ifindex, struct in_addr addr, unsigned prefix);

struct nl_batch;

/* Requests of netlink_node_batch, in order. */
enum netlink_node_req {
	NETLINK_NODE_LO_UP,   /* lo up */
	NETLINK_NODE_VETH,    /* the veth pair */
	NETLINK_NODE_ADDR,    /* the node's address on the peer: ifindex to fill in */
	NETLINK_NODE_PEER_UP, /* the peer up: ifindex to fill in */
	NETLINK_NODE_REQS,
};

/* A node's network as seen from inside its own network namespace. */
struct netlink_node {
	const char *veth;  /* lab-side end: created straight in the lab, up, in the bridge */
	int lab_netns_fd;  /* the lab's netns, as an fd number valid in the sender */
	int master;	   /* the bridge's ifindex in the lab */
	const char *peer;  /* node-side end: created in the sender's netns */
	struct in_addr addr;
	unsigned prefix;
};

/* Builds the requests that wire a node from inside its netns, for the node's holder to send
 * right after it made the namespace (rtnetlink acts in the sender's netns): lo up; the veth
 * pair, neither end moved after creation; then, once the sender has filled in the peer's
 * ifindex (nl_batch_set_ifindex), the address and the peer up. */
int netlink_node_batch(const struct netlink_node *node, struct nl_batch *b);
/* Translates a libnl error (negative or positive NLE_*) to a negative errno. */
int netlink_errno(int nle);

DEFINE_CLEANUP_FUNC(struct netlink, netlink_close)
#define _cleanup_netlink_ _cleanup_(netlink_closep)

#endif
