/* Unit tests of the partition drop map (faults/net/map.h): every shape's matrix, every
 * scenario form, the located errors, the route plan, and inject's failure paths through
 * a fake env (no privileges: nothing reaches the kernel). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "faults/fault.h"
#include "faults/net/map.h"
#include "scenarios/parser/yaml_load.h"

extern const struct fault_ops fault_partition_ops;
extern const struct fault_ops fault_isolate_ops;

static const char *const names[] = { "n1", "n2", "n3", "n4", "n5", "n6", "n7" };

/* The map as rows "receiver: the senders it drops", one char a sender ('x' drop, '.'). */
static void matrix(const struct net_map *m, char *out)
{
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->n; j++)
			*out++ = i == j ? '-' : net_map_drops(m, i, j) ? 'x' : '.';
		*out++ = '|';
	}
	*out = '\0';
}

static void shape_is(enum net_shape s, size_t n, const char *want)
{
	struct net_map m;
	char got[NET_MAP_MAX * 8];

	net_map_init(&m, n);
	assert_int_equal(net_map_shape(&m, s), 0);
	matrix(&m, got);
	assert_string_equal(got, want);
}

static void test_shapes(void **unused)
{
	shape_is(NET_SHAPE_HALVES, 2, "-x|x-|");
	shape_is(NET_SHAPE_HALVES, 4, "-.xx|.-xx|xx-.|xx.-|");
	shape_is(NET_SHAPE_HALVES, 5, "-.xxx|.-xxx|xx-..|xx.-.|xx..-|");
	shape_is(NET_SHAPE_MAJORITY_MINORITY, 3, "-.x|.-x|xx-|");
	shape_is(NET_SHAPE_MAJORITY_MINORITY, 4, "-..x|.-.x|..-x|xxx-|");
	shape_is(NET_SHAPE_MAJORITY_MINORITY, 5, "-..xx|.-.xx|..-xx|xxx-.|xxx.-|");
	/* bridge: n3 of 5 (n2 of 3) sees both sides, the sides drop each other */
	shape_is(NET_SHAPE_BRIDGE, 3, "-.x|.-.|x.-|");
	shape_is(NET_SHAPE_BRIDGE, 5, "-..xx|.-.xx|..-..|xx.-.|xx..-|");
	/* ring of 5: each node sees its two neighbours */
	shape_is(NET_SHAPE_RING, 5, "-.xx.|.-.xx|x.-.x|xx.-.|.xx.-|");
	shape_is(NET_SHAPE_RING, 4, "-.x.|.-.x|x.-.|.x.-|");
}

/* Ring: every node sees a majority (itself included), no two see the same one, and the map
 * is symmetric; for every size the shape takes. */
static void test_ring_properties(void **unused)
{
	for (size_t n = 4; n <= NET_MAP_MAX; n++) {
		struct net_map m;

		net_map_init(&m, n);
		assert_int_equal(net_map_shape(&m, NET_SHAPE_RING), 0);
		for (size_t i = 0; i < n; i++) {
			size_t sees = n - (size_t)__builtin_popcountll(m.drop[i]);

			assert_true(sees >= n / 2 + 1);
			assert_true(sees < n);
			for (size_t j = 0; j < n; j++) {
				assert_int_equal(net_map_drops(&m, i, j), net_map_drops(&m, j, i));
				if (j != i)
					assert_true(m.drop[i] != m.drop[j]);
			}
		}
	}
}

static void test_shape_too_small(void **unused)
{
	struct net_map m;

	net_map_init(&m, 1);
	assert_int_equal(net_map_shape(&m, NET_SHAPE_HALVES), -EINVAL);
	net_map_init(&m, 2);
	assert_int_equal(net_map_shape(&m, NET_SHAPE_BRIDGE), -EINVAL);
	assert_int_equal(net_map_shape(&m, NET_SHAPE_MAJORITY_MINORITY), -EINVAL);
	net_map_init(&m, 3);
	assert_int_equal(net_map_shape(&m, NET_SHAPE_RING), -EINVAL);
	assert_int_equal(net_map_count(&m), 0);
}

/* Parses yaml as `partition:` args over the first n nodes. */
static int parse(const char *yaml, size_t n, bool isolate, struct net_map *m, struct cd_error *err)
{
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = n };
	struct cfg_node *tree;
	int r;

	memset(err, 0, sizeof(*err));
	r = yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, err);
	assert_int_equal(r, 0);
	r = isolate ? net_map_parse_isolate(tree, &ctx, m, err) : net_map_parse(tree, &ctx, m, err);
	cfg_node_free(tree);
	return r;
}

static void form_is(const char *yaml, size_t n, const char *want)
{
	struct net_map m;
	struct cd_error err;
	char got[NET_MAP_MAX * 8];

	if (parse(yaml, n, false, &m, &err) < 0)
		fail_msg("%s: %d:%d: %s", yaml, err.line, err.col, err.msg);
	matrix(&m, got);
	assert_string_equal(got, want);
}

