/* The cost of syscall-fault interception per call: sysfaults_worker's write-heavy loops (4 KiB
 * pwrite on tmpfs; write + fdatasync on disk) with no interception (the baseline), under the
 * preload shim (unarmed; armed with a rule that never matches), under the seccomp filter and
 * supervisor (a filter naming other calls only: nothing trapped; the loop's calls trapped by a
 * disarmed supervisor; trapped by an armed one whose rule never matches), and under
 * `strace --seccomp-bpf -e inject=...` with a path filter that never matches, the reference.
 * The modes take turns within each run; the table shows medians of the runs. Everything runs
 * pinned to one CPU: a trapped call is a wake-up of the supervisor and back, and across vCPUs
 * of a VM those wake-ups cost tens of microseconds when the other vCPU idles, which would
 * measure the hypervisor's idle exits, not the interception. Prints figures,
 * never passes or fails. Goals: shim unarmed within 2 % of the baseline; the supervisor under
 * 2 us per trapped call (strace 12-18 us); a filter traps no call that no rule names.
 * Usage: bench_sysfaults [runs [tmpfs-calls [disk-calls [disk-dir]]]]   (defaults 5 200000
 * 3000 /var/tmp; needs seccomp user notification, Linux 5.6) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/cleanup.h"
#include "common/linux.h"
#include "faults/sys/filter.h"
#include "faults/sys/shimctl.h"
#include "faults/sys/supervisor.h"
#include "scenarios/parser/yaml_load.h"

#define MAX_RUNS 31

extern char **environ;

enum mode {
	M_BASE,
	M_SHIM_UNARMED,
	M_SHIM_NOMATCH,
	M_SECCOMP_OTHER,
	M_SECCOMP_DISARMED,
	M_SECCOMP_NOMATCH,
	M_SECCOMP_FLOOR,
	M_STRACE,
	M_N,
};

static const char *const mode_names[M_N] = {
	[M_BASE] = "no interception (baseline)",
	[M_SHIM_UNARMED] = "shim, unarmed",
	[M_SHIM_NOMATCH] = "shim, armed, no match",
	[M_SECCOMP_OTHER] = "seccomp, filter names other calls",
	[M_SECCOMP_DISARMED] = "seccomp, trapped, disarmed",
	[M_SECCOMP_NOMATCH] = "seccomp, trapped, armed, no match",
	[M_SECCOMP_FLOOR] = "seccomp, bare RECV+SEND loop",
	[M_STRACE] = "strace --inject, no match",
};

struct workload {
	const char *name, *title;
	char file[256];
	long calls;
	int calls_per_op;
	double ns[M_N][MAX_RUNS];
	uint64_t traps[M_N]; /* notifications seen by the armed supervisor, last run */
};

/* What every run shares. */
struct bench {
	const char *worker, *shim, *strace;
	struct sys_rules *nomatch, *other;
	struct sys_filter *f_nomatch, *f_other;
	struct sys_shimctl *ctl;
	char dir[64], ctl_path[128];
};

static struct sys_rules *rules(const char *yaml)
{
	struct cfg_node *tree = NULL;
	struct sys_rules *rs = NULL;
	struct cd_error err;

	if (yaml_load_string("bench.yaml", yaml, strlen(yaml), &tree, &err) < 0 ||
	    sys_rules_parse(tree, &rs, &err) < 0) {
		fprintf(stderr, "rules: %s\n", err.msg);
		exit(1);
	}
	cfg_node_free(tree);
	return rs;
}

/* The argv of one run: the worker, behind strace in M_STRACE. */
static void make_argv(const struct bench *b, enum mode m, const struct workload *w,
		      const char **argv, char *calls)
{
	size_t i = 0;

	if (m == M_STRACE) {
		argv[i++] = b->strace;
		argv[i++] = "-f";
		argv[i++] = "-qq";
		argv[i++] = "--seccomp-bpf";
		argv[i++] = "-o";
		argv[i++] = "/dev/null";
		argv[i++] = "-e";
		argv[i++] = "trace=pwrite64,write,fdatasync";
		argv[i++] = "-e";
		argv[i++] = "inject=pwrite64,write,fdatasync:error=EIO";
		argv[i++] = "-P";
		argv[i++] = "/nonexistent/never-matches.log";
	}
	snprintf(calls, 24, "%ld", w->calls);
	argv[i++] = b->worker;
	argv[i++] = w->name;
	argv[i++] = w->file;
	argv[i++] = calls;
	argv[i] = NULL;
}

