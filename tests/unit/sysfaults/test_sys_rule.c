/* Unit tests of the syscall rule language: the parser (located errors) and the decider
 * (nth, after, probability, from; keep amounts; same seed, same tear byte). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "common/error.h"
#include "faults/sys/rule.h"
#include "scenarios/parser/yaml_load.h"

static int parse(const char *yaml, struct sys_rules **rs, struct cd_error *err)
{
	struct cfg_node *tree = NULL;
	int r;

	memset(err, 0, sizeof(*err));
	r = yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, err);
	assert_int_equal(r, 0);
	r = sys_rules_parse(tree, rs, err);
	cfg_node_free(tree);
	return r;
}

static struct sys_rules *ok(const char *yaml)
{
	struct sys_rules *rs = NULL;
	struct cd_error err;
	int r = parse(yaml, &rs, &err);

	if (r < 0)
		fail_msg("%d:%d: %s", err.line, err.col, err.msg);
	return rs;
}

/* Parses yaml, expects failure at line:col with msg containing want. */
static void bad(const char *yaml, int line, int col, const char *want)
{
	struct sys_rules *rs = NULL;
	struct cd_error err;

	assert_int_equal(parse(yaml, &rs, &err), -EINVAL);
	assert_null(rs);
	assert_string_equal(err.file, "t.yaml");
	if (getenv("SYS_RULE_PRINT"))
		printf("%d:%d %s\n", err.line, err.col, err.msg);
	else if (!strstr(err.msg, want) || err.line != line || err.col != col)
		fail_msg("got %d:%d: %s; want %d:%d: ...%s...", err.line, err.col, err.msg, line,
			 col, want);
}

static void test_parse_full(void **state)
{
	struct sys_rules *rs =
		ok("io_uring: enosys\n"
		   "rules:\n"
		   "  - {calls: [write, pwrite], path: txn.log, nth: 3, errno: ENOSPC}\n"
		   "  - {calls: writev, path: '*.log', after: 2, short: 10}\n"
		   "  - {calls: write, probability: 0.25, torn: {keep: random}, then: crash}\n"
		   "  - {calls: fsync, from: 2s, crash: after}\n"
		   "  - {calls: [rename, openat], crash: before}\n"
		   "  - {calls: read, delay: 50ms}\n"
		   "  - {calls: write, short: half, then: crash}\n");
	const struct sys_rule *v = rs->v;

	assert_int_equal(rs->n, 7);
	assert_true(rs->io_uring_enosys);
	assert_int_equal(v[0].calls, (1u << SYS_CALL_WRITE) | (1u << SYS_CALL_PWRITE));
	assert_string_equal(v[0].glob, "txn.log");
	assert_int_equal(v[0].when, SYS_WHEN_NTH);
	assert_int_equal(v[0].n, 3);
	assert_int_equal(v[0].action, SYS_ACT_ERRNO);
	assert_int_equal(v[0].err, ENOSPC);
	assert_int_equal(v[0].line, 3);
	assert_int_equal(v[1].when, SYS_WHEN_AFTER);
	assert_int_equal(v[1].action, SYS_ACT_SHORT);
	assert_int_equal(v[1].keep, SYS_KEEP_BYTES);
	assert_int_equal(v[1].keep_bytes, 10);
	assert_false(v[1].then_crash);
	assert_string_equal(v[2].glob, "*");
	assert_int_equal(v[2].when, SYS_WHEN_PROB);
	assert_true(v[2].p == 0.25);
	assert_int_equal(v[2].action, SYS_ACT_TORN);
	assert_int_equal(v[2].keep, SYS_KEEP_RANDOM);
	assert_true(v[2].then_crash);
	assert_int_equal(v[3].when, SYS_WHEN_FROM);
	assert_int_equal(v[3].from_ns, 2000000000LL);
	assert_int_equal(v[3].action, SYS_ACT_CRASH_AFTER);
	assert_int_equal(v[4].action, SYS_ACT_CRASH_BEFORE);
	assert_int_equal(v[4].when, SYS_WHEN_EVERY);
	assert_int_equal(v[5].action, SYS_ACT_DELAY);
	assert_int_equal(v[5].delay_ns, 50000000LL);
	assert_int_equal(v[6].keep, SYS_KEEP_HALF);
	assert_true(v[6].then_crash);
	sys_rules_free(rs);

	rs = ok("rules: [{calls: write, errno: EIO}]\n");
	assert_false(rs->io_uring_enosys);
	sys_rules_free(rs);
	/* the names of common/errname.h: EBUSY was faultfs's alone before */
	rs = ok("rules: [{calls: fsync, errno: EBUSY}]\n");
	assert_int_equal(rs->v[0].err, EBUSY);
	sys_rules_free(rs);
}

