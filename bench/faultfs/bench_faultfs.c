/* 4 KiB I/O through chaosdrill-faultfs (no fault armed) beside the plain directory, in the
 * same run: sequential and random writes and reads (MB/s) and fsync latency (p50/p99)
 * after small writes, per cache mode, with the kernel's writeback cache (as drills mount
 * it unless they plan faults on writes) or write-through. Both directories sit in one
 * temp dir on the same disk; faultfs is mounted in this process's private mount
 * namespace, so nothing reaches the host's mount table, and it is stopped (by pid) and
 * the temp dir removed on every path out. Prints medians over the runs and the ratio;
 * never passes or fails on time.
 * Usage: bench_faultfs [--runs N] [--size MIB] [--fsyncs N] [--mode passthrough|volatile|both]
 *                      [--kernel-cache writeback|write-through|both] [--faultfs PATH]
 *                      [--ffs-arg ARG]... [--dir BASE]                       (root, /dev/fuse) */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/faultfs/bench_io.h"
#include "common/cleanup.h"

#define MAX_RUNS 50
#define MAX_FFS_ARGS 8

extern char **environ;

struct opts {
	int runs, fsyncs;
	uint64_t size;
	const char *faultfs, *base, *modes[2];
	const char *ffs_args[MAX_FFS_ARGS];
	int n_modes, n_ffs_args;
	bool writeback[2]; /* the kernel caches to measure: writeback, write-through */
	int n_caches;
};

static const char *const cache_names[2] = { "write-through", "writeback" };

