/* Integration tests of the preload shim: sys_probe runs with LD_PRELOAD=libchaosdrill-shim.so
 * and a control block the test arms at run time; each case checks the probe's exit, the file
 * and the event the shim recorded. Every action runs against the dynamic probe; the static
 * probe shows the shim's limit (no dynamic loader, no preload: seccomp's job). argv: the shim,
 * the dynamic probe, the static probe ("" or absent if none was built). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "common/strbuf.h"
#include "faults/sys/shimctl.h"
#include "faults/sys/supervisor.h"
#include "scenarios/parser/yaml_load.h"

static const char *shim, *probe, *probe_static;
static char dir[64], ctl_path[128];
static struct sys_shimctl *ctl;

static void arm(const char *yaml, uint64_t seed)
{
	struct cfg_node *tree = NULL;
	struct sys_rules *rs = NULL;
	struct cd_error err;

	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
	if (sys_rules_parse(tree, &rs, &err) < 0)
		fail_msg("%d:%d: %s", err.line, err.col, err.msg);
	assert_int_equal(sys_shimctl_arm(ctl, rs, seed, dir), 0);
	sys_rules_free(rs);
	cfg_node_free(tree);
}

/* Runs prog with the shim; returns its wait status. */
static int run_prog(const char *prog, const char *const *args)
{
	char pre[512], env_ctl[256];
	const char *argv[8] = { prog };
	char *envp[] = { pre, env_ctl, NULL };
	int status, out;
	pid_t pid;

	for (int i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", shim);
	snprintf(env_ctl, sizeof(env_ctl), "%s=%s", SYS_SHIM_ENV, ctl_path);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		out = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out >= 0)
			dup2(out, 1);
		execve(prog, (char *const *)argv, envp);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int run(const char *const *args)
{
	return run_prog(probe, args);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static off_t file_size(const char *name)
{
	struct stat st;

	return stat(name, &st) == 0 ? st.st_size : -1;
}

/* The one injection the last run made (the probe is gone: a final take). */
static struct sys_shim_event one_event(void)
{
	struct sys_shim_event ev, more;

	assert_int_equal(sys_shimctl_next(ctl, true, &ev), 1);
	assert_int_equal(sys_shimctl_next(ctl, true, &more), 0);
	assert_int_equal(sys_shimctl_lost(ctl), 0);
	return ev;
}

static int no_event(void)
{
	struct sys_shim_event ev;

	return sys_shimctl_next(ctl, true, &ev) == 0 && sys_shimctl_lost(ctl) == 0;
}

static void test_unarmed(void **state)
{
	int st = run(ARGS("data.log", "3", "100"));

	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(file_size("data.log"), 300);
	assert_int_equal(sys_shimctl_attached(ctl), 1); /* the shim did load */
	assert_true(no_event());
	/* the variable is gone before main */
	st = run(ARGS("-e"));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_errno(void **state)
{
	struct sys_shim_event ev;
	int st;

	arm("rules: [{calls: write, path: data.log, nth: 1, errno: ENOSPC}]", 1);
	st = run(ARGS("data.log", "3", "100"));
	assert_int_equal(WEXITSTATUS(st), 20);
	assert_int_equal(file_size("data.log"), 0);
	ev = one_event();
	assert_int_equal(ev.err, ENOSPC);
	assert_string_equal(ev.path, "data.log");
	assert_int_equal(ev.offset, 0); /* a write: the file offset it would have written at */
}

static void test_short(void **state)
{
	struct sys_shim_event ev;
	int st;

	arm("rules: [{calls: pwrite, path: '*.log', nth: 2, short: 10}]", 1);
	st = run(ARGS("-p", "data.log", "3", "100"));
	assert_int_equal(WEXITSTATUS(st), 21);
	assert_int_equal(file_size("data.log"), 110);
	ev = one_event();
	assert_int_equal(ev.kept, 10);
	assert_int_equal(ev.offset, 100);
	assert_int_equal(ev.zeroed, 0);
}

static uint64_t torn(uint64_t seed, const char *mode)
{
	struct sys_shim_event ev;
	int st;

	arm("rules: [{calls: [write, writev], path: data.log, nth: 3, torn: {keep: random}, then: crash}]",
	    seed);
	st = run(ARGS(mode, "data.log", "5", "100"));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ev = one_event();
	assert_true(ev.killed);
	assert_int_equal(ev.offset, 200);
	assert_int_equal(file_size("data.log"), 200 + (off_t)ev.kept);
	return ev.kept;
}

/* rest: zeros: the file has the torn record's full length, its tail zero bytes. */
static void test_torn_zeros(void **state)
{
	char buf[100], want[100];
	struct sys_shim_event ev;
	int st, fd;

	for (int i = 0; i < 2; i++) {
		arm(i ? "rules: [{calls: pwrite, path: data.log, nth: 2, torn: {keep: 30, rest: zeros}, then: crash}]" :
			"rules: [{calls: write, path: data.log, nth: 2, torn: {keep: 30, rest: zeros}, then: crash}]",
		    1);
		st = run(ARGS(i ? "-p" : "-w", "data.log", "3", "100"));
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		ev = one_event();
		assert_int_equal(ev.kept, 30);
		assert_int_equal(ev.zeroed, 70);
		assert_int_equal(file_size("data.log"), 200);
		fd = open("data.log", O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, buf, sizeof(buf), 100), 100);
		close(fd);
		memset(want, 'b', 30); /* record 1 is 'b's */
		memset(want + 30, 0, 70);
		assert_memory_equal(buf, want, sizeof(want));
	}
}

/* A shim event reads in the report as the supervisor's injections do. */
static void test_event_format(void **state)
{
	struct sys_rules rs = { 0 };
	struct sys_injection inj;
	struct strbuf sb = STRBUF_INIT;
	struct sys_shim_event ev;

	arm("rules:\n  - {calls: write, path: data.log, nth: 2, torn: {keep: 30, rest: zeros}, then: crash}",
	    1);
	run(ARGS("-w", "data.log", "3", "100"));
	ev = one_event();
	rs.n = 1;
	rs.v = &(struct sys_rule){ .line = 2, .col = 5 };
	sys_shim_event_injection(&ev, &rs, &inj);
	sys_injection_format(&inj, &sb);
	assert_true(inj.fd >= 3);
	if (strncmp(sb.buf, "torn write of data.log (fd ", 27) ||
	    !strstr(sb.buf, ") at offset 100: kept 30 of 100 bytes, the other 70 landed as zeros, "
			    "node killed (rule 1 at line 2, call #2, pid "))
		fail_msg("%s", sb.buf);
	strbuf_release(&sb);
}

/* More injections than the ring holds, none taken out while the probe runs: the first
 * ring's worth is logged, the rest counted; a later run logs again. */
static void test_ring_full(void **state)
{
	struct sys_shim_event ev;
	unsigned n = 0;
	int st;

	arm("rules: [{calls: fsync, path: data.log, errno: EIO}]", 1);
	st = run(ARGS("-f", "data.log", "100", "10"));
	assert_int_equal(WEXITSTATUS(st), 0);
	while (sys_shimctl_next(ctl, true, &ev) == 1)
		assert_int_equal(ev.nth, ++n);
	assert_int_equal(n, SYS_SHIM_RING);
	assert_int_equal(sys_shimctl_lost(ctl), 100 - SYS_SHIM_RING);
	st = run(ARGS("-f", "data.log", "2", "10"));
	assert_int_equal(sys_shimctl_next(ctl, true, &ev), 1);
	assert_int_equal(ev.nth, 101);
}

static void test_torn_seeded(void **state)
{
	struct sys_rule r = { .keep = SYS_KEEP_RANDOM };
	uint64_t k = torn(5, "-w");

	assert_int_equal(k, sys_keep_bytes(&r, 0, 3, 5, 100));
	assert_int_equal(torn(5, "-w"), k); /* replay: the same byte */
	assert_int_equal(torn(5, "-v"), k); /* writev is cut the same way */
	printf("    seed 5 tears the 3rd write after byte %llu\n", (unsigned long long)k);
}

static void test_crash_rename(void **state)
{
	int st;

	arm("rules: [{calls: rename, path: data.log, crash: before}]", 1);
	unlink("data.log");
	st = run(ARGS("-r", "data.log", "2", "100"));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(file_size("data.log"), -1);
	assert_int_equal(file_size("data.log.tmp"), 200);
}

static void test_crash_fsync(void **state)
{
	struct sys_shim_event ev;
	int st;

	arm("rules: [{calls: fsync, path: data.log, nth: 2, crash: before}]", 1);
	st = run(ARGS("data.log", "4", "100"));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(file_size("data.log"), 200);
	ev = one_event();
	assert_int_equal(ev.action, SYS_ACT_CRASH_BEFORE);
	assert_true(ev.killed);
	arm("rules: [{calls: fsync, path: data.log, nth: 2, crash: after}]", 1);
	st = run(ARGS("data.log", "4", "100"));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(file_size("data.log"), 200);
	ev = one_event();
	assert_int_equal(ev.action, SYS_ACT_CRASH_AFTER);
	assert_int_equal(ev.err, 0); /* the real fsync ran and succeeded */
	assert_int_equal(ev.nth, 2);
}

static void test_delay(void **state)
{
	int64_t t0 = now_ns();
	int st;

	arm("rules: [{calls: fsync, path: data.log, nth: 1, delay: 200ms}]", 1);
	st = run(ARGS("data.log", "2", "100"));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(now_ns() - t0 >= 200 * 1000000LL);
	assert_int_equal(file_size("data.log"), 200);
	assert_int_equal(one_event().action, SYS_ACT_DELAY);
}

/* A statically linked program has no dynamic loader to preload into: the shim never
 * attaches and the armed rule does nothing (the seccomp supervisor covers it). The fit
 * check tells it from the dynamic probe by their program headers. */
static void test_static_unreached(void **state)
{
	enum sys_shim_fit fit;
	int st;

	assert_int_equal(sys_shim_fit(shim, probe, &fit), 0);
	assert_int_equal(fit, SYS_SHIM_FITS);
	if (!probe_static || !*probe_static)
		skip();
	assert_int_equal(sys_shim_fit(shim, probe_static, &fit), 0);
	assert_int_equal(fit, SYS_SHIM_STATIC); /* what the harness checks before a drill */
	arm("rules: [{calls: write, path: data.log, nth: 1, errno: ENOSPC}]", 1);
	st = run_prog(probe_static, ARGS("data.log", "3", "100"));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(file_size("data.log"), 300);
	assert_int_equal(sys_shimctl_attached(ctl), 0);
	assert_true(no_event());
}

static void test_glob_miss(void **state)
{
	int st;

	arm("rules: [{calls: [write, fsync, openat], path: other.log, errno: EIO}]", 1);
	st = run(ARGS("data.log", "3", "100"));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(file_size("data.log"), 300);
	assert_true(no_event());
}

static int setup(void **state)
{
	if (chdir(dir) < 0)
		return -1;
	unlink("data.log");
	unlink("data.log.tmp");
	snprintf(ctl_path, sizeof(ctl_path), "%s/shim.ctl", dir);
	return sys_shimctl_create(ctl_path, &ctl);
}

static int teardown(void **state)
{
	sys_shimctl_free(ctl);
	ctl = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unarmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_seeded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_zeros, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_fsync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_unreached, setup, teardown),
	};
	char cmd[128];
	int r;

	if (argc < 3)
		return 2;
	shim = argv[1];
	probe = argv[2];
	probe_static = argc > 3 ? argv[3] : "";
	snprintf(dir, sizeof(dir), "/tmp/sysshim-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = r ? r : 1;
	return r;
}
