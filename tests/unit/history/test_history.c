/* Unit tests of the history (harness/history/history.h): a run's figures taken from a report
 * model (one target, several, no workload, an outage that never ended), and the SQLite file
 * in a temporary directory: append and read back, bad files, and processes appending to one
 * new file at once. This test uses sqlite3.h itself only to make the foreign files the
 * history must refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/units.h"
#include "harness/history/history.h"

#define MS NSEC_PER_MSEC

static char dir[] = "/tmp/cd-history-test.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* A report model of one kvlog drill: two kill faults, two steps, three expectations. */
static const struct report_property suite_props[] = {
	{ "rto_ms", "812", REPORT_NUMBER },
	{ "rto_us", "812345", REPORT_NUMBER },
	{ "recovered", "true", REPORT_FLAG },
	{ "rpo_lost_writes", "0", REPORT_NUMBER },
	{ "rpo_window_ms", "0", REPORT_NUMBER },
	{ "integrity", "true", REPORT_FLAG },
	{ "latency_p50_ms_before", "0.5", REPORT_NUMBER },
};
static const struct report_property rto_props[] = {
	{ "target_ms", "2000", REPORT_NUMBER },	   { "rto_ms", "812", REPORT_NUMBER },
	{ "fault1_rto_ms", "812", REPORT_NUMBER }, { "fault2_rto_ms", "301", REPORT_NUMBER },
	{ "fault12x_rto_ms", "5", REPORT_NUMBER }, /* not a fault's */
};
static const struct report_property step_props[] = { { "duration_ms", "3", REPORT_NUMBER } };
#define CASE(k, i, n, t0, d, st) \
	.kind = (k), .id = (i), .name = (n), .start_ns = (t0), .duration_ns = (d), .status = (st)
static const struct report_case cases[] = {
	{ CASE(REPORT_CASE_FAULT, "fault.1.kill", "kill n1", 2000 * MS, 0, REPORT_PASS) },
	{ CASE(REPORT_CASE_FAULT, "fault.2.kill", "kill n1", 4000 * MS, 0, REPORT_PASS) },
	{ CASE(REPORT_CASE_STEP, "step.1.restart", "restart n1", 2001 * MS, 3 * MS, REPORT_PASS),
	  .props = step_props, .n_props = 1 },
	{ CASE(REPORT_CASE_STEP, "step.2.wait", "wait ready n1", 2004 * MS, 700 * MS, REPORT_FAIL),
	  .message = "timed out" },
	{ CASE(REPORT_CASE_ACTION, "action.1.exec", "backup", -1, 0, REPORT_SKIP) },
	{ CASE(REPORT_CASE_EXPECT, "expect.rto", "rto <= 2s", -1, 0, REPORT_PASS),
	  .message = "RTO 812ms", .props = rto_props, .n_props = 5 },
	{ CASE(REPORT_CASE_EXPECT, "expect.rpo", "rpo <= 0", -1, 0, REPORT_PASS) },
	{ CASE(REPORT_CASE_EXPECT, "expect.integrity", "integrity", -1, 0, REPORT_PASS) },
};
static const struct report_suite suite = {
	.name = "kvlog-demo#3",
	.target = "kvlog",
	.seed = UINT64_MAX - 5,
	.started_real_ns = 1796660164246841619LL,
	.duration_ns = 5234 * MS + 17,
	.hostname = "vm",
	.run_dir = "runs/kvlog-demo-20261207T161604Z",
	.exit_code = 1,
	.props = suite_props,
	.n_props = sizeof(suite_props) / sizeof(suite_props[0]),
	.cases = cases,
	.n_cases = sizeof(cases) / sizeof(cases[0]),
};

static void test_from_suite(void **state)
{
	struct history_run r;

	assert_int_equal(history_run_from_suite(&suite, "kvlog-demo", &r), 0);
	assert_string_equal(r.drill, "kvlog-demo");
	assert_true(r.seed == UINT64_MAX - 5);
	assert_int_equal(r.started_ns, suite.started_real_ns);
	assert_int_equal(r.exit_code, 1);
	assert_int_equal(r.duration_ms, 5234);
	assert_int_equal(r.rto_ms, 812);
	assert_int_equal(r.rpo_lost, 0);
	assert_int_equal(r.rpo_window_ms, 0);
	assert_int_equal(r.integrity, 1);
	assert_string_equal(r.version, CHAOSDRILL_VERSION);
	assert_string_equal(r.run_dir, suite.run_dir);
	assert_null(r.error);
	assert_int_equal(r.n_targets, 1);
	assert_string_equal(r.targets[0].target, "");
	assert_int_equal(r.n_faults, 2);
	assert_int_equal(r.faults[0].fault, 1);
	assert_int_equal(r.faults[0].rto_ms, 812);
	assert_int_equal(r.faults[1].fault, 2);
	assert_int_equal(r.faults[1].rto_ms, 301);
	assert_int_equal(r.n_cases, 6); /* not the faults */
	assert_string_equal(r.cases[0].id, "step.1.restart");
	assert_int_equal(r.cases[0].kind, HISTORY_STEP);
	assert_int_equal(r.cases[0].duration_ns, 3 * MS);
	assert_int_equal(r.cases[1].status, REPORT_FAIL);
	assert_string_equal(r.cases[1].message, "timed out");
	assert_int_equal(r.cases[2].kind, HISTORY_ACTION);
	assert_int_equal(r.cases[2].duration_ns, -1); /* never ran */
	assert_int_equal(r.cases[3].kind, HISTORY_EXPECT);
	history_run_release(&r);
	/* without a drill name: the suite's */
	assert_int_equal(history_run_from_suite(&suite, NULL, &r), 0);
	assert_string_equal(r.drill, "kvlog-demo#3");
	history_run_release(&r);
}

