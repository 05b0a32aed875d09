/* Unit tests of replay --check's comparison (harness/record/replay_compare.h): parsing
 * timeline lines, and classifying seeded events as identical or differing and timing
 * values as shown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/record/replay_compare.h"

#define SEEDED(i, d) \
	"{\"t_ns\":9,\"event\":\"seeded\",\"index\":" #i ",\"status\":0,\"detail\":\"" d "\"}\n"
#define DRILL(seed) \
	"{\"t_ns\":9,\"event\":\"seeded\",\"status\":0,\"detail\":\"what=drill seed=" seed "\"}\n"
#define STEADY(t) "{\"t_ns\":" #t ",\"event\":\"steady\",\"status\":0}\n"
#define RECOVERED(t) "{\"t_ns\":" #t ",\"event\":\"recovered\",\"status\":0}\n"
#define STOPPED(n)                                                                  \
	"{\"t_ns\":50,\"event\":\"workload_stopped\",\"status\":0,\"detail\":\"" #n \
	" operations\"}\n"
#define VERDICT(code, missed)                                                                 \
	"{\"t_ns\":99,\"event\":\"verdict\",\"status\":" #code ",\"detail\":\"missed=" missed \
	"\"}\n"

static int cmp(const char *o, const char *n, struct replay_cmp *c)
{
	return replay_compare(o, strlen(o), n, strlen(n), c, NULL);
}

static const struct replay_diff *diff(const struct replay_cmp *c, const char *what)
{
	for (size_t i = 0; i < c->n_diffs; i++)
		if (!strcmp(c->diffs[i].what, what))
			return &c->diffs[i];
	return NULL;
}

static void test_parse_event(void **state)
{
	struct replay_event e;
	const char *l = "{\"t_ns\":123,\"event\":\"fault_injected\",\"index\":2,\"node\":\"n1\","
			"\"status\":-5,\"detail\":\"a \\\"b\\\" \\u00e9\\n\"}";

	assert_int_equal(replay_parse_event(l, strlen(l), &e), 0);
	assert_int_equal(e.t_ns, 123);
	assert_string_equal(e.event, "fault_injected");
	assert_int_equal(e.index, 2);
	assert_string_equal(e.node, "n1");
	assert_int_equal(e.status, -5);
	assert_string_equal(e.detail, "a \"b\" \xc3\xa9\n");
	replay_event_release(&e);
	assert_int_equal(replay_parse_event("{\"t_ns\":1}", 10, &e), -EINVAL); /* no event */
	assert_int_equal(replay_parse_event("{\"event\":\"x\"", 12, &e), -EINVAL);
	assert_int_equal(replay_parse_event("[1]", 3, &e), -EINVAL);
	assert_int_equal(replay_parse_event("{\"event\":\"x\",\"detail\":\"y", 24, &e), -EINVAL);
}

static const char old_tl[] = STEADY(1000000000) DRILL(
	"500") SEEDED(0, "what=schedule kind=syscall node=n1 at_ms=500 injected_ms~500.056")
	SEEDED(0, "what=syscall rule=1 nth=500 kept=89 requested=101 pid~13956")
		SEEDED(1, "what=delay-draws packets~5 delays_us^41000,55000,47000,60000,52000")
			RECOVERED(2518344000) STOPPED(3011) VERDICT(1, "expect.rpo");

