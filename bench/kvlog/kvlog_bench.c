/* kvlog-bench: acknowledged writes/s and p50/p99 latency of kvlog-server for --sync
 * always/batch/never with 1 and 16 clients (median of --runs), beside the raw
 * write+fdatasync rate of the same disk measured in the same run: appending, and over
 * zeros written ahead (how kvlog-server writes its log when it syncs it).
 *
 *   kvlog-bench [--runs 3] [--seconds 2] [--window 1] [--value 100] [--dir /var/tmp]
 *               [--sync always|batch|never] [--clients N] [--server PATH]
 *
 * --sync and --clients measure one row (or one mode, or one client count) instead of the
 * whole table, e.g. to profile the server under one load. --server runs another build of
 * kvlog-server (the one built beside this bench by default), so that two builds can be
 * compared in one session on a machine whose speed drifts.
 *
 * The load goes the way a drill's writes go: the engine's connections (harness/run/conn.h)
 * speaking kvlog's protocol through its driver (targets/kvlog/kvlog_driver.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "bench/common/bench_kvlog.h"
#include "harness/run/load.h"

struct bench {
	int runs, window;
	double seconds;
	size_t value;
	const char *dir;
	const char *server; /* kvlog-server to run */
	const char *sync;   /* only this mode; NULL = all */
	int clients;	    /* only this many clients; 0 = 1 and 16 */
};

static const char *const syncs[] = { "always", "batch", "never" };

/* Whether the table has a row for mode (any = true: whether mode is a mode at all). */
static bool wanted(const struct bench *b, const char *mode, bool any)
{
	for (size_t i = 0; i < ARRAY_SIZE(syncs); i++)
		if (strcmp(mode, syncs[i]) == 0)
			return any || !b->sync || strcmp(b->sync, mode) == 0;
	return false;
}

static int cmp_fig(const void *a, const void *b)
{
	double x = ((const struct bench_figure *)a)->rate,
	       y = ((const struct bench_figure *)b)->rate;

	return x < y ? -1 : x > y;
}

/* Zero-fills fd from *size up to at least need, 1 MiB at a time, as kvlog's log does. */
static int zero_ahead(int fd, off_t *size, off_t need)
{
	static const char zeros[1 << 20];

	while (*size < need) {
		if (pwrite(fd, zeros, sizeof(zeros), *size) != (ssize_t)sizeof(zeros))
			return -1;
		*size += (off_t)sizeof(zeros);
	}
	return 0;
}

/* Raw rate of 100-byte writes each followed by fdatasync, for `seconds`: appends, or
 * (over_zeros) overwrites of zeros written ahead, the way kvlog-server writes its log
 * with --sync always or batch: such an fdatasync need not write the inode. */
static double baseline(const struct bench *b, bool over_zeros)
{
	char path[512], buf[128];
	_cleanup_close_ int fd = -1;
	int64_t t0, end;
	uint64_t n = 0;
	off_t size = 0;

	snprintf(path, sizeof(path), "%s/kvlog-bench-fsync.%d", b->dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (over_zeros ? 0 : O_APPEND),
		  0644);
	if (fd < 0)
		return -1;
	unlink(path);
	memset(buf, 'x', sizeof(buf));
	t0 = time_mono_ns();
	end = t0 + (int64_t)(b->seconds * 1e9);
	while (time_mono_ns() < end) {
		if (over_zeros && zero_ahead(fd, &size, (off_t)(n + 1) * 100) < 0)
			return -1;
		if (write(fd, buf, 100) != 100 || fdatasync(fd) < 0)
			return -1;
		n++;
	}
	return (double)n / ((double)(time_mono_ns() - t0) / 1e9);
}

/* The median of `runs` baseline runs. */
static double baseline_median(const struct bench *b, bool over_zeros)
{
	int n = b->runs < 32 ? b->runs : 32;
	double v[32];

	for (int i = 0; i < n; i++)
		v[i] = baseline(b, over_zeros);
	qsort(v, (size_t)n, sizeof(double), bench_cmp_double);
	return v[n / 2];
}

