/* Network faults, apply -> in force and heal -> healed, in a 2-node lab: partition (n1
 * drops n2), loss 100% and delay 20 ms (both at n2, from n1), each made through its fault
 * kind and made again with the command line (`ip route`, `nft`, `iptables-nft`, run in the
 * node's netns by fork + setns + exec) in the same run, alternately. Prints medians and
 * the ratio command/ours; never passes or fails on time. Goal: a partition in force within
 * 200 us of the call; the command line takes 2-5 ms.
 *
 * "In force" is measured, not assumed: right after the call returns, one UDP probe goes
 * n1 -> n2 and must be refused (partition: EHOSTUNREACH), lost (loss: nothing within
 * 20 ms) or late (delay: at least 18 ms); a run counts only if it is. The figure is the
 * time from the call to that probe's send, so the fault was in force by then. Every call
 * is synchronous with the kernel's ack (rtnetlink, nf_tables transaction commit), which is
 * why the first probe after it is always affected. Heal is measured the same way (the
 * probe arrives within 5 ms).
 * Usage: bench_netfaults [runs]    (default 51) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults/net/delay_attach.h"
#include "faults/net/delay_queue.h"
#include "tests/integration/lab/lab_test.h"
#include "tests/integration/netfaults/net_test.h"

extern const struct fault_ops fault_partition_ops, fault_loss_ops, fault_delay_ops;

#define PORT 7400
#define MAXRUNS 1001

enum effect { REFUSED, LOST, LATE };

struct b {
	struct lab *lab;
	struct lab_node *n1, *n2;
	int tx, rx;   /* UDP in n1, in n2 */
	int netns[2]; /* of n1, n2: for the command line */
	struct fault_env env;
	char from[32], to[32];
};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One probe n1 -> n2: its effect, or -1 when it arrived within 5 ms. t_sent: when sent. */
static int probe(struct b *b, int64_t *t_sent)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORT),
				  .sin_addr = node_addr(b->n2) };
	struct pollfd pfd = { .fd = b->rx, .events = POLLIN };
	char buf[64];
	int64_t t0;

	while (recv(b->rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	*t_sent = t0 = t_now_us();
	if (sendto(b->tx, "p", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == EHOSTUNREACH ? REFUSED : -2;
	if (poll(&pfd, 1, 40) <= 0)
		return LOST;
	recv(b->rx, buf, sizeof(buf), 0);
	return t_now_us() - t0 >= 18000 ? LATE : t_now_us() - t0 < 5000 ? -1 : -2;
}

/* argv run in the node's netns (fd of /proc/PID/ns/net); output discarded. */
static int run_cmd(int netns, const char *const *argv)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (setns(netns, CLONE_NEWNET) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* A fault made both ways; FROM and TO in the commands become n1's and n2's addresses. */
struct kind {
	const char *name;
	const struct fault_ops *ops;
	const char *args;
	enum effect effect;
	int node; /* where the command runs: 0 n1, 1 n2 */
	const char *apply[12], *heal[12];
	void *st;
	double t[2][2][MAXRUNS]; /* [ours, cmd][apply, heal][run], us */
	int n[2][2];
};

static struct kind kinds[] = {
	{ "partition",
	  &fault_partition_ops,
	  "{from: n1, to: [n2]}",
	  REFUSED,
	  0,
	  { "ip", "route", "add", "unreachable", "TO/32", "proto", "205" },
	  { "ip", "route", "del", "unreachable", "TO/32", "proto", "205" },
	  NULL,
	  { { { 0 } } },
	  { { 0 } } },
	{ "loss 100%",
	  &fault_loss_ops,
	  "{node: n2, percent: 100, from: [n1]}",
	  LOST,
	  1,
	  { "nft", "add table ip cdbench; add chain ip cdbench input { type filter hook input "
		   "priority 0; }; add rule ip cdbench input ip saddr FROM numgen random mod "
		   "10000 <= 9999 drop" },
	  { "nft", "delete table ip cdbench" },
	  NULL,
	  { { { 0 } } },
	  { { 0 } } },
	{ "delay 20ms",
	  &fault_delay_ops,
	  "{node: n2, mean: 20ms, from: [n1]}",
	  LATE,
	  1,
	  { "iptables-nft", "-A", "INPUT", "-s", "FROM", "-j", "NFQUEUE", "--queue-num", "206" },
	  { "iptables-nft", "-D", "INPUT", "-s", "FROM", "-j", "NFQUEUE", "--queue-num", "206" },
	  NULL,
	  { { { 0 } } },
	  { { 0 } } },
};

static void subst(struct b *b, const char *const *in, const char **out, char (*buf)[256])
{
	size_t i;

	for (i = 0; in[i]; i++) {
		const char *f = strstr(in[i], "FROM"), *t = strstr(in[i], "TO");
		const char *at = f ? f : t;

		if (!at) {
			out[i] = in[i];
			continue;
		}
		snprintf(buf[i], sizeof(buf[i]), "%.*s%s%s", (int)(at - in[i]), in[i],
			 f ? b->from : b->to, at + (f ? 4 : 2));
		out[i] = buf[i];
	}
	out[i] = NULL;
}

/* Applies (heal false) or heals kind k one way; returns 0 or -errno. */
static int make(struct b *b, struct kind *k, int cmdline, bool heal)
{
	struct strbuf what = STRBUF_INIT;
	const char *argv[12];
	char buf[12][256];
	int r;

	if (cmdline) {
		subst(b, heal ? k->heal : k->apply, argv, buf);
		return run_cmd(b->netns[k->node], argv);
	}
	r = heal ? k->ops->heal(k->st, &b->env, &what) : k->ops->inject(k->st, &b->env, &what);
	if (r < 0)
		fprintf(stderr, "%s %s: %s (%s)\n", k->name, heal ? "heal" : "inject", strerror(-r),
			what.buf);
	strbuf_release(&what);
	return r;
}

static void once(struct b *b, struct kind *k, int cmdline)
{
	int64_t t0, sent;
	int e;

	t0 = t_now_us();
	CHECK(make(b, k, cmdline, false) == 0, "apply %s", k->name);
	e = probe(b, &sent);
	if (e == (int)k->effect)
		k->t[cmdline][0][k->n[cmdline][0]++] = (double)(sent - t0);
	else
		fprintf(stderr, "%s (%s): the first probe was not affected (%d)\n", k->name,
			cmdline ? "command" : "ours", e);
	usleep(2000);
	t0 = t_now_us();
	CHECK(make(b, k, cmdline, true) == 0, "heal %s", k->name);
	if (probe(b, &sent) == -1)
		k->t[cmdline][1][k->n[cmdline][1]++] = (double)(sent - t0);
	else
		fprintf(stderr, "%s (%s): the first probe after heal was affected\n", k->name,
			cmdline ? "command" : "ours");
	usleep(2000);
}

/* The command line's delay needs an engine on its queue too: bound once, not timed. */
static void cmd_engine(struct b *b)
{
	struct net_delay_spec spec = { .mean_ns = 20000000 };
	struct net_delay *q;
	int fd = node_socket(b->n2, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	CHECK(net_delay_new(fd, -1, 206, &spec, &q) == 0, "queue 206 in n2");
	CHECK(net_delay_attach_run(
		      b->env.attachment(b->lab, "n2-command-line", &net_delay_attach_ops), q) == 0,
	      "run queue 206");
}

static void report(struct kind *k, int runs)
{
	static const char *const what[2] = { "apply -> in force", "heal -> healed" };

	for (int a = 0; a < 2; a++) {
		double ours = median(k->t[0][a], k->n[0][a]), cmd = median(k->t[1][a], k->n[1][a]);

		printf("%-11s %-18s %9.0f us %4d/%-4d %9.0f us %4d/%-4d %7.1fx\n", k->name, what[a],
		       ours, k->n[0][a], runs, cmd, k->n[1][a], runs, ours > 0 ? cmd / ours : 0);
	}
}

static void setup(struct b *b, char **dir)
{
	char path[64];

	b->lab = t_lab_new(LAB_CGROUP_NONE);
	*dir = t_data_dir();
	CHECK(lab_node_add(b->lab, "n1", *dir, &b->n1) == 0, "n1");
	CHECK(lab_node_add(b->lab, "n2", *dir, &b->n2) == 0, "n2");
	CHECK(lab_wait_ready(b->lab) == 0, "ready");
	b->tx = t_udp_bound(b->n1, PORT);
	b->rx = t_udp_bound(b->n2, PORT);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net",
			 (int)node_holder_pid(i ? b->n2 : b->n1));
		CHECK((b->netns[i] = open(path, O_RDONLY | O_CLOEXEC)) >= 0, "%s: %m", path);
	}
	inet_ntop(AF_INET, &(struct in_addr){ node_addr(b->n1).s_addr }, b->from, sizeof(b->from));
	inet_ntop(AF_INET, &(struct in_addr){ node_addr(b->n2).s_addr }, b->to, sizeof(b->to));
	b->env = t_env(b->lab);
}

int main(int argc, char **argv)
{
	static struct b b;
	int runs = argc > 1 ? atoi(argv[1]) : 51;
	char *dir;

	t_dispatch(argc, argv);
	t_require_root();
	if (runs < 1 || runs > MAXRUNS)
		runs = 51;
	setup(&b, &dir);
	cmd_engine(&b);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		kinds[i].st = t_fault_parse(kinds[i].ops, b.lab, kinds[i].args);
	for (int run = 0; run < runs; run++)
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			once(&b, &kinds[i], run % 2); /* alternate who goes first */
			once(&b, &kinds[i], !(run % 2));
		}
	printf("# median over %d applications each, same run, alternating; in force = the "
	       "first probe after the call is refused/lost/late\n",
	       runs);
	printf("%-11s %-18s %12s %9s %12s %9s %8s\n", "fault", "", "chaosdrill", "verified",
	       "command", "verified", "ratio");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		report(&kinds[i], runs);
		kinds[i].ops->free(kinds[i].st);
	}
	lab_free(b.lab);
	t_rm_rf(dir);
	free(dir);
	return 0;
}
