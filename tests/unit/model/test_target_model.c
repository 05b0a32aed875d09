/* Unit tests of the target model: target.yaml keys (user, init, ...) and the drill-level
 * checks that use them (a drill without a workload), each error at its file:line:col.
 * Targets and drills are written to a temporary folder that $CHAOSDRILL_TARGETS names. */
#include <errno.h>
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
		    "expect rto needs a workload, and its target has no driver");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_init),
		cmocka_unit_test(test_no_workload),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