static void test_forms(void **unused)
{
	form_is("{groups: [[n1], [n2, n3]]}", 3, "-xx|x-.|x.-|");
	form_is("{groups: [n2, [n1, n3], [n4]]}", 4, "-x.x|x-xx|.x-x|xxx-|");
	form_is("{isolate: n2}", 3, "-x.|x-x|.x-|");
	form_is("{isolate: [n1, n2]}", 4, "-xxx|x-xx|xx-.|xx.-|");
	/* one-way: n2 drops what n1 sends, n1 still hears n2 */
	form_is("{from: n1, to: [n2]}", 3, "-..|x-.|..-|");
	form_is("{from: [n1, n2], to: n3}", 3, "-..|.-.|xx-|");
	form_is("halves", 4, "-.xx|.-xx|xx-.|xx.-|");
	form_is("{shape: majority-minority}", 5, "-..xx|.-.xx|..-xx|xxx-.|xxx.-|");
	form_is("bridge", 3, "-.x|.-.|x.-|");
	form_is("{shape: ring}", 4, "-.x.|.-.x|x.-.|.x.-|");
}

static void test_isolate_kind(void **unused)
{
	struct net_map m;
	struct cd_error err;
	char got[64];

	assert_int_equal(parse("n3", 3, true, &m, &err), 0);
	matrix(&m, got);
	assert_string_equal(got, "-.x|.-x|xx-|");
	assert_int_equal(parse("n3", 1, true, &m, &err), -EINVAL);
}

static void error_is(const char *yaml, size_t n, int line, int col, const char *want)
{
	struct net_map m;
	struct cd_error err;

	assert_int_equal(parse(yaml, n, false, &m, &err), -EINVAL);
	if (!strstr(err.msg, want) || err.line != line || err.col != col)
		fail_msg("%s: got %d:%d '%s', want %d:%d '%s'", yaml, err.line, err.col, err.msg,
			 line, col, want);
}

static void test_errors(void **unused)
{
	error_is("{groups: [[n1], [n9]]}", 3, 1, 18, "no node named 'n9'");
	error_is("{groups: [[n1, n1], [n2, n3]]}", 3, 1, 16, "'n1' is given twice");
	error_is("{groups: [[n1, n2], [n2, n3]]}", 3, 1, 21, "'n2' is in two groups");
	error_is("{groups: [[n1], [n2]]}", 3, 1, 10, "'n3' is in no group");
	error_is("{groups: [[n1, n2, n3]]}", 3, 1, 10, "at least two groups");
	error_is("{groups: [[n1], []]}", 2, 1, 17, "empty list of nodes");
	error_is("{isolate: n1, shape: ring}", 4, 1, 1, "exactly one of");
	error_is("{from: n1}", 3, 1, 1, "needs both from and to");
	error_is("{from: [n1, n2], to: [n2]}", 3, 1, 22, "'n2' is in both from and to");
	error_is("ring", 3, 1, 1, "shape ring needs at least 4 nodes, the drill has 3");
	error_is("{shape: triangle}", 3, 1, 9, "triangle");
	error_is("{isolate: n1}", 1, 1, 1, "drops nothing");
	error_is("{groupz: [[n1], [n2]]}", 2, 1, 2, "groups");
	error_is("[n1, n2]", 2, 1, 1, "");
}

static void test_routes_and_describe(void **unused)
{
	struct net_route_req req[8];
	struct strbuf sb = STRBUF_INIT;
	struct net_map m;
	struct cd_error err;

	assert_int_equal(parse("{groups: [[n1], [n2, n3]]}", 3, false, &m, &err), 0);
	assert_int_equal(net_map_count(&m), 4);
	assert_int_equal(net_map_routes(&m, NULL, 0), 4);
	assert_int_equal(net_map_routes(&m, req, 8), 4);
	/* the route lives with the sender, for the receiver's address; grouped by sender */
	assert_int_equal(req[0].on, 0), assert_int_equal(req[0].to, 1);
	assert_int_equal(req[1].on, 0), assert_int_equal(req[1].to, 2);
	assert_int_equal(req[2].on, 1), assert_int_equal(req[2].to, 0);
	assert_int_equal(req[3].on, 2), assert_int_equal(req[3].to, 0);
	net_map_describe(&m, names, &sb);
	assert_string_equal(sb.buf, "n1 drops n2 n3; n2 drops n1; n3 drops n1");
	strbuf_release(&sb);

	assert_int_equal(parse("{from: n1, to: n3}", 3, false, &m, &err), 0);
	assert_int_equal(net_map_routes(&m, req, 1), 1);
	assert_int_equal(req[0].on, 0), assert_int_equal(req[0].to, 2);
}

/* ---- the ops against a fake env: failures leave nothing behind ---- */

static int fake_socket_err;
static int fake_addr_err;
static int sockets_asked;

static int fake_socket(void *h, const char *node, int domain, int type, int protocol)
{
	sockets_asked++;
	assert_int_equal(domain, AF_NETLINK);
	assert_true(type & SOCK_CLOEXEC);
	return fake_socket_err;
}

