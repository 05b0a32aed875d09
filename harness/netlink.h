/* Lab wiring over rtnetlink: the one file that talks to libnl-route (bridge, veth pairs
 * created straight into a node's network namespace, addresses, link state). Every function
 * returns >= 0 or -errno; libnl's -NLE_* codes never leave netlink.c.
 *
 * Usage:
 *   struct netlink *nl;
 *   netlink_open(lab_netns_fd, &nl);               // socket bound to that netns
 *   netlink_bridge_add(nl, "br0", &br);            // created up
 *   netlink_veth_add(nl, "vn0", br, "eth0", node_netns_fd);
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
/* Creates a veth pair in one request: `name` in nl's namespace, enslaved to master (0: none)
 * and up; `peer` created directly inside peer_netns_fd (borrowed), down (the kernel cannot
 * open a veth end before the pair exists: set it up from its namespace). */
int netlink_veth_add(struct netlink *nl, const char *name, int master, const char *peer,
		     int peer_netns_fd);
/* Adds an IPv4 address addr/prefix to a link. */
int netlink_addr4_add(struct netlink *nl, int ifindex, struct in_addr addr, unsigned prefix);
/* Translates a libnl error (negative or positive NLE_*) to a negative errno. */
int netlink_errno(int nle);

DEFINE_CLEANUP_FUNC(struct netlink, netlink_close)
#define _cleanup_netlink_ _cleanup_(netlink_closep)

#endif
