/* Golden-file tests of the JUnit and result.json writers, plus locale and error cases.
 * UPDATE_GOLDEN=1 rewrites golden/ from the current output (check the diff by eye). */
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strbuf.h"
#include "common/units.h"
#include "reports/report.h"
#include "tests/unit/reports/fixtures.h"

static bool updating(void)
{
	const char *u = getenv("UPDATE_GOLDEN");

	return u && strcmp(u, "1") == 0;
}

/* Compares sb with golden/FILE byte for byte; on a mismatch leaves the output next to the
 * test binary as FILE.actual and says where they first differ. */
static void check_golden(const char *file, const struct strbuf *sb)
{
	char path[4096], actual[4096];
	_cleanup_free_ char *want = NULL;
	size_t len = 0, i = 0;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, file);
	if (updating()) {
		assert_int_equal(fs_write_atomic(path, sb->buf, sb->len, 0644), 0);
		print_message("updated %s\n", path);
		return;
	}
	if (fs_read_all(path, 1 << 20, &want, &len) < 0)
		fail_msg("cannot read %s (UPDATE_GOLDEN=1 creates it)", path);
	if (len == sb->len && memcmp(want, sb->buf, len) == 0)
		return;
	while (i < len && i < sb->len && want[i] == sb->buf[i])
		i++;
	snprintf(actual, sizeof(actual), "%s/%s.actual", ACTUAL_DIR, file);
	fs_write_atomic(actual, sb->buf, sb->len, 0644);
	fail_msg("%s differs from the output at byte %zu: diff -u %s %s", file, i, path, actual);
}

#define MS 1000000LL

static const struct report_bucket html_buckets[] = {
	{ 1000 * MS, 50, 0, 0, 210, 900 },  { 1500 * MS, 50, 0, 0, 220, 950 },
	{ 2000 * MS, 3, 41, 6, 300, 4000 }, { 2500 * MS, 44, 0, 0, 260, 1800 },
	{ 3000 * MS, 50, 0, 0, 0, 0 },	    { 3500 * MS, 49, 1, 0, 230, 990 },
};
static const struct report_band html_bands[] = {
	{ REPORT_BAND_FAULT, 2000 * MS, 2000 * MS, "kill n1" },
	{ REPORT_BAND_STEP, 2001 * MS, 2400 * MS, "restart n1" },
	{ REPORT_BAND_STEP, 2002 * MS, 2050 * MS,
	  "wait <ready> & \"n1\"" }, /* label collides: tooltip only */
};
/* a few operations around the kill at 2.000s: acknowledged, failed, timed out, pending */
static const struct report_op html_ops[] = {
	{ 1000 * MS, 210000, REPORT_OP_OK },	 { 1990 * MS, 250000, REPORT_OP_OK },
	{ 2001 * MS, 3 * MS, REPORT_OP_FAILED }, { 2010 * MS, 500 * MS, REPORT_OP_UNKNOWN },
	{ 2020 * MS, -1, REPORT_OP_UNKNOWN },	 { 2390 * MS, 1800 * 1000, REPORT_OP_OK },
	{ 2400 * MS, 260000, REPORT_OP_OK },	 { 3900 * MS, 230000, REPORT_OP_OK },
};
static const struct report_bucket html_fine[] = {
	{ 1950 * MS, 10, 0, 0, 0, 0 }, { 2000 * MS, 1, 4, 1, 0, 0 }, { 2050 * MS, 0, 5, 0, 0, 0 },
	{ 2100 * MS, 0, 5, 0, 0, 0 },  { 2400 * MS, 9, 0, 0, 0, 0 },
};
static const struct report_closeup html_closeups[] = {
	{ .label = "kill n1",
	  .from_ns = 1950 * MS,
	  .to_ns = 2500 * MS,
	  .bucket_ns = 50 * MS,
	  .buckets = html_fine,
	  .n_buckets = ARRAY_SIZE(html_fine),
	  .fault_ns = 2000 * MS,
	  .heal_ns = 2300 * MS,
	  .outage_end_ns = 2392 * MS },
};
static const struct report_series html_series = {
	.ops = html_ops,
	.n_ops = ARRAY_SIZE(html_ops),
	.n_ops_total = 12,
	.ok_stride = 2,
	.window_stride = 1,
	.closeups = html_closeups,
	.n_closeups = 1,
	.origin_ns = 1000 * MS,
	.bucket_ns = 500 * MS,
	.buckets = html_buckets,
	.n_buckets = 6,
	.bands = html_bands,
	.n_bands = 3,
	.rto_from_ns = 2000 * MS,
	.rto_to_ns = 4400 * MS,
};

