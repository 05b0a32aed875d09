/* The lab's rtnetlink requests, built with libnl-route: see netlink.h. The only file of the
 * lab that includes libnl headers; libnl's -NLE_* codes become -errno here
 * (common/libnl_errno.h). */
#include <errno.h>
#include <net/if.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "common/cleanup.h"
#include "common/libnl_errno.h"
#include "harness/lab/netlink.h"
#include "harness/lab/nl_batch.h"

DEFINE_CLEANUP_FUNC(struct rtnl_link, rtnl_link_put)
DEFINE_CLEANUP_FUNC(struct rtnl_addr, rtnl_addr_put)
DEFINE_CLEANUP_FUNC(struct nl_addr, nl_addr_put)
#define _cleanup_link_ _cleanup_(rtnl_link_putp)
#define _cleanup_addr_ _cleanup_(rtnl_addr_putp)
#define _cleanup_nladdr_ _cleanup_(nl_addr_putp)

/* A veth pair: `name` up in the bridge master (0: none); `peer` down (the kernel opens the
 * peer before the pair is linked: ENOTCONN), with one queue each way. */
static int veth_link(const char *name, int master, const char *peer, struct rtnl_link **out)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_veth_alloc();
	struct rtnl_link *p;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	if (master > 0)
		rtnl_link_set_master(link, master);
	rtnl_link_set_flags(link, IFF_UP);
	p = rtnl_link_veth_get_peer(link); /* borrowed from link */
	rtnl_link_set_name(p, peer);
	/* One queue each way at creation, as the veth ends up anyway: left to the default (one
	 * per CPU), the kernel trims each end to one queue after registering it, and each trim
	 * waits for an expedited RCU grace period while holding RTNL (0.1-0.4 ms per veth). */
	rtnl_link_set_num_tx_queues(link, 1);
	rtnl_link_set_num_rx_queues(link, 1);
	rtnl_link_set_num_tx_queues(p, 1);
	rtnl_link_set_num_rx_queues(p, 1);
	rtnl_link_put(p);
	*out = TAKE_PTR(link);
	return 0;
}

static int addr4(int ifindex, struct in_addr addr, unsigned prefix, struct rtnl_addr **out)
{
	_cleanup_addr_ struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = NULL;
	int r;

	if (!a)
		return -ENOMEM;
	local = nl_addr_build(AF_INET, &addr, sizeof(addr));
	if (!local)
		return -ENOMEM;
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, AF_INET);
	r = rtnl_addr_set_local(a, local);
	if (r < 0)
		return libnl_errno(r);
	*out = TAKE_PTR(a);
	return 0;
}

/* Appends the message libnl built (r: the build's result) to b and frees it. */
static int take_msg(struct nl_batch *b, int r, struct nl_msg *msg)
{
	if (r < 0)
		return libnl_errno(r);
	r = nl_batch_add(b, nlmsg_hdr(msg));
	nlmsg_free(msg);
	return r;
}

static int link_up_msg(int ifindex, struct nl_batch *b)
{
	_cleanup_link_ struct rtnl_link *old = rtnl_link_alloc();
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	int r;

	if (!old || !chg)
		return -ENOMEM;
	rtnl_link_set_ifindex(old, ifindex);
	rtnl_link_set_flags(chg, IFF_UP);
	r = rtnl_link_build_change_request(old, chg, 0, &msg);
	return take_msg(b, r, msg);
}

int netlink_lab_batch(const struct netlink_lab *lab, struct nl_batch *b)
{
	_cleanup_link_ struct rtnl_link *br = rtnl_link_alloc();
	_cleanup_addr_ struct rtnl_addr *a = NULL;
	struct nl_msg *msg = NULL;
	int r;

	if (!br)
		return -ENOMEM;
	nl_batch_init(b);
	r = link_up_msg(1, b);
	if (r < 0)
		return r;
	r = rtnl_link_set_type(br, "bridge");
	if (r < 0)
		return libnl_errno(r);
	rtnl_link_set_name(br, lab->bridge);
	rtnl_link_set_ifindex(br, lab->bridge_ifindex);
	rtnl_link_set_flags(br, IFF_UP);
	r = rtnl_link_build_add_request(br, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if ((r = take_msg(b, r, msg)) >= 0)
		r = addr4(lab->bridge_ifindex, lab->addr, lab->prefix, &a);
	if (r < 0)
		return r;
	r = rtnl_addr_build_add_request(a, NLM_F_CREATE | NLM_F_EXCL, &msg);
	return take_msg(b, r, msg);
}

int netlink_node_batch(const struct netlink_node *node, struct nl_batch *b)
{
	_cleanup_link_ struct rtnl_link *veth = NULL;
	_cleanup_addr_ struct rtnl_addr *a = NULL;
	struct nl_msg *msg = NULL;
	int r;

	nl_batch_init(b);
	r = link_up_msg(1, b); /* lo is always ifindex 1 */
	if (r >= 0)
		r = veth_link(node->veth, node->master, node->peer, &veth);
	if (r < 0)
		return r;
	/* The veth's own end goes straight into the lab; the peer, given no namespace, is
	 * created in the sender's: the node's. */
	rtnl_link_set_ns_pid(veth, node->lab_pid);
	r = rtnl_link_build_add_request(veth, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if ((r = take_msg(b, r, msg)) >= 0)
		r = addr4(0, node->addr, node->prefix, &a); /* ifindex: the sender's to fill in */
	if (r < 0)
		return r;
	r = rtnl_addr_build_add_request(a, NLM_F_CREATE | NLM_F_EXCL, &msg);
	if ((r = take_msg(b, r, msg)) < 0)
		return r;
	return link_up_msg(0, b);
}
