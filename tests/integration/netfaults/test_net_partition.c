/* Partitions end to end in a 5-node lab, one case per shape: the directed reachability of
 * every ordered pair of nodes (one UDP datagram each way, so one-way drops show) before,
 * during and after the fault; during, exactly the asked drop map; each node's routing table
 * during (only the fault's routes added) and after heal (byte for byte as before); and an
 * established TCP connection that stalls through a partition without a reset and carries
 * on after heal; a heal that finds one of its routes gone. Prints the matrices and the time
 * to apply and heal. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "faults/net/nl.h"
#include "tests/integration/lab/lab_test.h"
#include "tests/integration/netfaults/net_test.h"

extern const struct fault_ops fault_partition_ops;
extern const struct fault_ops fault_isolate_ops;

#define N 5
#define UDP_PORT 7100
#define TCP_PORT 7101

static const char *const names[N] = { "n1", "n2", "n3", "n4", "n5" };

/* Rows are receivers, columns senders: 'x' the receiver got nothing from that sender. */
static const struct {
	const char *title;
	const struct fault_ops *ops;
	const char *args, *want;
} cases[] = {
	{ "groups", &fault_partition_ops, "{groups: [[n1], [n2, n3], [n4, n5]]}",
	  "-xxxx|x-.xx|x.-xx|xxx-.|xxx.-|" },
	{ "isolate", &fault_isolate_ops, "n3", "-.x..|.-x..|xx-xx|..x-.|..x.-|" },
	{ "one-way", &fault_partition_ops, "{from: n1, to: [n2, n3]}",
	  "-....|x-...|x.-..|...-.|....-|" },
	{ "halves", &fault_partition_ops, "halves", "-.xxx|.-xxx|xx-..|xx.-.|xx..-|" },
	{ "majority-minority", &fault_partition_ops, "majority-minority",
	  "-..xx|.-.xx|..-xx|xxx-.|xxx.-|" },
	{ "bridge", &fault_partition_ops, "bridge", "-..xx|.-.xx|..-..|xx.-.|xx..-|" },
	{ "ring", &fault_partition_ops, "ring", "-.xx.|.-.xx|x.-.x|xx.-.|.xx.-|" },
};

static const char *const all_reach = "-....|.-...|..-..|...-.|....-|";

struct t {
	struct lab *lab;
	struct lab_node *n[N];
	int udp[N];
	char *routes[N]; /* `ip -4 route show table all` of each node before any fault */
};

/* Three rounds of one datagram per ordered pair; a pair is reachable if any arrived. */
static void reach(struct t *t, char *out)
{
	bool got[N][N] = { { false } };
	unsigned char buf[2];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			for (int j = 0; j < N; j++) {
				struct sockaddr_in to = { .sin_family = AF_INET,
							  .sin_port = htons(UDP_PORT),
							  .sin_addr = node_addr(t->n[j]) };

				buf[0] = (unsigned char)i;
				if (i != j) /* EHOSTUNREACH from a dropping sender is expected */
					sendto(t->udp[i], buf, 1, 0, (struct sockaddr *)&to,
					       sizeof(to));
			}
		}
		usleep(100000);
		for (int j = 0; j < N; j++)
			while (recv(t->udp[j], buf, sizeof(buf), 0) == 1)
				if (buf[0] < N)
					got[j][buf[0]] = true;
	}
	for (int j = 0; j < N; j++) {
		for (int i = 0; i < N; i++)
			*out++ = i == j ? '-' : got[j][i] ? '.' : 'x';
		*out++ = '|';
	}
	*out = '\0';
}

static void print_matrix(const char *when, const char *m)
{
	printf("#   %-7s  from: n1 n2 n3 n4 n5\n", when);
	for (int j = 0; j < N; j++, m += N + 1)
		printf("#     %s drops:  %c  %c  %c  %c  %c\n", names[j], m[0], m[1], m[2], m[3],
		       m[4]);
}

static char *routes_of(struct t *t, int i)
{
	const char *argv[] = { "ip", "-4", "route", "show", "table", "all", NULL };

	return t_run_ok(t->lab, t->n[i], argv);
}

/* During: the table is the original plus exactly one "unreachable ADDR proto 205" per node
 * that node i must not send to (want[j][i] == 'x'). */