/* torn: rest: zeros makes the decision write zeros behind the kept bytes; the default
 * leaves the file ending after them. */
static void test_torn_rest(void **state)
{
	struct sys_rules *rs = ok("rules:\n"
				  "  - {calls: write, torn: {keep: 10, rest: zeros}, then: crash}\n"
				  "  - {calls: pwrite, torn: {keep: 10}, then: crash}\n");

	assert_true(rs->v[0].zero_rest);
	assert_false(rs->v[1].zero_rest);
	sys_rules_free(rs);
	bad("rules:\n  - {calls: write, torn: {keep: 10, rest: garbage}, then: crash}\n", 2, 43,
	    "unknown value 'garbage'");
}

static void test_parse_errors(void **state)
{
	bad("rules: []\n", 1, 8, "no rules");
	bad("rulez: []\n", 1, 1, "did you mean 'rules'");
	bad("io_uring: enosys\n", 1, 1, "needs 'rules'");
	bad("io_uring: maybe\nrules: [{calls: write, errno: EIO}]\n", 1, 11, "maybe");
	bad("rules:\n  - {calls: wrote, errno: EIO}\n", 2, 13, "unknown call 'wrote'");
	bad("rules:\n  - {calls: [], errno: EIO}\n", 2, 13, "empty list");
	bad("rules:\n  - {errno: EIO}\n", 2, 5, "needs 'calls'");
	bad("rules:\n  - {calls: write}\n", 2, 5, "needs action");
	bad("rules:\n  - {calls: write, errno: ENOPE}\n", 2, 27, "unknown errno 'ENOPE'");
	bad("rules:\n  - {calls: write, errno: EIO, crash: before}\n", 2, 39, "both given");
	bad("rules:\n  - {calls: write, nth: 0, errno: EIO}\n", 2, 25, "out of range");
	bad("rules:\n  - {calls: write, nth: 2, after: 3, errno: EIO}\n", 2, 35, "both given");
	bad("rules:\n  - {calls: write, probability: 1.5, errno: EIO}\n", 2, 33, "probability");
	bad("rules:\n  - {calls: write, from: 2, errno: EIO}\n", 2, 26, "bad duration");
	bad("rules:\n  - {calls: write, torn: {keep: half}}\n", 2, 26, "then: crash");
	bad("rules:\n  - {calls: write, torn: {kept: half}, then: crash}\n", 2, 27, "'keep'");
	bad("rules:\n  - {calls: write, torn: {}, then: crash}\n", 2, 26, "needs 'keep'");
	bad("rules:\n  - {calls: write, short: lots}\n", 2, 27, "bad amount 'lots'");
	bad("rules:\n  - {calls: fsync, short: 3}\n", 2, 27, "cuts a write");
	bad("rules:\n  - {calls: write, errno: EIO, then: crash}\n", 2, 38, "'then' follows only");
	bad("rules:\n  - {calls: write, short: 3, then: explode}\n", 2, 36, "explode");
	bad("rules:\n  - {calls: fsync, crash: during}\n", 2, 27, "during");
	bad("rules:\n  - {calls: write, errno: EIO, paht: x}\n", 2, 32, "did you mean 'path'");
	bad("rules:\n  - {calls: write, path: '', errno: EIO}\n", 2, 26, "path glob");
	bad("rules:\n  - [write]\n", 2, 5, "a syscall rule");
}

