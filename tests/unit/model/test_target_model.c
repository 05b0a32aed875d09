/* Unit tests of the target model: target.yaml keys (user, init, ...) and the drill-level
 * checks that use them (a drill without a workload), each error at its file:line:col.
 * Targets and drills are written to a temporary folder that $CHAOSDRILL_TARGETS names. */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/units.h"
#include "harness/drill/drill.h"
#include "harness/drill/target.h"

static char root[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* targets/NAME/target.yaml under root */
static void put_target(const char *name, const char *yaml)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/target.yaml", root, name);
	write_file(path, yaml);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/cd-model-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	setenv("CHAOSDRILL_TARGETS", root, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

#define BASE                                                                                   \
	"target: %s\n"                                                                         \
	"port: 5432\n"                                                                         \
	"params: {fsync: {default: \"on\", values: [\"on\", \"off\"]}, extra: {default: x}}\n" \
	"start: [\"{bin}/server\", -D, \"{data}\"]\n"                                          \
	"probe: {ready: [ready, \"{addr}\"]}\n"

/* Loads a target whose text is BASE plus more, which must fail at line:col with want. */
static void target_error(const char *more, int line, int col, const char *want)
{
	char yaml[2048], buf[1400];
	struct target_def *t = NULL;
	struct cd_error err = { 0 };

	snprintf(yaml, sizeof(yaml), BASE "%s", "bad", more);
	put_target("bad", yaml);
	assert_true(target_load("bad", &t, &err) < 0);
	assert_null(t);
	cd_error_format(&err, buf, sizeof(buf));
	if (err.line != line || err.col != col || !strstr(err.msg, want)) {
		print_error("got '%s', want %d:%d '%s'\n", buf, line, col, want);
		fail();
	}
}

static void test_user_init(void **state)
{
	char yaml[2048];
	struct target_def *t = NULL;
	struct cd_error err = { 0 };

	snprintf(yaml, sizeof(yaml),
		 BASE "user: postgres\n"
		      "init: [\"{bin}/initdb\", -D, \"{data}\"]\n",
		 "pg");
	put_target("pg", yaml);
	assert_int_equal(target_load("pg", &t, &err), 0);
	assert_string_equal(t->user, "postgres");
	assert_int_equal(t->user_pos->line, 6);
	assert_int_equal(t->init.argc, 3);
	assert_string_equal(t->init.argv[0], "{bin}/initdb");
	assert_null(t->init.argv[3]);
	assert_null(t->driver); /* no driver: the target's drills have no workload */
	target_free(t);

	target_error("user: \"\"\n", 6, 7, "user must name a user");
	target_error("user: [a]\n", 6, 7, "");
	target_error("init: []\n", 6, 7, "init must not be empty");
	target_error("init: initdb\n", 6, 7, "init");
	target_error("inti: [initdb]\n", 6, 1, "did you mean 'init'");
}

static void test_env(void **state)
{
	char yaml[2048];
	struct target_def *t = NULL;
	struct cd_error err = { 0 };

	snprintf(yaml, sizeof(yaml), BASE "env: {PGDATA: \"{data}\", _X1: \"a b\"}\n", "envt");
	put_target("envt", yaml);
	assert_int_equal(target_load("envt", &t, &err), 0);
	assert_int_equal(t->n_env, 2);
	assert_string_equal(t->env[0].name, "PGDATA");
	assert_string_equal(t->env[0].value, "{data}");
	assert_string_equal(t->env[1].name, "_X1");
	assert_string_equal(t->env[1].value, "a b");
	target_free(t);

	target_error("check-online: []\n", 6, 15, "check-online must not be empty");
	target_error("check-online: psql\n", 6, 15, "check-online");
	target_error("check-onlin: [psql]\n", 6, 1, "did you mean 'check-online'");
	snprintf(yaml, sizeof(yaml), BASE "check-online: [psql, -c, \"select 1\"]\n", "online");
	put_target("online", yaml);
	assert_int_equal(target_load("online", &t, &err), 0);
	assert_int_equal(t->check_online.argc, 3);
	assert_string_equal(t->check_online.argv[2], "select 1");
	assert_int_equal(t->check.argc, 0); /* the offline check is another key */
	target_free(t);

	target_error("env: [A]\n", 6, 6, "env");
	target_error("env: {1A: x}\n", 6, 7, "'1A' is not an environment variable's name");
	target_error("env: {A-B: x}\n", 6, 7, "'A-B' is not an environment variable's name");
	target_error("env: {A: [x]}\n", 6, 10, "");
}

static void write_drill(const char *name, const char *yaml, char *path, size_t len)
{
	snprintf(path, len, "%s/%s.yaml", root, name);
	write_file(path, yaml);
}

/* Loads a drill, which must fail at line:col with want (line 0: must load). */
static void drill_check(const char *yaml, int line, int col, const char *want)
{
	struct drill_options o = { 0 };
	struct drill *d = NULL;
	struct cd_error err = { 0 };
	char path[256], buf[1400];
	int r;

	write_drill("d", yaml, path, sizeof(path));
	r = drill_load(path, &o, &d, &err);
	if (line == 0) {
		if (r < 0) {
			cd_error_format(&err, buf, sizeof(buf));
			print_error("unexpected error: %s\n", buf);
			fail();
		}
		assert_true(d->no_workload);
		assert_null(d->driver);
		drill_free(d);
		return;
	}
	assert_true(r < 0);
	assert_null(d);
	cd_error_format(&err, buf, sizeof(buf));
	if (err.line != line || err.col != col || !strstr(err.msg, want)) {
		print_error("got '%s', want %d:%d '%s'\n", buf, line, col, want);
		fail();
	}
}

static void test_no_workload(void **state)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), BASE, "nodrv");
	put_target("nodrv", yaml);
	drill_check("drill: a\ntarget: nodrv\n", 0, 0, NULL);
	drill_check("drill: a\ntarget: nodrv\nexpect: {rto: 2s}\n", 3, 10,
		    "expect rto needs a workload or a fault (its target has no driver");
	drill_check("drill: a\ntarget: nodrv\nfaults: [{at: 1s, kill: n1}]\nexpect: {rto: 2s}\n", 0,
		    0, NULL);
	drill_check("drill: a\ntarget: nodrv\nexpect: {rpo: 0}\n", 3, 10,
		    "expect rpo needs a workload, and its target has no driver");
	drill_check("drill: a\ntarget: nodrv\nexpect:\n  integrity: true\n", 4, 3,
		    "expect integrity needs a workload");
	/* a target with a driver, and workload: none */
	snprintf(yaml, sizeof(yaml), BASE "driver: kvlog\n", "withdrv");
	put_target("withdrv", yaml);
	drill_check("drill: a\ntarget: withdrv\nworkload: none\n", 0, 0, NULL);
	drill_check("drill: a\ntarget: withdrv\nworkload: none\nexpect: {rpo: 0}\n", 4, 10,
		    "expect rpo needs a workload, and the drill has workload: none");
	drill_check("drill: a\ntarget: withdrv\nworkload: some\n", 3, 11, "or 'none'");
}

