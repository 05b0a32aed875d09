/* Unit tests of the ledger codec and the verifier: RTO, RPO and integrity on synthetic
 * histories whose true answers are known. */
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
	assert_memory_equal(v, "123456:3111c72a:HpgIkwg3xHLwP5lHfSXNROlNYTqT1plAxrofS8EU6psKJxDw", 64);
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

static void run(const struct ledger *l, const struct final_read *fr, const struct verify_fault *f,
		size_t nf, const int64_t *probes, size_t np, struct verify_result *res)
{
	struct verify_input in = { l, f, nf, probes, np, 3 };

	assert_int_equal(verify_run(&in, fr, res), 0);
}

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
	assert_int_equal(res.rto_ns, 700 * MS); /* first op of the 3-run starts at 2.700 */
	assert_int_equal(res.rto[0].detect_ns, 500 * MS); /* the op at 2.000 failed at 2.500 */
	assert_int_equal(res.rto[0].first_ok_ns, 700 * MS);
	assert_int_equal(res.rto[0].failed, 70);
	assert_int_equal(res.lost, 0);
	assert_true(res.integrity_ok);
	verify_result_release(&res);

	/* the readiness probe passing later moves the end of the outage */
	{
		int64_t probes[] = { 100 * MS, 2850 * MS };

		run(l, &fr, &f, 1, probes, 2, &res);
		assert_int_equal(res.rto_ns, 850 * MS);
		verify_result_release(&res);
	}
	final_read_release(&fr);
	ledger_free(l);
}

static void test_rto_flapping_and_never(void **state)
{
	struct ledger *l = history(2000 * MS, 2700 * MS, LEDGER_UNKNOWN);
	struct verify_fault f = { 2000 * MS, 2400 * MS };
	struct final_read fr;
	struct verify_result res;

	/* two lone successes inside the outage do not end it: 3 in a row are needed */
	l->ops[230].outcome = LEDGER_OK;
	l->ops[231].outcome = LEDGER_OK;
	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_int_equal(res.rto_ns, 700 * MS);
	assert_int_equal(res.rto[0].first_ok_ns, 300 * MS);
	assert_int_equal(res.rto[0].since_heal_ns, 300 * MS);
	assert_int_equal(res.unknown, 68);
	verify_result_release(&res);
	final_read_release(&fr);
	ledger_free(l);

	l = history(2000 * MS, 9000 * MS, LEDGER_FAILED);
	read_all_but(&fr, l, NULL, 0);
	run(l, &fr, &f, 1, NULL, 0, &res);
	assert_true(res.rto[0].outage);
	assert_false(res.recovered);
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
	assert_int_equal(res.rto[0].rto_ns, 400 * MS);
	assert_false(res.rto[1].outage);
	assert_int_equal(res.rto_ns, 400 * MS);
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
	assert_int_equal(res.rto[0].rto_ns, 400 * MS);
	assert_true(res.recovered);
	assert_int_equal(res.rto_ns, 400 * MS);
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
	assert_int_equal(timeline_add(tl, 5, TL_FAULT_INJECTED, 0, "n1", 0, "SIGKILL \"%s\"", "x"), 0);
	assert_int_equal(timeline_add(tl, 9, TL_STEP_ENDED, 1, NULL, 0, NULL), 0);
	assert_non_null(timeline_find(tl, TL_STEP_ENDED, 1));
	assert_null(timeline_find(tl, TL_STEP_ENDED, 2));
	assert_int_equal(timeline_write_jsonl(tl, path), 0);
	{
		FILE *f = fopen(path, "r");
		char line[256];

		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		assert_string_equal(line, "{\"t_ns\":5,\"event\":\"fault_injected\",\"index\":0,\"node\":\"n1\",\"status\":0,\"detail\":\"SIGKILL \\\"x\\\"\"}\n");
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
		cmocka_unit_test(test_rto_flapping_and_never),
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