/* Per side (0 plain, 1 faultfs): throughput per test and run; fsync p50/p99 per run. */
struct results {
	double mbs[2][BENCH_TESTS][MAX_RUNS];
	double p50[2][MAX_RUNS], p99[2][MAX_RUNS];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double percentile(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[(int)((n - 1) * p + 0.5)];
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

/* Starts faultfs on mnt over back; *pid set once spawned. 0 once it said "ready". */
static int ffs_start(const struct opts *o, const char *mode, bool writeback, const char *back,
		     const char *mnt, const char *events, pid_t *pid)
{
	const char *argv[16 + MAX_FFS_ARGS] = { o->faultfs,  "--cache",	   mode,
						"--backing", back,	   "--events",
						events,	     "--ready-fd", "3" };
	posix_spawn_file_actions_t fa;
	_cleanup_close_ int rd = -1;
	int p[2], n = 9, r;
	char buf[8];
	struct pollfd pfd;

	if (writeback)
		argv[n++] = "--writeback-cache";
	for (int i = 0; i < o->n_ffs_args; i++)
		argv[n++] = o->ffs_args[i];
	argv[n++] = mnt;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3); /* dup2 clears O_CLOEXEC */
	r = -posix_spawn(pid, o->faultfs, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r < 0)
		return r;
	pfd = (struct pollfd){ .fd = rd, .events = POLLIN };
	if (poll(&pfd, 1, 10000) <= 0 || read(rd, buf, sizeof(buf)) != 6)
		return -EIO;
	return 0;
}

/* SIGINT makes faultfs unmount; a lazy unmount catches one that died instead. */
static int ffs_stop(pid_t *pid, const char *mnt)
{
	int status = 0;

	if (*pid > 0) {
		kill(*pid, SIGINT);
		while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
			;
		*pid = 0;
	}
	umount2(mnt, MNT_DETACH); /* EINVAL when nothing is mounted there: fine */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int fsync_round(const struct opts *o, const char *dir, double *p50, double *p99)
{
	_cleanup_free_ double *lat = calloc((size_t)o->fsyncs, sizeof(*lat));
	int r;

	if (!lat)
		return -ENOMEM;
	r = bench_io_fsync(dir, o->fsyncs, lat);
	if (r == 0) {
		*p50 = percentile(lat, o->fsyncs, 0.50);
		*p99 = percentile(lat, o->fsyncs, 0.99);
	}
	return r;
}

/* Reads first (on the synced file), then writes, then fsyncs; write tests' files last. */
static const enum bench_test order[BENCH_TESTS] = { BENCH_SEQ_READ, BENCH_RAND_READ,
						    BENCH_SEQ_WRITE, BENCH_RAND_WRITE };

/* One run on one side (0 plain, 1 faultfs). */
static int run_side(const struct opts *o, const char *dir, int side, int run, struct results *res)
{
	int r = bench_io_prepare(dir, o->size);

	for (int t = 0; t < BENCH_TESTS && r == 0 && !stop; t++)
		r = bench_io_run(order[t], dir, o->size, &res->mbs[side][order[t]][run]);
	if (r == 0 && !stop)
		r = fsync_round(o, dir, &res->p50[side][run], &res->p99[side][run]);
	bench_io_clean(dir);
	return r;
}

/* The runs, sides alternating which goes first. */
static int measure(const struct opts *o, const char *dirs[2], struct results *res)
{
	int r = 0;

	for (int run = 0; run < o->runs && r == 0 && !stop; run++) {
		for (int k = 0; k < 2 && r == 0; k++) {
			int side = (run + k) % 2;

			r = run_side(o, dirs[side], side, run, res);
			if (r < 0)
				fprintf(stderr, "bench_faultfs: %s: %s\n", dirs[side],
					strerror(-r));
		}
	}
	return stop ? -EINTR : r;
}

static void print_row(const char *mode, const char *cache, const char *name, double plain,
		      double ffs, const char *unit)
{
	printf("%-12s %-14s %-14s %9.1f %-4s %9.1f %-4s %8.0f%%\n", mode, cache, name, plain, unit,
	       ffs, unit, 100.0 * ffs / plain);
}

static void print_mode(const struct opts *o, const char *mode, const char *cache,
		       const struct results *res)
{
	double v[2];

	for (int t = 0; t < BENCH_TESTS; t++) {
		for (int s = 0; s < 2; s++)
			v[s] = median(res->mbs[s][t], o->runs);
		print_row(mode, cache, bench_test_names[t], v[0], v[1], "MB/s");
	}
	for (int s = 0; s < 2; s++)
		v[s] = median(res->p50[s], o->runs) * 1000;
	print_row(mode, cache, "fsync p50", v[0], v[1], "us");
	for (int s = 0; s < 2; s++)
		v[s] = median(res->p99[s], o->runs) * 1000;
	print_row(mode, cache, "fsync p99", v[0], v[1], "us");
}

/* One cache mode: faultfs up, the runs, faultfs down (also when a run failed). */
static int bench_mode(const struct opts *o, const char *tmp, const char *mode, bool writeback)
{
	char plain[PATH_MAX], back[PATH_MAX], mnt[PATH_MAX], events[PATH_MAX];
	_cleanup_free_ struct results *res = calloc(1, sizeof(*res));
	const char *dirs[2] = { plain, mnt };
	pid_t pid = 0;
	int r, s;

	if (!res)
		return -ENOMEM;
	snprintf(plain, sizeof(plain), "%s/plain", tmp);
	snprintf(back, sizeof(back), "%s/back", tmp);
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	snprintf(events, sizeof(events), "%s/events-%s-%s", tmp, mode, cache_names[writeback]);
	r = ffs_start(o, mode, writeback, back, mnt, events, &pid);
	if (r < 0)
		fprintf(stderr, "bench_faultfs: starting %s: %s\n", o->faultfs, strerror(-r));
	else
		r = measure(o, dirs, res);
	s = ffs_stop(&pid, mnt);
	if (r == 0 && s < 0)
		fprintf(stderr, "bench_faultfs: faultfs did not exit cleanly\n");
	if (r == 0)
		print_mode(o, mode, cache_names[writeback], res);
	return r < 0 ? r : s;
}

/* --kernel-cache: writeback, write-through or both (writeback first). */
static int parse_caches(const char *s, struct opts *o)
{
	bool both = strcmp(s, "both") == 0;

	if (!both && strcmp(s, "writeback") && strcmp(s, "write-through"))
		return -EINVAL;
	o->n_caches = both ? 2 : 1;
	o->writeback[0] = both || strcmp(s, "writeback") == 0;
	o->writeback[1] = false;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "fsyncs", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'm' },
		{ "faultfs", required_argument, NULL, 'b' },
		{ "ffs-arg", required_argument, NULL, 'a' },
		{ "dir", required_argument, NULL, 'd' },
		{ "kernel-cache", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 's':
			o->size = strtoull(optarg, NULL, 10) << 20;
			break;
		case 'f':
			o->fsyncs = atoi(optarg);
			break;
		case 'b':
			o->faultfs = optarg;
			break;
		case 'd':
			o->base = optarg;
			break;
		case 'a':
			if (o->n_ffs_args == MAX_FFS_ARGS)
				return -E2BIG;
			o->ffs_args[o->n_ffs_args++] = optarg;
			break;
		case 'm':
			o->n_modes = strcmp(optarg, "both") == 0 ? 2 : 1;
			o->modes[0] = o->n_modes == 2 ? "passthrough" : optarg;
			if (strcmp(o->modes[0], "passthrough") && strcmp(o->modes[0], "volatile"))
				return -EINVAL;
			break;
		case 'k':
			if (parse_caches(optarg, o) < 0)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || o->runs < 1 || o->runs > MAX_RUNS || o->fsyncs < 1 ||
	    o->size < BENCH_BLOCK)
		return -EINVAL;
	return 0;
}

/* A private mount namespace (our mounts die with us) and the temp dir with its three
 * directories. */
static int setup(const struct opts *o, char *tmp, size_t len)
{
	static const char *const sub[] = { "plain", "back", "mnt" };
	char path[PATH_MAX];

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	snprintf(tmp, len, "%s/faultfs-bench.XXXXXX", o->base);
	if (!mkdtemp(tmp)) {
		tmp[0] = '\0'; /* nothing to remove */
		return -errno;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, sub[i]);
		if (mkdir(path, 0755) < 0)
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .runs = 5,
			  .fsyncs = 200,
			  .size = 32 << 20,
			  .faultfs = FAULTFS_BIN,
			  .base = "/var/tmp",
			  .modes = { "passthrough", "volatile" },
			  .n_modes = 2,
			  .writeback = { true },
			  .n_caches = 1 };
	char tmp[PATH_MAX] = "";
	int r;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench_faultfs [--runs N] [--size MIB] [--fsyncs N] "
				"[--mode passthrough|volatile|both] "
				"[--kernel-cache writeback|write-through|both] [--faultfs PATH] "
				"[--ffs-arg ARG]... [--dir BASE]\n");
		return 2;
	}
	if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr, "bench_faultfs: needs root and /dev/fuse\n");
		return 3;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = setup(&o, tmp, sizeof(tmp));
	if (r < 0)
		fprintf(stderr, "bench_faultfs: setting up under %s: %s\n", o.base, strerror(-r));
	if (r == 0) {
		printf("faultfs %s, %d runs (medians), %llu MiB files, %d fsyncs per run, in %s\n",
		       o.faultfs, o.runs, (unsigned long long)(o.size >> 20), o.fsyncs, tmp);
		printf("%-12s %-14s %-14s %14s %14s %9s\n", "mode", "kernel cache", "test", "plain",
		       "faultfs", "ffs/plain");
	}
	for (int m = 0; m < o.n_modes && r == 0; m++)
		for (int k = 0; k < o.n_caches && r == 0; k++)
			r = bench_mode(&o, tmp, o.modes[m], o.writeback[k]);
	if (tmp[0])
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r < 0 ? 1 : 0;
}