static void check_routes_during(struct t *t, const char *want)
{
	for (int i = 0; i < N; i++) {
		char *out = routes_of(t, i), *save = NULL, *line, rest[8192] = "", exp[64];
		int ours = 0, expected = 0;

		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strstr(line, "proto 205")) {
				ours++;
				continue;
			}
			strncat(rest, line, sizeof(rest) - strlen(rest) - 2);
			strcat(rest, "\n");
		}
		free(out);
		out = routes_of(t, i);
		for (int j = 0; j < N; j++) {
			if (want[j * (N + 1) + i] != 'x')
				continue;
			expected++;
			snprintf(exp, sizeof(exp), "unreachable %s proto 205",
				 inet_ntoa(node_addr(t->n[j])));
			CHECK(strstr(out, exp), "%s lacks '%s':\n%s", names[i], exp, out);
		}
		CHECK(ours == expected, "%s has %d routes of ours, want %d:\n%s", names[i], ours,
		      expected, out);
		CHECK(strcmp(rest, t->routes[i]) == 0, "%s: other routes changed:\n%s\nwas:\n%s",
		      names[i], rest, t->routes[i]);
		free(out);
	}
}

static void check_routes_same(struct t *t)
{
	for (int i = 0; i < N; i++) {
		char *out = routes_of(t, i);

		CHECK(strcmp(out, t->routes[i]) == 0, "%s after heal:\n%s\nbefore:\n%s", names[i],
		      out, t->routes[i]);
		free(out);
	}
}

static void run_case(struct t *t, size_t c)
{
	struct fault_env env = t_env(t->lab);
	struct strbuf what = STRBUF_INIT;
	char m[64];
	void *st = t_fault_parse(cases[c].ops, t->lab, cases[c].args);
	int64_t t0, t1, t2;
	int r;

	printf("# %s: %s: %s\n", cases[c].title, cases[c].ops->name, cases[c].args);
	reach(t, m);
	CHECK(strcmp(m, all_reach) == 0, "before %s: %s", cases[c].title, m);
	t0 = t_now_us();
	r = cases[c].ops->inject(st, &env, &what);
	t1 = t_now_us();
	CHECK(r == 0, "inject %s: %s (%s)", cases[c].title, strerror(-r), what.buf);
	printf("#   timeline: %s\n", what.buf);
	reach(t, m);
	print_matrix("during", m);
	CHECK(strcmp(m, cases[c].want) == 0, "%s: during %s, want %s", cases[c].title, m,
	      cases[c].want);
	check_routes_during(t, cases[c].want);
	strbuf_release(&what);
	t2 = t_now_us();
	r = cases[c].ops->heal(st, &env, &what);
	CHECK(r == 0, "heal %s: %s (%s)", cases[c].title, strerror(-r), what.buf);
	printf("#   timeline: %s; applied in %lld us, healed in %lld us\n", what.buf,
	       (long long)(t1 - t0), (long long)(t_now_us() - t2));
	strbuf_release(&what);
	reach(t, m);
	CHECK(strcmp(m, all_reach) == 0, "after heal of %s: %s", cases[c].title, m);
	check_routes_same(t);
	CHECK(cases[c].ops->heal(st, &env, &what) == -EALREADY, "second heal");
	strbuf_release(&what);
	cases[c].ops->free(st);
	OK("%s: before all reach; during exactly the asked map; heal restores routes and reach",
	   cases[c].title);
}

/* A TCP connection n1 -> n3, established before `isolate: n3`: during, data sent either way
 * does not arrive and neither end sees a reset; after heal, it arrives. New connections
 * during the partition fail at once (the sender's route is unreachable): measured. */
