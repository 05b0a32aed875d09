/* Unit tests of the lab's netlink requests as plain bytes: the batch (copies, sequence
 * numbers, flags, alignment, the ifindex a holder fills in, reading acks) and the requests
 * that wire the lab and a node, read back attribute by attribute. Nothing reaches the
 * kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "harness/lab/netlink.h"
#include "harness/lab/nl_batch.h"

/* A request of `len` bytes (header included), its payload bytes set to `fill`. */
static struct nlmsghdr *req(void *buf, uint16_t type, uint16_t flags, uint32_t len, int fill)
{
	struct nlmsghdr *h = buf;

	memset(buf, fill, len);
	*h = (struct nlmsghdr){ .nlmsg_len = len,
				.nlmsg_type = type,
				.nlmsg_flags = flags,
				.nlmsg_seq = 77,
				.nlmsg_pid = 1234 };
	return h;
}

static const struct nlmsghdr *at(const struct nl_batch *b, unsigned i)
{
	return (const struct nlmsghdr *)(b->buf + b->off[i]);
}

static void test_add(void **state)
{
	uint8_t m1[64], m2[64];
	struct nl_batch b;

	nl_batch_init(&b);
	assert_int_equal(nl_batch_add(&b, req(m1, RTM_NEWLINK, NLM_F_CREATE, 32, 0xaa)), 0);
	/* 21 bytes: padded with zeros to 24, the next request starts aligned */
	assert_int_equal(nl_batch_add(&b, req(m2, RTM_NEWADDR, 0, 21, 0xbb)), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.off[0], 0);
	assert_int_equal(b.off[1], 32);
	assert_int_equal(b.len, 32 + 24);
	assert_int_equal(at(&b, 0)->nlmsg_flags, NLM_F_CREATE | NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(at(&b, 1)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(at(&b, 0)->nlmsg_seq, 1);
	assert_int_equal(at(&b, 1)->nlmsg_seq, 2);
	assert_int_equal(at(&b, 0)->nlmsg_pid, 0);
	assert_int_equal(at(&b, 1)->nlmsg_len, 21);
	assert_memory_equal(b.buf + 16, m1 + 16, 16);
	assert_memory_equal(b.buf + 48, m2 + 16, 5);
	assert_memory_equal(b.buf + 53, "\0\0\0", 3);
}

static void test_full(void **state)
{
	uint8_t m[NL_BATCH_MAX + 16];
	struct nl_batch b;
	unsigned i;

	nl_batch_init(&b);
	assert_int_equal(nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 8, 0)), -EINVAL);
	for (i = 0; i < NL_BATCH_MSGS; i++)
		assert_int_equal(nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 32, 0)), 0);
	assert_int_equal(nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 32, 0)), -ENOSPC);
	nl_batch_init(&b);
	assert_int_equal(nl_batch_add(&b, req(m, RTM_NEWLINK, 0, NL_BATCH_MAX - 8, 0)), 0);
	assert_int_equal(nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 16, 0)), -ENOSPC);
	assert_int_equal(nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 8 + 0, 0)), -EINVAL);
	assert_int_equal(b.n, 1);
}

static void test_set_ifindex(void **state)
{
	uint8_t m[64];
	struct nl_batch b;
	int32_t v;

	nl_batch_init(&b);
	nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 32, 0));
	nl_batch_add(&b, req(m, RTM_NEWADDR, 0, 24, 0));
	nl_batch_add(&b, req(m, RTM_NEWROUTE, 0, 28, 0));
	nl_batch_add(&b, req(m, RTM_NEWADDR, 0, 20, 0)); /* too short for an ifaddrmsg */
	assert_int_equal(nl_batch_set_ifindex(&b, 0, 7), 0);
	assert_int_equal(nl_batch_set_ifindex(&b, 1, 9), 0);
	memcpy(&v, b.buf + b.off[0] + 16 + 4, 4);
	assert_int_equal(v, 7);
	memcpy(&v, b.buf + b.off[1] + 16 + 4, 4);
	assert_int_equal(v, 9);
	assert_int_equal(b.buf[b.off[1] + 16], 0); /* the family before it untouched */
	assert_int_equal(nl_batch_set_ifindex(&b, 2, 7), -EINVAL);
	assert_int_equal(nl_batch_set_ifindex(&b, 3, 7), -EINVAL);
	assert_int_equal(nl_batch_set_ifindex(&b, 4, 7), -EINVAL);
}

