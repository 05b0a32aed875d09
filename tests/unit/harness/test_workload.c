/* Unit test of the workload engine (harness/run/workload.h) on the event loop, against a
 * fake driver (fake_driver.h) and a forked fake target on loopback: what the target says
 * becomes the ledger's outcome, whatever the order of its replies, and a connection that
 * dies leaves what it had in flight unknown. Skips (77) where io_uring is not available. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/workload.h"
#include "tests/unit/harness/fake_driver.h"

/* The fake target's answers on its first connection, by tag; none for 4 until 5 comes,
 * none for 7 and 8: after reading 8 it hangs up. */
static const char *const first_answers[] = {
	[1] = "1 ok\n",	      [2] = "2 fail not the primary\n", [3] = "3 unknown cannot tell\n",
	[5] = "5 ok\n4 ok\n", /* out of order */
	[6] = "= ok\n",	      /* in order: 6 is the oldest in flight */
};

/* Serves one connection, answering each request line; returns when the engine hangs up
 * or (first) the target does. */
static void serve_conn(int fd, bool first)
{
	char in[65536], out[64];
	size_t have = 0;

	for (;;) {
		ssize_t n = read(fd, in + have, sizeof(in) - have);
		char *line = in, *nl;

		if (n <= 0)
			return;
		have += (size_t)n;
		while ((nl = memchr(line, '\n', have - (size_t)(line - in)))) {
			unsigned long tag = strtoul(line, NULL, 10);
			const char *a = out;

			snprintf(out, sizeof(out), "%lu ok\n", tag);
			if (first && tag == 8)
				return;
			if (first)
				a = tag < ARRAY_SIZE(first_answers) ? first_answers[tag] : NULL;
			if (a && write(fd, a, strlen(a)) < 0)
				return;
			line = nl + 1;
		}
		have -= (size_t)(line - in);
		memmove(in, line, have);
	}
}

static pid_t serve(int lfd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0;; i++) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				_exit(1);
			serve_conn(fd, i == 0);
			close(fd);
		}
	}
	return pid;
}

static int listener(uint16_t *port)
{
	int fd = fake_target_listen(port);

	assert_true(fd >= 0);
	return fd;
}

static void run_until(struct loop *l, struct workload *w, struct ledger *led, size_t ops)
{
	int64_t deadline = time_mono_ns() + 10 * NSEC_PER_SEC;

	while ((ops ? led->n < ops : workload_pending(w) > 0) && time_mono_ns() < deadline)
		assert_true(loop_step(l, 10 * NSEC_PER_MSEC) >= 0);
}

static void test_outcomes(void **state)
{
	static const enum ledger_outcome want[] = {
		LEDGER_OK, LEDGER_FAILED, LEDGER_UNKNOWN, LEDGER_OK,
		LEDGER_OK, LEDGER_OK,	  LEDGER_UNKNOWN, LEDGER_UNKNOWN,
	};
	struct workload_config cfg = { .rate = 200,
				       .clients = 1,
				       .timeout_ns = 5 * NSEC_PER_SEC,
				       .driver = &fake_driver,
				       .t0_ns = time_mono_ns() };
	struct ledger *led = ledger_new(1, 40);
	struct workload *w;
	struct loop *l;
	uint16_t port;
	int lfd = listener(&port);
	pid_t pid = serve(lfd);
	bool ok_later = false;

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workload_new(l, &cfg, led, &w), 0);
	assert_int_equal(workload_start(w, "127.0.0.1", port), 0);
	run_until(l, w, led, 30);
	workload_stop(w);
	run_until(l, w, led, 0);
	assert_int_equal(workload_pending(w), 0);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(led->ops[i].outcome, want[i]);
	/* after the hang-up, a new connection: what it sent is acknowledged (a request that
	 * went out on the old one just before it closed may be unknown) */
	for (size_t i = 8; i < led->n; i++) {
		assert_true(led->ops[i].outcome == LEDGER_OK ||
			    led->ops[i].outcome == LEDGER_UNKNOWN);
		ok_later |= led->ops[i].outcome == LEDGER_OK;
	}
	assert_true(ok_later);
	assert_int_equal(workload_stats(w).connects, 2);
	assert_int_equal(workload_stats(w).failed, 1);
	workload_free(w);
	loop_free(l);
	ledger_free(led);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
	};
	struct loop *probe;
	int r = loop_new(&probe);

	if (r < 0) {
		fprintf(stderr, "skip: io_uring is not available here (%s)\n", strerror(-r));
		return 77;
	}
	loop_free(probe);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