/* In the child: stdout to the pipe, the shim's variables or the filter, then exec. */
static _Noreturn void child(const struct bench *b, enum mode m, const struct workload *w, int out,
			    int sock)
{
	const struct sys_filter *f = m == M_SECCOMP_OTHER ? b->f_other : b->f_nomatch;
	char pre[512], calls[24];
	const char *argv[24];
	int fd;

	if (dup2(out, 1) < 0)
		_exit(125);
	if (m == M_SHIM_UNARMED || m == M_SHIM_NOMATCH) {
		snprintf(pre, sizeof(pre), "%s", b->shim);
		setenv("LD_PRELOAD", pre, 1);
		setenv(SYS_SHIM_ENV, b->ctl_path, 1);
	}
	if (m >= M_SECCOMP_OTHER && m <= M_SECCOMP_FLOOR) {
		fd = sys_filter_install(f);
		if (fd < 0 || sys_fd_send(sock, fd) < 0)
			_exit(126);
		close(fd);
	}
	make_argv(b, m, w, argv, calls);
	execve(argv[0], (char *const *)argv, environ);
	_exit(127);
}

/* The kernel's part of a trapped call: poll, RECV and CONTINUE in a loop, nothing else (no
 * /proc, no rules), until the child is gone (POLLHUP: RECV alone would block for ever). */
static uint64_t floor_loop(int sock)
{
	_cleanup_close_ int fd = sys_fd_recv(sock);
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	uint64_t n = 0;

	if (fd >= 0)
		(void)sys_seccomp_sync_wakeup(fd); /* as the supervisor does */
	while (fd >= 0) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, -1) < 0 || !(p.revents & POLLIN))
			break; /* POLLHUP: the child is gone */
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			break;
		}
		resp = (struct seccomp_notif_resp){ .id = req.id,
						    .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		n++;
	}
	return n;
}

