/* Unit tests of the fault table: sector alignment, seeded random sectors, bad-range hits,
 * bit rot, delays, one-shot fsync errors, and which rules act on reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "faults/faultfs/ffs_rules.h"

static void test_align(void **state)
{
	struct ffs_rule r = { 0 };

	assert_int_equal(ffs_rule_align(&r, 1000, 30, 512), 0);
	assert_int_equal(r.start, 512);
	assert_int_equal(r.end, 1536);
	assert_int_equal(ffs_rule_align(&r, 4096, 1, 4096), 0);
	assert_int_equal(r.start, 4096);
	assert_int_equal(r.end, 8192);
	assert_int_equal(ffs_rule_align(&r, 0, 1, 1024), -EINVAL);
	assert_int_equal(ffs_rule_align(&r, 0, 0, 512), -EINVAL);
	assert_int_equal(ffs_rule_align(&r, UINT64_MAX - 10, 100, 512), -EINVAL);
}

static void test_pick_sectors(void **state)
{
	uint64_t a[8], b[8], c[8];

	assert_int_equal(ffs_pick_sectors(42, 8, 4096, 1 << 20, a), 0);
	assert_int_equal(ffs_pick_sectors(42, 8, 4096, 1 << 20, b), 0);
	assert_int_equal(ffs_pick_sectors(43, 8, 4096, 1 << 20, c), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	for (int i = 0; i < 8; i++) {
		assert_true(a[i] < 256);
		if (i)
			assert_true(a[i] > a[i - 1]); /* sorted and distinct */
	}
	/* All of a small span. */
	assert_int_equal(ffs_pick_sectors(1, 4, 512, 2048, a), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(a[i], (uint64_t)i);
	assert_int_equal(ffs_pick_sectors(1, 5, 512, 2048, a), -EINVAL);
}

/* Replay is a promise: the sectors `random(N)` picks and the bits bit rot flips are pinned,
 * as drawn when pinned (the flips: kvlog-bitrot.yaml's seed 3 on a 512-byte range). A change
 * here breaks every recorded drill's replay. */
static void test_pinned_draws(void **state)
{
	static const uint64_t want[] = { 72, 496, 1173, 1218, 1338 };
	static const struct {
		uint64_t pos;
		unsigned bit;
	} flips[] = { { 60801, 6 }, { 60460, 3 }, { 60631, 0 } };
	struct ffs_rule r = {
		.kind = FFS_RULE_BITROT, .start = 60416, .end = 60416 + 512, .bits = 3, .seed = 3
	};
	uint64_t got[5], pos;
	unsigned bit;

	assert_int_equal(ffs_pick_sectors(42, 5, 512, 1 << 20, got), 0);
	assert_memory_equal(got, want, sizeof(want));
	for (uint32_t i = 0; i < 3; i++) {
		ffs_bitrot_flip(&r, i, &pos, &bit);
		assert_int_equal(pos, flips[i].pos);
		assert_int_equal(bit, flips[i].bit);
	}
}

static void test_bad_ranges(void **state)
{
	struct ffs_rules rules = { 0 };
	struct ffs_rule r = {
		.kind = FFS_RULE_BAD_RANGE, .glob = "*.log", .ops = FFS_OP_READ, .err = EIO
	};
	const struct ffs_rule *hit;

	assert_int_equal(ffs_rule_align(&r, 4096, 512, 512), 0);
	assert_int_equal(ffs_rules_add(&rules, &r), 0);
	assert_null(ffs_rules_bad(&rules, "/d/x.log", 0, 4096, FFS_OP_READ));
	assert_null(ffs_rules_bad(&rules, "/d/x.log", 4608, 100, FFS_OP_READ));
	assert_null(ffs_rules_bad(&rules, "/d/x.dat", 4096, 1, FFS_OP_READ));
	assert_null(ffs_rules_bad(&rules, "/d/x.log", 4096, 1, FFS_OP_WRITE));
	hit = ffs_rules_bad(&rules, "/d/x.log", 4000, 100, FFS_OP_READ);
	assert_non_null(hit);
	assert_int_equal(hit->err, EIO);
	assert_int_equal(hit->hits, 1);
	ffs_rules_release(&rules);
}

static void test_bitrot(void **state)
{
	struct ffs_rules rules = { 0 };
	struct ffs_rule r = { .kind = FFS_RULE_BITROT,
			      .glob = "/f",
			      .ops = FFS_OP_READ,
			      .start = 100,
			      .end = 200,
			      .bits = 3,
			      .seed = 9 };
	unsigned char buf[300], buf2[300];
	int diff = 0;

	assert_int_equal(ffs_rules_add(&rules, &r), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ffs_rules_rot(&rules, "/f", buf, 0, sizeof(buf)), 3);
	for (int i = 0; i < 300; i++) {
		diff += __builtin_popcount(buf[i]);
		if (buf[i])
			assert_true(i >= 100 && i < 200);
	}
	assert_int_equal(diff, 3);
	/* The same bits on every read, also when read in pieces. */
	memset(buf2, 0, sizeof(buf2));
	assert_true(ffs_rules_rot(&rules, "/f", buf2, 0, 150) +
			    ffs_rules_rot(&rules, "/f", buf2 + 150, 150, 150) ==
		    3);
	assert_memory_equal(buf, buf2, sizeof(buf));
	assert_int_equal(ffs_rules_rot(&rules, "/g", buf2, 0, 300), 0);
	ffs_rules_release(&rules);
}

