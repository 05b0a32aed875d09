/* Unit tests of the ledger codec and the verifier: RTO (shared/DESIGN.md §6), RPO and
 * integrity on synthetic histories whose true answers are known. The RTO tests marked
 * "old rule" give another answer under the definition before issue #13 (outage only from a
 * failed write, ending at the start of the first successful run). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/units.h"
#include "harness/record/ledger.h"
#include "harness/record/timeline.h"
#include "harness/record/verify.h"

#define MS NSEC_PER_MSEC

static void test_codec(void **state)
{
	char key[LEDGER_KEY_MAX], v1[64], v2[64];
	uint64_t id;

	ledger_key(1234, key);
	assert_string_equal(key, "w1234");
	assert_int_equal(ledger_key_id(key, strlen(key)), 1234);
	assert_int_equal(ledger_key_id("x12", 3), 0);
	assert_int_equal(ledger_key_id("w", 1), 0);
	assert_int_equal(ledger_key_id("w012", 4), 0);
	assert_int_equal(ledger_key_id("w99999999999999999999999", 24), 0);

	ledger_value(42, 1234, sizeof(v1), v1);
	ledger_value(42, 1234, sizeof(v2), v2);
	assert_memory_equal(v1, v2, sizeof(v1)); /* deterministic */
	assert_int_equal(ledger_value_check(v1, sizeof(v1), &id), 0);
	assert_int_equal(id, 1234);
	v2[40] ^= 1; /* one flipped bit in the payload */
	assert_int_equal(ledger_value_check(v2, sizeof(v2), &id), -EBADMSG);
	ledger_value(43, 1234, sizeof(v2), v2); /* another seed: another payload */
	assert_memory_not_equal(v1, v2, sizeof(v1));
	assert_int_equal(ledger_value_check(v1, 10, &id), -EBADMSG);
	assert_int_equal(ledger_value_check("garbage:garbage", 15, &id), -EBADMSG);
	/* the longest id still fits the smallest value */
	ledger_value(1, UINT64_MAX, LEDGER_VALUE_MIN, v1);
	assert_int_equal(ledger_value_check(v1, LEDGER_VALUE_MIN, &id), 0);
	assert_true(id == UINT64_MAX);
}

/* Replay is a promise: a seed writes the same values in every release (a rerun's final read
 * is checked against them). Pinned as they were written when pinned. */
static void test_values_pinned(void **state)
{
	char v[64];

	ledger_value(11, 1, 48, v);
	assert_memory_equal(v, "1:b6248234:3oFzzJycRxyb5q2KAZGSNRy3OuUanqzyOu7gH", 48);
	ledger_value(500, 123456, 64, v);
	assert_memory_equal(v, "123456:3111c72a:HpgIkwg3xHLwP5lHfSXNROlNYTqT1plAxrofS8EU6psKJxDw",
			    64);
}

/* One op every 10 ms from 0 to 5 s, 10 ms long; outcome by start time. */
static struct ledger *history(int64_t fail_from, int64_t fail_to, enum ledger_outcome how)
{
	struct ledger *l = ledger_new(7, 64);

	for (int64_t t = 0; t < 5000 * MS; t += 10 * MS) {
		uint64_t id = ledger_begin(l, t, (uint32_t)(t / MS) % 4);
		bool down = t >= fail_from && t < fail_to;

		ledger_end(l, id, t + (down ? 500 * MS : 10 * MS), down ? how : LEDGER_OK);
	}
	return l;
}

/* Final read holding every write except those whose id is in skip. */
static void read_all_but(struct final_read *fr, const struct ledger *l, const uint64_t *skip,
			 size_t n_skip)
{
	char key[LEDGER_KEY_MAX], val[64];

	assert_int_equal(final_read_init(fr, l), 0);
	for (uint64_t id = 1; id <= l->n; id++) {
		bool skipped = false;

		for (size_t i = 0; i < n_skip; i++)
			skipped |= skip[i] == id;
		if (skipped || l->ops[id - 1].outcome == LEDGER_FAILED)
			continue;
		ledger_key(id, key);
		ledger_value(l->seed, id, l->value_size, val);
		final_read_kv(fr, key, strlen(key), val, sizeof(val));
	}
}