/* Appends an ack for seq to buf at *len: error 0 or -errno, then the request's header. */
static void ack(uint8_t *buf, size_t *len, uint32_t seq, int error)
{
	struct nlmsghdr h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr)),
			      .nlmsg_type = NLMSG_ERROR,
			      .nlmsg_seq = seq };
	struct nlmsgerr e = { .error = error, .msg = { .nlmsg_len = 32, .nlmsg_seq = seq } };

	memcpy(buf + *len, &h, sizeof(h));
	memcpy(buf + *len + NLMSG_HDRLEN, &e, sizeof(e));
	*len += NLMSG_ALIGN(h.nlmsg_len);
}

static void test_acks(void **state)
{
	uint8_t m[64], buf[512] __attribute__((aligned(4)));
	struct nlmsghdr other = { .nlmsg_len = 20, .nlmsg_type = RTM_NEWLINK, .nlmsg_seq = 2 };
	struct nl_batch b;
	uint32_t acked = 0;
	size_t len = 0;
	unsigned failed = 99;
	int err = 0, i;

	nl_batch_init(&b);
	for (i = 0; i < 4; i++)
		nl_batch_add(&b, req(m, RTM_NEWLINK, 0, 32, 0));
	ack(buf, &len, 1, 0);
	memcpy(buf + len, &other, sizeof(other)); /* not an ack: skipped */
	len += NLMSG_ALIGN(other.nlmsg_len);
	ack(buf, &len, 3, -EEXIST);
	ack(buf, &len, 4, -ENODEV); /* a later failure: the first one is kept */
	ack(buf, &len, 42, -EPERM); /* not ours */
	assert_int_equal(nl_batch_acks(&b, buf, len, &acked, &err, &failed), 0);
	assert_int_equal(acked, 1U << 0 | 1U << 2 | 1U << 3);
	assert_int_equal(err, -EEXIST);
	assert_int_equal(failed, 2);
	/* the last ack, in a later read */
	len = 0;
	ack(buf, &len, 2, 0);
	assert_int_equal(nl_batch_acks(&b, buf, len, &acked, &err, &failed), 0);
	assert_int_equal(acked, 0xf);
	assert_int_equal(err, -EEXIST);
	/* malformed: a length past the end, a stub, a length below the header */
	assert_int_equal(nl_batch_acks(&b, buf, len - 4, &acked, &err, &failed), -EBADMSG);
	assert_int_equal(nl_batch_acks(&b, buf, len + 3, &acked, &err, &failed), -EBADMSG);
	((struct nlmsghdr *)buf)->nlmsg_len = 8;
	assert_int_equal(nl_batch_acks(&b, buf, len, &acked, &err, &failed), -EBADMSG);
	assert_int_equal(nl_batch_acks(&b, buf, 0, &acked, &err, &failed), 0);
}

static struct nlmsghdr *msg_at(struct nl_batch *b, unsigned i)
{
	return (struct nlmsghdr *)(b->buf + b->off[i]);
}

static const struct ifinfomsg *ifi(struct nlmsghdr *h)
{
	return NLMSG_DATA(h);
}

/* lo up, and the peer up: a bare RTM_NEWLINK changing IFF_UP only. */
static void link_up_is(struct nlmsghdr *h, int ifindex)
{
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(h->nlmsg_len, NLMSG_LENGTH(sizeof(struct ifinfomsg)));
	assert_int_equal(ifi(h)->ifi_index, ifindex);
	assert_int_equal(ifi(h)->ifi_flags, IFF_UP);
	assert_int_equal(ifi(h)->ifi_change, IFF_UP);
}

/* The peer's attributes: its name and one queue each way, no namespace (the sender's). */
static void peer_is(struct nlattr *peer)
{
	struct nlattr *tb[IFLA_MAX + 1];

	assert_true(nla_len(peer) > (int)sizeof(struct ifinfomsg));
	assert_int_equal(
		nla_parse(tb, IFLA_MAX,
			  (struct nlattr *)((char *)nla_data(peer) + sizeof(struct ifinfomsg)),
			  nla_len(peer) - (int)sizeof(struct ifinfomsg), NULL),
		0);
	assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "eth0");
	assert_int_equal(nla_get_u32(tb[IFLA_NUM_TX_QUEUES]), 1);
	assert_int_equal(nla_get_u32(tb[IFLA_NUM_RX_QUEUES]), 1);
	assert_null(tb[IFLA_NET_NS_FD]);
	assert_null(tb[IFLA_NET_NS_PID]);
	assert_null(tb[IFLA_MASTER]);
	assert_int_equal(((struct ifinfomsg *)nla_data(peer))->ifi_flags & IFF_UP, 0);
}

