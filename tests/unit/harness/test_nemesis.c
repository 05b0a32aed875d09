/* Unit tests of the nemesis: its block parsed (errors located), its faults drawn from the
 * seed (the same seed, the same faults), ranges kept, no node faulted twice at once, a
 * minority never exceeded, and the shipped nemesis drill resolved through drill_load. */
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
#include "harness/drill/drill.h"
#include "harness/drill/nemesis.h"
#include "scenarios/parser/nemesis.h"
#include "scenarios/parser/yaml_load.h"

#define MS NSEC_PER_MSEC
#define S NSEC_PER_SEC

static const char *const kinds[] = { "kill", "stop", "power-cut", NULL };
static const char *const names3[] = { "n1", "n2", "n3" };
static const char *const names5[] = { "a", "b", "c", "d", "e" };

struct fixture {
	struct cfg_node *tree;
	struct nemesis *nm;
};

/* Parses "nemesis:" + body; the tree stays for the nemesis's borrowed strings. */
static int parse(struct fixture *fx, const char *body, struct cd_error *err)
{
	char yaml[2048];
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(yaml, sizeof(yaml), "nemesis:\n%s", body);
	fx->nm = NULL;
	if ((r = yaml_load_string("t.yaml", yaml, strlen(yaml), &fx->tree, err)) < 0)
		return r;
	return nemesis_parse(cfg_get(fx->tree, "nemesis"), kinds, &fx->nm, err);
}

static void release(struct fixture *fx)
{
	nemesis_free(fx->nm);
	cfg_node_free(fx->tree);
}

/* heals[] for kinds kill, stop, power-cut as the nemesis lists them */
static void heals_of(const struct nemesis *nm, bool *heals)
{
	for (size_t i = 0; i < nm->n_kinds; i++)
		heals[i] = strcmp(nm->kinds[i].kind, "stop") == 0;
}

static int plan(const struct nemesis *nm, const char *const *nodes, size_t n_nodes,
		const char *leader, uint64_t seed, struct nemesis_fault **out, size_t *n,
		struct cd_error *err)
{
	bool heals[16];
	struct nemesis_plan_input in = { nm, nodes, n_nodes, leader, heals };

	heals_of(nm, heals);
	memset(err, 0, sizeof(*err));
	return nemesis_plan(&in, seed, out, n, err);
}

static const char mixed[] = "  from: 1s\n"
			    "  until: 30s\n"
			    "  every: 1s..3s\n"
			    "  faults:\n"
			    "    - kill: {}\n"
			    "      recovery: [{restart: \"{node}\"}]\n"
			    "    - stop: {}\n"
			    "      duration: 500ms..2s\n"
			    "      weight: 2\n";

static void test_same_seed_same_faults(void **state)
{
	struct fixture fx;
	struct cd_error err;
	struct nemesis_fault *a, *b, *c;
	size_t na, nb, nc;

	(void)state;
	assert_int_equal(parse(&fx, mixed, &err), 0);
	assert_int_equal(plan(fx.nm, names3, 3, "n1", 7, &a, &na, &err), 0);
	assert_int_equal(plan(fx.nm, names3, 3, "n1", 7, &b, &nb, &err), 0);
	assert_int_equal(plan(fx.nm, names3, 3, "n1", 8, &c, &nc, &err), 0);
	assert_true(na >= 10);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(*a));
	assert_true(na != nc || memcmp(a, c, na * sizeof(*a)) != 0);
	free(a);
	free(b);
	free(c);
	release(&fx);
}

static void test_ranges_kept(void **state)
{
	struct fixture fx;
	struct cd_error err;
	struct nemesis_fault *f;
	size_t n, stops = 0, kills = 0;

	(void)state;
	assert_int_equal(parse(&fx, mixed, &err), 0);
	for (uint64_t seed = 0; seed < 50; seed++) {
		assert_int_equal(plan(fx.nm, names3, 3, "n1", seed, &f, &n, &err), 0);
		assert_true(n > 0);
		assert_int_equal(f[0].at_ns, 1 * S);
		for (size_t i = 0; i < n; i++) {
			assert_true(f[i].at_ns >= 1 * S && f[i].at_ns <= 30 * S);
			assert_int_equal(f[i].at_ns % MS, 0);
			assert_true(f[i].node < 3);
			/* three nodes, each free within 2.1 s: no time passes without a fault */
			if (i)
				assert_true(f[i].at_ns - f[i - 1].at_ns >= 1 * S &&
					    f[i].at_ns - f[i - 1].at_ns <= 3 * S);
			if (f[i].kind == 1) { /* stop: healed after 500ms..2s */
				stops++;
				assert_true(f[i].has_heal);
				assert_true(f[i].heal_at_ns - f[i].at_ns >= 500 * MS &&
					    f[i].heal_at_ns - f[i].at_ns <= 2 * S);
			} else {
				kills++;
				assert_false(f[i].has_heal);
			}
		}
		free(f);
	}
	assert_true(stops > kills); /* weight 2 against 1 */
	release(&fx);
}