static void run_in(struct verify_input *in, const struct final_read *fr, struct verify_result *res)
{
	assert_int_equal(verify_run(in, fr, res), 0);
}

static void run(const struct ledger *l, const struct final_read *fr, const struct verify_fault *f,
		size_t nf, const int64_t *probes, size_t np, struct verify_result *res)
{
	struct verify_input in = { .ledger = l,
				   .faults = f,
				   .n_faults = nf,
				   .probe_ok_ns = probes,
				   .n_probe_ok = np,
				   .rto_ops = 3 };

	run_in(&in, fr, res);
}

/* One op every 10 ms from 0 to 5 s, acknowledged 1 ms later, except those sent in
 * [from, to): the node stalls until `until`, so each waits and is acknowledged 1 ms after
 * it, or times out (unknown) if that is more than `timeout` after it was sent. */
static struct ledger *stall(int64_t from, int64_t to, int64_t until, int64_t timeout)
{
	struct ledger *l = ledger_new(7, 64);

	for (int64_t t = 0; t < 5000 * MS; t += 10 * MS) {
		uint64_t id = ledger_begin(l, t, (uint32_t)(t / MS) % 4);
		int64_t ack = t >= from && t < to ? until + MS : t + MS;

		if (ack - t > timeout)
			ledger_end(l, id, t + timeout, LEDGER_UNKNOWN);
		else
			ledger_end(l, id, ack, LEDGER_OK);
	}
	return l;
}

/* A node killed at 2.000 refuses every write sent until 2.700 (500 ms to fail, as history()
 * makes them): the outage ends with the acknowledgement of the write sent at 2.700, at
 * 2.710, not when it was sent. */
static void test_rto_outage(void **state)
{
	struct ledger *l = history(2000 * MS, 2700 * MS, LEDGER_FAILED);
	struct verify_fault f = { 2000 * MS, -1 };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_true(res.rto[0].outage);
	assert_true(res.recovered);
	assert_int_equal(res.rto_ns, 710 * MS); /* old rule: 700, the write's start */
	assert_int_equal(res.rto[0].end_sent_ns, 700 * MS);
	assert_int_equal(res.rto[0].end_latency_ns, 10 * MS);
	/* the op sent at 2.000 failed at 2.500, but had gone unanswered for 100 ms at 2.100 */
	assert_int_equal(res.rto[0].detect_ns, 100 * MS);
	assert_int_equal(res.rto[0].first_ok_ns, 710 * MS);
	assert_int_equal(res.rto[0].failed, 70);
	assert_int_equal(res.rto[0].late, 0);
	assert_false(res.rto[0].probe_gated);
	assert_int_equal(res.lost, 0);
	assert_true(res.integrity_ok);
	verify_result_release(&res);

	/* the readiness probe passing later moves the end of the outage: the first write sent
	 * after it (2.850) is acknowledged at 2.860; the first success is still 2.710's */
	{
		int64_t probes[] = { 100 * MS, 2850 * MS };

		run(l, &fr, &f, 1, probes, 2, &res);
		assert_int_equal(res.rto_ns, 860 * MS);
		assert_int_equal(res.rto[0].first_ok_ns, 710 * MS);
		assert_true(res.rto[0].probe_gated);
		verify_result_release(&res);
	}
	final_read_release(&fr);
	ledger_free(l);
}

/* A frozen node under a 5 s timeout: nothing fails, every write sent in the freeze waits and
 * is acknowledged at the thaw. The old rule saw no outage (RTO 0); the outage is the
 * freeze, ending at the first on-time acknowledgement after the thaw. */
