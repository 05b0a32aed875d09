/* Unit tests of the clock fault's parser: offsets with a sign, either or both clocks, and
 * errors with line:column for what it cannot take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "faults/clock/attach.h"
#include "faults/fault.h"
#include "scenarios/parser/yaml_load.h"

static const char *const names[] = { "n1" };

/* Parses yaml as a clock fault's body: 0 and *st, or the error's text in msg. */
static int parse(const char *yaml, void **st, char *msg, size_t len)
{
	const struct fault_ops *ops = fault_lookup("clock");
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 1 };
	struct cd_error err = { 0 };
	struct cfg_node *tree;
	int r;

	assert_non_null(ops);
	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
	r = ops->parse(tree, &ctx, st, &err);
	snprintf(msg, len, "%d:%d: %s", err.line, err.col, err.msg);
	cfg_node_free(tree);
	return r;
}

static void test_offsets(void **unused)
{
	char msg[300];
	void *v;
	const struct clock_skew *st;

	assert_int_equal(parse("{node: n1, offset: 30s}", &v, msg, sizeof(msg)), 0);
	st = v;
	assert_true(st->realtime && !st->monotonic);
	assert_true(st->realtime_ns == 30000000000LL);
	assert_ptr_equal(fault_lookup("clock")->attach(v), &clock_attach_ops);
	fault_lookup("clock")->free(v);

	assert_int_equal(parse("{node: n1, offset: -2m, monotonic: 1.5s}", &v, msg, sizeof(msg)),
			 0);
	st = v;
	assert_true(st->realtime && st->monotonic);
	assert_true(st->realtime_ns == -120000000000LL);
	assert_true(st->monotonic_ns == 1500000000LL);
	fault_lookup("clock")->free(v);
}

static void test_errors(void **unused)
{
	char msg[300];
	void *v = NULL;

	assert_true(parse("{node: n1}", &v, msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "clock needs offset: (the realtime clock) or monotonic:"));
	assert_true(parse("{node: n1, offset: soon}", &v, msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "1:20: bad offset 'soon'"));
	assert_true(parse("{node: n9, offset: 1s}", &v, msg, sizeof(msg)) < 0);
	assert_true(parse("{node: n1, offset: 1s, skew: 1s}", &v, msg, sizeof(msg)) < 0);
	assert_non_null(strstr(msg, "skew"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
