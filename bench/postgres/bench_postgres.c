/* bench_postgres: acknowledged writes/s into PostgreSQL through the postgres target's
 * workload adapter (targets/postgres/pg-adapter: libpq pipeline mode, the drills'
 * workload), beside pgbench on the same server in the same run. The server is Debian's
 * PostgreSQL 15, started by the bench as user postgres in a throwaway data dir (made by the
 * target's own pg-init.sh: checksums, superuser and database eriop, table kv) on a free
 * loopback port, with the target's defaults (fsync=on, synchronous_commit=on), and removed
 * at the end.
 *
 *   bench_postgres [--runs 5] [--seconds 3] [--clients 4] [--window 32] [--value 64]
 *                  [--dir /var/tmp] [--synchronous-commit on|off]
 *
 * Each run measures, in turn: the adapter with --window sets in flight per client
 * (harness/run/load.h drives --clients adapters in a closed loop; pg-adapter sends what it
 * has in one pipeline batch, one implicit transaction per batch), the adapter with one set
 * in flight (a commit per write, as pgbench does), and pgbench with a one-statement insert
 * script (`-n -f insert.sql -c N -j N -T secs`; a transaction per insert, keys from
 * gen_random_uuid()). Each figure is the median of --runs. Prints figures; never fails on
 * time. Needs root (to run the server as postgres) and PostgreSQL 15 (exit 77 without).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/common/bench_kvlog.h"
#include "common/units.h"
#include "harness/run/load.h"

#define PGBIN "/usr/lib/postgresql/15/bin"
#define MAX_RUNS 32
#define MAX_CLIENTS 64

/* Runs argv as user pw (stdout and stderr to log, or /dev/null): its pid, or -1. */
static pid_t spawn_as(const struct passwd *pw, const char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	if (pw && (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
		_exit(127);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static int wait_status(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct server {
	char dir[256], data[300], port_s[8];
	uint16_t port;
	pid_t pid;
};

static void server_stop(struct server *s)
{
	char cmd[400];

	if (s->pid > 0) {
		kill(s->pid, SIGINT); /* fast shutdown */
		waitpid(s->pid, NULL, 0);
		s->pid = -1;
	}
	if (*s->dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_postgres: could not remove %s\n", s->dir);
	}
}

static int server_start(struct server *s, const struct passwd *pw, const char *base,
			const char *sync_commit)
{
	char init[512], log[320], sc[64], isready[64];

	snprintf(s->dir, sizeof(s->dir), "%s/bench-postgres.XXXXXX", base);
	if (!mkdtemp(s->dir))
		return -errno;
	if (chown(s->dir, pw->pw_uid, pw->pw_gid) < 0)
		return -errno;
	snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	snprintf(init, sizeof(init), "%s/targets/postgres/pg-init.sh", SOURCE_DIR);
	const char *init_argv[] = { "/bin/sh", init, PGBIN, s->data, "primary", NULL };

	if (wait_status(spawn_as(pw, init_argv, log)) != 0)
		return -EIO;
	if (!(s->port = bench_free_port()))
		return -EADDRINUSE;
	snprintf(s->port_s, sizeof(s->port_s), "%u", s->port);
	snprintf(sc, sizeof(sc), "synchronous_commit=%s", sync_commit);
	const char *srv[] = { PGBIN "/postgres",     "-D", s->data,   "-k", s->data, "-h",
			      "127.0.0.1",	     "-p", s->port_s, "-c", sc,	     "-c",
			      "max_connections=200", NULL };

	if ((s->pid = spawn_as(pw, srv, log)) < 0)
		return -errno;
	snprintf(isready, sizeof(isready), "%s", s->port_s);
	for (int i = 0; i < 300; i++) {
		const char *argv[] = {
			PGBIN "/pg_isready", "-q", "-h", "127.0.0.1", "-p", isready, NULL
		};

		if (wait_status(spawn_as(NULL, argv, NULL)) == 0)
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

/* pgbench with a one-insert script: transactions (= writes) per second, or -1. */
static double pgbench(const struct server *s, const char *script, int clients, double seconds,
		      uint64_t *failed)
{
	char cmd[1024], line[512];
	double tps = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 PGBIN "/pgbench -n -f '%s' -c %d -j %d -T %d -h 127.0.0.1 -p %u -U eriop eriop "
		       "2>&1",
		 script, clients, clients, (int)(seconds + 0.5), s->port);
	if (!(p = popen(cmd, "re")))
		return -1;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long f;

		if (sscanf(line, "tps = %lf", &tps) == 1)
			continue;
		if (sscanf(line, "number of failed transactions: %llu", &f) == 1)
			*failed += f;
	}
	return pclose(p) == 0 ? tps : -1;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n ? v[n / 2] : 0;
}

static int adapter_run(const struct server *s, int clients, int window, double seconds,
		       size_t vsize, const char *prefix, struct bench_figure *fig,
		       uint64_t *unknown, uint64_t *refused)
{
	char adapter[512];

	snprintf(adapter, sizeof(adapter), "%s/targets/postgres/pg-adapter", BUILD_DIR);
	const char *argv[] = { adapter, "--timeout-ms", "5000", NULL };
	struct load_opts o = { .host = "127.0.0.1",
			       .port = s->port,
			       .clients = clients,
			       .window = window,
			       .duration_ns = (int64_t)(seconds * NSEC_PER_SEC),
			       .value_size = vsize,
			       .latencies = true,
			       .prefix = prefix,
			       .adapter = (char *const *)argv };
	struct load_result res = { 0 };
	int k = load_run(&o, &res);

	if (k >= 0)
		k = bench_load_figure(&res, fig);
	if (k < 0)
		fprintf(stderr, "bench_postgres: adapter run: %s %s\n", strerror(-k), res.error);
	*unknown += res.unknown;
	*refused += res.refused;
	load_result_free(&res);
	return k;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "runs", 1, 0, 'r' },
					      { "seconds", 1, 0, 's' },
					      { "clients", 1, 0, 'c' },
					      { "window", 1, 0, 'w' },
					      { "value", 1, 0, 'v' },
					      { "dir", 1, 0, 'd' },
					      { "synchronous-commit", 1, 0, 'S' },
					      { 0, 0, 0, 0 } };
	int runs = 5, clients = 4, window = 32, opt, k;
	double seconds = 3, a_rate[MAX_RUNS], a_p50[MAX_RUNS], a_p99[MAX_RUNS], o_rate[MAX_RUNS],
	       o_p50[MAX_RUNS], o_p99[MAX_RUNS], b_rate[MAX_RUNS];
	size_t vsize = 64;
	const char *dir = "/var/tmp", *sync_commit = "on";
	char script[320];
	uint64_t unknown = 0, refused = 0, bench_failed = 0;
	struct server s = { .pid = -1 };
	struct passwd *pw;
	FILE *f;

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
		case 'S':
			sync_commit = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: bench_postgres [--runs N] [--seconds S] [--clients N] "
				"[--window N] [--value BYTES] [--dir DIR] "
				"[--synchronous-commit on|off]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || clients < 1 || clients > MAX_CLIENTS || window < 1 ||
	    vsize < 1 || vsize > 60000 || seconds < 1 ||
	    (strcmp(sync_commit, "on") && strcmp(sync_commit, "off"))) {
		fprintf(stderr, "bench_postgres: bad option value\n");
		return 2;
	}
	if (access(PGBIN "/postgres", X_OK) || access(PGBIN "/pgbench", X_OK) ||
	    !(pw = getpwnam("postgres")) || geteuid() != 0) {
		printf("SKIP: needs root, user postgres and PostgreSQL 15 in " PGBIN
		       " (scripts/install-deps.sh)\n");
		return 77;
	}
	if ((k = server_start(&s, pw, dir, sync_commit)) < 0) {
		fprintf(stderr, "bench_postgres: the server did not start: %s (log in %s)\n",
			strerror(-k), s.dir);
		server_stop(&s);
		return 1;
	}
	snprintf(script, sizeof(script), "%s/insert.sql", s.dir);
	if (!(f = fopen(script, "we"))) {
		server_stop(&s);
		return 1;
	}
	fprintf(f,
		"insert into kv (k, v) values ('pgb-' || gen_random_uuid(), repeat('v', %zu));\n",
		vsize);
	fclose(f);
	printf("bench_postgres: PostgreSQL 15 on 127.0.0.1:%u (data in %s, fsync=on, "
	       "synchronous_commit=%s), %d runs of %.1fs, %d clients, %zu-byte values\n",
	       s.port, s.dir, sync_commit, runs, seconds, clients, vsize);
	for (int r = 0; r < runs; r++) {
		struct bench_figure fa = { 0 }, fo = { 0 };
		char p1[32], p2[32];

		snprintf(p1, sizeof(p1), "ad%d", r);
		snprintf(p2, sizeof(p2), "one%d", r);
		if (adapter_run(&s, clients, window, seconds, vsize, p1, &fa, &unknown, &refused) <
			    0 ||
		    adapter_run(&s, clients, 1, seconds, vsize, p2, &fo, &unknown, &refused) < 0 ||
		    (b_rate[r] = pgbench(&s, script, clients, seconds, &bench_failed)) < 0) {
			fprintf(stderr, "bench_postgres: run %d failed\n", r + 1);
			server_stop(&s);
			return 1;
		}
		a_rate[r] = fa.rate, a_p50[r] = fa.p50_us, a_p99[r] = fa.p99_us;
		o_rate[r] = fo.rate, o_p50[r] = fo.p50_us, o_p99[r] = fo.p99_us;
		printf("  run %d: pg-adapter window %d %.0f writes/s, window 1 %.0f writes/s, "
		       "pgbench %.0f writes/s\n",
		       r + 1, window, a_rate[r], o_rate[r], b_rate[r]);
	}
	printf("\n%-48s %12s %9s %9s\n", "path (median of runs)", "writes/s", "p50 ms", "p99 ms");
	printf("pg-adapter, %2d in flight per client %-12s %12.0f %9.2f %9.2f\n", window, "",
	       median(a_rate, runs), median(a_p50, runs) / 1000, median(a_p99, runs) / 1000);
	printf("%-48s %12.0f %9.2f %9.2f\n", "pg-adapter, 1 in flight per client",
	       median(o_rate, runs), median(o_p50, runs) / 1000, median(o_p99, runs) / 1000);
	printf("%-48s %12.0f %9s %9s\n", "pgbench -f insert.sql (a transaction per insert)",
	       median(b_rate, runs), "-", "-");
	printf("pg-adapter: %llu unknown, %llu refused; pgbench: %llu failed transactions\n",
	       (unsigned long long)unknown, (unsigned long long)refused,
	       (unsigned long long)bench_failed);
	server_stop(&s);
	return 0;
}
