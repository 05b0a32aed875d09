/* Shared helpers of the network-fault integration tests: see net_test.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "scenarios/yaml_load.h"
#include "tests/integration/lab/lab_test.h"
#include "tests/integration/netfaults/net_test.h"

static int env_socket(void *h, const char *name, int domain, int type, int protocol)
{
	struct lab_node *n = lab_node_find(h, name);

	return n ? node_socket(n, domain, type, protocol) : -ENOENT;
}

static int env_addr(void *h, const char *name, uint32_t *addr)
{
	struct lab_node *n = lab_node_find(h, name);

	if (!n)
		return -ENOENT;
	*addr = node_addr(n).s_addr;
	return 0;
}

struct fault_env t_env(struct lab *lab)
{
	return (struct fault_env){ .harness = lab, .node_socket = env_socket,
				   .node_addr = env_addr };
}

void *t_fault_parse(const struct fault_ops *ops, struct lab *lab, const char *yaml)
{
	const char *names[64];
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = lab_node_count(lab) };
	struct cfg_node *tree;
	struct cd_error err;
	void *st = NULL;

	for (size_t i = 0; i < ctx.n_nodes && i < 64; i++)
		names[i] = node_name(lab_node_at(lab, i));
	CHECK(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err) == 0, "yaml %s", yaml);
	CHECK(ops->parse(tree, &ctx, &st, &err) == 0, "%s %s: %d:%d: %s", ops->name, yaml,
	      err.line, err.col, err.msg);
	cfg_node_free(tree);
	return st;
}

int t_udp_bound(struct lab_node *node, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr = node_addr(node) };
	int fd = node_socket(node, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	CHECK(fd >= 0, "udp socket in %s", node_name(node));
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind in %s: %m", node_name(node));
	return fd;
}

int64_t t_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
