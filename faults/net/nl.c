/* Drop routes inside a node's network namespace through libnl-route (nl.h). */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "common/libnl_errno.h"
#include "faults/net/nl.h"

struct net_nl {
	struct nl_sock *sk;
};

DEFINE_CLEANUP_FUNC(struct rtnl_route, rtnl_route_put)
DEFINE_CLEANUP_FUNC(struct nl_addr, nl_addr_put)
#define _cleanup_route_ _cleanup_(rtnl_route_putp)
#define _cleanup_nladdr_ _cleanup_(nl_addr_putp)

int net_nl_open(int fd, struct net_nl **out)
{
	_cleanup_close_ int sfd = fd;
	_cleanup_free_ struct net_nl *nl = NULL;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int r;

	if (sfd < 0)
		return sfd;
	/* Bind first so libnl learns the kernel-assigned port from getsockname. */
	if (bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (!(nl = calloc(1, sizeof(*nl))) || !(nl->sk = nl_socket_alloc()))
		return -ENOMEM;
	r = nl_socket_set_fd(nl->sk, NETLINK_ROUTE, sfd);
	if (r < 0) {
		nl_socket_free(nl->sk);
		return libnl_errno(r);
	}
	TAKE_FD(sfd); /* the nl_sock closes it now */
	*out = TAKE_PTR(nl);
	return 0;
}

void net_nl_close(struct net_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

/* The route both add and delete name: every key field set, so delete matches only it. */
static int drop_route(uint32_t addr, struct rtnl_route **out)
{
	_cleanup_route_ struct rtnl_route *rt = rtnl_route_alloc();
	_cleanup_nladdr_ struct nl_addr *dst = NULL;
	int r;

	if (!rt || !(dst = nl_addr_build(AF_INET, &addr, sizeof(addr))))
		return -ENOMEM;
	nl_addr_set_prefixlen(dst, 32);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNREACHABLE);
	rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	rtnl_route_set_protocol(rt, NET_NL_PROTO);
	if ((r = rtnl_route_set_dst(rt, dst)) < 0)
		return libnl_errno(r);
	*out = TAKE_PTR(rt);
	return 0;
}

int net_nl_drop_add(struct net_nl *nl, uint32_t addr)
{
	_cleanup_route_ struct rtnl_route *rt = NULL;
	int r = drop_route(addr, &rt);

	if (r < 0)
		return r;
	/* NLM_F_EXCL: never replace a route someone else made, or heal could not restore it. */
	return libnl_errno(rtnl_route_add(nl->sk, rt, NLM_F_EXCL));
}

int net_nl_drop_del(struct net_nl *nl, uint32_t addr)
{
	_cleanup_route_ struct rtnl_route *rt = NULL;
	int r = drop_route(addr, &rt);

	if (r < 0)
		return r;
	return libnl_errno(rtnl_route_delete(nl->sk, rt, 0));
}
