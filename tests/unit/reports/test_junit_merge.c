/* Unit tests of junit_merge (reports/junit_merge.h) and index.html (reports/index.h): the
 * sums, the suites copied in order, the refusals, and the page's rows, links and escaping.
 * The merged document of real drills is checked against the schema by
 * tests/integration/drills/parallel.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reports/index.h"
#include "reports/junit_merge.h"
#include "reports/report.h"

static const char doc_a[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<testsuites name=\"chaosdrill\" tests=\"3\" failures=\"1\" errors=\"0\" time=\"5.123\">\n"
	"  <testsuite name=\"a\" tests=\"3\" failures=\"1\" errors=\"0\" time=\"5.123\">\n"
	"    <testcase name=\"x &gt; y\" classname=\"a.expect\"/>\n"
	"  </testsuite>\n"
	"</testsuites>\n";
/* a lone <testsuite> root, a comment, a value with '>' */
static const char doc_b[] = "<!-- shard 2 -->\n<testsuite name='b>c' tests='2' failures='0' "
			    "errors='1' time='1,000.5'><testcase name=\"t\"/></testsuite>\n";
static const char doc_empty[] = "<?xml version=\"1.0\"?><testsuites tests=\"0\" failures=\"0\" "
				"errors=\"0\"/>";

static int merge(const char *const *docs, size_t n, struct strbuf *out, char *err)
{
	size_t lens[8];

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(docs[i]);
	return junit_merge(docs, lens, n, out, err, 256);
}

static void test_merge_sums(void **state)
{
	const char *docs[] = { doc_a, doc_b, doc_empty };
	struct strbuf out = STRBUF_INIT;
	char err[256];
	const char *a, *b;

	(void)state;
	assert_int_equal(merge(docs, 3, &out, err), 0);
	assert_non_null(strstr(out.buf, "<testsuites name=\"chaosdrill\" tests=\"5\" failures=\"1\" "
					"errors=\"1\" time=\"1005.623\">"));
	a = strstr(out.buf, "<testsuite name=\"a\"");
	b = strstr(out.buf, "<testsuite name='b>c'");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b); /* in the order given */
	assert_non_null(strstr(out.buf, "<testcase name=\"x &gt; y\" classname=\"a.expect\"/>"));
	assert_non_null(strstr(out.buf, "</testsuite>\n</testsuites>\n"));
	/* one root only */
	assert_null(strstr(strstr(out.buf, "<testsuites") + 1, "<testsuites"));
	strbuf_release(&out);
}

static void test_merge_none(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char err[256];

	(void)state;
	assert_int_equal(junit_merge(NULL, NULL, 0, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.buf, "tests=\"0\" failures=\"0\" errors=\"0\" time=\"0.000\">\n"
					"</testsuites>\n"));
	strbuf_release(&out);
}

static void test_merge_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"<html></html>",
		"<testsuites tests=\"1\" failures=\"0\">",			 /* no errors= */
		"<testsuites tests=\"1\" failures=\"0\" errors=\"0\">",	 /* not closed */
		"<testsuites tests=\"x\" failures=\"0\" errors=\"0\"/>",	 /* not a count */
		"<testsuites tests=\"1\" failures=\"0\" errors=\"0\" time=\"1s\"/>",
		"<testsuites tests=\"1\" failures=\"0\" errors=\"0\"/><more/>", /* after the root */
		"<testsuites tests=1 failures=\"0\" errors=\"0\"/>",		 /* no quotes */
		"<!-- never closed",
		"<testsuitesx tests=\"1\" failures=\"0\" errors=\"0\"/>",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *docs[] = { doc_a, bad[i] };
		struct strbuf out = STRBUF_INIT;

		assert_int_equal(merge(docs, 2, &out, err), -EINVAL);
		assert_non_null(strstr(err, "document 1 is not JUnit XML: "));
		strbuf_release(&out);
	}
}

/* What junit_write makes merges back to the same sums. */
static void test_merge_own_output(void **state)
{
	struct report_case c[2] = {
		{ .kind = REPORT_CASE_EXPECT, .id = "expect.rto", .name = "rto", .status = REPORT_FAIL,
		  .message = "RTO 3s > 2s" },
		{ .kind = REPORT_CASE_STEP, .id = "step.1", .name = "restart n1" },
	};
	struct report_suite s[2] = { { .name = "one", .duration_ns = 1500000000, .cases = c,
				       .n_cases = 2 },
				     { .name = "two", .duration_ns = 250000000, .error = "boom",
				       .exit_code = 3 } };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, out = STRBUF_INIT;
	const char *docs[2];
	char err[256];

	(void)state;
	assert_int_equal(junit_write(&s[0], 1, &a), 0);
	assert_int_equal(junit_write(&s[1], 1, &b), 0);
	docs[0] = a.buf;
	docs[1] = b.buf;
	assert_int_equal(merge(docs, 2, &out, err), 0);
	assert_non_null(strstr(out.buf, "tests=\"3\" failures=\"1\" errors=\"1\" time=\"1.750\">"));
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
}

static void test_index(void **state)
{
	struct report_index_row rows[] = {
		{ "kvlog-demo", 0, "55ms", 5123000000LL, "kvlog-demo-1/report.html", "/r/kvlog-demo-1",
		  NULL },
		{ "x<y>", 1, NULL, -1, "we ird/report.html", NULL, NULL },
		{ "lost", 3, NULL, -1, NULL, NULL, "not started & interrupted" },
	};
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_string_equal(report_index_verdict(0), "PASS");
	assert_string_equal(report_index_verdict(1), "FAIL");
	assert_string_equal(report_index_verdict(3), "ERROR");
	assert_string_equal(report_index_verdict(-9), "ERROR");
	assert_int_equal(report_index_write("run -j <2>", rows, 3, &out), 0);
	assert_non_null(strstr(out.buf, "<title>run -j &lt;2&gt;</title>"));
	assert_non_null(strstr(out.buf, "3 drills: 1 passed, 1 failed, 1 could not run"));
	assert_non_null(strstr(out.buf, "<a href=\"kvlog-demo-1/report.html\">kvlog-demo</a>"));
	assert_non_null(strstr(out.buf, "<td class=\"v\">PASS</td><td>0</td><td>55ms</td><td>5.123s"));
	assert_non_null(strstr(out.buf, "<a href=\"we%20ird/report.html\">x&lt;y&gt;</a>"));
	assert_non_null(strstr(out.buf, "<tr class=\"error\"><td>lost</td><td class=\"v\">ERROR"));
	assert_non_null(strstr(out.buf, "not started &amp; interrupted"));
	assert_null(strstr(out.buf, "<script"));
	assert_null(strstr(out.buf, "http"));
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_sums),	 cmocka_unit_test(test_merge_none),
		cmocka_unit_test(test_merge_refuses),	 cmocka_unit_test(test_merge_own_output),
		cmocka_unit_test(test_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