/* Answers the child's notifications until it is gone; returns those seen (armed only). */
static uint64_t supervise(const struct bench *b, enum mode m, int sock, int pidfd)
{
	const struct sys_rules *rs = m == M_SECCOMP_OTHER ? b->other : b->nomatch;
	struct sys_supervisor *s = NULL;
	struct sys_injection inj;
	uint64_t seen = 0, injected = 0;
	int listener;

	if (m == M_SECCOMP_FLOOR)
		return floor_loop(sock);
	listener = sys_fd_recv(sock);
	if (listener < 0 || sys_supervisor_new(listener, pidfd, rs, 1, b->dir, &s) < 0) {
		fprintf(stderr, "supervisor: %s\n", strerror(listener < 0 ? -listener : ENOMEM));
		return 0;
	}
	sys_supervisor_arm(s, m != M_SECCOMP_DISARMED);
	for (;;) {
		struct pollfd p[2] = { { sys_supervisor_fd(s), POLLIN, 0 }, { pidfd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			if (sys_supervisor_handle(s, &inj) < 0)
				break;
			continue;
		}
		if (p[1].revents & POLLIN)
			break;
	}
	sys_supervisor_stats(s, &seen, &injected);
	sys_supervisor_free(s);
	return seen;
}

/* One run of w in mode m: the worker's ns per op, or -1. */
static double run_one(struct bench *b, enum mode m, struct workload *w)
{
	_cleanup_close_ int pidfd = -1;
	int out[2], sv[2] = { -1, -1 }, status;
	char buf[64] = "";
	ssize_t n;
	pid_t pid;

	if (m == M_SHIM_NOMATCH && sys_shimctl_arm(b->ctl, b->nomatch, 1, b->dir) < 0)
		return -1;
	if (m == M_SHIM_UNARMED)
		sys_shimctl_disarm(b->ctl);
	if (pipe2(out, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child(b, m, w, out[1], sv[1]);
	close(out[1]);
	close(sv[1]);
	pidfd = pid > 0 ? sys_pidfd_open(pid, 0) : -1;
	if (pid > 0 && pidfd >= 0 && m >= M_SECCOMP_OTHER && m <= M_SECCOMP_FLOOR)
		w->traps[m] = supervise(b, m, sv[0], pidfd);
	close(sv[0]);
	n = pid > 0 ? read(out[0], buf, sizeof(buf) - 1) : -1;
	close(out[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || n <= 0) {
		fprintf(stderr, "%s, %s: the worker failed\n", w->name, mode_names[m]);
		return -1;
	}
	return strtod(buf, NULL);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void print_table(const struct bench *b, const struct workload *w, int runs)
{
	double base = median(w->ns[M_BASE], runs);

	printf("\n%s: %ld ops, median of %d runs (ns per op; an op is %d call%s)\n", w->title,
	       w->calls, runs, w->calls_per_op, w->calls_per_op > 1 ? "s" : "");
	printf("  %-36s %10s %9s %18s %14s\n", "mode", "ns/op", "overhead", "ns per call added",
	       "notifications");
	for (int m = 0; m < M_N; m++) {
		double v = median(w->ns[m], runs);
		char traps[32] = "-";

		if (m == M_STRACE && !b->strace) {
			printf("  %-36s %10s\n", mode_names[m], "(strace not installed)");
			continue;
		}
		if (m == M_SECCOMP_OTHER || m == M_SECCOMP_NOMATCH || m == M_SECCOMP_FLOOR)
			snprintf(traps, sizeof(traps), "%llu", (unsigned long long)w->traps[m]);
		if (m == M_BASE)
			printf("  %-36s %10.0f %9s %18s %14s\n", mode_names[m], v, "-", "-", traps);
		else
			printf("  %-36s %10.0f %+8.1f%% %18.0f %14s\n", mode_names[m], v,
			       100.0 * (v - base) / base, (v - base) / w->calls_per_op, traps);
	}
}

/* All modes of w, runs times, taking turns. */
static int measure(struct bench *b, struct workload *w, int runs)
{
	for (int r = 0; r < runs; r++) {
		for (int m = 0; m < M_N; m++) {
			if (m == M_STRACE && !b->strace)
				continue;
			w->ns[m][r] = run_one(b, (enum mode)m, w);
			if (w->ns[m][r] < 0)
				return -1;
		}
		fprintf(stderr, ".");
	}
	unlink(w->file);
	print_table(b, w, runs);
	return 0;
}

static const char *find(const char *const *cands)
{
	for (; *cands; cands++)
		if (access(*cands, X_OK) == 0)
			return *cands;
	return NULL;
}

/* Pins this process (and so every child) to the last CPU it may run on. */
static int pin(void)
{
	cpu_set_t set;
	int cpu = -1;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpu = i;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -1 : cpu;
}

static int setup(struct bench *b)
{
	const char *strace[] = { "/usr/bin/strace", "/usr/local/bin/strace", NULL };
	const char *why;

	if (sys_filter_probe(&why) < 0) {
		fprintf(stderr, "bench_sysfaults: %s\n", why);
		return -1;
	}
	b->worker = SYSFAULTS_WORKER;
	b->shim = SYSFAULTS_SHIM;
	b->strace = find(strace);
	b->nomatch = rules("rules: [{calls: [write, pwrite, fdatasync], path: never-matches.log, "
			   "errno: EIO}]");
	b->other = rules("rules: [{calls: rename, path: never-matches.log, errno: EIO}]");
	snprintf(b->dir, sizeof(b->dir), "/dev/shm/bench-sysfaults-XXXXXX");
	if (!mkdtemp(b->dir))
		return -1;
	snprintf(b->ctl_path, sizeof(b->ctl_path), "%s/shim.ctl", b->dir);
	if (sys_filter_build(b->nomatch, &b->f_nomatch, NULL) < 0 ||
	    sys_filter_build(b->other, &b->f_other, NULL) < 0 ||
	    sys_shimctl_create(b->ctl_path, &b->ctl) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	struct workload tmpfs = { .name = "pwrite",
				  .title = "4 KiB pwrite on tmpfs",
				  .calls = argc > 2 ? atol(argv[2]) : 200000,
				  .calls_per_op = 1 };
	struct workload disk = { .name = "fsync",
				 .title = "4 KiB write + fdatasync on disk",
				 .calls = argc > 3 ? atol(argv[3]) : 3000,
				 .calls_per_op = 2 };
	const char *disk_dir = argc > 4 ? argv[4] : "/var/tmp";
	int r;

	if (runs < 1 || runs > MAX_RUNS || tmpfs.calls < 1 || disk.calls < 1)
		return 2;
	if (setup(&b) < 0)
		return 1;
	printf("pinned to CPU %d; worker, supervisor and strace share it\n", pin());
	fflush(stdout);
	snprintf(tmpfs.file, sizeof(tmpfs.file), "%s/bench.dat", b.dir);
	snprintf(disk.file, sizeof(disk.file), "%s/chaosdrill-bench-sysfaults.%d", disk_dir,
		 (int)getpid());
	r = measure(&b, &tmpfs, runs) < 0 || measure(&b, &disk, runs) < 0;
	sys_shimctl_free(b.ctl);
	sys_filter_free(b.f_nomatch);
	sys_filter_free(b.f_other);
	sys_rules_free(b.nomatch);
	sys_rules_free(b.other);
	rmdir(b.dir);
	return r;
}
