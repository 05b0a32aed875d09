/* Lab bring-up and teardown: labs of 1, 5, 20 and 64 nodes (namespaces, veths, addresses,
 * cgroups; no target process) through harness/lab/lab.h, beside the same wiring done with the
 * `ip` command line in the same run. Prints medians and ratios; never passes or fails on
 * time. Goals on a 2-core machine: 5 nodes up < 10 ms, 64 up < 150 ms, 64 down < 500 ms.
 * Usage: bench_lab [runs [settle-ms]]   (root; settle: pause before each measurement so the
 * kernel's asynchronous netns cleanup of the previous one is not counted, 0 to count it) */
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "harness/lab/lab.h"

extern char **environ;

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double ms_since(int64_t t0)
{
	return (double)(time_mono_ns() - t0) / 1e6;
}

static int lab_once(int nodes, const char *dir, double *up, double *down)
{
	struct lab *lab = NULL;
	struct lab_node *n;
	char name[16];
	int64_t t0 = time_mono_ns();
	int i, r;

	r = lab_new(NULL, &lab);
	for (i = 0; r == 0 && i < nodes; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		r = lab_node_add(lab, name, dir, &n);
	}
	if (r == 0)
		r = lab_wait_ready(lab);
	*up = ms_since(t0);
	t0 = time_mono_ns();
	lab_free(lab);
	*down = ms_since(t0);
	if (r < 0)
		fprintf(stderr, "lab: %s\n", lab_last_error());
	return r;
}

/* Runs `ip ARGS...` (a printf format, split on spaces) and waits for it. */
static int ip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ip(const char *fmt, ...)
{
	char line[512], *argv[32], *save = NULL, *tok;
	int argc = 0, st;
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	argv[argc++] = (char *)"ip";
	for (tok = strtok_r(line, " ", &save); tok && argc < 31; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (posix_spawnp(&pid, "ip", NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

/* The same topology: a lab netns with a bridge, one netns per node, a veth created into it,
 * addresses, links up. (Less than the lab does: no uts/ipc/mount namespaces, no mounts,
 * no cgroups.) */
static int ip_once(int nodes, double *up, double *down)
{
	int64_t t0 = time_mono_ns();
	int pid = (int)getpid(), i, r = 0;

	r |= ip("netns add cdb-%d-lab", pid);
	r |= ip("-n cdb-%d-lab link set lo up", pid);
	r |= ip("-n cdb-%d-lab link add br0 type bridge", pid);
	r |= ip("-n cdb-%d-lab addr add 10.213.0.1/16 dev br0", pid);
	r |= ip("-n cdb-%d-lab link set br0 up", pid);
	for (i = 0; i < nodes; i++) {
		r |= ip("netns add cdb-%d-%d", pid, i);
		r |= ip("-n cdb-%d-lab link add vn%d type veth peer name eth0 netns cdb-%d-%d", pid,
			i, pid, i);
		r |= ip("-n cdb-%d-lab link set vn%d master br0 up", pid, i);
		r |= ip("-n cdb-%d-%d addr add 10.213.%d.%d/16 dev eth0", pid, i, (i + 2) / 256,
			(i + 2) % 256);
		r |= ip("-n cdb-%d-%d link set eth0 up", pid, i);
		r |= ip("-n cdb-%d-%d link set lo up", pid, i);
	}
	*up = ms_since(t0);
	t0 = time_mono_ns();
	for (i = 0; i < nodes; i++)
		r |= ip("netns del cdb-%d-%d", pid, i);
	r |= ip("netns del cdb-%d-lab", pid);
	*down = ms_since(t0);
	return r;
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 1, 5, 20, 64 };
	int runs = argc > 1 ? atoi(argv[1]) : 7, s, i;
	int settle_ms = argc > 2 ? atoi(argv[2]) : 300;
	char dir[] = "/tmp/cd-bench-XXXXXX";

	if (geteuid() != 0 || runs < 1 || runs > 100 || !mkdtemp(dir)) {
		fprintf(stderr, "usage: bench_lab [runs 1..100 [settle-ms]] (as root)\n");
		return 2;
	}
	lab_init_process();
	printf("median of %d runs, milliseconds, %d ms settle before each; ratio = ip / lab\n",
	       runs, settle_ms);
	printf("%5s %10s %10s %7s %10s %10s %7s\n", "nodes", "lab up", "ip up", "ratio", "lab down",
	       "ip down", "ratio");
	for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
		double lu[100], ld[100], iu[100], id[100];

		for (i = 0; i < runs; i++) {
			/* The kernel frees network namespaces asynchronously (cleanup_net) and
			 * that work competes with the next bring-up: let it settle first. */
			usleep(settle_ms * 1000);
			if (lab_once(sizes[s], dir, &lu[i], &ld[i]) < 0)
				goto fail;
			usleep(settle_ms * 1000);
			if (ip_once(sizes[s], &iu[i], &id[i]) < 0) {
fail:
				fprintf(stderr, "run failed\n");
				rmdir(dir);
				return 1;
			}
		}
		double a = median(lu, runs), b = median(iu, runs), c = median(ld, runs),
		       d = median(id, runs);
		printf("%5d %10.2f %10.2f %6.1fx %10.2f %10.2f %6.1fx\n", sizes[s], a, b, b / a, c,
		       d, d / c);
		fflush(stdout);
	}
	rmdir(dir);
	return 0;
}