static struct sys_call_info call(enum sys_call c, const char *path, uint64_t len)
{
	return (struct sys_call_info){ .call = c, .path = path, .len = len };
}

static void test_match(void **state)
{
	struct sys_rule r = { .calls = 1u << SYS_CALL_WRITE, .glob = "*.log" };
	struct sys_call_info c = call(SYS_CALL_WRITE, "wal/0001.log", 1);

	assert_true(sys_rule_matches(&r, &c));
	c.path = "txn.dat";
	assert_false(sys_rule_matches(&r, &c));
	c.path = NULL; /* a socket, a pipe */
	assert_false(sys_rule_matches(&r, &c));
	c.path = "/etc/x.log"; /* outside the data dir: only absolute globs see it */
	assert_false(sys_rule_matches(&r, &c));
	snprintf(r.glob, sizeof(r.glob), "/etc/*");
	assert_true(sys_rule_matches(&r, &c));
	c.call = SYS_CALL_FSYNC;
	assert_false(sys_rule_matches(&r, &c));
	/* rename matches on either name */
	r = (struct sys_rule){ .calls = 1u << SYS_CALL_RENAME, .glob = "txn.log" };
	c = (struct sys_call_info){ .call = SYS_CALL_RENAME,
				    .path = "txn.tmp",
				    .path2 = "txn.log" };
	assert_true(sys_rule_matches(&r, &c));
}

static void test_nth_after(void **state)
{
	struct sys_rule v[2] = {
		{ .calls = 1u << SYS_CALL_WRITE,
		  .glob = "a",
		  .when = SYS_WHEN_NTH,
		  .n = 3,
		  .action = SYS_ACT_ERRNO,
		  .err = EIO },
		{ .calls = 1u << SYS_CALL_WRITE,
		  .glob = "*",
		  .when = SYS_WHEN_AFTER,
		  .n = 4,
		  .action = SYS_ACT_ERRNO,
		  .err = ENOSPC },
	};
	uint64_t counts[2] = { 0, 0 };
	struct sys_call_info ca = call(SYS_CALL_WRITE, "a", 8), cb = call(SYS_CALL_WRITE, "b", 8);
	struct sys_decision d;

	assert_false(sys_decide(v, 2, counts, 1, &ca, &d)); /* a#1, *#1 */
	assert_false(sys_decide(v, 2, counts, 1, &cb, &d)); /* *#2 */
	assert_false(sys_decide(v, 2, counts, 1, &ca, &d)); /* a#2, *#3 */
	assert_false(sys_decide(v, 2, counts, 1, &cb, &d)); /* *#4 */
	assert_true(sys_decide(v, 2, counts, 1, &ca, &d));  /* a#3: rule 0 first */
	assert_int_equal(d.rule, 0);
	assert_int_equal(d.nth, 3);
	assert_int_equal(d.err, EIO);
	assert_false(d.crash);
	assert_int_equal(counts[1], 5);			   /* counted by rule 1 too */
	assert_true(sys_decide(v, 2, counts, 1, &ca, &d)); /* a#4 no; *#6 > 4 */
	assert_int_equal(d.rule, 1);
	assert_int_equal(d.err, ENOSPC);
	assert_int_equal(d.nth, 6);
	/* a call no rule names is not counted */
	ca.call = SYS_CALL_FSYNC;
	assert_false(sys_decide(v, 2, counts, 1, &ca, &d));
	assert_int_equal(counts[0], 4);
}

