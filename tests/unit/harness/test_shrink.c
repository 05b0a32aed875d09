/* Unit tests of shrink's pure half: the candidates it proposes (fewer faults, then earlier,
 * then shorter) against oracles that say which schedules fail, the drill file it writes
 * (parsed back), and what it reads from a run directory's header and JUnit file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/units.h"
#include "harness/drill/shrink.h"
#include "scenarios/parser/scenario.h"
#include "scenarios/parser/yaml_load.h"

#define MS NSEC_PER_MSEC
#define S NSEC_PER_SEC

static const char *const ids[] = { "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9" };

/* n faults on n1, named f1.., at 1 s, 3 s, 5 s ..., every other healed after 1 s. */
static void schedule(struct shrink_fault *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		f[i] = (struct shrink_fault){ .kind = "kill",
					      .name = ids[i],
					      .node = "n1",
					      .at_ns = (int64_t)(1 + 2 * i) * S,
					      .has_heal = i % 2,
					      .heal_at_ns = (int64_t)(2 + 2 * i) * S };
}

static bool has(const struct shrink_fault *f, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, id) == 0)
			return true;
	return false;
}

/* Runs the search to its end against oracle; returns the candidates it proposed. */
static size_t search(struct shrink *s, bool (*oracle)(const struct shrink_fault *, size_t))
{
	const struct shrink_fault *c;
	size_t n, runs = 0;

	while (shrink_next(s, &c, &n) > 0) {
		assert_true(n >= 1);
		for (size_t i = 1; i < n; i++) /* time order, one at a time on the node */
			assert_true(c[i].at_ns >= c[i - 1].at_ns);
		shrink_result(s, oracle(c, n));
		assert_true(++runs < 200);
	}
	return runs;
}

static bool needs_f3(const struct shrink_fault *f, size_t n)
{
	return has(f, n, "f3");
}

static bool needs_f2_f7(const struct shrink_fault *f, size_t n)
{
	return has(f, n, "f2") && has(f, n, "f7");
}

/* fails only while f2 (healed) is in for at least 300 ms and comes after 2 s */
static bool needs_long_f2(const struct shrink_fault *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, "f2") == 0)
			return f[i].heal_at_ns - f[i].at_ns >= 300 * MS && f[i].at_ns >= 2 * S;
	return false;
}

static void test_one_fault_left(void **state)
{
	struct shrink_fault f[8];
	struct shrink s;
	size_t runs;

	(void)state;
	schedule(f, 8);
	assert_int_equal(shrink_init(&s, f, 8), 0);
	runs = search(&s, needs_f3);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.cur[0].name, "f3");
	/* moved earlier, halving while that saves 100 ms: 5 s, 2.5 s, ..., 156 ms */
	assert_int_equal(s.cur[0].at_ns, 156 * MS);
	assert_int_equal(s.phase, SHRINK_DONE);
	/* delta debugging: far fewer than every subset (8 drops of halves and singles, then
	 * the halvings of its time) */
	assert_true(runs <= 20);
	shrink_release(&s);
}

/* The first candidates leave out the last half, then the first half: the shorter run
 * first. */
static void test_last_half_first(void **state)
{
	struct shrink_fault f[8];
	const struct shrink_fault *c;
	struct shrink s;
	size_t n;

	(void)state;
	schedule(f, 8);
	assert_int_equal(shrink_init(&s, f, 8), 0);
	assert_int_equal(shrink_next(&s, &c, &n), 1);
	assert_int_equal(n, 4);
	assert_string_equal(c[0].name, "f1");
	assert_string_equal(c[3].name, "f4");
	shrink_result(&s, false);
	assert_int_equal(shrink_next(&s, &c, &n), 1);
	assert_int_equal(n, 4);
	assert_string_equal(c[0].name, "f5");
	shrink_result(&s, true); /* f5..f8 fail: then their last two go */
	assert_int_equal(shrink_next(&s, &c, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].name, "f5");
	assert_string_equal(c[1].name, "f6");
	shrink_release(&s);
}

static void test_two_faults_left(void **state)
{
	struct shrink_fault f[8];
	struct shrink s;

	(void)state;
	schedule(f, 8);
	assert_int_equal(shrink_init(&s, f, 8), 0);
	search(&s, needs_f2_f7);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.cur[0].name, "f2");
	assert_string_equal(s.cur[1].name, "f7");
	/* f7 may not move before f2's heal + 100 ms: they stay on one node one at a time */
	assert_true(s.cur[1].at_ns >= s.cur[0].heal_at_ns + SHRINK_MIN_STEP_NS);
	shrink_release(&s);
}

static void test_earlier_and_shorter(void **state)
{
	struct shrink_fault f[4];
	struct shrink s;
	int64_t dur;

	(void)state;
	schedule(f, 4);
	assert_int_equal(shrink_init(&s, f, 4), 0);
	search(&s, needs_long_f2);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.cur[0].name, "f2");
	assert_int_equal(s.cur[0].at_ns, 3 * S); /* 1.5 s (halfway to 0) passes: stays */
	dur = s.cur[0].heal_at_ns - s.cur[0].at_ns;
	assert_int_equal(dur, 500 * MS); /* 1 s → 500 ms; 250 ms passes */
	shrink_release(&s);
}

static void test_nothing_smaller(void **state)
{
	struct shrink_fault f[1];
	struct shrink s;
	const struct shrink_fault *c;
	size_t n;

	(void)state;
	schedule(f, 1);
	f[0].at_ns = 50 * MS; /* too early to move, no heal to cut */
	assert_int_equal(shrink_init(&s, f, 1), 0);
	assert_int_equal(shrink_next(&s, &c, &n), 0);
	assert_int_equal(s.n, 1);
	shrink_release(&s);
}