/* Two targets: each one's figures, and the totals over them. */
static void test_from_suite_multi(void **state)
{
	static const struct report_property props[] = {
		{ "kvlog.rto_ms", "120", REPORT_NUMBER },
		{ "kvlog.recovered", "true", REPORT_FLAG },
		{ "kvlog.rpo_lost_writes", "2", REPORT_NUMBER },
		{ "kvlog.rpo_window_ms", "40", REPORT_NUMBER },
		{ "kvlog.integrity", "true", REPORT_FLAG },
		{ "redis.rto_ms", "0", REPORT_NUMBER },
		{ "redis.recovered", "false", REPORT_FLAG },
		{ "redis.rpo_lost_writes", "3", REPORT_NUMBER },
		{ "redis.rpo_window_ms", "90", REPORT_NUMBER },
		{ "redis.integrity", "false", REPORT_FLAG },
	};
	static const struct report_property redis_rto[] = { { "fault1_rto_ms", "77",
							      REPORT_NUMBER } };
	static const struct report_case c[] = {
		{ CASE(REPORT_CASE_EXPECT, "kvlog.expect.rto", "rto [kvlog]", -1, 0, REPORT_PASS) },
		{ CASE(REPORT_CASE_EXPECT, "redis.expect.rto", "rto [redis]", -1, 0, REPORT_FAIL),
		  .props = redis_rto, .n_props = 1 },
	};
	struct report_suite s = { .name = "platform",
				  .props = props,
				  .n_props = 10,
				  .cases = c,
				  .n_cases = 2,
				  .exit_code = 1 };
	struct history_run r;

	assert_int_equal(history_run_from_suite(&s, NULL, &r), 0);
	assert_int_equal(r.n_targets, 2);
	assert_string_equal(r.targets[0].target, "kvlog");
	assert_int_equal(r.targets[0].rto_ms, 120);
	assert_int_equal(r.targets[0].rpo_lost, 2);
	assert_string_equal(r.targets[1].target, "redis");
	assert_int_equal(r.targets[1].rto_ms, -1); /* never recovered: no figure */
	assert_int_equal(r.targets[1].integrity, 0);
	assert_int_equal(r.rto_ms, 120);
	assert_int_equal(r.rpo_lost, 5);
	assert_int_equal(r.rpo_window_ms, 90);
	assert_int_equal(r.integrity, 0);
	assert_int_equal(r.n_faults, 1);
	assert_string_equal(r.faults[0].target, "redis");
	history_run_release(&r);
}

/* No workload: the RTO is only in its case (fault to ready); a drill that could not run
 * has none. */
static void test_from_suite_no_workload(void **state)
{
	static const struct report_property p[] = { { "target_ms", "5000", REPORT_NUMBER },
						    { "rto_ms", "1.6", REPORT_NUMBER } };
	static const struct report_case c[] = {
		{ CASE(REPORT_CASE_EXPECT, "expect.rto", "rto", -1, 0, REPORT_PASS), .props = p,
		  .n_props = 2 },
	};
	struct report_suite s = { .name = "x", .cases = c, .n_cases = 1 };
	struct history_run r;

	assert_int_equal(history_run_from_suite(&s, NULL, &r), 0);
	assert_int_equal(r.rto_ms, 2);
	assert_int_equal(r.rpo_lost, -1);
	assert_int_equal(r.integrity, -1);
	history_run_release(&r);
	s = (struct report_suite){ .name = "x", .exit_code = 3, .error = "no netem" };
	assert_int_equal(history_run_from_suite(&s, NULL, &r), 0);
	assert_int_equal(r.rto_ms, -1);
	assert_int_equal(r.n_cases, 0);
	assert_string_equal(r.error, "no netem");
	history_run_release(&r);
}

static void assert_same_str(const char *a, const char *b)
{
	if (a)
		assert_string_equal(a, b);
	else
		assert_null(b);
}

