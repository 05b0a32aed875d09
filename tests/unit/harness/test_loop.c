/* Unit tests of the io_uring event loop: timers in order and not early, polls, cancel.
 * Skips (77) where io_uring is not available to this process. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "harness/run/loop.h"

struct rec {
	int order[8];
	int64_t when[8];
	int n;
};

struct hit {
	struct rec *rec;
	int tag;
};

static void on_fire(struct loop *l, void *ud, int res)
{
	struct hit *h = ud;

	h->rec->order[h->rec->n] = h->tag;
	h->rec->when[h->rec->n++] = time_mono_ns();
	assert_true(res >= 0);
}

static void test_timers(void **state)
{
	struct loop *l;
	struct rec rec = { 0 };
	struct hit a = { &rec, 1 }, b = { &rec, 2 }, c = { &rec, 3 };
	struct loop_op *cop;
	int64_t t0 = time_mono_ns();

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_at(l, t0 + 30000000, on_fire, &b, NULL), 0);
	assert_int_equal(loop_timer_at(l, t0 + 10000000, on_fire, &a, NULL), 0);
	assert_int_equal(loop_timer_at(l, t0 + 20000000, on_fire, &c, &cop), 0);
	loop_cancel(l, cop);
	while (rec.n < 2)
		assert_true(loop_step(l, 1000000000) >= 0);
	assert_int_equal(rec.order[0], 1);
	assert_int_equal(rec.order[1], 2);
	assert_true(rec.when[0] >= t0 + 10000000); /* never early */
	assert_true(rec.when[1] >= t0 + 30000000);
	/* the cancelled timer never calls back, and the loop drains */
	for (int i = 0; i < 5 && loop_pending(l); i++)
		loop_step(l, 50000000);
	assert_int_equal(loop_pending(l), 0);
	assert_int_equal(rec.n, 2);
	loop_free(l);
}

static void test_poll(void **state)
{
	struct loop *l;
	struct rec rec = { 0 };
	struct hit h = { &rec, 7 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_poll(l, p[0], POLLIN, on_fire, &h, NULL), 0);
	assert_int_equal(loop_step(l, 20000000), 0); /* nothing yet */
	assert_int_equal(write(p[1], "x", 1), 1);
	while (rec.n < 1)
		assert_true(loop_step(l, 1000000000) >= 0);
	assert_int_equal(rec.order[0], 7);
	/* a poll still pending at loop_free is dropped without a callback */
	assert_int_equal(loop_poll(l, p[1], 0, on_fire, &h, NULL), 0);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_poll),
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
