/* bench_etcd: acknowledged writes/s into a 3-member etcd cluster (Debian's etcd 3.4, on
 * loopback ports, data in --dir) through the etcd target's client adapter
 * (targets/etcd/adapter.py, the drills' workload: Python on etcd's HTTP/JSON gateway),
 * beside etcdctl writing to the same cluster in the same run. Debian ships no etcd
 * `benchmark` tool, so the baseline is what an operator scripts: --clients loops of
 * `etcdctl put KEY VALUE` (one process per write, as `for ...; do etcdctl put; done`).
 *
 *   bench_etcd [--runs 3] [--seconds 3] [--clients 4] [--window 32] [--value 64]
 *              [--dir /var/tmp]
 *
 * The two paths take turns run by run; each figure is the median of --runs. The adapter
 * is driven in a closed loop (harness/run/load.h: --clients adapters, each keeping
 * --window puts in flight, which it spreads over its 8 worker threads); its writes are
 * acknowledged only by an HTTP 200 from etcd (after raft commit and apply). Prints
 * figures; never fails on time. Needs etcd and etcdctl in PATH (exit 77 without them).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/common/bench_kvlog.h"
#include "common/units.h"
#include "harness/run/load.h"

#define MEMBERS 3
#define MAX_RUNS 32
#define MAX_CLIENTS 64

extern char **environ;

struct cluster {
	char dir[256];
	uint16_t client[MEMBERS], peer[MEMBERS];
	pid_t pid[MEMBERS];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv with stdout and stderr to /dev/null: its pid, or -1. */
static pid_t spawn_quiet(const char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null",
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return r ? -1 : pid;
}

