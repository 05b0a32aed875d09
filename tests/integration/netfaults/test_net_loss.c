/* `loss` end to end in a 3-node lab: 1,000 UDP probes per pair measure the loss rate
 * before (0), during (within 5 points of the asked percent, only from the listed senders)
 * and after heal (0), and the receiver's nftables ruleset is the same after heal as before.
 * Skips (77) when the kernel has no nf_tables or no numgen. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/lab/lab_test.h"
#include "tests/integration/netfaults/net_test.h"

extern const struct fault_ops fault_loss_ops;

#define N 3
#define PORT 7200
#define PROBES 1000

static const char *const names[N] = { "n1", "n2", "n3" };

struct t {
	struct lab *lab;
	struct lab_node *n[N];
	int udp[N];
};

static void drain(int fd, bool *seen)
{
	uint32_t seq;

	while (recv(fd, &seq, sizeof(seq), 0) == sizeof(seq))
		if (seq < PROBES)
			seen[seq] = true;
}

/* Percent of PROBES datagrams from -> to that never arrived. */
static double lost(struct t *t, int from, int to)
{
	static bool seen[PROBES];
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORT),
				  .sin_addr = node_addr(t->n[to]) };
	int got = 0;

	memset(seen, 0, sizeof(seen));
	drain(t->udp[to], seen);
	memset(seen, 0, sizeof(seen));
	for (uint32_t seq = 0; seq < PROBES; seq++) {
		CHECK(sendto(t->udp[from], &seq, sizeof(seq), 0, (struct sockaddr *)&sa,
			     sizeof(sa)) == sizeof(seq),
		      "send: %m");
		if (seq % 50 == 49) { /* paced: the receive buffer never overflows */
			usleep(2000);
			drain(t->udp[to], seen);
		}
	}
	usleep(100000);
	drain(t->udp[to], seen);
	for (int i = 0; i < PROBES; i++)
		got += seen[i];
	return 100.0 * (PROBES - got) / PROBES;
}

static char *ruleset(struct t *t, int i)
{
	const char *argv[] = { "nft", "list", "ruleset", NULL };

	return t_run_ok(t->lab, t->n[i], argv);
}

static void *inject_or_skip(struct t *t, const char *args)
{
	struct fault_env env = t_env(t->lab);
	struct strbuf what = STRBUF_INIT;
	void *st = t_fault_parse(&fault_loss_ops, t->lab, args);
	int r = fault_loss_ops.inject(st, &env, &what);

	if (r == -EPROTONOSUPPORT || r == -ENOENT || r == -EOPNOTSUPP) {
		printf("SKIP: loss needs nf_tables with numgen: %s\n", what.buf);
		exit(77);
	}
	CHECK(r == 0, "inject loss %s: %s (%s)", args, strerror(-r), what.buf);
	printf("# timeline: %s\n", what.buf);
	strbuf_release(&what);
	return st;
}

static void heal(struct t *t, void *st)
{
	struct fault_env env = t_env(t->lab);
	struct strbuf what = STRBUF_INIT;
	int r = fault_loss_ops.heal(st, &env, &what);

	CHECK(r == 0, "heal: %s (%s)", strerror(-r), what.buf);
	printf("# timeline: %s\n", what.buf);
	strbuf_release(&what);
	fault_loss_ops.free(st);
}

static void check_rate(struct t *t, int from, int to, double want)
{
	double got = lost(t, from, to);

	printf("# %s -> %s: %.1f%% of %d probes lost (asked %.1f%%)\n", names[from], names[to], got,
	       PROBES, want);
	CHECK(fabs(got - want) <= 5.0, "%s -> %s lost %.1f%%, want %.1f%% +- 5", names[from],
	      names[to], got, want);
}

int main(int argc, char **argv)
{
	struct fault_env env;
	struct strbuf what = STRBUF_INIT;
	struct t t = { 0 };
	char *dirs[N], *before, *during, *after;
	void *st, *st2;

	t_dispatch(argc, argv);
	t_require_root();
	t.lab = t_lab_new(LAB_CGROUP_NONE);
	env = t_env(t.lab);
	for (int i = 0; i < N; i++) {
		dirs[i] = t_data_dir();
		CHECK(lab_node_add(t.lab, names[i], dirs[i], &t.n[i]) == 0, "add %s", names[i]);
	}
	CHECK(lab_wait_ready(t.lab) == 0, "ready");
	for (int i = 0; i < N; i++)
		t.udp[i] = t_udp_bound(t.n[i], PORT);
	before = ruleset(&t, 1);
	check_rate(&t, 0, 1, 0);
	check_rate(&t, 2, 1, 0);

	st = inject_or_skip(&t, "{node: n2, percent: 30, from: [n1]}");
	during = ruleset(&t, 1);
	CHECK(strstr(during, "numgen random mod 10000 < 3000 drop"), "ruleset:\n%s", during);
	check_rate(&t, 0, 1, 30);
	check_rate(&t, 2, 1, 0); /* not listed: untouched */
	check_rate(&t, 1, 0, 0); /* the other direction: untouched */
	st2 = t_fault_parse(&fault_loss_ops, t.lab, "{node: n2, percent: 10}");
	CHECK(fault_loss_ops.inject(st2, &env, &what) == -EEXIST && strstr(what.buf, "already"),
	      "a second loss on n2: %s", what.buf);
	strbuf_release(&what);
	fault_loss_ops.free(st2);
	heal(&t, st);
	after = ruleset(&t, 1);
	CHECK(strcmp(before, after) == 0, "ruleset after heal:\n%s\nbefore:\n%s", after, before);
	check_rate(&t, 0, 1, 0);
	OK("loss 30%% from n1 at n2: within 5 points; others untouched; heal restores the ruleset");

	st = inject_or_skip(&t, "{node: n2, percent: 70}");
	check_rate(&t, 0, 1, 70);
	check_rate(&t, 2, 1, 70);
	heal(&t, st);
	free(after);
	after = ruleset(&t, 1);
	CHECK(strcmp(before, after) == 0, "ruleset after heal:\n%s\nbefore:\n%s", after, before);
	check_rate(&t, 2, 1, 0);
	OK("loss 70%% from anywhere at n2: within 5 points; heal restores the ruleset");

	free(before), free(during), free(after);
	for (int i = 0; i < N; i++) {
		close(t.udp[i]);
		t_rm_rf(dirs[i]);
		free(dirs[i]);
	}
	lab_free(t.lab);
	return 0;
}
