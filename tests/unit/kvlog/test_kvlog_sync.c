/* Unit tests of kvlog's group commit (kvlog_sync_begin/end on the helper thread) with an
 * injected fdatasync(2): this executable defines fdatasync, which the log library then
 * calls instead of libc's. A test closes the gate to hold every fdatasync until it opens
 * it, and checks that nothing counts as synced before the covering fdatasync returned,
 * and never more than was written when it was asked for. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "targets/kvlog/kvlog_log.h"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int passes = -1; /* fdatasync calls let through before the gate closes; -1: all */
static int entered, returned, fail_errno;

int fdatasync(int fd)
{
	int r, e;

	pthread_mutex_lock(&gate_lock);
	entered++;
	pthread_cond_broadcast(&gate_cond);
	while (passes == 0)
		pthread_cond_wait(&gate_cond, &gate_lock);
	if (passes > 0)
		passes--;
	e = fail_errno;
	pthread_mutex_unlock(&gate_lock);
	r = e ? -1 : (int)syscall(SYS_fdatasync, fd);
	if (e)
		errno = e;
	pthread_mutex_lock(&gate_lock);
	returned++;
	pthread_mutex_unlock(&gate_lock);
	return r;
}

static void gate(int n)
{
	pthread_mutex_lock(&gate_lock);
	passes = n;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static int count(const int *v)
{
	int n;

	pthread_mutex_lock(&gate_lock);
	n = *v;
	pthread_mutex_unlock(&gate_lock);
	return n;
}

/* Blocks until n fdatasync calls have entered (held at the gate or past it). */
static void wait_entered(int n)
{
	pthread_mutex_lock(&gate_lock);
	while (entered < n)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

struct fixture {
	char dir[64];
	struct kvlog *log;
	int efd;
	uint64_t seq;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kvlog_opts o = { 0 };
	struct kvlog_replay st;

	strcpy(f->dir, "/tmp/kvlog-sync-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	o.dir = f->dir;
	o.max_size = 4096;
	if (kvlog_open(&o, NULL, NULL, &st, &f->log) < 0)
		return -1;
	f->efd = kvlog_sync_thread(f->log);
	pthread_mutex_lock(&gate_lock);
	entered = returned = fail_errno = 0;
	passes = -1;
	pthread_mutex_unlock(&gate_lock);
	*state = f;
	return f->efd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	gate(-1);
	kvlog_free(f->log);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

/* Appends and writes n 100-byte records. */
static void put(struct fixture *f, int n)
{
	char val[100];

	memset(val, 'v', sizeof(val));
	for (int i = 0; i < n; i++) {
		f->seq++;
		assert_int_equal(kvlog_append(f->log, f->seq, 0, "key", 3, val, sizeof(val)), 0);
	}
	assert_int_equal(kvlog_write(f->log), 0);
}

/* Waits for the event fd, then reaps. */
static int end_when_readable(struct fixture *f)
{
	assert_true(readable(f->efd, 5000));
	return kvlog_sync_end(f->log);
}

static void test_not_synced_before_fdatasync_returns(void **state)
{
	struct fixture *f = *state;

	put(f, 3);
	gate(0);
	assert_int_equal(kvlog_sync_begin(f->log), 1);
	wait_entered(1);
	/* The fdatasync is held: nothing may count as synced, nothing may be signalled. */
	assert_false(readable(f->efd, 50));
	assert_int_equal(kvlog_sync_end(f->log), 0);
	assert_int_equal(kvlog_synced_seq(f->log), 0);
	assert_true(kvlog_sync_in_flight(f->log));
	gate(-1);
	assert_int_equal(end_when_readable(f), 1);
	assert_int_equal(kvlog_synced_seq(f->log), 3);
	assert_false(kvlog_sync_in_flight(f->log));
	assert_int_equal(count(&returned), 1);
}

static void test_covers_only_what_was_written(void **state)
{
	struct fixture *f = *state;

	put(f, 2);
	gate(0);
	assert_int_equal(kvlog_sync_begin(f->log), 1);
	wait_entered(1);
	put(f, 5); /* written while the first sync is held: that one must not cover it */
	assert_int_equal(kvlog_sync_begin(f->log), 1); /* the next group, right after it */
	gate(1);
	assert_int_equal(end_when_readable(f), 1);
	assert_int_equal(kvlog_synced_seq(f->log), 2);
	wait_entered(2); /* the second one started by itself, and is held */
	assert_false(readable(f->efd, 50));
	assert_int_equal(kvlog_synced_seq(f->log), 2);
	gate(-1);
	assert_int_equal(end_when_readable(f), 1);
	assert_int_equal(kvlog_synced_seq(f->log), 7);
	assert_int_equal(count(&entered), 2);
	assert_int_equal(kvlog_sync_begin(f->log), 0); /* nothing left to sync */
}

static void test_failure_is_reported(void **state)
{
	struct fixture *f = *state;

	put(f, 1);
	pthread_mutex_lock(&gate_lock);
	fail_errno = EIO;
	pthread_mutex_unlock(&gate_lock);
	assert_int_equal(kvlog_sync_begin(f->log), 1);
	assert_int_equal(end_when_readable(f), -EIO);
	assert_int_equal(kvlog_synced_seq(f->log), 0);
	assert_int_equal(kvlog_sync_end(f->log), -EIO); /* sticky */
}

static int entered_at_release;

/* Opens the gate after 200 ms, noting how many fdatasync calls had entered by then. */
static void *releaser(void *arg)
{
	usleep(200 * 1000);
	pthread_mutex_lock(&gate_lock);
	entered_at_release = entered;
	passes = -1;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	return arg;
}

/* Rotation closes the fd a sync may be running on: it must wait for that sync first. */
static void test_rotation_waits_for_sync(void **state)
{
	struct fixture *f = *state;
	pthread_t t;

	put(f, 1);
	gate(0);
	assert_int_equal(kvlog_sync_begin(f->log), 1);
	wait_entered(1);
	assert_int_equal(pthread_create(&t, NULL, releaser, NULL), 0);
	put(f, 40); /* past max_size: rotation waits for the held sync, then syncs itself */
	pthread_join(t, NULL);
	assert_int_equal(entered_at_release, 1); /* its own fdatasync came after the release */
	assert_int_equal(kvlog_synced_seq(f->log), 41);
	assert_int_equal(kvlog_sync_end(f->log), 0);
	put(f, 1);
	assert_int_equal(kvlog_sync_begin(f->log), 1);
	assert_int_equal(end_when_readable(f), 1);
	assert_int_equal(kvlog_synced_seq(f->log), 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_not_synced_before_fdatasync_returns, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_covers_only_what_was_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_waits_for_sync, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