static void assert_same(const struct history_run *a, const struct history_run *b)
{
	assert_string_equal(a->drill, b->drill);
	assert_int_equal(a->started_ns, b->started_ns);
	assert_true(a->seed == b->seed);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_int_equal(a->rto_ms, b->rto_ms);
	assert_int_equal(a->rpo_lost, b->rpo_lost);
	assert_int_equal(a->rpo_window_ms, b->rpo_window_ms);
	assert_int_equal(a->integrity, b->integrity);
	assert_string_equal(a->version, b->version);
	assert_same_str(a->run_dir, b->run_dir);
	assert_same_str(a->hostname, b->hostname);
	assert_same_str(a->error, b->error);
	assert_int_equal(a->n_targets, b->n_targets);
	for (size_t i = 0; i < a->n_targets; i++) {
		assert_string_equal(a->targets[i].target, b->targets[i].target);
		assert_int_equal(a->targets[i].rto_ms, b->targets[i].rto_ms);
		assert_int_equal(a->targets[i].rpo_lost, b->targets[i].rpo_lost);
		assert_int_equal(a->targets[i].integrity, b->targets[i].integrity);
	}
	assert_int_equal(a->n_faults, b->n_faults);
	for (size_t i = 0; i < a->n_faults; i++) {
		assert_int_equal(a->faults[i].fault, b->faults[i].fault);
		assert_int_equal(a->faults[i].rto_ms, b->faults[i].rto_ms);
	}
	assert_int_equal(a->n_cases, b->n_cases);
	for (size_t i = 0; i < a->n_cases; i++) {
		assert_string_equal(a->cases[i].id, b->cases[i].id);
		assert_string_equal(a->cases[i].name, b->cases[i].name);
		assert_int_equal(a->cases[i].kind, b->cases[i].kind);
		assert_int_equal(a->cases[i].status, b->cases[i].status);
		assert_int_equal(a->cases[i].duration_ns, b->cases[i].duration_ns);
		assert_same_str(a->cases[i].message, b->cases[i].message);
	}
}

static void test_append_read_back(void **state)
{
	struct history_run a, b, c;
	struct history_runs all;
	struct history *h;
	struct cd_error err = { 0 };
	char path[256];

	path_of(path, sizeof(path), "rw.db");
	assert_int_equal(history_run_from_suite(&suite, "kvlog-demo", &a), 0);
	assert_int_equal(history_run_from_suite(&suite, "kvlog-demo", &b), 0);
	assert_int_equal(history_run_from_suite(&suite, "another", &c), 0);
	b.started_ns -= 3600 * NSEC_PER_SEC; /* stored after a, but older */
	b.rto_ms = -1;
	free(b.run_dir);
	b.run_dir = NULL;

	assert_int_equal(history_open(path, HISTORY_CREATE, &h, &err), 0);
	assert_int_equal(history_append(h, &a, &err), 0);
	assert_int_equal(history_append(h, &b, &err), 0);
	assert_int_equal(history_append(h, &c, &err), 0);
	assert_true(a.id > 0 && b.id > a.id && c.id > b.id);
	history_close(h);

	/* read back by another handle, read-only: by drill, then start time */
	assert_int_equal(history_open(path, HISTORY_READ, &h, &err), 0);
	assert_int_equal(history_load(h, NULL, &all, &err), 0);
	assert_int_equal(all.n, 3);
	assert_same(&all.v[0], &c); /* "another" < "kvlog-demo" */
	assert_same(&all.v[1], &b);
	assert_null(all.v[1].run_dir);
	assert_same(&all.v[2], &a);
	assert_int_equal(all.v[2].id, a.id);
	history_runs_release(&all);
	assert_int_equal(history_load(h, "kvlog-demo", &all, &err), 0);
	assert_int_equal(all.n, 2);
	history_runs_release(&all);
	assert_int_equal(history_load(h, "none", &all, &err), 0);
	assert_int_equal(all.n, 0);
	/* read-only: appending fails and says why */
	assert_int_equal(history_append(h, &a, &err), -EROFS);
	history_close(h);
	/* reopened for appending: the schema is there already */
	assert_int_equal(history_open(path, HISTORY_CREATE, &h, &err), 0);
	assert_int_equal(history_append(h, &a, &err), 0);
	assert_int_equal(history_load(h, "kvlog-demo", &all, &err), 0);
	assert_int_equal(all.n, 3);
	history_runs_release(&all);
	history_close(h);
	history_run_release(&a);
	history_run_release(&b);
	history_run_release(&c);
}

