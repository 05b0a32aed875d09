/* Integration tests of the seccomp supervisor: sys_probe runs in a forked child under the
 * filter (installed between fork and exec, listener passed back over a socket), the test
 * process supervises it, and each case checks the probe's exit, the file on disk and the
 * injection report. Every case runs twice: against the dynamically linked probe and the
 * statically linked one (seccomp reaches code that no preload can), the probe given as the
 * case's state. argv: the dynamic probe, then the static one ("" if none was built). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/linux.h"
#include "common/timeutil.h"
#include "faults/sys/filter.h"
#include "faults/sys/supervisor.h"
#include "scenarios/parser/yaml_load.h"

static const char *probe_dyn, *probe_static;
static char dir[64];

struct run {
	int status;
	size_t n_inj;
	struct sys_injection inj[8];
	uint64_t seen, injected;
};

static struct sys_rules *rules(const char *yaml)
{
	struct cfg_node *tree = NULL;
	struct sys_rules *rs = NULL;
	struct cd_error err;

	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
	if (sys_rules_parse(tree, &rs, &err) < 0)
		fail_msg("%d:%d: %s", err.line, err.col, err.msg);
	cfg_node_free(tree);
	return rs;
}

static _Noreturn void child(const struct sys_filter *f, int sock, const char *const *argv)
{
	int fd = sys_filter_install(f), out = open("/dev/null", O_WRONLY);

	if (fd < 0 || sys_fd_send(sock, fd) < 0)
		_exit(126);
	close(fd);
	if (out >= 0)
		dup2(out, 1);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* Supervises until the child is gone (10 s at most). */