static void test_identical_with_timing(void **state)
{
	const char *n = STEADY(2000000000) DRILL("500")
		SEEDED(0, "what=schedule kind=syscall node=n1 at_ms=500 injected_ms~500.078")
			SEEDED(0, "what=syscall rule=1 nth=500 kept=89 requested=101 pid~14681")
				SEEDED(1, "what=delay-draws packets~3 delays_us^41000,55000,47000")
					RECOVERED(3514602000) STOPPED(2990)
						VERDICT(1, "expect.rpo");
	struct replay_cmp c;

	assert_int_equal(cmp(old_tl, n, &c), 0);
	assert_int_equal(c.seeded_same, 4);
	assert_int_equal(c.seeded_differ, 0);
	assert_int_equal(c.draws_compared, 3); /* the prefix both have */
	assert_false(c.verdict_differs);
	assert_int_equal(c.old_exit, 1);
	assert_string_equal(c.new_missed, "expect.rpo");
	assert_non_null(diff(&c, "fault 1 syscall pid"));
	assert_false(diff(&c, "fault 1 syscall pid")->same);
	assert_int_equal(diff(&c, "fault 1 syscall pid")->cls, REPLAY_TIMING);
	assert_string_equal(diff(&c, "fault 1 schedule injected_ms")->old_value, "500.056");
	assert_string_equal(diff(&c, "fault 1 schedule injected_ms")->new_value, "500.078");
	assert_string_equal(diff(&c, "drill recovered_ms")->old_value, "1518.344");
	assert_string_equal(diff(&c, "drill recovered_ms")->new_value, "1514.602");
	assert_true(diff(&c, "drill node_starts")->same);
	assert_string_equal(diff(&c, "drill operations")->old_value, "3011");
	assert_string_equal(diff(&c, "drill operations")->new_value, "2990");
	assert_int_equal(c.timing_differ, 5); /* injected_ms, pid, packets, recovered_ms, ops */
	replay_cmp_release(&c);
}

static void test_seeded_differs(void **state)
{
	const char *n = STEADY(1000000000) DRILL("501")
		SEEDED(0, "what=schedule kind=syscall node=n1 at_ms=500 injected_ms~500.056")
			SEEDED(0, "what=syscall rule=1 nth=500 kept=17 requested=101 pid~13956")
				SEEDED(1, "what=delay-draws packets~5 delays_us^41000,55000,47001")
					RECOVERED(2518344000) VERDICT(0, "-");
	struct replay_cmp c;

	assert_int_equal(cmp(old_tl, n, &c), 0);
	assert_int_equal(c.seeded_same, 1); /* the schedule */
	assert_int_equal(c.seeded_differ, 3);
	assert_string_equal(diff(&c, "drill seed")->old_value, "500");
	assert_string_equal(diff(&c, "drill seed")->new_value, "501");
	assert_int_equal(diff(&c, "fault 1 syscall kept")->cls, REPLAY_SEEDED);
	assert_string_equal(diff(&c, "fault 1 syscall kept")->new_value, "17");
	assert_non_null(diff(&c, "fault 2 delay-draws delays_us"));
	assert_true(c.verdict_differs);
	assert_int_equal(c.new_exit, 0);
	replay_cmp_release(&c);
}

/* An event only one run has differs; a word only one has too. */
static void test_missing(void **state)
{
	const char *n = STEADY(1000000000) DRILL("500") SEEDED(
		0,
		"what=schedule kind=syscall node=n1 at_ms=500 injected_ms~500.056 outcome=failed")
		SEEDED(2, "what=loss per10k=2000") VERDICT(1, "expect.rpo");
	struct replay_cmp c;

	assert_int_equal(cmp(old_tl, n, &c), 0);
	assert_int_equal(c.seeded_same, 1);
	assert_int_equal(c.seeded_differ, 4); /* schedule (outcome), syscall, delay, loss */
	assert_string_equal(diff(&c, "fault 1 schedule outcome")->old_value, "(none)");
	assert_null(c.events[2].new_detail);
	assert_null(c.events[c.n_events - 1].old_detail);
	assert_string_equal(diff(&c, "drill recovered_ms")->new_value, "(none)");
	assert_false(c.verdict_differs);
	replay_cmp_release(&c);
}

static void test_bad_line(void **state)
{
	struct replay_cmp c;
	long bad = 0;
	const char *n = STEADY(1) "not json\n";

	assert_int_equal(replay_compare(old_tl, strlen(old_tl), n, strlen(n), &c, &bad), -EINVAL);
	assert_int_equal(bad, -2);
	assert_int_equal(replay_compare("", 0, "", 0, &c, &bad), 0);
	assert_true(c.verdict_differs); /* no verdict on either side: nothing to call the same */
	replay_cmp_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_event),    cmocka_unit_test(test_identical_with_timing),
		cmocka_unit_test(test_seeded_differs), cmocka_unit_test(test_missing),
		cmocka_unit_test(test_bad_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