static void check_tcp(struct t *t)
{
	struct fault_env env = t_env(t->lab);
	struct strbuf what = STRBUF_INIT;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(TCP_PORT),
				  .sin_addr = node_addr(t->n[2]) };
	int ls = node_socket(t->n[2], AF_INET, SOCK_STREAM, 0), cl, sv, fresh, r;
	void *st = t_fault_parse(&fault_isolate_ops, t->lab, "n3");
	char buf[16];
	int64_t t0;

	CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(ls, 4) == 0,
	      "listener in n3: %m");
	cl = node_socket(t->n[0], AF_INET, SOCK_STREAM, 0);
	CHECK(t_connect(cl, sa.sin_addr, TCP_PORT, 2000) == 0, "connect n1 -> n3");
	CHECK((sv = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) >= 0, "accept");
	CHECK(fault_isolate_ops.inject(st, &env, &what) == 0, "isolate: %s", what.buf);
	CHECK(send(cl, "ping", 4, MSG_NOSIGNAL) == 4, "send into the partition: %m");
	CHECK(send(sv, "pong", 4, MSG_NOSIGNAL) == 4, "send out of the partition: %m");
	CHECK(poll(&(struct pollfd){ .fd = sv, .events = POLLIN }, 1, 1500) == 0,
	      "n3 received (or saw a reset) through the partition");
	CHECK(poll(&(struct pollfd){ .fd = cl, .events = POLLIN }, 1, 10) == 0,
	      "n1 received (or saw a reset) through the partition");
	fresh = node_socket(t->n[0], AF_INET, SOCK_STREAM, 0);
	t0 = t_now_us();
	r = t_connect(fresh, sa.sin_addr, TCP_PORT, 3000);
	printf("# a new connection n1 -> n3 during the partition: %s after %lld us\n", strerror(-r),
	       (long long)(t_now_us() - t0));
	CHECK(r == -EHOSTUNREACH, "new connection: %s", strerror(-r));
	close(fresh);
	CHECK(fault_isolate_ops.heal(st, &env, &what) == 0, "heal: %s", what.buf);
	t0 = t_now_us();
	CHECK(poll(&(struct pollfd){ .fd = sv, .events = POLLIN }, 1, 15000) == 1 &&
		      recv(sv, buf, sizeof(buf), 0) == 4 && memcmp(buf, "ping", 4) == 0,
	      "n3 got the stalled data after heal");
	CHECK(poll(&(struct pollfd){ .fd = cl, .events = POLLIN }, 1, 15000) == 1 &&
		      recv(cl, buf, sizeof(buf), 0) == 4 && memcmp(buf, "pong", 4) == 0,
	      "n1 got the stalled data after heal");
	printf("# after heal the stalled data arrived both ways within %lld ms (TCP backoff)\n",
	       (long long)(t_now_us() - t0) / 1000);
	OK("an established TCP connection stalls through a partition without a reset and "
	   "carries on after heal");
	fault_isolate_ops.free(st);
	strbuf_release(&what);
	close(cl), close(sv), close(ls);
}

/* A route of the fault deleted behind its back before heal (an operator's `ip route del`):
 * heal still deletes the others, and names the one that was gone with the kernel's answer,
 * ESRCH, "No such process" as `ip route del` prints it. */
static void check_route_gone(struct t *t)
{
	struct fault_env env = t_env(t->lab);
	struct strbuf what = STRBUF_INIT;
	void *st = t_fault_parse(&fault_isolate_ops, t->lab, "n3");
	uint32_t n3 = node_addr(t->n[2]).s_addr;
	struct net_nl *nl = NULL;
	char m[64];
	int r;

	CHECK(fault_isolate_ops.inject(st, &env, &what) == 0, "isolate: %s", what.buf);
	strbuf_release(&what);
	r = net_nl_open(node_socket(t->n[0], AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
			&nl);
	CHECK(r == 0, "netlink in n1: %s", strerror(-r));
	CHECK(net_nl_drop_del(nl, n3) == 0, "delete n1's route to n3 behind the fault's back");
	r = net_nl_drop_del(nl, n3);
	CHECK(r == -ESRCH, "deleting it again: %s, want ESRCH", strerror(-r));
	net_nl_close(nl);
	r = fault_isolate_ops.heal(st, &env, &what);
	CHECK(r == -ESRCH && strstr(what.buf, "deleting the route to n3 in n1: No such process"),
	      "heal: %s (%s)", strerror(-r), what.buf);
	printf("#   timeline: %s\n", what.buf);
	reach(t, m);
	CHECK(strcmp(m, all_reach) == 0, "after heal: %s", m);
	check_routes_same(t);
	fault_isolate_ops.free(st);
	strbuf_release(&what);
	OK("a route gone before heal: heal says ESRCH for it and deletes the others");
}

int main(int argc, char **argv)
{
	struct t t = { 0 };
	char *dirs[N];

	t_dispatch(argc, argv);
	t_require_root();
	t.lab = t_lab_new(LAB_CGROUP_NONE);
	for (int i = 0; i < N; i++) {
		dirs[i] = t_data_dir();
		CHECK(lab_node_add(t.lab, names[i], dirs[i], &t.n[i]) == 0, "add %s", names[i]);
	}
	CHECK(lab_wait_ready(t.lab) == 0, "ready");
	for (int i = 0; i < N; i++) {
		t.udp[i] = t_udp_bound(t.n[i], UDP_PORT);
		t.routes[i] = routes_of(&t, i);
	}
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++)
		run_case(&t, c);
	check_tcp(&t);
	check_route_gone(&t);
	check_routes_same(&t);
	for (int i = 0; i < N; i++) {
		close(t.udp[i]);
		free(t.routes[i]);
		t_rm_rf(dirs[i]);
		free(dirs[i]);
	}
	lab_free(t.lab);
	return 0;
}