static void golden_html(const char *file, const struct report_suite *s,
			const struct report_series *series)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(report_html_write(s, series, series ? 1 : 0, &sb), 0);
	assert_null(strstr(sb.buf, "<script"));	 /* self-contained, inert */
	assert_null(strstr(sb.buf, "http://e")); /* fetches nothing (only the SVG namespace) */
	assert_true(!series || strstr(sb.buf, "<svg"));
	if (series && series->n_ops) { /* the point plot and the close-up */
		assert_non_null(strstr(sb.buf, "<svg class=\"latency-points\""));
		assert_non_null(strstr(sb.buf, "<svg class=\"closeup\""));
		assert_non_null(strstr(sb.buf, "Close-up of fault 1: kill n1"));
		assert_non_null(
			strstr(sb.buf, "<g class=\"op op-failed\" fill=\"#d64541\"><circle"));
		assert_non_null(strstr(sb.buf, ">RTO 392ms</text>"));
		assert_non_null(strstr(
			sb.buf,
			"8 of 12 operations are drawn: every one that was not acknowledged; of the acknowledged ones, every one in the close-ups"));
	}
	check_golden(file, &sb);
	strbuf_release(&sb);
}

/* A drill of several targets: each target's charts, named. */
static void test_html_targets(void **state)
{
	struct report_series two[2] = { html_series, html_series };
	struct strbuf sb = STRBUF_INIT;
	const char *a, *b;

	two[0].target = "kvlog";
	two[1].target = "sql<ite>";
	assert_int_equal(report_html_write(&fixture_rto_miss, two, 2, &sb), 0);
	a = strstr(sb.buf, "<h2>Writes and latency over time [kvlog]</h2>");
	b = strstr(sb.buf, "<h2>Writes and latency over time [sql&lt;ite&gt;]</h2>");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	assert_non_null(strstr(a, "<h2>Close-ups of the faults [kvlog]</h2>"));
	assert_non_null(strstr(b, "<h2>Latency of every operation [sql&lt;ite&gt;]</h2>"));
	assert_null(strstr(sb.buf, "more faults have no close-up"));
	strbuf_release(&sb);
	two[1].n_closeups_omitted = 7;
	assert_int_equal(report_html_write(&fixture_rto_miss, two, 2, &sb), 0);
	assert_non_null(
		strstr(sb.buf, "7 more faults have no close-up: a page shows the first 1."));
	assert_int_equal(report_html_write(&fixture_rto_miss, NULL, 1, &sb), -EINVAL);
	strbuf_release(&sb);
}

/* report.html: chart with bands and the RTO marker; and a page with no series. */
static void test_html(void **state)
{
	golden_html("report_rto_miss.html", &fixture_rto_miss, &html_series);
	golden_html("report_nasty.html", &fixture_nasty, NULL);
	golden_html("report_aborted.html", &fixture_aborted, NULL);
}

static void golden_junit(const char *file, const struct report_suite *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(junit_write(s, n, &sb), 0);
	check_golden(file, &sb);
	strbuf_release(&sb);
}

static void golden_json(const char *file, const struct report_suite *s)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(result_json_write(s, &sb), 0);
	check_golden(file, &sb);
	strbuf_release(&sb);
}

static void test_pass(void **state)
{
	golden_junit("junit_pass.xml", &fixture_pass, 1);
	golden_json("result_pass.json", &fixture_pass);
}

static void test_rto_miss(void **state)
{
	golden_junit("junit_rto_miss.xml", &fixture_rto_miss, 1);
	golden_json("result_rto_miss.json", &fixture_rto_miss);
}

static void test_rpo_miss(void **state)
{
	golden_junit("junit_rpo_miss.xml", &fixture_rpo_miss, 1);
	golden_json("result_rpo_miss.json", &fixture_rpo_miss);
}

static void test_aborted(void **state)
{
	golden_junit("junit_aborted.xml", &fixture_aborted, 1);
	golden_json("result_aborted.json", &fixture_aborted);
}

static void test_nasty(void **state)
{
	golden_junit("junit_nasty.xml", &fixture_nasty, 1);
	golden_json("result_nasty.json", &fixture_nasty);
}

static void test_empty(void **state)
{
	golden_junit("junit_empty.xml", &fixture_empty, 1);
	golden_json("result_empty.json", &fixture_empty);
	golden_junit("junit_no_suites.xml", NULL, 0);
}

static void test_repeat(void **state)
{
	golden_junit("junit_repeat.xml", fixture_repeat, 2);
}

/* Switches to a locale whose decimal separator is a comma; false if none is installed.
 * The test's CMakeLists.txt compiles de_DE.UTF-8 into the build tree (LOCPATH). */