/* A node is never faulted again before its heal (+ settle); a kill without recovery holds
 * its node to the end. */
static void test_no_overlap(void **state)
{
	static const char held[] = "  until: 60s\n"
				   "  every: 100ms..300ms\n"
				   "  faults:\n"
				   "    - stop: {}\n"
				   "      duration: 1s..3s\n"
				   "    - kill: {}\n";
	struct fixture fx;
	struct cd_error err;
	struct nemesis_fault *f;
	size_t n;

	(void)state;
	assert_int_equal(parse(&fx, held, &err), 0);
	for (uint64_t seed = 0; seed < 50; seed++) {
		size_t kills[3] = { 0 };

		assert_int_equal(plan(fx.nm, names3, 3, NULL, seed, &f, &n, &err), 0);
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < i; j++) {
				if (f[j].node != f[i].node)
					continue;
				assert_int_equal(f[j].kind, 0); /* after a kill: nothing */
				assert_true(f[i].at_ns >= f[j].heal_at_ns + NEMESIS_SETTLE_NS);
			}
			kills[f[i].node] += f[i].kind == 1;
		}
		for (size_t k = 0; k < 3; k++)
			assert_true(kills[k] <= 1);
		free(f);
	}
	release(&fx);
}

static void test_minority_leader_list_count(void **state)
{
	static const char minority[] = "  count: 40\n"
				       "  every: 100ms\n"
				       "  nodes: minority\n"
				       "  faults:\n"
				       "    - stop: {}\n"
				       "      duration: 1s..2s\n"
				       "    - kill: {}\n"
				       "      nodes: [b, d]\n"
				       "      recovery: []\n";
	static const char leader[] = "  count: 5\n"
				     "  every: 2s\n"
				     "  nodes: leader\n"
				     "  faults: [{kill: {}, recovery: []}]\n";
	struct fixture fx;
	struct cd_error err;
	struct nemesis_fault *f;
	size_t n;

	(void)state;
	assert_int_equal(parse(&fx, minority, &err), 0);
	assert_int_equal(plan(fx.nm, names5, 5, NULL, 3, &f, &n, &err), 0);
	assert_int_equal(n, 40);
	for (size_t i = 0; i < n; i++) {
		size_t held = 0;

		for (size_t j = 0; j < i; j++)
			held += f[j].has_heal && f[j].heal_at_ns + NEMESIS_SETTLE_NS > f[i].at_ns;
		/* a stop (minority) only while at most one other node is held: a minority of
		 * 5 is 2; the kills (their own list) need not */
		if (f[i].kind == 0)
			assert_true(held <= 1);
		if (f[i].kind == 1)
			assert_true(f[i].node == 1 || f[i].node == 3);
	}
	free(f);
	release(&fx);

	assert_int_equal(parse(&fx, leader, &err), 0);
	assert_int_equal(plan(fx.nm, names3, 3, "n2", 1, &f, &n, &err), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f[i].node, 1);
		assert_int_equal(f[i].at_ns, (int64_t)i * 2 * S);
	}
	free(f);
	release(&fx);
}

static void expect_parse_error(const char *body, int line, int col, const char *want)
{
	struct fixture fx;
	struct cd_error err;

	assert_true(parse(&fx, body, &err) < 0);
	assert_null(fx.nm);
	if (err.line != line || err.col != col || !strstr(err.msg, want)) {
		print_error("got %d:%d '%s', want %d:%d '%s'\n", err.line, err.col, err.msg, line,
			    col, want);
		fail();
	}
	release(&fx);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_parse_error("  until: 5s\n  every: 5s..2s\n  faults: [{kill: {}}]\n", 3, 10,
			   "its minimum is above its maximum");
	expect_parse_error("  until: 5s\n  every: 2 s..x\n  faults: [{kill: {}}]\n", 3, 10,
			   "bad range");
	expect_parse_error("  until: 5s\n  faults: [{kill: {}}]\n", 2, 3, "needs every:");
	expect_parse_error("  every: 1s\n  faults: [{kill: {}}]\n", 2, 3, "needs an end");
	expect_parse_error("  until: 5s\n  every: 1s\n  faults: [{kil: {}}]\n", 4, 13,
			   "did you mean 'kill'?");
	expect_parse_error("  until: 5s\n  every: 1s\n  faults: [{kill: {node: n1}}]\n", 4, 26,
			   "the nemesis picks it");
	expect_parse_error("  until: 5s\n  every: 1s\n  evry: 1s\n  faults: [{kill: {}}]\n", 4, 3,
			   "did you mean 'every'?");
	expect_parse_error("  until: 5s\n  every: 1s\n  nodes: most\n  faults: [{kill: {}}]\n", 4,
			   10, "most");
	expect_parse_error("  until: 5s\n  every: 1s\n  faults: [{stop: {}, duration: 0s..1s}]\n",
			   4, 33, "more than 0");
	expect_parse_error("  from: 5s\n  until: 1s\n  every: 1s\n  faults: [{kill: {}}]\n", 3, 10,
			   "before its from");
}