static void test_from(void **state)
{
	struct sys_rule r = { .calls = 1u << SYS_CALL_FSYNC,
			      .glob = "*",
			      .when = SYS_WHEN_FROM,
			      .from_ns = 1000,
			      .action = SYS_ACT_CRASH_BEFORE };
	uint64_t count = 0;
	struct sys_call_info c = call(SYS_CALL_FSYNC, "x", 0);
	struct sys_decision d;

	c.now_ns = 999;
	assert_false(sys_decide(&r, 1, &count, 0, &c, &d));
	c.now_ns = 1000;
	assert_true(sys_decide(&r, 1, &count, 0, &c, &d));
	assert_int_equal(d.action, SYS_ACT_CRASH_BEFORE);
	assert_true(d.crash);
}

/* Which of 1000 calls fire under probability p with seed s. */
static unsigned prob_run(uint64_t seed, double p, uint8_t *fired)
{
	struct sys_rule r = { .calls = 1u << SYS_CALL_WRITE,
			      .glob = "*",
			      .when = SYS_WHEN_PROB,
			      .p = p,
			      .action = SYS_ACT_ERRNO,
			      .err = EIO };
	struct sys_call_info c = call(SYS_CALL_WRITE, "x", 1);
	struct sys_decision d;
	uint64_t count = 0;
	unsigned n = 0;

	for (int i = 0; i < 1000; i++) {
		fired[i] = sys_decide(&r, 1, &count, seed, &c, &d);
		n += fired[i];
	}
	return n;
}

static void test_probability(void **state)
{
	uint8_t a[1000], b[1000], c[1000];
	unsigned n = prob_run(42, 0.25, a);

	assert_in_range(n, 200, 300);
	assert_int_equal(prob_run(42, 0.25, b), n);
	assert_memory_equal(a, b, sizeof(a)); /* same seed, same calls */
	prob_run(43, 0.25, c);
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(prob_run(42, 0.0, c), 0);
	assert_int_equal(prob_run(42, 1.0, c), 1000);
}

static void test_keep(void **state)
{
	struct sys_rule r = { .calls = SYS_CALL_WRITES,
			      .glob = "*",
			      .action = SYS_ACT_TORN,
			      .then_crash = true,
			      .keep = SYS_KEEP_BYTES,
			      .keep_bytes = 7 };
	struct sys_call_info c = call(SYS_CALL_PWRITE, "x", 100);
	struct sys_decision d;
	uint64_t count = 0;

	assert_true(sys_decide(&r, 1, &count, 0, &c, &d));
	assert_int_equal(d.action, SYS_ACT_TORN);
	assert_int_equal(d.keep, 7);
	assert_true(d.crash);
	c.len = 5; /* never more than asked */
	assert_true(sys_decide(&r, 1, &count, 0, &c, &d));
	assert_int_equal(d.keep, 5);
	r.keep = SYS_KEEP_HALF;
	c.len = 101;
	assert_true(sys_decide(&r, 1, &count, 0, &c, &d));
	assert_int_equal(d.keep, 50);
	/* short without then: crash lives on */
	r.action = SYS_ACT_SHORT;
	r.then_crash = false;
	assert_true(sys_decide(&r, 1, &count, 0, &c, &d));
	assert_false(d.crash);
	assert_int_equal(d.keep, 50);
}

/* The tear byte of the 5th matching 4096-byte write under seed. */
static uint64_t tear_at(uint64_t seed, int noise)
{
	struct sys_rule v[2] = {
		{ .calls = 1u << SYS_CALL_FSYNC,
		  .glob = "*",
		  .action = SYS_ACT_DELAY,
		  .delay_ns = 1 },
		{ .calls = SYS_CALL_WRITES,
		  .glob = "txn.log",
		  .when = SYS_WHEN_NTH,
		  .n = 5,
		  .action = SYS_ACT_TORN,
		  .keep = SYS_KEEP_RANDOM,
		  .then_crash = true },
	};
	uint64_t counts[2] = { 0, 0 };
	struct sys_call_info w = call(SYS_CALL_WRITE, "txn.log", 4096);
	struct sys_call_info other = call(SYS_CALL_FSYNC, "txn.log", 0);
	struct sys_decision d;

	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < noise; j++)
			sys_decide(v, 2, counts, seed, &other, &d);
		assert_false(sys_decide(v, 2, counts, seed, &w, &d));
	}
	assert_true(sys_decide(v, 2, counts, seed, &w, &d));
	assert_int_equal(d.rule, 1);
	assert_int_equal(d.nth, 5);
	assert_in_range(d.keep, 1, 4095);
	return d.keep;
}