static int one_run(const struct bench *b, const char *sync, int clients, struct bench_figure *fig)
{
	struct load_opts o = { .driver = target_driver_lookup("kvlog"),
			       .host = "127.0.0.1",
			       .clients = clients,
			       .window = b->window,
			       .value_size = b->value,
			       .duration_ns = (int64_t)(b->seconds * 1e9),
			       .prefix = "b",
			       .latencies = true };
	struct load_result res;
	char data[512];
	pid_t pid;
	int r;

	snprintf(data, sizeof(data), "%s/kvlog-bench.%d.%s.%d", b->dir, (int)getpid(), sync,
		 clients);
	o.port = bench_free_port();
	pid = bench_kvlog_start(b->server, data, o.port, sync);
	if (pid < 0)
		return -EIO;
	r = load_run(&o, &res);
	if (bench_kvlog_stop(pid, data) < 0 && r >= 0)
		r = -EIO;
	if (r >= 0 && bench_load_figure(&res, fig) < 0)
		r = -EIO;
	if (res.error[0])
		fprintf(stderr, "kvlog-bench: %s/%d: %s\n", sync, clients, res.error);
	load_result_free(&res);
	return r;
}

static void measure(const struct bench *b, const char *sync, int clients)
{
	struct bench_figure figs[32];
	int n = 0;

	for (int i = 0; i < b->runs && i < 32; i++)
		if (one_run(b, sync, clients, &figs[n]) == 0)
			n++;
	if (n == 0) {
		printf("%-7s %3d  (failed)\n", sync, clients);
		return;
	}
	qsort(figs, (size_t)n, sizeof(*figs), cmp_fig);
	printf("%-7s %7d %14.0f %10.0f %10.0f   [runs:", sync, clients, figs[n / 2].rate,
	       figs[n / 2].p50_us, figs[n / 2].p99_us);
	for (int i = 0; i < n; i++)
		printf(" %.0f", figs[i].rate);
	printf("]\n");
	fflush(stdout);
}

static int parse(int argc, char **argv, struct bench *b)
{
	static const struct option opts[] = { { "runs", required_argument, NULL, 'r' },
					      { "seconds", required_argument, NULL, 's' },
					      { "window", required_argument, NULL, 'w' },
					      { "value", required_argument, NULL, 'v' },
					      { "dir", required_argument, NULL, 'd' },
					      { "sync", required_argument, NULL, 'S' },
					      { "clients", required_argument, NULL, 'c' },
					      { "server", required_argument, NULL, 'x' },
					      {} };
	int c;

	*b = (struct bench){ .runs = 3,
			     .seconds = 2,
			     .window = 1,
			     .value = 100,
			     .dir = "/var/tmp",
			     .server = KVLOG_BIN_DIR "/kvlog-server" };
	while ((c = getopt_long(argc, argv, "r:s:w:v:d:S:c:x:", opts, NULL)) != -1) {
		if (c == 'r')
			b->runs = atoi(optarg);
		else if (c == 's')
			b->seconds = atof(optarg);
		else if (c == 'w')
			b->window = atoi(optarg);
		else if (c == 'v')
			b->value = (size_t)atol(optarg);
		else if (c == 'd')
			b->dir = optarg;
		else if (c == 'S')
			b->sync = optarg;
		else if (c == 'c')
			b->clients = atoi(optarg);
		else if (c == 'x')
			b->server = optarg;
		else
			return -EINVAL;
	}
	if (b->sync && !wanted(b, b->sync, true))
		return -EINVAL;
	return b->runs > 0 && b->window > 0 && b->seconds > 0 && b->clients >= 0 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static const int clients[] = { 1, 16 };
	struct bench b;

	if (parse(argc, argv, &b) < 0) {
		fprintf(stderr, "usage: kvlog-bench [--runs N] [--seconds S] [--window W] "
				"[--value BYTES] [--dir DIR] [--sync MODE] [--clients N] "
				"[--server PATH]\n");
		return 2;
	}
	printf("kvlog-bench: %d runs of %.1fs each, %zu-byte values, %d in flight per client, "
	       "data in %s\n",
	       b.runs, b.seconds, b.value, b.window, b.dir);
	if (strcmp(b.server, KVLOG_BIN_DIR "/kvlog-server") != 0)
		printf("server: %s\n", b.server);
	printf("baseline: raw 100-byte write+fdatasync on the same disk: %.0f/s appending, "
	       "%.0f/s over zeros written ahead (medians)\n\n",
	       baseline_median(&b, false), baseline_median(&b, true));
	printf("%-7s %7s %14s %10s %10s\n", "sync", "clients", "acked writes/s", "p50 us",
	       "p99 us");
	for (size_t s = 0; s < ARRAY_SIZE(syncs); s++) {
		if (!wanted(&b, syncs[s], false))
			continue;
		for (size_t c = 0; c < ARRAY_SIZE(clients) && (!b.clients || c == 0); c++)
			measure(&b, syncs[s], b.clients ? b.clients : clients[c]);
	}
	return 0;
}
