/* Unit tests of the pure parts of `run -j` and `--shard`: the shard a drill falls in, and
 * the message a child hands its parent (harness/cli/shard.h, run_jobs.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/cli/run_jobs.h"
#include "harness/cli/shard.h"

static void test_shard_parse(void **state)
{
	static const char *const bad[] = { "0/3", "4/3",  "1/0",  "1",	     "/3", "1/",
					   "a/3", "1/3x", "-1/3", "1/10001", "",   "1//3" };
	struct shard s;

	(void)state;
	assert_int_equal(shard_parse("2/3", &s), 0);
	assert_int_equal(s.index, 2);
	assert_int_equal(s.count, 3);
	assert_int_equal(shard_parse("1/1", &s), 0);
	assert_int_equal(shard_parse("10000/10000", &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(shard_parse(bad[i], &s), -EINVAL);
	assert_int_equal(shard_parse(NULL, &s), -EINVAL);
}

/* Every drill in exactly one shard; sizes differ by one at most; by sorted name. */
static void test_shard_select(void **state)
{
	const char *names[] = { "kvlog-torn-tail", "demo", "kvlog-bitrot", "a", "zz",
				"kvlog-demo",	   "m" };
	const size_t n = sizeof(names) / sizeof(names[0]);
	unsigned in[sizeof(names) / sizeof(names[0])] = { 0 };
	bool keep[sizeof(names) / sizeof(names[0])];

	(void)state;
	for (unsigned count = 1; count <= 9; count++) {
		int lo = 1000, hi = -1;

		memset(in, 0, sizeof(in));
		for (unsigned idx = 1; idx <= count; idx++) {
			struct shard s = { idx, count };
			int kept = shard_select(names, n, &s, keep), c = 0;

			for (size_t i = 0; i < n; i++) {
				in[i] += keep[i];
				c += keep[i];
			}
			assert_int_equal(kept, c);
			lo = kept < lo ? kept : lo;
			hi = kept > hi ? kept : hi;
		}
		for (size_t i = 0; i < n; i++)
			assert_int_equal(in[i], 1);
		assert_true(hi - lo <= 1);
	}
	/* 1/3 of sorted a, demo, kvlog-bitrot, kvlog-demo, kvlog-torn-tail, m, zz: the 0th,
	 * 3rd and 6th */
	struct shard s = { 1, 3 };
	assert_int_equal(shard_select(names, n, &s, keep), 3);
	assert_true(keep[3] && keep[5] && keep[4]); /* a, kvlog-demo, zz */
	assert_false(keep[0] || keep[1] || keep[2] || keep[6]);
}

/* The same set in another order: the same shard for each name. */
static void test_shard_order_free(void **state)
{
	const char *a[] = { "x1", "x2", "x3", "x4", "x5" }, *b[] = { "x4", "x2", "x5", "x1", "x3" };
	bool ka[5], kb[5];
	struct shard s = { 2, 2 };

	(void)state;
	shard_select(a, 5, &s, ka);
	shard_select(b, 5, &s, kb);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++)
			if (strcmp(a[i], b[j]) == 0)
				assert_int_equal(ka[i], kb[j]);
	assert_int_equal(shard_select(a, 0, &s, ka), 0);
}

static void test_message_round_trip(void **state)
{
	char n1[] = "kvlog-demo#1", d1[] = "/r/kvlog-demo-x", r1[] = "55ms", n2[] = "kvlog-demo#2",
	     e2[] = "tab\there\nand a line";
	struct run_jobs_suite in[2] = {
		{ 1, 5123000000LL, n1, d1, r1, NULL },
		{ 3, -1, n2, NULL, NULL, e2 },
	}, *out = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0, at = 0;

	(void)state;
	run_jobs_encode_suite(&sb, &in[0]);
	run_jobs_encode_suite(&sb, &in[1]);
	strbuf_append(&sb, "J\n<?xml version=\"1.0\"?>\n<testsuites/>\n");
	assert_int_equal(run_jobs_decode(sb.buf, sb.len, &out, &n, &at), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].exit_code, 1);
	assert_true(out[0].duration_ns == 5123000000LL);
	assert_string_equal(out[0].name, "kvlog-demo#1");
	assert_string_equal(out[0].run_dir, "/r/kvlog-demo-x");
	assert_string_equal(out[0].rto, "55ms");
	assert_null(out[0].error);
	assert_int_equal(out[1].exit_code, 3);
	assert_true(out[1].duration_ns == -1);
	assert_null(out[1].run_dir);
	assert_null(out[1].rto);
	assert_string_equal(out[1].error, "tab here and a line");
	assert_string_equal(sb.buf + at, "<?xml version=\"1.0\"?>\n<testsuites/>\n");
	run_jobs_suites_free(out, n);
	strbuf_release(&sb);
}

static void test_message_bad(void **state)
{
	static const char *const bad[] = {
		"",			    /* nothing: the child died */
		"S\t0\t5\tname\t\t\t\n",    /* no J line */
		"S\tx\t5\tname\t\t\t\nJ\n", /* exit code not a number */
		"S\t0\t5\t\t\t\t\nJ\n",	    /* no name */
		"Q\t0\t5\tname\t\t\t\nJ\n", /* not a suite line */
		"S\t0\t5\tname",	    /* cut short */
	};
	struct run_jobs_suite *out;
	size_t n, at;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run_jobs_decode(bad[i], strlen(bad[i]), &out, &n, &at), -EINVAL);
		assert_null(out);
	}
	/* J alone: a child with no suite (decoded; the caller treats it as lost) */
	assert_int_equal(run_jobs_decode("J\n", 2, &out, &n, &at), 0);
	assert_int_equal(n, 0);
	assert_int_equal(at, 2);
	run_jobs_suites_free(out, n);
}

static void test_rto(void **state)
{
	struct report_property one[] = { { "rto_ms", "55", REPORT_NUMBER },
					 { "rpo_lost_writes", "0", REPORT_NUMBER } };
	struct report_property two[] = { { "kvlog.rto_ms", "24", REPORT_NUMBER },
					 { "sqlite.rto_ms", "27", REPORT_NUMBER },
					 { "xrto_ms", "1", REPORT_NUMBER } };
	struct report_suite s = { .props = one, .n_props = 2 };
	char *r;

	(void)state;
	r = run_jobs_rto(&s);
	assert_string_equal(r, "55ms");
	free(r);
	s.props = two;
	s.n_props = 3;
	r = run_jobs_rto(&s);
	assert_string_equal(r, "kvlog 24ms, sqlite 27ms");
	free(r);
	s.n_props = 0;
	assert_null(run_jobs_rto(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_parse),	 cmocka_unit_test(test_shard_select),
		cmocka_unit_test(test_shard_order_free), cmocka_unit_test(test_message_round_trip),
		cmocka_unit_test(test_message_bad),	 cmocka_unit_test(test_rto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