/* Loads a drill that must load; the caller frees it. */
static struct drill *drill_ok(const char *yaml)
{
	struct drill_options o = { 0 };
	struct drill *d = NULL;
	struct cd_error err = { 0 };
	char path[256], buf[1400];

	write_drill("ok", yaml, path, sizeof(path));
	if (drill_load(path, &o, &d, &err) < 0) {
		cd_error_format(&err, buf, sizeof(buf));
		print_error("unexpected error: %s\n", buf);
		fail();
	}
	return d;
}

#define STEPS_HEAD "drill: s\ntarget: nodrv\nrecovery:\n"

static void test_node_steps(void **state)
{
	char yaml[2048];
	struct drill *d;

	snprintf(yaml, sizeof(yaml), BASE, "nodrv");
	put_target("nodrv", yaml);
	d = drill_ok(STEPS_HEAD "  - kill: n1\n"
				"  - signal: {node: n1, signal: SIGhup}\n"
				"  - signal: {node: n1, signal: \"10\"}\n"
				"  - shutdown: n1\n"
				"  - shutdown: {node: n1, timeout: 2s}\n"
				"  - restart: {node: n1, params: {fsync: \"off\", extra: y}}\n"
				"  - restart: n1\n");
	assert_int_equal(d->n_steps, 7);
	assert_int_equal(d->steps[0].spec.kind, STEP_KILL);
	assert_string_equal(d->steps[0].spec.node, "n1");
	assert_int_equal(d->steps[1].spec.kind, STEP_SIGNAL);
	assert_int_equal(d->steps[1].spec.signal, SIGHUP);
	assert_int_equal(d->steps[2].spec.signal, 10);
	assert_int_equal(d->steps[3].spec.kind, STEP_SHUTDOWN);
	assert_int_equal(d->steps[3].spec.timeout_ns, 10 * NSEC_PER_SEC);
	assert_int_equal(d->steps[4].spec.timeout_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(d->steps[5].spec.kind, STEP_RESTART);
	assert_non_null(d->steps[5].spec.params);
	assert_int_equal(d->steps[5].spec.params->n, 2);
	assert_string_equal(d->steps[5].spec.params->items[0]->scalar, "off");
	assert_null(d->steps[6].spec.params);
	drill_free(d);

	assert_int_equal(step_signal_parse("TERM"), SIGTERM);
	assert_int_equal(step_signal_parse("usr1"), SIGUSR1);
	assert_int_equal(step_signal_parse("SIGUSR2"), SIGUSR2);
	assert_int_equal(step_signal_parse("NOPE"), -EINVAL);
	assert_int_equal(step_signal_parse("0"), -EINVAL);
	assert_string_equal(step_signal_name(SIGHUP), "HUP");

	drill_check(STEPS_HEAD "  - signal: {node: n1, signal: BOGUS}\n", 4, 32,
		    "unknown signal 'BOGUS'");
	drill_check(STEPS_HEAD "  - signal: n1\n", 4, 13, "signal needs a map");
	drill_check(STEPS_HEAD "  - signal: {node: n1}\n", 4, 13, "missing required key 'signal'");
	drill_check(STEPS_HEAD "  - kill: n9\n", 4, 11, "n9");
	drill_check(STEPS_HEAD "  - kill: {node: n1, signal: HUP}\n", 4, 22, "signal");
	drill_check(STEPS_HEAD "  - shutdown: {node: n1, timeout: 0s}\n", 4, 35,
		    "shutdown timeout must be more than 0");
	drill_check(STEPS_HEAD "  - restart: {node: n1, params: {nope: x}}\n", 4, 34,
		    "target nodrv has no param 'nope'");
	drill_check(STEPS_HEAD "  - restart: {node: n1, params: {fsync: maybe}}\n", 4, 41,
		    "param fsync: 'maybe' is not one of: on off");
	drill_check(STEPS_HEAD "  - restart: {node: n1, params: [fsync]}\n", 4, 33,
		    "restart params");
	drill_check(STEPS_HEAD "  - restart: {node: n1, params: {fsync: [a]}}\n", 4, 41,
		    "a param's value is a scalar");
}

#define ACTIONS_HEAD "drill: s\ntarget: nodrv\nactions:\n"

static void test_actions(void **state)
{
	char yaml[2048];
	struct drill *d;

	snprintf(yaml, sizeof(yaml), BASE, "nodrv");
	put_target("nodrv", yaml);
	d = drill_ok(
		"drill: s\ntarget: nodrv\nrecovery: [{sleep: 1s}]\nactions:\n"
		"  - {at: 2s, name: backup, exec: {node: n1, argv: [b], timeout: 10s, exit: 3}}\n"
		"  - {at: 500ms, signal: {node: n1, signal: HUP}}\n");
	assert_int_equal(d->n_steps, 3);
	assert_int_equal(d->steps[0].ss->fault, -1); /* recovery first, then the actions */
	assert_int_equal(d->steps[1].ss->fault, SCENARIO_ACTION);
	assert_int_equal(d->steps[1].ss->at_ns, 2 * NSEC_PER_SEC);
	assert_string_equal(d->steps[1].ss->name, "backup");
	assert_int_equal(d->steps[1].spec.kind, STEP_EXEC);
	assert_int_equal(d->steps[1].spec.exit_code, 3);
	assert_int_equal(d->steps[1].spec.timeout_ns, 10 * NSEC_PER_SEC);
	assert_int_equal(d->steps[2].ss->at_ns, 500 * NSEC_PER_MSEC);
	assert_int_equal(d->steps[2].spec.signal, SIGHUP);
	drill_free(d);

	drill_check(ACTIONS_HEAD "  - {at: 1s, kill: n1}\n", 4, 14,
		    "an action is exec, signal, wait or sleep");
	drill_check(ACTIONS_HEAD "  - {exec: [true]}\n", 4, 5, "missing required key 'at'");
	drill_check(ACTIONS_HEAD "  - {at: 1s, exec: [true], atx: 2}\n", 4, 28,
		    "unknown action kind 'atx'");
	drill_check(ACTIONS_HEAD "  - {at: soon, exec: [true]}\n", 4, 10, "");
	drill_check("drill: s\ntarget: nodrv\nactions: {at: 1s}\n", 3, 10, "actions");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_init),   cmocka_unit_test(test_env),
		cmocka_unit_test(test_no_workload), cmocka_unit_test(test_node_steps),
		cmocka_unit_test(test_actions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