static void expect_plan_error(const char *body, size_t n_nodes, const char *leader, int line,
			      int col, const char *want)
{
	struct fixture fx;
	struct cd_error err;
	struct nemesis_fault *f = (struct nemesis_fault *)&fx;
	size_t n = 99;

	assert_int_equal(parse(&fx, body, &err), 0);
	assert_true(plan(fx.nm, names3, n_nodes, leader, 1, &f, &n, &err) < 0);
	assert_null(f);
	assert_int_equal(n, 0);
	if (err.line != line || err.col != col || !strstr(err.msg, want)) {
		print_error("got %d:%d '%s', want %d:%d '%s'\n", err.line, err.col, err.msg, line,
			    col, want);
		fail();
	}
	release(&fx);
}

static void test_bad_plan(void **state)
{
	(void)state;
	expect_plan_error("  until: 5s\n  every: 1s\n  faults: [{kill: {}, duration: 1s}]\n", 3,
			  NULL, 4, 13, "kill cannot be healed");
	expect_plan_error("  until: 5s\n  every: 1s\n  nodes: minority\n  faults: [{kill: {}}]\n",
			  2, NULL, 4, 10, "at least 3 nodes");
	expect_plan_error("  until: 5s\n  every: 1s\n  faults: [{kill: {}, nodes: leader}]\n", 3,
			  NULL, 4, 30, "has no leader");
	expect_plan_error("  until: 5s\n  every: 1s\n  faults: [{kill: {}, nodes: [n1, x9]}]\n", 3,
			  NULL, 4, 35, "'x9' is not one of");
	expect_plan_error("  until: 1h\n  every: 1ms\n  faults: [{kill: {}, recovery: []}]\n", 3,
			  NULL, 2, 3, "more than 256 faults");
}

/* The shipped drill through drill_load: the nemesis's faults are faults of the drill,
 * named, in time order, the same for the same seed and others for another. */
static void test_shipped_drill(void **state)
{
	static const char path[] = "../../../scenarios/kvlog-nemesis.yaml";
	struct drill_options o19 = { .has_seed = true, .seed = 19 }, o20 = o19;
	struct drill *a = NULL, *b = NULL, *c = NULL;
	struct cd_error err = { 0 };
	bool differ = false;

	(void)state;
	o20.seed = 20;
	assert_int_equal(drill_load(path, &o19, &a, &err), 0);
	assert_int_equal(drill_load(path, &o19, &b, &err), 0);
	assert_int_equal(drill_load(path, &o20, &c, &err), 0);
	assert_true(a->n_faults >= 6 && a->n_faults <= 10);
	assert_int_equal(a->n_faults, b->n_faults);
	assert_int_equal(a->n_steps, 2 * a->n_faults);
	for (size_t i = 0; i < a->n_faults; i++) {
		char name[32];

		snprintf(name, sizeof(name), "nemesis %zu", i + 1);
		assert_string_equal(a->faults[i].sf->name, name);
		assert_true(a->faults[i].sf->from_nemesis);
		assert_string_equal(a->faults[i].sf->kind, b->faults[i].sf->kind);
		assert_int_equal(a->faults[i].sf->at_ns, b->faults[i].sf->at_ns);
		assert_string_equal(a->faults[i].ops->node(a->faults[i].state), "n1");
		assert_int_equal(a->steps[2 * i].ss->fault, (int)i);
		if (i)
			assert_true(a->faults[i].sf->at_ns > a->faults[i - 1].sf->at_ns);
		differ |= i >= c->n_faults || a->faults[i].sf->at_ns != c->faults[i].sf->at_ns;
	}
	assert_true(differ);
	assert_string_equal(nemesis_leader(a), "n1");
	drill_free(a);
	drill_free(b);
	drill_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_faults),
		cmocka_unit_test(test_ranges_kept),
		cmocka_unit_test(test_no_overlap),
		cmocka_unit_test(test_minority_leader_list_count),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bad_plan),
		cmocka_unit_test(test_shipped_drill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