static const char drill[] = "# resolved by chaosdrill 0.1.0: seed 77\n"
			    "# --param sync=never\n"
			    "# shrunk by chaosdrill shrink: 3 faults, seed 77\n"
			    "# a drill\n"
			    "drill: d1\n"
			    "seed: 5\n"
			    "target: kvlog\n"
			    "params: {sync: always, role: primary}\n"
			    "nemesis:\n"
			    "  until: 9s\n"
			    "  every: 1s\n"
			    "  faults: [{kill: {}}]\n"
			    "\n"
			    "faults:\n"
			    "  - at: 1s\n"
			    "    stop: {node: n1, how: \"a: b\"}\n"
			    "    heal: 2s\n"
			    "    recovery:\n"
			    "      - restart: n1\n"
			    "      - wait: {probe: ready, node: n1, timeout: 10s}\n"
			    "expect: {rpo: 0}\n";

static void test_drill_file(void **state)
{
	static const char *const kinds_f[] = { "kill", "stop", NULL };
	static const char *const kinds_s[] = { "restart", "wait", NULL };
	static const struct scenario_kinds kinds = { kinds_f, kinds_s };
	static const char *const params[] = { "sync=never", "kvlog.unsafe=ack-before-write" };
	struct cfg_node *tree, *back;
	struct scenario *sc;
	struct cd_error err = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct shrink_fault f;
	uint64_t seed;
	char **hp;
	size_t hn;

	(void)state;
	assert_int_equal(yaml_load_string("t.yaml", drill, strlen(drill), &tree, &err), 0);
	assert_int_equal(shrink_read_header(drill, &seed, &hp, &hn), 0);
	assert_int_equal(seed, 77);
	assert_int_equal(hn, 1);
	assert_string_equal(hp[0], "sync=never");
	free(hp[0]);
	free(hp);
	f = (struct shrink_fault){ .kind = "stop",
				   .name = "nemesis 3",
				   .node = "n1",
				   .args = cfg_get(cfg_get(tree, "faults")->items[0], "stop"),
				   .recovery =
					   cfg_get(cfg_get(tree, "faults")->items[0], "recovery"),
				   .at_ns = 1500 * MS,
				   .has_heal = true,
				   .heal_at_ns = 2250 * MS };
	assert_int_equal(shrink_write_drill(drill, tree, &f, 1, 77, params, 2, &sb), 0);
	assert_null(strstr(sb.buf, "resolved by"));
	assert_null(strstr(sb.buf, "nemesis:"));
	assert_non_null(strstr(sb.buf, "# shrunk by chaosdrill shrink: 1 fault, seed 77\n"));
	assert_null(strstr(sb.buf, "3 faults"));
	assert_non_null(strstr(sb.buf, "# a drill\n"));
	assert_int_equal(yaml_load_string("out.yaml", sb.buf, sb.len, &back, &err), 0);
	if (scenario_from_tree(back, &kinds, &sc, &err) < 0) {
		print_error("%s\n%d:%d: %s\n", sb.buf, err.line, err.col, err.msg);
		fail();
	}
	assert_int_equal(sc->seed, 77);
	assert_null(sc->nemesis);
	assert_int_equal(sc->n_faults, 1);
	assert_string_equal(sc->faults[0].kind, "stop");
	assert_string_equal(sc->faults[0].name, "nemesis 3");
	assert_int_equal(sc->faults[0].at_ns, 1500 * MS);
	assert_false(sc->faults[0].heal_is_after);
	assert_int_equal(sc->faults[0].heal_ns, 2250 * MS);
	assert_string_equal(cfg_get(sc->faults[0].args, "how")->scalar, "a: b");
	assert_int_equal(sc->n_steps, 2);
	assert_int_equal(sc->steps[1].fault, 0);
	assert_string_equal(scenario_param(sc, NULL, "sync"), "never");
	assert_string_equal(scenario_param(sc, NULL, "unsafe"), "ack-before-write");
	assert_string_equal(scenario_param(sc, NULL, "role"), "primary");
	assert_int_equal(sc->expect.rpo_kind, SCENARIO_RPO_COUNT);
	scenario_free(sc);
	cfg_node_free(tree);
	strbuf_release(&sb);
}

static void test_junit_failures(void **state)
{
	static const char xml[] =
		"<testsuite name=\"d\">\n"
		"<testcase name=\"kill n1\" classname=\"d.fault\" time=\"0.000\"/>\n"
		"<testcase name=\"wait ready n1\" classname=\"d.recovery\" time=\"0.1\">"
		"<system-out>x</system-out></testcase>\n"
		"<testcase name=\"rto &lt;= 2s\" classname=\"d.expect\" time=\"0\"/>\n"
		"<testcase name=\"rpo &lt;= 0\" classname=\"d.expect\" time=\"0\">"
		"<failure message=\"lost\">5 lost</failure></testcase>\n"
		"<testcase name=\"restart n1\" classname=\"d.recovery\" time=\"0\">"
		"<failure message=\"no\">x</failure></testcase>\n"
		"</testsuite>\n";
	char **v;
	size_t n;

	(void)state;
	assert_int_equal(shrink_junit_failures(xml, true, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "d.expect/rpo &lt;= 0");
	free(v[0]);
	free(v);
	assert_int_equal(shrink_junit_failures(xml, false, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1], "d.recovery/restart n1");
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	assert_int_equal(shrink_read_header("drill: x\n", &(uint64_t){ 0 }, &v, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_fault_left),	cmocka_unit_test(test_last_half_first),
		cmocka_unit_test(test_two_faults_left), cmocka_unit_test(test_earlier_and_shorter),
		cmocka_unit_test(test_nothing_smaller), cmocka_unit_test(test_drill_file),
		cmocka_unit_test(test_junit_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