static void supervise(struct sys_supervisor *s, int pidfd, struct run *res)
{
	int64_t deadline = time_mono_ns() + 10LL * 1000000000LL;
	struct sys_injection inj;

	for (;;) {
		struct pollfd p[2] = { { sys_supervisor_fd(s), POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		int r = poll(p, 2,
			     sys_supervisor_timeout_ms(s) < 0 ? 100 : sys_supervisor_timeout_ms(s));

		assert_true(r >= 0);
		r = sys_supervisor_handle(s, &inj);
		assert_true(r >= 0);
		if (r == 1 && res->n_inj < ARRAY_SIZE(res->inj))
			res->inj[res->n_inj++] = inj;
		if ((p[1].revents & POLLIN) && !(p[0].revents & POLLIN))
			break;
		assert_true(time_mono_ns() < deadline);
	}
}

static void run(const struct sys_rules *rs, uint64_t seed, const char *const *argv, struct run *res)
{
	struct sys_filter *f = NULL;
	struct sys_supervisor *s = NULL;
	struct cd_error err;
	_cleanup_close_ int pidfd = -1;
	int sv[2], listener;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (sys_filter_build(rs, &f, &err) < 0)
		fail_msg("filter: %s", err.msg);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(f, sv[1], argv);
	close(sv[1]);
	pidfd = sys_pidfd_open(pid, 0);
	assert_true(pidfd >= 0);
	listener = sys_fd_recv(sv[0]);
	close(sv[0]);
	assert_true(listener >= 0);
	assert_int_equal(sys_supervisor_new(listener, pidfd, rs, seed, dir, &s), 0);
	supervise(s, pidfd, res);
	sys_supervisor_stats(s, &res->seen, &res->injected);
	assert_int_equal(waitpid(pid, &res->status, 0), pid);
	sys_supervisor_free(s);
	sys_filter_free(f);
}

static off_t file_size(const char *name)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Checks the file holds `full` whole 100-byte records and then `part` bytes of the next. */
static void check_records(const char *name, int full, int part)
{
	char p[128], buf[8192];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, full * 100 + part);
	for (ssize_t i = 0; i < n; i++)
		assert_int_equal(buf[i], 'a' + (int)(i / 100));
}

static void print_inj(const struct sys_injection *inj)
{
	struct strbuf sb = STRBUF_INIT;

	sys_injection_format(inj, &sb);
	printf("    injection: %s\n", sb.buf);
	strbuf_release(&sb);
}

#define PROBE(...) ((const char *const[]){ probe, __VA_ARGS__, NULL })

/* The probe of this case (its state); skips the static cases where none was built. */
static const char *probe_of(void **state)
{
	const char *p = *(const char **)*state;

	if (!p || !*p)
		skip(); /* reported by main */
	return p;
}

static void test_errno(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *rs =
		rules("rules: [{calls: write, path: data.log, nth: 1, errno: ENOSPC}]");
	struct run r;

	run(rs, 1, PROBE("data.log", "3", "100"), &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 20);
	assert_int_equal(r.n_inj, 1);
	assert_int_equal(r.inj[0].action, SYS_ACT_ERRNO);
	assert_int_equal(r.inj[0].err, ENOSPC);
	assert_string_equal(r.inj[0].path, "data.log");
	assert_string_equal(r.inj[0].syscall, "write");
	assert_int_equal(r.inj[0].requested, 100);
	assert_false(r.inj[0].killed);
	assert_int_equal(file_size("data.log"), 0); /* the call did nothing */
	print_inj(&r.inj[0]);
	sys_rules_free(rs);
}

static void test_short(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *rs =
		rules("rules: [{calls: [write, pwrite], path: '*.log', nth: 2, short: 10}]");
	struct run r;

	run(rs, 1, PROBE("-p", "data.log", "3", "100"), &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 21); /* the probe saw 10 of 100 */
	assert_int_equal(r.n_inj, 1);
	assert_string_equal(r.inj[0].syscall, "pwrite64");
	assert_int_equal(r.inj[0].nth, 2);
	assert_int_equal(r.inj[0].offset, 100);
	assert_int_equal(r.inj[0].kept, 10);
	check_records("data.log", 1, 10);
	print_inj(&r.inj[0]);
	sys_rules_free(rs);
}

static void torn_case(const char *probe, const char *mode, uint64_t keep)
{
	char yaml[256];
	struct sys_rules *rs;
	struct run r;
	const char *const argv[] = { probe, mode, "data.log", "5", "100", NULL };

	snprintf(
		yaml, sizeof(yaml),
		"rules: [{calls: [write, pwrite, writev], path: data.log, nth: 3, torn: {keep: %llu}, then: crash}]",
		(unsigned long long)keep);
	rs = rules(yaml);
	run(rs, 1, argv, &r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGKILL);
	assert_int_equal(r.n_inj, 1);
	assert_int_equal(r.inj[0].action, SYS_ACT_TORN);
	assert_true(r.inj[0].killed);
	assert_int_equal(r.inj[0].kept, keep);
	assert_int_equal(r.inj[0].offset, 200);
	check_records("data.log", 2, (int)keep);
	print_inj(&r.inj[0]);
	sys_rules_free(rs);
}

static void test_torn(void **state)
{
	const char *probe = probe_of(state);

	torn_case(probe, "-w", 37);
	torn_case(probe, "-v", 73); /* across the two iovecs (50 + 50) */
	torn_case(probe, "-p", 11); /* pwrite64: the offset is the call's own */
}

static void test_torn_random_replays(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *rs = rules(
		"rules: [{calls: write, path: data.log, nth: 2, torn: {keep: random}, then: crash}]");
	struct run a, b, c;

	run(rs, 99, PROBE("data.log", "4", "100"), &a);
	run(rs, 99, PROBE("data.log", "4", "100"), &b);
	assert_int_equal(a.n_inj, 1);
	assert_int_equal(b.n_inj, 1);
	assert_in_range(a.inj[0].kept, 1, 99);
	assert_int_equal(a.inj[0].kept, b.inj[0].kept); /* same seed, same byte */
	assert_int_equal(file_size("data.log"), 100 + (off_t)b.inj[0].kept);
	/* and the byte is the one the pure decider names for (seed, rule, nth) */
	assert_int_equal(a.inj[0].kept, sys_keep_bytes(&rs->v[0], 0, 2, 99, 100));
	run(rs, 100, PROBE("data.log", "4", "100"), &c);
	print_inj(&a.inj[0]);
	print_inj(&c.inj[0]);
	sys_rules_free(rs);
}

static void test_crash_fsync(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *before = rules("rules: [{calls: fsync, nth: 2, crash: before}]");
	struct sys_rules *after = rules("rules: [{calls: fsync, nth: 2, crash: after}]");
	struct run r;

	run(before, 1, PROBE("data.log", "4", "100"), &r);
	assert_true(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	assert_int_equal(r.n_inj, 1);
	assert_int_equal(r.inj[0].action, SYS_ACT_CRASH_BEFORE);
	assert_string_equal(r.inj[0].syscall, "fsync");
	assert_int_equal(r.inj[0].nth, 2);
	check_records("data.log", 2, 0);
	run(after, 1, PROBE("data.log", "4", "100"), &r);
	assert_true(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	assert_int_equal(r.inj[0].action, SYS_ACT_CRASH_AFTER);
	assert_int_equal(r.inj[0].err, 0); /* the supervisor's fsync succeeded */
	check_records("data.log", 2, 0);
	print_inj(&r.inj[0]);
	sys_rules_free(before);
	sys_rules_free(after);
}

static void test_crash_rename(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *before = rules("rules: [{calls: rename, path: data.log, crash: before}]");
	struct sys_rules *after = rules("rules: [{calls: rename, path: data.log, crash: after}]");
	struct run r;

	run(before, 1, PROBE("-r", "data.log", "2", "100"), &r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(file_size("data.log"), -1);
	assert_int_equal(file_size("data.log.tmp"), 200);
	assert_string_equal(r.inj[0].path, "data.log.tmp");
	assert_string_equal(r.inj[0].path2, "data.log");
	unlink("data.log.tmp");
	run(after, 1, PROBE("-r", "data.log", "2", "100"), &r);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(file_size("data.log"), 200);
	assert_int_equal(file_size("data.log.tmp"), -1);
	print_inj(&r.inj[0]);
	sys_rules_free(before);
	sys_rules_free(after);
}

static void test_after(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *rs =
		rules("rules: [{calls: write, path: data.log, after: 2, errno: EIO}]");
	struct run r;

	run(rs, 1, PROBE("data.log", "5", "100"), &r);
	assert_int_equal(WEXITSTATUS(r.status), 20);
	assert_int_equal(r.inj[0].nth, 3);
	check_records("data.log", 2, 0);
	sys_rules_free(rs);
}

static void test_unmatched_continue(void **state)
{
	const char *probe = probe_of(state);
	/* write is trapped, but only other.log is named: data.log and stdout run untouched */
	struct sys_rules *rs =
		rules("rules: [{calls: [write, fsync], path: other.log, errno: EIO}]");
	struct run r;

	run(rs, 1, PROBE("data.log", "5", "100"), &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_int_equal(r.n_inj, 0);
	assert_int_equal(r.injected, 0);
	assert_true(r.seen >= 11); /* 5 writes, 5 fsyncs, "ok" to stdout */
	check_records("data.log", 5, 0);
	sys_rules_free(rs);
}

static void test_io_uring(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *on = rules("io_uring: enosys\nrules: [{calls: fsync, errno: EIO}]");
	struct sys_rules *off = rules("rules: [{calls: fsync, errno: EIO}]");
	struct run r;

	run(on, 1, PROBE("-u"), &r);
	assert_int_equal(WEXITSTATUS(r.status), 30);
	run(off, 1, PROBE("-u"), &r);
	/* without the option the call reaches the kernel (which may still refuse it) */
	assert_int_not_equal(WEXITSTATUS(r.status), 30);
	sys_rules_free(on);
	sys_rules_free(off);
}

static void test_delay(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *rs =
		rules("rules: [{calls: fsync, path: data.log, nth: 1, delay: 200ms}]");
	int64_t t0 = time_mono_ns();
	struct run r;

	run(rs, 1, PROBE("data.log", "2", "100"), &r);
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_true(time_mono_ns() - t0 >= 200 * 1000000LL);
	assert_int_equal(r.inj[0].action, SYS_ACT_DELAY);
	check_records("data.log", 2, 0);
	sys_rules_free(rs);
}

/* The filter traps only the calls some rule names: a loop of writes and fsyncs under a
 * rename rule sends nothing to the supervisor; the one rename at the end is the one call it
 * sees. */
static void test_traps_only_named(void **state)
{
	const char *probe = probe_of(state);
	struct sys_rules *rs = rules("rules: [{calls: rename, path: other.log, errno: EIO}]");
	struct run r;

	run(rs, 1, PROBE("data.log", "20", "100"), &r);
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_int_equal(r.seen, 0); /* 20 writes, 20 fsyncs, open, close, "ok": none trapped */
	check_records("data.log", 20, 0);
	run(rs, 1, PROBE("-r", "data.log", "20", "100"), &r);
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_int_equal(r.seen, 1);
	assert_int_equal(r.n_inj, 0);
	sys_rules_free(rs);
}

/* Each case starts in an empty data dir. */
static int setup(void **state)
{
	if (chdir(dir) < 0)
		return -1;
	unlink("data.log");
	unlink("data.log.tmp");
	return 0;
}

int main(int argc, char **argv)
{
/* Each case against the dynamic probe, then the static one. */
#define BOTH(f)                                               \
	{ #f, f, setup, NULL, &probe_dyn },                   \
	{                                                     \
#f " (static)", f, setup, NULL, &probe_static \
	}
	const struct CMUnitTest tests[] = {
		BOTH(test_errno),
		BOTH(test_short),
		BOTH(test_torn),
		BOTH(test_torn_random_replays),
		BOTH(test_crash_fsync),
		BOTH(test_crash_rename),
		BOTH(test_after),
		BOTH(test_unmatched_continue),
		BOTH(test_io_uring),
		BOTH(test_delay),
		BOTH(test_traps_only_named),
	};
	const char *why;
	char cmd[128];
	int r;

	if (argc < 2)
		return 2;
	probe_dyn = argv[1];
	probe_static = argc > 2 ? argv[2] : "";
	if (sys_filter_probe(&why) < 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	if (!*probe_static)
		printf("note: no static probe (libc.a missing): the static cases are skipped\n");
	snprintf(dir, sizeof(dir), "/tmp/sysfaults-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = r ? r : 1;
	return r;
}