static void test_rto_stall_no_failure(void **state)
{
	struct ledger *l = stall(2000 * MS, 2800 * MS, 2800 * MS, 5000 * MS);
	struct verify_fault f = { 2000 * MS, 2800 * MS };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_int_equal(res.slow_ns, VERIFY_SLOW_FLOOR_NS); /* 10 x 1 ms is under the floor */
	assert_int_equal(res.slow_source, VERIFY_SLOW_FLOOR);
	assert_true(res.rto[0].outage);
	assert_true(res.recovered);
	assert_int_equal(res.rto[0].failed + res.rto[0].unknown, 0);
	/* sent 2.000..2.700 waited 101..801 ms: late; 2.710.. waited under 100 ms: on time,
	 * but acknowledged only at the thaw */
	assert_int_equal(res.rto[0].late, 71);
	assert_int_equal(res.rto[0].late_wait_max_ns, 801 * MS);
	assert_int_equal(res.rto[0].late_wait_p50_ns, 451 * MS);
	assert_int_equal(res.rto_ns, 801 * MS);
	assert_int_equal(res.rto[0].end_sent_ns, 710 * MS);
	assert_int_equal(res.rto[0].end_latency_ns, 91 * MS);
	assert_int_equal(res.rto[0].since_heal_ns, 1 * MS);
	/* detection: the write sent at the fault was 100 ms overdue at 2.100 */
	assert_int_equal(res.rto[0].detect_ns, 100 * MS);
	assert_int_equal(res.rto[0].first_ok_ns, 801 * MS);
	assert_int_equal(res.lost, 0);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* The freeze fixture with a 500 ms timeout (issue #13): the first 300 ms of the freeze's
 * writes time out, the rest wait and succeed at the thaw. The old rule ended the outage at
 * the start of the first of them, 2.300: RTO 300 ms for an 800 ms freeze. */
static void test_rto_stall_with_timeouts(void **state)
{
	struct ledger *l = stall(1990 * MS, 2800 * MS, 2800 * MS, 500 * MS);
	struct verify_fault f = { 2000 * MS, 2800 * MS };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_true(res.rto[0].outage);
	assert_int_equal(res.rto[0].unknown, 32); /* sent 1.990 .. 2.300 */
	/* detection: 1.990's write was 100 ms overdue at 2.090, long before its timeout */
	assert_int_equal(res.rto[0].detect_ns, 90 * MS);
	assert_int_equal(res.rto[0].late, 40); /* 2.310 .. 2.700 */
	assert_int_equal(res.rto_ns, 801 * MS);
	assert_true(res.rto_ns >= 800 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* A stall shorter than the latency bound is no outage: RTO 0, no casualty. The same stall
 * is one under a drill's own tighter bound, which also decides where it ends. */
static void test_rto_short_stall_and_drill_bound(void **state)
{
	struct ledger *l = stall(2000 * MS, 2060 * MS, 2060 * MS, 5000 * MS);
	struct verify_fault f = { 2000 * MS, 2060 * MS };
	struct verify_input in = { .ledger = l, .faults = &f, .n_faults = 1, .rto_ops = 3 };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run_in(&in, &fr, &res);
	assert_false(res.rto[0].outage); /* 61 ms at most: within 100 ms */
	assert_true(res.recovered);
	assert_int_equal(res.rto_ns, 0);
	assert_int_equal(res.rto[0].late, 0);
	verify_result_release(&res);

	in.slow_ns = 25 * MS;
	run_in(&in, &fr, &res);
	assert_int_equal(res.slow_source, VERIFY_SLOW_SET);
	assert_int_equal(res.slow_ns, 25 * MS);
	assert_true(res.rto[0].outage);
	/* 2.000..2.030 waited 61..31 ms, more than 25; 2.040 waited 21 ms: on time */
	assert_int_equal(res.rto[0].late, 4);
	assert_int_equal(res.rto_ns, 61 * MS);
	assert_int_equal(res.rto[0].end_sent_ns, 40 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* The bound from the steady state: 10 x p99 of the writes acknowledged before the first
 * fault; the floor when that is less, or when there were none. A write in flight at the
 * fault is not steady state. */
static void test_slow_derived(void **state)
{
	struct ledger *l = stall(0, 0, 0, 5000 * MS);
	struct verify_fault f = { 2000 * MS, -1 };
	struct verify_input in = { .ledger = l, .faults = &f, .n_faults = 1, .rto_ops = 3 };
	struct final_read fr;
	struct verify_result res;

	for (size_t i = 0; i < 200; i += 50) /* 4 of the 200 steady writes (2 %) take 30 ms */
		l->ops[i].end_ns = l->ops[i].start_ns + 30 * MS;
	l->ops[199].end_ns = 2500 * MS; /* sent 1.990, in flight at the fault */
	read_all_but(&fr, l, NULL, 0);
	run_in(&in, &fr, &res);
	assert_int_equal(res.steady_n, 199);
	assert_int_equal(res.steady_p50_ns, 1 * MS);
	assert_int_equal(res.steady_p99_ns, 30 * MS);
	assert_int_equal(res.slow_source, VERIFY_SLOW_STEADY);
	assert_int_equal(res.slow_ns, 300 * MS);
	/* the write in flight took 510 ms: a casualty of the fault under that bound */
	assert_true(res.rto[0].outage);
	assert_int_equal(res.rto[0].late, 1);
	assert_int_equal(res.rto[0].detect_ns, 290 * MS);
	verify_result_release(&res);

	f.at_ns = 0; /* no write before the first fault */
	run_in(&in, &fr, &res);
	assert_int_equal(res.steady_n, 0);
	assert_int_equal(res.slow_source, VERIFY_SLOW_NO_STEADY);
	assert_int_equal(res.slow_ns, VERIFY_SLOW_FLOOR_NS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* The steady state starts after the workload's warm-up: slow writes while a replica connects
 * do not widen the bound. With no write between the warm-up and the fault, every write
 * before the fault is the steady state. */
static void test_slow_after_warmup(void **state)
{
	struct ledger *l = stall(0, 0, 0, 5000 * MS);
	struct verify_fault f = { 2000 * MS, -1 };
	struct verify_input in = { .ledger = l, .faults = &f, .n_faults = 1, .rto_ops = 3 };
	struct final_read fr;
	struct verify_result res;

	for (size_t i = 0; i < 50; i++) /* the first 0.5 s: 250 ms each */
		l->ops[i].end_ns = l->ops[i].start_ns + 250 * MS;
	read_all_but(&fr, l, NULL, 0);
	run_in(&in, &fr, &res);
	assert_int_equal(res.steady_n, 200);
	assert_int_equal(res.slow_ns, 2500 * MS);
	verify_result_release(&res);

	in.steady_from_ns = 500 * MS;
	run_in(&in, &fr, &res);
	assert_int_equal(res.steady_n, 150);
	assert_int_equal(res.steady_p99_ns, 1 * MS);
	assert_int_equal(res.slow_source, VERIFY_SLOW_FLOOR);
	verify_result_release(&res);

	in.steady_from_ns = 2000 * MS;
	run_in(&in, &fr, &res);
	assert_int_equal(res.steady_n, 200);
	assert_int_equal(res.slow_ns, 2500 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* Flapping: two lone successes inside the outage do not end it (N = 3 in a row are
 * needed), nor do successes that come late; the first success is the first on time. */
static void test_rto_flapping_and_never(void **state)
{
	struct ledger *l = history(2000 * MS, 2700 * MS, LEDGER_UNKNOWN);
	struct verify_fault f = { 2000 * MS, 2400 * MS };
	struct final_read fr;
	struct verify_result res;

	l->ops[230].outcome = LEDGER_OK; /* 2.300 and 2.310, acknowledged on time */
	l->ops[231].outcome = LEDGER_OK;
	l->ops[231].end_ns = l->ops[231].start_ns + 10 * MS;
	l->ops[230].end_ns = l->ops[230].start_ns + 10 * MS;
	l->ops[271].end_ns = l->ops[271].start_ns + 150 * MS; /* 2.710: acknowledged late */
	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	/* 2.700 on time, 2.710 late: the run starts again at 2.720, acknowledged at 2.730 */
	assert_int_equal(res.rto_ns, 730 * MS);
	assert_int_equal(res.rto[0].first_ok_ns, 310 * MS);
	assert_int_equal(res.rto[0].since_heal_ns, 330 * MS);
	assert_int_equal(res.rto[0].unknown, 68);
	assert_int_equal(res.rto[0].late, 1);
	assert_int_equal(res.unknown, 68);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);

	l = history(2000 * MS, 9000 * MS, LEDGER_FAILED);
	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_true(res.rto[0].outage);
	assert_false(res.recovered);
	assert_int_equal(res.rto[0].first_ok_ns, -1);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* A fault whose effect comes later (a disk filling up): the outage begins with the first
 * casualty, and on-time writes before it do not end it. */
static void test_rto_delayed_effect(void **state)
{
	struct ledger *l = history(3000 * MS, 3500 * MS, LEDGER_FAILED);
	struct verify_fault f = { 2000 * MS, -1 };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_true(res.rto[0].outage);
	assert_int_equal(res.rto[0].detect_ns, 1100 * MS); /* 3.000's: 100 ms unanswered */
	assert_int_equal(res.rto_ns, 1510 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* What the figure may be off by: a client's write interval plus the steady-state p99, plus
 * the probe's interval when the end waited for the probe; too sparse when that is more than
 * a tenth of the target. */
static void test_error_bound(void **state)
{
	struct ledger *l = history(2000 * MS, 2700 * MS, LEDGER_FAILED);
	struct verify_fault f = { 2000 * MS, -1 };
	int64_t probes[] = { 2850 * MS };
	struct verify_input in = { .ledger = l,
				   .faults = &f,
				   .n_faults = 1,
				   .rto_ops = 3,
				   .write_interval_ns = 40 * MS,
				   .probe_lag_ns = 10 * MS };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run_in(&in, &fr, &res);
	assert_int_equal(res.steady_p99_ns, 10 * MS);
	assert_int_equal(res.rto[0].bound_ns, 50 * MS);
	assert_int_equal(res.bound_ns, 50 * MS);
	assert_false(res.bound_probe);
	assert_true(verify_too_sparse(&res, 400 * MS));
	assert_false(verify_too_sparse(&res, 500 * MS));
	verify_result_release(&res);

	in.probe_ok_ns = probes;
	in.n_probe_ok = 1;
	run_in(&in, &fr, &res);
	assert_true(res.rto[0].probe_gated);
	assert_int_equal(res.rto[0].bound_ns, 60 * MS);
	assert_int_equal(res.bound_ns, 60 * MS);
	assert_true(res.bound_probe);
	verify_result_release(&res);

	/* probes passed but this figure did not wait for one: the overall bound still counts
	 * the probe's lag, and says so (the report names each part of the bound) */
	f.at_ns = 4000 * MS;
	run_in(&in, &fr, &res);
	assert_false(res.rto[0].outage);
	assert_false(res.rto[0].probe_gated);
	assert_int_equal(res.bound_ns, 60 * MS);
	assert_true(res.bound_probe);
	verify_result_release(&res);

	/* no outage: the figure (0) is still only as good as the workload is dense */
	f.at_ns = 4000 * MS;
	in.probe_ok_ns = NULL;
	in.n_probe_ok = 0;
	run_in(&in, &fr, &res);
	assert_false(res.rto[0].outage);
	assert_int_equal(res.rto_ns, 0);
	assert_int_equal(res.bound_ns, 50 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

static void test_no_outage_and_two_faults(void **state)
{
	struct ledger *l = history(1000 * MS, 1300 * MS, LEDGER_FAILED);
	struct verify_fault none = { 4000 * MS, -1 };
	struct verify_fault two[] = { { 900 * MS, -1 }, { 3000 * MS, -1 } };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &none, 1, NULL, 0, &res);
	assert_false(res.rto[0].outage);
	assert_int_equal(res.rto_ns, 0);
	verify_result_release(&res);

	run(l, &fr, two, 2, NULL, 0, &res);
	assert_int_equal(res.n_rto, 2);
	assert_int_equal(res.rto[0].rto_ns, 410 * MS); /* 1.300's acknowledgement, at 1.310 */
	assert_false(res.rto[1].outage);
	assert_int_equal(res.rto_ns, 410 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* An operation in flight when the second fault hits, started just before it, is that
 * fault's casualty, not a sign that the first fault's outage never ended. */
static void test_in_flight_at_next_fault(void **state)
{
	struct ledger *l = history(0, 0, LEDGER_FAILED); /* the first fault causes no outage */
	struct verify_fault two[] = { { 1000 * MS, -1 }, { 3005 * MS, -1 } };
	struct final_read fr;
	struct verify_result res;

	/* op 301 starts at 3.000 and dies with the kill at 3.005 */
	l->ops[300].outcome = LEDGER_UNKNOWN;
	l->ops[300].end_ns = 3006 * MS;
	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, two, 2, NULL, 0, &res);
	assert_true(res.rto[0].recovered);
	assert_false(res.rto[0].outage);
	assert_int_equal(res.rto[0].unknown, 0);
	assert_true(res.rto[1].outage); /* it is the second fault's */
	assert_true(res.recovered);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

/* A node killed at 2.0 s, its disk damaged at 2.1 s while it is down, back at 2.4 s: one
 * outage, from the kill to the recovery, not an unrecovered kill. */
static void test_outage_across_faults(void **state)
{
	struct ledger *l = history(2000 * MS, 2400 * MS, LEDGER_FAILED);
	struct verify_fault two[] = { { 2000 * MS, -1 }, { 2100 * MS, -1 } };
	struct final_read fr;
	struct verify_result res;

	for (size_t i = 200; i < 240; i++) /* a killed node refuses at once */
		l->ops[i].end_ns = l->ops[i].start_ns + MS;
	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, two, 2, NULL, 0, &res);
	assert_true(res.rto[0].outage);
	assert_true(res.rto[0].recovered);
	assert_int_equal(res.rto[0].rto_ns, 410 * MS);
	assert_true(res.recovered);
	assert_int_equal(res.rto_ns, 410 * MS);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

static void test_rpo(void **state)
{
	struct ledger *l = history(2000 * MS, 2500 * MS, LEDGER_FAILED);
	struct verify_fault f = { 2000 * MS, -1 };
	/* ids 196 and 199 started at 1.950 and 1.980 and were acknowledged 10 ms later;
	 * 202 started at 2.010 and failed */
	uint64_t lost[] = { 196, 199, 202 };
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, lost, 3);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_int_equal(res.lost, 2); /* 202 was never acknowledged: not lost */
	assert_int_equal(res.n_lost_ids, 2);
	assert_int_equal(res.lost_ids[0], 196);
	assert_int_equal(res.lost_ids[1], 199);
	assert_int_equal(res.rpo_window_ns, 2000 * MS - 1960 * MS); /* oldest lost ack at 1.960 */
	assert_int_equal(res.acked + res.failed, res.ops);
	assert_true(res.integrity_ok);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

static void test_integrity(void **state)
{
	struct ledger *l = history(2000 * MS, 2100 * MS, LEDGER_FAILED);
	struct verify_fault f = { 2000 * MS, -1 };
	char key[LEDGER_KEY_MAX], val[64];
	struct final_read fr;
	struct verify_result res;

	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_true(res.integrity_ok);
	verify_result_release(&res);

	final_read_kv(&fr, "w999999", 7, "x", 1); /* a key nobody wrote */
	assert_int_equal(fr.phantoms, 1);
	assert_string_equal(fr.first_bad, "phantom key 'w999999'");
	ledger_key(5, key);
	ledger_value(l->seed, 5, 64, val);
	val[63] ^= 0x20; /* bit rot in a stored value */
	final_read_kv(&fr, key, strlen(key), val, sizeof(val));
	assert_int_equal(fr.corrupt, 1);
	ledger_value(l->seed, 6, 64, val); /* a value stored under the wrong key */
	final_read_kv(&fr, key, strlen(key), val, sizeof(val));
	assert_int_equal(fr.corrupt, 2);
	/* a write the target refused, present all the same */
	ledger_key(201, key);
	ledger_value(l->seed, 201, 64, val);
	assert_int_equal(l->ops[200].outcome, LEDGER_FAILED);
	final_read_kv(&fr, key, strlen(key), val, sizeof(val));
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_false(res.integrity_ok);
	assert_int_equal(res.failed_present, 1);
	assert_int_equal(res.failed_present_ids[0], 201);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);
}

static void test_ledger_first_answer_stands(void **state)
{
	struct ledger *l = ledger_new(1, 64);
	uint64_t id = ledger_begin(l, 5, 0);

	ledger_end(l, id, 10, LEDGER_UNKNOWN);
	ledger_end(l, id, 20, LEDGER_OK); /* a late reply after the timeout */
	assert_int_equal(l->ops[0].outcome, LEDGER_UNKNOWN);
	assert_int_equal(l->ops[0].end_ns, 10);
	ledger_end(l, 99, 20, LEDGER_OK); /* no such op: ignored */
	ledger_free(l);
}

static void test_timeline(void **state)
{
	struct timeline *tl = timeline_new();
	char path[] = "/tmp/cd-tl-XXXXXX", *data = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(timeline_add(tl, 5, TL_FAULT_INJECTED, 0, "n1", 0, "SIGKILL \"%s\"", "x"),
			 0);
	assert_int_equal(timeline_add(tl, 9, TL_STEP_ENDED, 1, NULL, 0, NULL), 0);
	assert_non_null(timeline_find(tl, TL_STEP_ENDED, 1));
	assert_null(timeline_find(tl, TL_STEP_ENDED, 2));
	assert_int_equal(timeline_write_jsonl(tl, path), 0);
	{
		FILE *f = fopen(path, "r");
		char line[256];

		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		assert_string_equal(
			line,
			"{\"t_ns\":5,\"event\":\"fault_injected\",\"index\":0,\"node\":\"n1\",\"status\":0,\"detail\":\"SIGKILL \\\"x\\\"\"}\n");
		fclose(f);
	}
	unlink(path);
	close(fd);
	free(data);
	timeline_free(tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_values_pinned),
		cmocka_unit_test(test_rto_outage),
		cmocka_unit_test(test_rto_stall_no_failure),
		cmocka_unit_test(test_rto_stall_with_timeouts),
		cmocka_unit_test(test_rto_short_stall_and_drill_bound),
		cmocka_unit_test(test_slow_derived),
		cmocka_unit_test(test_slow_after_warmup),
		cmocka_unit_test(test_rto_flapping_and_never),
		cmocka_unit_test(test_rto_delayed_effect),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_no_outage_and_two_faults),
		cmocka_unit_test(test_in_flight_at_next_fault),
		cmocka_unit_test(test_outage_across_faults),
		cmocka_unit_test(test_rpo),
		cmocka_unit_test(test_integrity),
		cmocka_unit_test(test_ledger_first_answer_stands),
		cmocka_unit_test(test_timeline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
