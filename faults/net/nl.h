/* Drop routes inside a node's network namespace over rtnetlink, through libnl-route: the one
 * file of faults/ that includes libnl headers; libnl's -NLE_* codes become -errno here.
 *
 * Usage:
 *   fd = env->node_socket(h, node, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
 *   net_nl_open(fd, &nl);          // takes ownership of fd, even on failure
 *   net_nl_drop_add(nl, addr);     // "unreachable ADDR/32 proto 205" in the main table
 *   net_nl_drop_del(nl, addr);     // removes exactly that route
 *   net_nl_close(nl);
 */
#ifndef CHAOSDRILL_FAULTS_NET_NL_H
#define CHAOSDRILL_FAULTS_NET_NL_H

#include <stdint.h>

#include "common/cleanup.h"

/* rtm_protocol of the routes chaosdrill adds (205 = 0xcd): `ip route` shows "proto 205". */
#define NET_NL_PROTO 205

struct net_nl;

int net_nl_open(int fd, struct net_nl **out);
void net_nl_close(struct net_nl *nl);
DEFINE_CLEANUP_FUNC(struct net_nl, net_nl_close)
#define _cleanup_net_nl_ _cleanup_(net_nl_closep)

/* Adds an unreachable /32 route for addr (IPv4, network byte order); -EEXIST if the node
 * already has a route with that key (nothing is replaced, so heal can restore exactly). */
int net_nl_drop_add(struct net_nl *nl, uint32_t addr);
/* Deletes the route net_nl_drop_add made; -ESRCH if it is gone (the kernel's answer, as
 * `ip route del` prints it: "No such process"). */
int net_nl_drop_del(struct net_nl *nl, uint32_t addr);

#endif
