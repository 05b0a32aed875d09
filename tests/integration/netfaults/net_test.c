/* Shared helpers of the network-fault integration tests: see net_test.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faults/net/delay_attach.h"
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

/* The runner's event loop, reduced to one thread per node's delay attachment (the real
 * one, faults/net/delay_attach.c): it waits in ppoll for the one fd and the one timer the
 * attachment asks for (ns precision) and calls back under a lock that the test's own
 * thread takes too when the fault stops the queue, so no callback runs past that. */
struct attach_op {
	bool on;
	int fd;
	unsigned events;
	int64_t at; /* CLOCK_MONOTONIC ns */
	attach_cb cb;
	void *ud;
};

struct runner {
	char node[64];
	struct node_attach *a;
	struct attach_host host;
	pthread_t thread;
	pthread_mutex_t mu; /* recursive: callbacks arm the next poll and timer */
	int wake;	    /* eventfd: the ops changed, or quit */
	bool quit;
	struct attach_op poll, timer;
};

static struct runner runners[8];

static void kick(struct runner *ru)
{
	uint64_t one = 1;

	if (write(ru->wake, &one, sizeof(one)) < 0) { /* a full counter wakes it all the same */
	}
}

static int h_poll(void *h, int fd, unsigned events, attach_cb cb, void *ud, struct attach_op **op)
{
	struct runner *ru = h;

	pthread_mutex_lock(&ru->mu);
	ru->poll = (struct attach_op){ true, fd, events, 0, cb, ud };
	if (op)
		*op = &ru->poll;
	pthread_mutex_unlock(&ru->mu);
	kick(ru);
	return 0;
}

static int h_timer_at(void *h, int64_t at, attach_cb cb, void *ud, struct attach_op **op)
{
	struct runner *ru = h;

	pthread_mutex_lock(&ru->mu);
	ru->timer = (struct attach_op){ true, -1, 0, at, cb, ud };
	if (op)
		*op = &ru->timer;
	pthread_mutex_unlock(&ru->mu);
	kick(ru);
	return 0;
}

static void h_cancel(void *h, struct attach_op *op)
{
	struct runner *ru = h;

	pthread_mutex_lock(&ru->mu);
	if (op)
		op->on = false;
	pthread_mutex_unlock(&ru->mu);
	kick(ru); /* out of ppoll: it holds the fd's file, which the fault is about to close */
}

static int64_t h_now(void *h)
{
	return t_now_us() * 1000;
}

static void h_note(void *h, int64_t at, int fault, const char *line, const char *said)
{
	fprintf(stderr, "# %s: %s\n", ((struct runner *)h)->node, line);
}

static const struct attach_host_ops host_ops = {
	.poll = h_poll, .timer_at = h_timer_at, .cancel = h_cancel, .now = h_now, .note = h_note
};

static void *run(void *p)
{
	struct runner *ru = p;

	for (;;) {
		struct pollfd fds[2] = { { .fd = ru->wake, .events = POLLIN }, { .fd = -1 } };
		struct timespec ts, *tsp = NULL;
		uint64_t n;

		pthread_mutex_lock(&ru->mu);
		if (ru->quit) {
			pthread_mutex_unlock(&ru->mu);
			return NULL;
		}
		if (ru->poll.on)
			fds[1] = (struct pollfd){ .fd = ru->poll.fd,
						  .events = (short)ru->poll.events };
		if (ru->timer.on) {
			int64_t left = ru->timer.at - t_now_us() * 1000;

			ts = left > 0 ? (struct timespec){ left / 1000000000, left % 1000000000 } :
					(struct timespec){ 0 };
			tsp = &ts;
		}
		pthread_mutex_unlock(&ru->mu);
		if (ppoll(fds, 2, tsp, NULL) < 0 && errno != EINTR)
			return NULL;
		if (fds[0].revents && read(ru->wake, &n, sizeof(n)) < 0) { /* drained */
		}
		pthread_mutex_lock(&ru->mu);
		if (ru->poll.on && fds[1].revents && ru->poll.fd == fds[1].fd) {
			ru->poll.on = false;
			ru->poll.cb(ru->poll.ud, fds[1].revents);
		}
		if (ru->timer.on && ru->timer.at <= t_now_us() * 1000) {
			ru->timer.on = false;
			ru->timer.cb(ru->timer.ud, 0);
		}
		pthread_mutex_unlock(&ru->mu);
	}
}

/* At exit, also after a failed CHECK: no runner thread may outlive its queue's owner. */
static void stop_all(void)
{
	for (size_t i = 0; i < 8; i++) {
		struct runner *ru = &runners[i];

		if (!ru->a)
			continue;
		pthread_mutex_lock(&ru->mu);
		ru->quit = true;
		pthread_mutex_unlock(&ru->mu);
		kick(ru);
		pthread_join(ru->thread, NULL);
		net_delay_attach_ops.free(ru->a);
		close(ru->wake);
		ru->a = NULL;
	}
}

static struct node_attach *env_attachment(void *h, const char *node, const struct attach_ops *ops)
{
	static bool hooked;
	pthread_mutexattr_t ma;
	struct runner *ru = NULL;

	if (ops != &net_delay_attach_ops)
		return NULL;
	if (!hooked)
		hooked = atexit(stop_all) == 0;
	for (size_t i = 0; i < 8 && !ru; i++)
		if (runners[i].a && strcmp(runners[i].node, node) == 0)
			return runners[i].a;
	for (size_t i = 0; i < 8 && !ru; i++)
		if (!runners[i].a)
			ru = &runners[i];
	CHECK(ru, "more than 8 delay queues");
	*ru = (struct runner){ .wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
	snprintf(ru->node, sizeof(ru->node), "%s", node);
	ru->host = (struct attach_host){ .h = ru, .ops = &host_ops, .node = ru->node };
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&ru->mu, &ma);
	CHECK(ru->wake >= 0, "eventfd: %m");
	CHECK(net_delay_attach_ops.new(&ru->host, &ru->a) == 0, "delay attachment");
	CHECK(pthread_create(&ru->thread, NULL, run, ru) == 0, "pthread_create");
	return ru->a;
}

struct fault_env t_env(struct lab *lab)
{
	return (struct fault_env){ .harness = lab,
				   .node_socket = env_socket,
				   .node_addr = env_addr,
				   .attachment = env_attachment };
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
	CHECK(ops->parse(tree, &ctx, &st, &err) == 0, "%s %s: %d:%d: %s", ops->name, yaml, err.line,
	      err.col, err.msg);
	cfg_node_free(tree);
	return st;
}

int t_udp_bound(struct lab_node *node, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
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