static void test_same_seed_same_tear(void **state)
{
	uint64_t k = tear_at(7, 0);
	int differ = 0;

	assert_int_equal(tear_at(7, 0), k);
	/* other calls in between (other rules, other threads) do not move the tear */
	assert_int_equal(tear_at(7, 3), k);
	for (uint64_t s = 8; s < 16; s++)
		differ += tear_at(s, 0) != k;
	assert_true(differ >= 6);
	/* a write of 1 byte cannot be torn in the middle: keep 0 */
	{
		struct sys_rule r = { .keep = SYS_KEEP_RANDOM };

		assert_int_equal(sys_keep_bytes(&r, 0, 1, 7, 1), 0);
		assert_int_equal(sys_keep_bytes(&r, 0, 1, 7, 2), 1);
	}
}

/* Replay is a promise: a seed draws the same values in every release. These are the values
 * it drew when the draws were pinned; the first is the tear of scenarios/kvlog-torn-write.yaml
 * (seed 500, the 500th write of 101 bytes keeps 89). A change here breaks every recorded
 * drill's replay. */
static void test_pinned_draws(void **state)
{
	static const uint64_t keep7[] = { 954, 3432, 2929, 1401, 3220, 1058, 4085, 394 };
	struct sys_rule r = { .keep = SYS_KEEP_RANDOM };
	struct sys_rule p = { .calls = 1u << SYS_CALL_WRITE,
			      .glob = "*",
			      .when = SYS_WHEN_PROB,
			      .p = 0.25,
			      .action = SYS_ACT_ERRNO,
			      .err = EIO };
	struct sys_call_info c = { .call = SYS_CALL_WRITE, .path = "txn.log", .len = 100 };
	struct sys_decision d;
	uint64_t counts[1] = { 0 }, fired = 0;

	assert_int_equal(sys_rand(0, 0, 0, 0), 0x2130748aaac80268ULL);
	assert_int_equal(sys_rand(500, 0, 500, 2), 0x5585ae083c83f110ULL);
	assert_int_equal(sys_rand(7, 3, 1000, 1), 0x14f0db65257403fdULL);
	assert_int_equal(sys_rand(UINT64_MAX, 1, 2, 3), 0xc64be746cddc1c56ULL);
	assert_int_equal(sys_keep_bytes(&r, 0, 500, 500, 101), 89);
	for (uint64_t nth = 1; nth <= 8; nth++)
		assert_int_equal(sys_keep_bytes(&r, 1, nth, 7, 4096), keep7[nth - 1]);
	for (int i = 0; i < 64; i++)
		if (sys_decide(&p, 1, counts, 11, &c, &d))
			fired |= UINT64_C(1) << i;
	assert_int_equal(fired, 0x2000823200201924ULL);
}

static void test_names(void **state)
{
	for (int i = 0; i < SYS_CALL_N; i++)
		assert_int_equal(sys_call_from_name(sys_call_name((enum sys_call)i)), i);
	assert_null(sys_call_name(SYS_CALL_N));
	assert_int_equal(sys_call_from_name("nope"), -1);
	assert_string_equal(sys_action_name(SYS_ACT_CRASH_AFTER), "crash-after");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full),   cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),	     cmocka_unit_test(test_nth_after),
		cmocka_unit_test(test_from),	     cmocka_unit_test(test_probability),
		cmocka_unit_test(test_keep),	     cmocka_unit_test(test_same_seed_same_tear),
		cmocka_unit_test(test_names),	     cmocka_unit_test(test_torn_rest),
		cmocka_unit_test(test_pinned_draws),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