static int run_quiet(const char *const argv[])
{
	int status;
	pid_t pid = spawn_quiet(argv, NULL);

	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void cluster_stop(struct cluster *c)
{
	const char *rm[] = { "rm", "-rf", c->dir, NULL };

	for (int i = 0; i < MEMBERS; i++)
		if (c->pid[i] > 0) {
			kill(c->pid[i], SIGTERM);
			waitpid(c->pid[i], NULL, 0);
			c->pid[i] = -1;
		}
	run_quiet(rm);
}

static int cluster_start(struct cluster *c, const char *base)
{
	char initial[512] = "", name[MEMBERS][8], data[MEMBERS][300], lc[MEMBERS][64],
	     lp[MEMBERS][64], log[300], ep[64];
	size_t off = 0;

	snprintf(c->dir, sizeof(c->dir), "%s/bench-etcd.XXXXXX", base);
	if (!mkdtemp(c->dir))
		return -errno;
	for (int i = 0; i < MEMBERS; i++) {
		c->pid[i] = -1;
		c->client[i] = bench_free_port();
		c->peer[i] = bench_free_port();
		if (!c->client[i] || !c->peer[i] || c->client[i] == c->peer[i])
			return -EADDRINUSE;
		snprintf(name[i], sizeof(name[i]), "m%d", i + 1);
		snprintf(data[i], sizeof(data[i]), "%s/%s", c->dir, name[i]);
		snprintf(lc[i], sizeof(lc[i]), "http://127.0.0.1:%u", c->client[i]);
		snprintf(lp[i], sizeof(lp[i]), "http://127.0.0.1:%u", c->peer[i]);
		off += snprintf(initial + off, sizeof(initial) - off, "%s%s=%s", i ? "," : "",
				name[i], lp[i]);
	}
	for (int i = 0; i < MEMBERS; i++) {
		const char *argv[] = { "etcd",	"--name",
				       name[i], "--data-dir",
				       data[i], "--listen-client-urls",
				       lc[i],	"--advertise-client-urls",
				       lc[i],	"--listen-peer-urls",
				       lp[i],	"--initial-advertise-peer-urls",
				       lp[i],	"--initial-cluster",
				       initial, "--initial-cluster-state",
				       "new",	NULL };

		snprintf(log, sizeof(log), "%s/%s.log", c->dir, name[i]);
		c->pid[i] = spawn_quiet(argv, log);
		if (c->pid[i] < 0)
			return -ENOENT;
	}
	snprintf(ep, sizeof(ep), "--endpoints=%s", lc[0]);
	for (double t0 = now_s(); now_s() - t0 < 30;) {
		const char *health[] = { "etcdctl", ep, "endpoint", "health", NULL };

		if (run_quiet(health) == 0)
			return 0;
		usleep(200000);
	}
	return -ETIMEDOUT;
}

/* --clients loops of `etcdctl put`, one process per write, for `seconds`: writes/s. */
static double etcdctl_loops(const struct cluster *c, int clients, double seconds, size_t vsize,
			    int run, uint64_t *failed)
{
	pid_t pid[MAX_CLIENTS];
	char key[MAX_CLIENTS][48], ep[MAX_CLIENTS][64], value[65536];
	uint64_t seq = 0, ok = 0;
	double t0 = now_s(), end = t0 + seconds;
	int live = 0;

	memset(value, 'v', vsize);
	value[vsize] = 0;
	for (int i = 0; i < clients; i++)
		pid[i] = -1;
	for (;;) {
		int status;
		pid_t p;

		for (int i = 0; i < clients && now_s() < end; i++) {
			if (pid[i] > 0)
				continue;
			const char *argv[] = { "etcdctl", ep[i], "put", key[i], value, NULL };

			/* clients spread over the members, as the adapters are */
			snprintf(ep[i], sizeof(ep[i]), "--endpoints=http://127.0.0.1:%u",
				 c->client[i % MEMBERS]);
			snprintf(key[i], sizeof(key[i]), "ctl-%d-%d-%llu", run, i,
				 (unsigned long long)seq++);
			pid[i] = spawn_quiet(argv, NULL);
			live += pid[i] > 0;
		}
		if (!live)
			break;
		p = waitpid(-1, &status, 0);
		if (p < 0)
			break;
		for (int i = 0; i < clients; i++)
			if (pid[i] == p) {
				pid[i] = -1;
				live--;
				if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
					ok++;
				else
					++*failed;
			}
	}
	return ok / (now_s() - t0);
}

static int median_cmp(const void *a, const void *b)
{
	return bench_cmp_double(a, b);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), median_cmp);
	return n ? v[n / 2] : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", 1, 0, 'r' },	 { "seconds", 1, 0, 's' }, { "clients", 1, 0, 'c' },
		{ "window", 1, 0, 'w' }, { "value", 1, 0, 'v' },   { "dir", 1, 0, 'd' },
		{ 0, 0, 0, 0 }
	};
	int runs = 3, clients = 4, window = 32, opt, k;
	double seconds = 3, a_rate[MAX_RUNS], a_p50[MAX_RUNS], a_p99[MAX_RUNS], e_rate[MAX_RUNS];
	size_t vsize = 64;
	const char *dir = "/var/tmp";
	char adapter_path[512];
	uint64_t unknown = 0, refused = 0, ctl_failed = 0;
	struct cluster c = { 0 };

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			runs = atoi(optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'c':
			clients = atoi(optarg);
			break;
		case 'w':
			window = atoi(optarg);
			break;
		case 'v':
			vsize = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_etcd [--runs N] [--seconds S] [--clients N] "
					"[--window N] [--value BYTES] [--dir DIR]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || clients < 1 || clients > MAX_CLIENTS || window < 1 ||
	    vsize < 1 || vsize > 60000) {
		fprintf(stderr, "bench_etcd: bad option value\n");
		return 2;
	}
	if (system("command -v etcd >/dev/null && command -v etcdctl >/dev/null") != 0) {
		printf("SKIP: etcd and etcdctl are needed (scripts/install-deps.sh)\n");
		return 77;
	}
	setenv("ETCDCTL_API", "3", 1);
	snprintf(adapter_path, sizeof(adapter_path), "%s/targets/etcd/adapter.py", SOURCE_DIR);
	if ((k = cluster_start(&c, dir)) < 0) {
		fprintf(stderr, "bench_etcd: the cluster did not start: %s (logs in %s)\n",
			strerror(-k), c.dir);
		cluster_stop(&c);
		return 1;
	}
	char nodes[256];
	snprintf(nodes, sizeof(nodes), "m1=127.0.0.1:%u,m2=127.0.0.1:%u,m3=127.0.0.1:%u",
		 c.client[0], c.client[1], c.client[2]);
	const char *adapter[] = { "python3", adapter_path, "--timeout-ms", "2000", "--nodes",
				  nodes,     NULL };

	printf("bench_etcd: 3-member etcd cluster on 127.0.0.1 (data in %s), %d runs of %.1fs, "
	       "%d clients, %zu-byte values\n",
	       dir, runs, seconds, clients, vsize);
	for (int r = 0; r < runs; r++) {
		struct load_opts o = { .host = "127.0.0.1",
				       .port = c.client[0],
				       .clients = clients,
				       .window = window,
				       .duration_ns = (int64_t)(seconds * NSEC_PER_SEC),
				       .value_size = vsize,
				       .latencies = true,
				       .adapter = (char *const *)adapter };
		struct load_result res = { 0 };
		struct bench_figure fig = { 0 };
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "ad%d", r);
		o.prefix = prefix;
		k = load_run(&o, &res);
		if (k < 0 || bench_load_figure(&res, &fig) < 0) {
			fprintf(stderr, "bench_etcd: run %d through the adapter: %s %s\n", r + 1,
				k < 0 ? strerror(-k) : "nothing acknowledged", res.error);
			load_result_free(&res);
			cluster_stop(&c);
			return 1;
		}
		a_rate[r] = fig.rate, a_p50[r] = fig.p50_us, a_p99[r] = fig.p99_us;
		unknown += res.unknown, refused += res.refused;
		load_result_free(&res);
		e_rate[r] = etcdctl_loops(&c, clients, seconds, vsize, r, &ctl_failed);
		printf("  run %d: adapter %.0f writes/s (p50 %.1f ms, p99 %.1f ms), etcdctl put loops %.0f writes/s\n",
		       r + 1, a_rate[r], a_p50[r] / 1000, a_p99[r] / 1000, e_rate[r]);
	}
	printf("\n%-44s %12s %9s %9s\n", "path (median of runs)", "writes/s", "p50 ms", "p99 ms");
	printf("%-44s %12.0f %9.1f %9.1f\n", "adapter.py (HTTP gateway, 8 threads each)",
	       median(a_rate, runs), median(a_p50, runs) / 1000, median(a_p99, runs) / 1000);
	printf("%-44s %12.0f %9s %9s\n", "etcdctl put loops (a process per write)",
	       median(e_rate, runs), "-", "-");
	printf("adapter: %llu unknown, %llu refused; etcdctl: %llu failed\n",
	       (unsigned long long)unknown, (unsigned long long)refused,
	       (unsigned long long)ctl_failed);
	cluster_stop(&c);
	return 0;
}