static int fake_addr(void *h, const char *node, uint32_t *addr)
{
	*addr = 0x0200d50a;
	return fake_addr_err;
}

static const struct fault_env fake_env = { .node_socket = fake_socket, .node_addr = fake_addr };

static void *ops_parse(const struct fault_ops *ops, const char *yaml)
{
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 3 };
	struct cfg_node *tree;
	struct cd_error err;
	void *st = NULL;

	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
	assert_int_equal(ops->parse(tree, &ctx, &st, &err), 0);
	cfg_node_free(tree); /* the state keeps nothing of the tree */
	return st;
}

static void test_ops_failures(void **unused)
{
	struct strbuf what = STRBUF_INIT;
	void *st = ops_parse(&fault_partition_ops, "halves");

	assert_true(fault_partition_ops.heals);
	/* halves of three nodes cut n1 off from the rest: the fault names n1 */
	assert_string_equal(fault_partition_ops.node(st), "n1");
	fake_addr_err = -ENOENT;
	assert_int_equal(fault_partition_ops.inject(st, &fake_env, &what), -ENOENT);
	assert_non_null(strstr(what.buf, "no address for n1"));
	assert_int_equal(sockets_asked, 0);
	strbuf_release(&what);

	fake_addr_err = 0;
	fake_socket_err = -EPERM;
	assert_int_equal(fault_partition_ops.inject(st, &fake_env, &what), -EPERM);
	assert_non_null(strstr(what.buf, "no netlink socket in n1"));
	assert_int_equal(sockets_asked, 1);
	/* nothing was applied: heal has nothing to undo */
	assert_int_equal(fault_partition_ops.heal(st, &fake_env, &what), -EALREADY);
	strbuf_release(&what);
	fault_partition_ops.free(st);

	st = ops_parse(&fault_isolate_ops, "n2");
	assert_string_equal(fault_isolate_ops.node(st), "n2");
	fault_isolate_ops.free(st);
	st = ops_parse(&fault_partition_ops, "{isolate: [n1, n2]}");
	assert_null(fault_partition_ops.node(st));
	fault_partition_ops.free(st);
}

/* isolate: leader / primary: resolved at injection through env->node_select. */
static int select_ret;
static const char *select_node;

static int fake_select(void *h, const char *role, const char **node)
{
	*node = select_node;
	return select_ret;
}

static void test_leader_selector(void **unused)
{
	struct fault_env env = { .node_socket = fake_socket,
				 .node_addr = fake_addr,
				 .node_select = fake_select };
	struct strbuf what = STRBUF_INIT;
	struct cd_error err;
	void *st = ops_parse(&fault_isolate_ops, "leader");

	assert_null(fault_isolate_ops.node(st)); /* not known before the injection */
	select_ret = -ENOTUNIQ;
	assert_int_equal(fault_isolate_ops.inject(st, &env, &what), -ENOTUNIQ);
	assert_non_null(
		strstr(what.buf, "isolate leader: more than one node's leader probe passed"));
	strbuf_release(&what);
	select_ret = -ENOENT;
	assert_int_equal(fault_isolate_ops.inject(st, &env, &what), -ENOENT);
	assert_non_null(strstr(what.buf, "no running node's leader probe passed"));
	strbuf_release(&what);
	/* n2 leads: n2 is cut off from n1 and n3, both ways (the sockets fail: nothing applied) */
	select_ret = 0, select_node = "n2", fake_addr_err = 0, fake_socket_err = -EPERM;
	assert_int_equal(fault_isolate_ops.inject(st, &env, &what), -EPERM);
	assert_non_null(strstr(what.buf, "leader is n2 (its leader probe passed)"));
	assert_string_equal(fault_isolate_ops.node(st), "n2");
	strbuf_release(&what);
	fault_isolate_ops.free(st);
	/* without a selector in the env (a harness that cannot ask): a clear error */
	st = ops_parse(&fault_partition_ops, "{isolate: primary}");
	assert_int_equal(fault_partition_ops.inject(st, &fake_env, &what), -ENOTSUP);
	assert_non_null(strstr(what.buf, "isolate primary: the target has no leader probe"));
	strbuf_release(&what);
	fault_partition_ops.free(st);
	/* a node called leader is that node, not a selector */
	{
		static const char *const named[] = { "n1", "leader", "n3" };
		struct fault_parse_ctx ctx = { .nodes = named, .n_nodes = 3 };
		struct cfg_node *tree;

		assert_int_equal(yaml_load_string("t.yaml", "leader", 6, &tree, &err), 0);
		assert_int_equal(fault_isolate_ops.parse(tree, &ctx, &st, &err), 0);
		cfg_node_free(tree);
		assert_string_equal(fault_isolate_ops.node(st), "leader");
		fault_isolate_ops.free(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_ring_properties),
		cmocka_unit_test(test_shape_too_small),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_isolate_kind),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_routes_and_describe),
		cmocka_unit_test(test_ops_failures),
		cmocka_unit_test(test_leader_selector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
