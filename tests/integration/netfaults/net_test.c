/* Shared helpers of the network-fault integration tests: see net_test.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faults/net/delay_queue.h"
#include "scenarios/parser/yaml_load.h"
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

/* The harness's event loop, reduced to one thread per running delay queue: it sleeps in
 * ppoll until a packet is queued or the next one is due (ns precision), or until stopped. */
struct runner {
	const char *node;
	struct net_delay *q;
	pthread_t thread;
	int stop;
};

static struct runner runners[8];

/* Stops a runner's thread and forgets it; the thread itself cannot be stopped from within. */
static void runner_stop(struct runner *ru)
{
	uint64_t one = 1;

	if (!ru->q || pthread_equal(ru->thread, pthread_self()))
		return;
	if (write(ru->stop, &one, sizeof(one)) == sizeof(one))
		pthread_join(ru->thread, NULL);
	close(ru->stop);
	*ru = (struct runner){ 0 };
}

/* At exit, also after a failed CHECK: no runner thread may outlive its queue's owner. */
static void stop_all(void)
{
	for (size_t i = 0; i < 8; i++)
		runner_stop(&runners[i]);
}

static void *run(void *p)
{
	struct runner *ru = p;

	for (;;) {
		struct pollfd fds[2] = { { .fd = net_delay_fd(ru->q), .events = POLLIN },
					 { .fd = ru->stop, .events = POLLIN } };
		int64_t next = net_delay_next_ns(ru->q), left = next - t_now_us() * 1000;
		struct timespec ts = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };

		if (left < 0)
			ts = (struct timespec){ 0 };
		if (ppoll(fds, 2, next == INT64_MAX ? NULL : &ts, NULL) < 0 && errno != EINTR)
			return NULL;
		if (fds[1].revents)
			return NULL;
		if (net_delay_handle(ru->q) < 0)
			return NULL;
	}
}

static int env_run_queue(void *h, const char *node, struct net_delay *q)
{
	static bool hooked;
	struct runner *ru = NULL;

	if (!hooked)
		hooked = atexit(stop_all) == 0;
	for (size_t i = 0; i < 8 && !ru; i++)
		if (q ? !runners[i].q : runners[i].q && strcmp(runners[i].node, node) == 0)
			ru = &runners[i];
	if (!ru)
		return q ? -ENOSPC : -ESRCH;
	if (!q) {
		runner_stop(ru);
		return 0;
	}
	*ru = (struct runner){ .node = node, .q = q, .stop = eventfd(0, EFD_CLOEXEC) };
	CHECK(ru->stop >= 0, "eventfd: %m");
	CHECK(pthread_create(&ru->thread, NULL, run, ru) == 0, "pthread_create");
	return 0;
}

struct fault_env t_env(struct lab *lab)
{
	return (struct fault_env){ .harness = lab, .node_socket = env_socket,
				   .node_addr = env_addr, .run_delay_queue = env_run_queue };
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

double t_timing_slack(void)
{
	const char *e = getenv("CHAOSDRILL_TIMING_SLACK");
	double f = e ? atof(e) : 1;

	return f >= 1 ? f : 1;
}

int64_t t_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
