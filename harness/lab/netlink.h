/* The lab's rtnetlink requests, built with libnl-route as plain bytes (nl_batch.h) for the
 * holder processes to send from inside the namespaces they make: the one file of the lab that
 * talks to libnl. Every function returns >= 0 or -errno; libnl's -NLE_* codes never leave
 * netlink.c.
 *
 * Usage:
 *   struct nl_batch b;
 *   netlink_lab_batch(&lab, &b);   // the lab's holder sends it from the lab netns
 *   netlink_node_batch(&node, &b); // a node's holder sends it from the node's netns
 */
#ifndef CHAOSDRILL_HARNESS_NETLINK_H
#define CHAOSDRILL_HARNESS_NETLINK_H

#include <netinet/in.h>
#include <sys/types.h>

struct nl_batch;

/* Requests of netlink_lab_batch, in order. */
enum netlink_lab_req {
	NETLINK_LAB_LO_UP,  /* lo up */
	NETLINK_LAB_BRIDGE, /* the bridge, up */
	NETLINK_LAB_ADDR,   /* the bridge's address */
	NETLINK_LAB_REQS,
};

/* The lab's own netns. */
struct netlink_lab {
	const char *bridge;  /* its name */
	int bridge_ifindex;  /* chosen here, so nodes can name it before it exists */
	struct in_addr addr; /* the bridge's address */
	unsigned prefix;
};

/* Builds the requests that wire the lab netns from inside: lo up, the bridge (up) and its
 * address. */
int netlink_lab_batch(const struct netlink_lab *lab, struct nl_batch *b);

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
	const char *veth; /* lab-side end: created straight in the lab, up, in the bridge */
	pid_t lab_pid;	  /* a process in the lab's netns (its holder), as the sender sees it */
	int master;	  /* the bridge's ifindex in the lab */
	const char *peer; /* node-side end: created in the sender's netns */
	struct in_addr addr;
	unsigned prefix;
};

/* Builds the requests that wire a node from inside its netns, for the node's holder to send
 * right after it made the namespace (rtnetlink acts in the sender's netns): lo up; the veth
 * pair, neither end moved after creation; then, once the sender has filled in the peer's
 * ifindex (nl_batch_set_ifindex), the address and the peer up. */
int netlink_node_batch(const struct netlink_node *node, struct nl_batch *b);

#endif
