/* bench_redis: acknowledged writes/s into one redis-server (Debian's Redis 7, on a
 * loopback port, AOF on, data in --dir) through the Redis target's driver
 * (targets/redis/redis_driver.c) in the harness's own engine (harness/run/load.h: the
 * connections the drills' workload uses), beside `redis-benchmark -t set` against the same
 * server in the same run.
 *
 *   bench_redis [--runs 5] [--seconds 3] [--requests 200000] [--clients 4] [--window 16]
 *               [--value 64] [--appendfsync everysec] [--dir /var/tmp]
 *
 * Both send SETs of --value bytes over --clients connections: the driver for --seconds,
 * redis-benchmark --requests of them (its -n). The engine keeps
 * --window sets in flight per connection (a new one as each reply comes); redis-benchmark
 * runs with -P --window, which sends a batch of that many and waits for the whole batch
 * before the next: the same depth, in lock-step. Its keys are random (-r), ours unique.
 * The two take turns, first one then the other, run by run; each figure is the median of
 * --runs. Prints figures; never fails on time. Needs redis-server, redis-cli and
 * redis-benchmark in PATH (exit 77 without them).
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

#define MAX_RUNS 32

extern char **environ;

struct opts {
	int runs, clients, window;
	long requests;
	double seconds;
	size_t vsize;
	const char *appendfsync, *dir;
};

/* Runs argv with stdout and stderr to log (or /dev/null): its pid, or -1. */
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

/* redis-server on 127.0.0.1:port with its AOF in dir, as target.yaml starts it, and
 * answering PING: its pid, or -1 (then nothing is left running). */