static void test_delay_and_fsync_errno(void **state)
{
	struct ffs_rules rules = { 0 };
	struct ffs_rule d = {
		.kind = FFS_RULE_DELAY, .glob = "*", .ops = FFS_OP_FSYNC, .delay_ns = 5000
	};
	struct ffs_rule e = { .kind = FFS_RULE_FSYNC_ERRNO,
			      .glob = "/wal*",
			      .ops = FFS_OP_FSYNC,
			      .err = EIO,
			      .count = 1 };

	assert_int_equal(ffs_rules_add(&rules, &d), 0);
	assert_int_equal(ffs_rules_add(&rules, &e), 0);
	assert_int_equal(ffs_rules_delay(&rules, "/x", FFS_OP_FSYNC), 5000);
	assert_int_equal(ffs_rules_delay(&rules, "/x", FFS_OP_READ), 0);
	assert_int_equal(ffs_rules_fsync_errno(&rules, "/data"), 0);
	assert_int_equal(ffs_rules_fsync_errno(&rules, "/wal.1"), -EIO);
	assert_int_equal(ffs_rules_fsync_errno(&rules, "/wal.1"), 0); /* once, as Linux */
	ffs_rules_release(&rules);
}

/* Which tables change what reads return (the kernel's cached pages must go at a clear). */
static void test_act_on_reads(void **state)
{
	struct ffs_rules rules = { 0 };
	struct ffs_rule d = { .kind = FFS_RULE_DELAY, .glob = "*", .ops = FFS_OP_READ };
	struct ffs_rule w = { .kind = FFS_RULE_BAD_RANGE, .glob = "*", .ops = FFS_OP_WRITE };
	struct ffs_rule r = { .kind = FFS_RULE_BAD_RANGE, .glob = "*", .ops = FFS_OP_READ };
	struct ffs_rule rot = { .kind = FFS_RULE_BITROT, .glob = "*", .ops = FFS_OP_READ };

	assert_false(ffs_rules_act_on_reads(&rules));
	assert_int_equal(ffs_rules_add(&rules, &d), 0);
	assert_int_equal(ffs_rules_add(&rules, &w), 0);
	assert_false(ffs_rules_act_on_reads(&rules)); /* delays and write faults: no */
	assert_int_equal(ffs_rules_add(&rules, &r), 0);
	assert_true(ffs_rules_act_on_reads(&rules));
	ffs_rules_clear(&rules);
	assert_int_equal(ffs_rules_add(&rules, &rot), 0);
	assert_true(ffs_rules_act_on_reads(&rules));
	ffs_rules_release(&rules);
}

/* Which files' reads a rule acts on (their cached pages are never kept at open). */
static void test_on_reads_of(void **state)
{
	struct ffs_rules rules = { 0 };
	struct ffs_rule w = { .kind = FFS_RULE_BAD_RANGE, .glob = "/w*", .ops = FFS_OP_WRITE };
	struct ffs_rule f = { .kind = FFS_RULE_FSYNC_ERRNO, .glob = "*", .ops = FFS_OP_FSYNC };
	struct ffs_rule d = { .kind = FFS_RULE_DELAY, .glob = "/slow", .ops = FFS_OP_READ };
	struct ffs_rule r = { .kind = FFS_RULE_BAD_RANGE, .glob = "/*.log", .ops = FFS_OP_READ };
	struct ffs_rule rot = { .kind = FFS_RULE_BITROT, .glob = "/rot", .ops = FFS_OP_READ };

	assert_int_equal(ffs_rules_add(&rules, &w), 0);
	assert_int_equal(ffs_rules_add(&rules, &f), 0);
	assert_false(ffs_rules_on_reads_of(&rules, "/wal")); /* write and fsync faults: no */
	assert_int_equal(ffs_rules_add(&rules, &d), 0);
	assert_int_equal(ffs_rules_add(&rules, &r), 0);
	assert_int_equal(ffs_rules_add(&rules, &rot), 0);
	assert_true(ffs_rules_on_reads_of(&rules, "/slow"));
	assert_true(ffs_rules_on_reads_of(&rules, "/txn.log"));
	assert_true(ffs_rules_on_reads_of(&rules, "/rot"));
	assert_false(ffs_rules_on_reads_of(&rules, "/data"));
	ffs_rules_release(&rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align),	     cmocka_unit_test(test_pick_sectors),
		cmocka_unit_test(test_pinned_draws), cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_bitrot),	     cmocka_unit_test(test_delay_and_fsync_errno),
		cmocka_unit_test(test_act_on_reads), cmocka_unit_test(test_on_reads_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
