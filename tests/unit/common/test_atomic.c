/* Unit tests of the atomic report writes' loose ends (common/fsutil, common/failpoint):
 * a failed atomic write (also a streamed one) leaves no temp file and the old contents; the owner pid in a temp
 * file's name; stale temp files removed only when their writer is dead and their file is
 * one of those asked for; the test-only pause of a named point. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/failpoint.h"
#include "common/fsutil.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cd-test-atomic.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void touch(const char *name)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static int exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A pid that is certainly dead: a child already reaped. */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

static void test_failed_write_leaves_nothing(void **state)
{
	char p[256], *data = NULL;
	size_t len;

	(void)state;
	/* the target is a non-empty directory: the rename fails after the temp was written */
	snprintf(p, sizeof(p), "%s/report", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	touch("report/inside");
	assert_true(fs_write_atomic(p, "new", 3, 0644) < 0);
	assert_int_equal(entries(), 1); /* only "report": no report.tmp.PID */
	/* a good write replaces the old contents whole */
	snprintf(p, sizeof(p), "%s/result.json", dir);
	assert_int_equal(fs_write_atomic(p, "{\"a\":1}", 7, 0644), 0);
	assert_int_equal(fs_write_atomic(p, "{\"b\":2}", 7, 0644), 0);
	assert_int_equal(fs_read_all(p, 100, &data, &len), 0);
	assert_string_equal(data, "{\"b\":2}");
	free(data);
	assert_int_equal(entries(), 2);
}

static int fill_ok(FILE *f, void *ud)
{
	for (int i = 0; i < 100000; i++)
		fprintf(f, "%d %s\n", i, (const char *)ud);
	return 0;
}

static int fill_fails(FILE *f, void *ud)
{
	(void)ud;
	fputs("half a rep", f);
	return -ENOSPC;
}

static void test_stream(void **state)
{
	char p[256], *data = NULL;
	size_t len;

	(void)state;
	snprintf(p, sizeof(p), "%s/ledger", dir);
	assert_int_equal(fs_write_atomic_stream(p, 0644, fill_ok, (void *)"ok"), 0);
	assert_int_equal(fs_read_all(p, 8 << 20, &data, &len), 0);
	assert_true(len > 100000 * 5);
	assert_memory_equal(data + len - 9, "99999 ok\n", 9);
	free(data);
	/* a failed fill leaves the old file whole and no temp file */
	assert_int_equal(fs_write_atomic_stream(p, 0644, fill_fails, NULL), -ENOSPC);
	assert_int_equal(entries(), 1);
	assert_int_equal(fs_read_all(p, 8 << 20, &data, &len), 0);
	assert_memory_equal(data + len - 9, "99999 ok\n", 9);
	free(data);
}

static void test_tmp_owner(void **state)
{
	(void)state;
	assert_int_equal(fs_tmp_owner("result.json.tmp.123"), 123);
	assert_int_equal(fs_tmp_owner("a.tmp.1.tmp.77"), 77);
	assert_int_equal(fs_tmp_owner("result.json"), -EINVAL);
	assert_int_equal(fs_tmp_owner("x.tmp."), -EINVAL);
	assert_int_equal(fs_tmp_owner("x.tmp.12a"), -EINVAL);
	assert_int_equal(fs_tmp_owner("x.tmp.0"), -EINVAL);
	assert_int_equal(fs_tmp_owner("x.tmp.-5"), -EINVAL);
	assert_int_equal(fs_tmp_owner("x.tmp.99999999999999"), -EINVAL);
}

static void test_remove_stale(void **state)
{
	static const char *const bases[] = { "result.json", "ledger.", "junit.xml", NULL };
	char name[64];
	pid_t dead = dead_pid(), me = getpid(), parent = getppid();

	(void)state;
	snprintf(name, sizeof(name), "result.json.tmp.%d", (int)dead);
	touch(name);
	snprintf(name, sizeof(name), "ledger.sqlite.tmp.%d", (int)dead);
	touch(name);
	snprintf(name, sizeof(name), "junit.xml.tmp.%d", (int)me); /* ours: being written */
	touch(name);
	snprintf(name, sizeof(name), "junit.xml.tmp.%d", (int)parent); /* alive */
	touch(name);
	snprintf(name, sizeof(name), "notes.txt.tmp.%d", (int)dead); /* not a report */
	touch(name);
	snprintf(name, sizeof(name), "ledger.tmp.%d", (int)dead); /* "ledger." wants a suffix */
	touch(name);
	touch("result.json");
	assert_int_equal(fs_remove_stale_tmp(dir, bases, NULL, NULL), 2);
	snprintf(name, sizeof(name), "result.json.tmp.%d", (int)dead);
	assert_false(exists(name));
	snprintf(name, sizeof(name), "ledger.sqlite.tmp.%d", (int)dead);
	assert_false(exists(name));
	snprintf(name, sizeof(name), "junit.xml.tmp.%d", (int)me);
	assert_true(exists(name));
	snprintf(name, sizeof(name), "junit.xml.tmp.%d", (int)parent);
	assert_true(exists(name));
	snprintf(name, sizeof(name), "notes.txt.tmp.%d", (int)dead);
	assert_true(exists(name));
	snprintf(name, sizeof(name), "ledger.tmp.%d", (int)dead);
	assert_true(exists(name));
	assert_true(exists("result.json"));
	assert_int_equal(fs_remove_stale_tmp("/nonexistent/dir", bases, NULL, NULL), -ENOENT);
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_pause(void **state)
{
	int64_t t;

	(void)state;
	unsetenv("CHAOSDRILL_FAILPOINT");
	unsetenv("CHAOSDRILL_FAILPOINT_LOG");
	setenv("CHAOSDRILL_FAILPOINT_PAUSE", "fs.atomic:60", 1);
	assert_int_equal(failpoint_init(), 0);
	t = ms_now();
	failpoint_pause("fs.atomic");
	assert_true(ms_now() - t >= 59); /* a lower bound only: the machine may be slow */
	t = ms_now();
	failpoint_pause("fs.other"); /* not named: no pause (bound generous for a loaded box) */
	assert_true(ms_now() - t < 59);
	assert_int_equal(failpoint("fs.atomic", -EIO), 0); /* pausing never fails a point */
	for (const char *bad = "fs.atomic\0fs.atomic:\0:10\0fs.atomic:1x\0fs.atomic:99999\0"; *bad;
	     bad += strlen(bad) + 1) {
		setenv("CHAOSDRILL_FAILPOINT_PAUSE", bad, 1);
		assert_int_equal(failpoint_init(), -EINVAL);
	}
	unsetenv("CHAOSDRILL_FAILPOINT_PAUSE");
	assert_int_equal(failpoint_init(), 0);
	t = ms_now();
	failpoint_pause("fs.atomic");
	assert_true(ms_now() - t < 59);
	failpoint_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test(test_tmp_owner),
		cmocka_unit_test_setup_teardown(test_remove_stale, setup, teardown),
		cmocka_unit_test(test_pause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