/* Runs SQL on a new database at path (to make files the history must refuse). */
static void make_db(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_bad_files(void **state)
{
	struct history *h = (struct history *)1;
	struct cd_error err = { 0 };
	char path[256];
	FILE *f;

	path_of(path, sizeof(path), "missing.db");
	assert_int_equal(history_open(path, HISTORY_READ, &h, &err), -ENOENT);
	assert_null(h);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "No such file"));
	/* SQLite's special names are paths like any other (no database in memory that would
	 * take the runs and keep nothing), and an empty one is no path */
	assert_int_equal(history_open(":memory:", HISTORY_READ, &h, &err), -ENOENT);
	assert_int_equal(history_open("", HISTORY_CREATE, &h, &err), -EINVAL);
	path_of(path, sizeof(path), "no/such/dir.db");
	assert_int_equal(history_open(path, HISTORY_CREATE, &h, &err), -ENOENT);
	assert_int_equal(history_open(dir, HISTORY_CREATE, &h, &err), -EISDIR);

	path_of(path, sizeof(path), "text.db");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not a database, and it is long enough to have a header........\n", f);
	fclose(f);
	assert_int_equal(history_open(path, HISTORY_CREATE, &h, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a chaosdrill history"));
	assert_int_equal(history_open(path, HISTORY_READ, &h, &err), -EINVAL);

	path_of(path, sizeof(path), "empty.db");
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(history_open(path, HISTORY_READ, &h, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty"));

	path_of(path, sizeof(path), "foreign.db");
	make_db(path, "CREATE TABLE t (x INTEGER)");
	assert_int_equal(history_open(path, HISTORY_CREATE, &h, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a chaosdrill history"));

	path_of(path, sizeof(path), "newer.db");
	make_db(path, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
		      "INSERT INTO schema_version VALUES (99)");
	assert_int_equal(history_open(path, HISTORY_CREATE, &h, &err), -EPROTONOSUPPORT);
	assert_non_null(strstr(err.msg, "version 99"));
	assert_int_equal(history_open(path, HISTORY_READ, &h, &err), -EPROTONOSUPPORT);
	assert_null(h);
}

#define WRITERS 4
#define RUNS_EACH 20

/* One writer process: waits for the go, opens the (new) file, appends its runs. */
static int writer(const char *path, int go, int w)
{
	struct history_run r;
	struct history *h;
	struct cd_error err = { 0 };
	char c, name[16];
	int k;

	if (read(go, &c, 1) != 0) /* the parent closes its end: all start at once */
		return 10;
	snprintf(name, sizeof(name), "writer-%d", w);
	if ((k = history_open(path, HISTORY_CREATE, &h, &err)) < 0) {
		fprintf(stderr, "writer %d: %s: %s\n", w, err.file, err.msg);
		return 11;
	}
	for (int i = 0; i < RUNS_EACH; i++) {
		if (history_run_from_suite(&suite, name, &r) < 0)
			return 12;
		r.started_ns += i;
		r.seed = (uint64_t)(w * 1000 + i);
		k = history_append(h, &r, &err);
		history_run_release(&r);
		if (k < 0) {
			fprintf(stderr, "writer %d: %s\n", w, err.msg);
			return 13;
		}
	}
	history_close(h);
	return 0;
}

/* Several processes create one new history and append to it at once: every run is there,
 * whole, and the file is sound. */
static void test_concurrent_appenders(void **state)
{
	struct history_runs all;
	struct history *h;
	struct cd_error err = { 0 };
	pid_t pid[WRITERS];
	int go[2], status;
	char path[256];

	path_of(path, sizeof(path), "concurrent.db");
	assert_int_equal(pipe(go), 0);
	for (int w = 0; w < WRITERS; w++) {
		pid[w] = fork();
		assert_true(pid[w] >= 0);
		if (pid[w] == 0) {
			close(go[1]);
			_exit(writer(path, go[0], w));
		}
	}
	close(go[0]);
	close(go[1]);
	for (int w = 0; w < WRITERS; w++) {
		assert_int_equal(waitpid(pid[w], &status, 0), pid[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(history_open(path, HISTORY_READ, &h, &err), 0);
	assert_int_equal(history_load(h, NULL, &all, &err), 0);
	assert_int_equal(all.n, WRITERS * RUNS_EACH);
	for (size_t i = 0; i < all.n; i++) { /* by drill, then time: each writer's in order */
		int w = (int)(i / RUNS_EACH), k = (int)(i % RUNS_EACH);
		char name[16];

		snprintf(name, sizeof(name), "writer-%d", w);
		assert_string_equal(all.v[i].drill, name);
		assert_true(all.v[i].seed == (uint64_t)(w * 1000 + k));
		assert_int_equal(all.v[i].n_cases, 6);
		assert_int_equal(all.v[i].n_faults, 2);
	}
	history_runs_release(&all);
	history_close(h);
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_suite),
		cmocka_unit_test(test_from_suite_multi),
		cmocka_unit_test(test_from_suite_no_workload),
		cmocka_unit_test(test_append_read_back),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_concurrent_appenders),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