static bool comma_locale(void)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
					     "fr_FR.utf8" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (setlocale(LC_ALL, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
			return true;
	return false;
}

/* Output under a comma-decimal locale is byte-identical to the golden files. */
static void test_locale(void **state)
{
	char probe[16];

	if (updating())
		skip(); /* golden files are written from the C locale only */
	if (!comma_locale()) {
		/* Still run under C.UTF-8 so the path is exercised; say the check was weaker. */
		print_message("note: no comma-decimal locale available; ran under C.UTF-8\n");
		assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	} else {
		snprintf(probe, sizeof(probe), "%.3f", 1.25);
		assert_string_equal(probe, "1,250"); /* the locale would break %f times */
	}
	test_pass(state);
	test_repeat(state);
	test_rto_miss(state);
	setlocale(LC_ALL, "C");
}

static void test_errors(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	sb.oom = true; /* an earlier allocation failed: sticky */
	assert_int_equal(junit_write(&fixture_pass, 1, &sb), -ENOMEM);
	assert_int_equal(result_json_write(&fixture_pass, &sb), -ENOMEM);
	strbuf_release(&sb);
	assert_int_equal(junit_write(NULL, 1, &sb), -EINVAL);
	assert_int_equal(junit_write(&fixture_pass, 1, NULL), -EINVAL);
	assert_int_equal(result_json_write(NULL, &sb), -EINVAL);
	assert_null(sb.buf);
}

/* result.json schema 2: figures are JSON numbers, flags booleans, text strings, a figure
 * not measured null; a value that is not what its type says stays a string. */
static void test_json_types(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(result_json_write(&fixture_pass, &sb), 0);
	assert_non_null(strstr(sb.buf, "\n  \"schema\": 2,\n"));
	assert_non_null(strstr(sb.buf, "\n  \"schema_version\": 2,\n"));
	assert_non_null(strstr(sb.buf, "\"rto_ms\": 1250,"));
	assert_non_null(strstr(sb.buf, "\"rto_error_bound_ms\": 1.6,"));
	assert_non_null(strstr(sb.buf, "\"recovered\": true,"));
	assert_non_null(strstr(sb.buf, "\"integrity\": true,"));
	assert_non_null(strstr(sb.buf, "\"latency_p50_ms_during\": null\n"));
	assert_non_null(strstr(sb.buf, "\"signal\": \"SIGKILL\""));
	assert_non_null(strstr(sb.buf, "\"exit_code\": 0,"));
	assert_non_null(strstr(sb.buf, "\"seed\": \"")); /* uint64: a string, documented */
	assert_null(strstr(sb.buf, "\"rto_ms\": \""));
	strbuf_release(&sb);
	assert_int_equal(result_json_write(&fixture_nasty, &sb), 0);
	assert_non_null(strstr(sb.buf, "\"not_a_number_ms\": \"1,5\""));
	assert_non_null(strstr(sb.buf, "\"leading_zero\": \"012\""));
	assert_non_null(strstr(sb.buf, "\"not_a_flag\": \"yes\""));
	assert_non_null(strstr(sb.buf, "\"flag_false\": false,"));
	assert_non_null(strstr(sb.buf, "\"not_measured_ms\": null"));
	assert_null(strstr(sb.buf, "\"no-value\"")); /* text without a value: left out */
	strbuf_release(&sb);
}

/* The stride keeps every unacknowledged operation and as many acknowledged ones as fit. */
static void test_ops_stride(void **state)
{
	assert_int_equal(report_ops_stride(100, 10, 6000), 1);
	assert_int_equal(report_ops_stride(0, 9000, 6000), 1);
	assert_int_equal(report_ops_stride(60000, 0, 6000), 10);
	assert_int_equal(report_ops_stride(60000, 1000, 6000), 12);
	/* more failures than fit: still a tenth of the room for acknowledged ones */
	assert_int_equal(report_ops_stride(60000, 9000, 6000), 100);
}

/* Writers append: what was in the buffer stays in front. */
static void test_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_append(&sb, "prefix|");
	assert_int_equal(result_json_write(&fixture_empty, &sb), 0);
	assert_memory_equal(sb.buf, "prefix|{\n  \"schema\": 2,", 23);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html),	   cmocka_unit_test(test_pass),
		cmocka_unit_test(test_rto_miss),   cmocka_unit_test(test_rpo_miss),
		cmocka_unit_test(test_aborted),	   cmocka_unit_test(test_nasty),
		cmocka_unit_test(test_empty),	   cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_locale),	   cmocka_unit_test(test_errors),
		cmocka_unit_test(test_appends),	   cmocka_unit_test(test_json_types),
		cmocka_unit_test(test_ops_stride), cmocka_unit_test(test_html_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