static void veth_is(struct nlmsghdr *h)
{
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1], *data[VETH_INFO_MAX + 1];

	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ifi(h)->ifi_flags & IFF_UP, IFF_UP);
	assert_int_equal(nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "vn3");
	assert_int_equal(nla_get_u32(tb[IFLA_MASTER]), 7);
	assert_int_equal(nla_get_u32(tb[IFLA_NET_NS_PID]), 4242);
	assert_null(tb[IFLA_NET_NS_FD]);
	assert_int_equal(nla_get_u32(tb[IFLA_NUM_TX_QUEUES]), 1);
	assert_int_equal(nla_get_u32(tb[IFLA_NUM_RX_QUEUES]), 1);
	assert_non_null(tb[IFLA_LINKINFO]);
	assert_int_equal(nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL), 0);
	assert_string_equal(nla_get_string(info[IFLA_INFO_KIND]), "veth");
	assert_int_equal(nla_parse_nested(data, VETH_INFO_MAX, info[IFLA_INFO_DATA], NULL), 0);
	assert_non_null(data[VETH_INFO_PEER]);
	peer_is(data[VETH_INFO_PEER]);
}

static void addr_is(struct nlmsghdr *h, int ifindex, uint32_t addr)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct nlattr *tb[IFA_MAX + 1];

	assert_int_equal(h->nlmsg_type, RTM_NEWADDR);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 16);
	assert_int_equal(ifa->ifa_index, ifindex);
	assert_int_equal(nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL), 0);
	assert_int_equal(nla_get_u32(tb[IFA_LOCAL]), htonl(addr));
}

static void test_lab_batch(void **state)
{
	struct netlink_lab net = { .bridge = "br0", .bridge_ifindex = 1000, .prefix = 16 };
	struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	struct nlmsghdr *h;
	struct nl_batch b;

	net.addr.s_addr = htonl(0x0ad50001); /* 10.213.0.1 */
	assert_int_equal(netlink_lab_batch(&net, &b), 0);
	assert_int_equal(b.n, NETLINK_LAB_REQS);
	link_up_is(msg_at(&b, NETLINK_LAB_LO_UP), 1);
	h = msg_at(&b, NETLINK_LAB_BRIDGE);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ifi(h)->ifi_index, 1000); /* named by nodes before it exists */
	assert_int_equal(ifi(h)->ifi_flags & IFF_UP, IFF_UP);
	assert_int_equal(nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "br0");
	assert_null(tb[IFLA_NET_NS_FD]);
	assert_null(tb[IFLA_MASTER]);
	assert_int_equal(nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL), 0);
	assert_string_equal(nla_get_string(info[IFLA_INFO_KIND]), "bridge");
	addr_is(msg_at(&b, NETLINK_LAB_ADDR), 1000, 0x0ad50001);
	for (unsigned i = 0; i < b.n; i++)
		assert_int_equal(msg_at(&b, i)->nlmsg_seq, i + 1);
}

static void test_node_batch(void **state)
{
	struct netlink_node net = {
		.veth = "vn3", .lab_pid = 4242, .master = 7, .peer = "eth0", .prefix = 16
	};
	struct nl_batch b;

	net.addr.s_addr = htonl(0x0ad50005); /* 10.213.0.5 */
	assert_int_equal(netlink_node_batch(&net, &b), 0);
	assert_int_equal(b.n, NETLINK_NODE_REQS);
	link_up_is(msg_at(&b, NETLINK_NODE_LO_UP), 1);
	veth_is(msg_at(&b, NETLINK_NODE_VETH));
	addr_is(msg_at(&b, NETLINK_NODE_ADDR), 0, 0x0ad50005);
	link_up_is(msg_at(&b, NETLINK_NODE_PEER_UP), 0);
	for (unsigned i = 0; i < b.n; i++)
		assert_int_equal(msg_at(&b, i)->nlmsg_seq, i + 1);
	/* what the holder does once it knows the peer's ifindex */
	assert_int_equal(nl_batch_set_ifindex(&b, NETLINK_NODE_ADDR, 2), 0);
	assert_int_equal(nl_batch_set_ifindex(&b, NETLINK_NODE_PEER_UP, 2), 0);
	addr_is(msg_at(&b, NETLINK_NODE_ADDR), 2, 0x0ad50005);
	link_up_is(msg_at(&b, NETLINK_NODE_PEER_UP), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),	    cmocka_unit_test(test_full),
		cmocka_unit_test(test_set_ifindex), cmocka_unit_test(test_acks),
		cmocka_unit_test(test_lab_batch),   cmocka_unit_test(test_node_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