static pid_t server_start(const char *dir, uint16_t port, const char *appendfsync)
{
	char p[8], log[300];
	const char *argv[] = { "redis-server",
			       "--daemonize",
			       "no",
			       "--logfile",
			       "",
			       "--dir",
			       dir,
			       "--bind",
			       "127.0.0.1",
			       "--port",
			       p,
			       "--protected-mode",
			       "no",
			       "--save",
			       "",
			       "--appendonly",
			       "yes",
			       "--appendfsync",
			       appendfsync,
			       "--auto-aof-rewrite-percentage",
			       "0",
			       NULL };
	const char *ping[] = { "redis-cli", "-p", p, "ping", NULL };
	pid_t pid;

	snprintf(p, sizeof(p), "%u", port);
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	pid = spawn_quiet(argv, log);
	if (pid < 0)
		return -1;
	for (int i = 0; i < 300; i++) {
		if (run_quiet(ping) == 0)
			return pid;
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void server_stop(pid_t pid, const char *dir)
{
	const char *rm[] = { "rm", "-rf", dir, NULL };

	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	run_quiet(rm);
}

/* One redis-benchmark -t set run: its figures from --csv ("SET","rps","avg","min","p50",
 * "p95","p99","max"), or -EIO. */
static int redis_benchmark(const struct opts *o, uint16_t port, struct bench_figure *fig)
{
	char cmd[256], line[512];
	double rps, avg, min, p50, p95, p99;
	FILE *f;
	int found = 0;

	snprintf(cmd, sizeof(cmd),
		 "redis-benchmark -h 127.0.0.1 -p %u -t set -n %ld -c %d -P %d -d %zu "
		 "-r 1000000 --csv 2>/dev/null",
		 port, o->requests, o->clients, o->window, o->vsize);
	f = popen(cmd, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "\"SET\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\"", &rps,
			   &avg, &min, &p50, &p95, &p99) == 6)
			found = 1;
	if (pclose(f) != 0 || !found)
		return -EIO;
	*fig = (struct bench_figure){ .rate = rps, .p50_us = p50 * 1000, .p99_us = p99 * 1000 };
	return 0;
}

/* One run through the driver in the engine: its figures, or < 0. */
static int driver_run(const struct opts *o, uint16_t port, int run, struct bench_figure *fig,
		      uint64_t *bad)
{
	char prefix[32];
	struct load_opts lo = { .driver = target_driver_lookup("redis"),
				.host = "127.0.0.1",
				.port = port,
				.clients = o->clients,
				.window = o->window,
				.duration_ns = (int64_t)(o->seconds * NSEC_PER_SEC),
				.value_size = o->vsize,
				.prefix = prefix,
				.latencies = true };
	struct load_result res = { 0 };
	int k;

	snprintf(prefix, sizeof(prefix), "b%d", run);
	k = lo.driver ? load_run(&lo, &res) : -ENOENT;
	if (k >= 0)
		k = bench_load_figure(&res, fig);
	if (k < 0 || res.unknown || res.refused)
		fprintf(stderr, "bench_redis: run %d through the driver: %s %s\n", run + 1,
			k < 0 ? strerror(-k) : "", res.error);
	*bad += res.unknown + res.refused;
	load_result_free(&res);
	return k;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n ? v[n / 2] : 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "runs", 1, 0, 'r' },	 { "requests", 1, 0, 'n' }, { "clients", 1, 0, 'c' },
		{ "window", 1, 0, 'w' }, { "value", 1, 0, 'v' },    { "appendfsync", 1, 0, 'a' },
		{ "dir", 1, 0, 'd' },	 { "seconds", 1, 0, 's' },  { 0, 0, 0, 0 }
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 'n':
			o->requests = atol(optarg);
			break;
		case 'c':
			o->clients = atoi(optarg);
			break;
		case 'w':
			o->window = atoi(optarg);
			break;
		case 'v':
			o->vsize = strtoul(optarg, NULL, 10);
			break;
		case 'a':
			o->appendfsync = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 's':
			o->seconds = atof(optarg);
			break;
		default:
			return -EINVAL;
		}
	}
	if (o->runs < 1 || o->runs > MAX_RUNS || o->clients < 1 || o->clients > 1000 ||
	    o->window < 1 || o->window > 1000 || o->requests < o->clients || o->seconds <= 0 ||
	    o->vsize < 1 || o->vsize > 65536 ||
	    (strcmp(o->appendfsync, "always") && strcmp(o->appendfsync, "everysec") &&
	     strcmp(o->appendfsync, "no")))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .runs = 5,
			  .clients = 4,
			  .window = 16,
			  .requests = 200000,
			  .seconds = 3,
			  .vsize = 64,
			  .appendfsync = "everysec",
			  .dir = "/var/tmp" };
	double d_rate[MAX_RUNS], d_p50[MAX_RUNS], d_p99[MAX_RUNS], b_rate[MAX_RUNS],
		b_p50[MAX_RUNS], b_p99[MAX_RUNS];
	char dir[300];
	uint64_t bad = 0;
	uint16_t port;
	pid_t pid;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr,
			"usage: bench_redis [--runs N] [--seconds S] [--requests N] [--clients N] "
			"[--window N] [--value BYTES] [--appendfsync always|everysec|no] "
			"[--dir DIR]\n");
		return 2;
	}
	if (system("command -v redis-server >/dev/null && command -v redis-cli >/dev/null && "
		   "command -v redis-benchmark >/dev/null") != 0) {
		printf("SKIP: redis-server, redis-cli and redis-benchmark are needed "
		       "(Debian: redis-server, redis-tools)\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "%s/bench-redis.XXXXXX", o.dir);
	port = bench_free_port();
	if (!mkdtemp(dir) || !port || (pid = server_start(dir, port, o.appendfsync)) < 0) {
		fprintf(stderr, "bench_redis: redis-server did not start (%s)\n", dir);
		return 1;
	}
	printf("bench_redis: redis-server 127.0.0.1:%u, appendfsync %s, AOF in %s; %d runs: the "
	       "driver for %.1fs, redis-benchmark -n %ld; SETs of %zu bytes, %d clients, %d in "
	       "flight each\n",
	       port, o.appendfsync, dir, o.runs, o.seconds, o.requests, o.vsize, o.clients,
	       o.window);
	for (int r = 0; r < o.runs; r++) {
		struct bench_figure d = { 0 }, b = { 0 };
		int kd = 0, kb = 0;

		/* take turns: which goes first alternates */
		if (r % 2)
			kb = redis_benchmark(&o, port, &b);
		kd = driver_run(&o, port, r, &d, &bad);
		if (!(r % 2))
			kb = redis_benchmark(&o, port, &b);
		if (kd < 0 || kb < 0) {
			fprintf(stderr, "bench_redis: run %d failed (%s)\n", r + 1,
				kd < 0 ? "driver" : "redis-benchmark");
			server_stop(pid, dir);
			return 1;
		}
		d_rate[r] = d.rate, d_p50[r] = d.p50_us, d_p99[r] = d.p99_us;
		b_rate[r] = b.rate, b_p50[r] = b.p50_us, b_p99[r] = b.p99_us;
		printf("  run %d: driver %.0f writes/s (p50 %.2f ms, p99 %.2f ms), "
		       "redis-benchmark %.0f writes/s (p50 %.2f ms, p99 %.2f ms)\n",
		       r + 1, d.rate, d.p50_us / 1000, d.p99_us / 1000, b.rate, b.p50_us / 1000,
		       b.p99_us / 1000);
	}
	printf("\n%-46s %12s %9s %9s\n", "path (median of runs)", "writes/s", "p50 ms", "p99 ms");
	printf("%-46s %12.0f %9.2f %9.2f\n", "chaosdrill engine + redis driver",
	       median(d_rate, o.runs), median(d_p50, o.runs) / 1000, median(d_p99, o.runs) / 1000);
	printf("%-46s %12.0f %9.2f %9.2f\n", "redis-benchmark -t set (-P window, lock-step)",
	       median(b_rate, o.runs), median(b_p50, o.runs) / 1000, median(b_p99, o.runs) / 1000);
	printf("driver: %llu writes refused or unknown\n", (unsigned long long)bad);
	server_stop(pid, dir);
	return 0;
}
