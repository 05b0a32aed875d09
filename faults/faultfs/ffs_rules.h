/* The fault table of the fault file system: bad ranges, bit rot, delays and fsync errors,
 * as plain data. The control socket adds rules; the FUSE operations ask the table what to
 * do to each read, write and fsync. Pure: no I/O, no locking (the caller holds its lock).
 *
 * Usage:
 *   struct ffs_rules rules = { 0 };
 *   struct ffs_rule r = { .kind = FFS_RULE_BAD_RANGE, .glob = "*.log", .ops = FFS_OP_READ };
 *   ffs_rule_align(&r, 4096, 4096, 1, 512);                 // [4096, 4608)
 *   ffs_rules_add(&rules, &r);
 *   const struct ffs_rule *bad = ffs_rules_bad(&rules, "/x.log", off, len, FFS_OP_READ);
 *   ffs_rules_rot(&rules, "/x.log", buf, off, n);          // transient bit rot
 *   ffs_rules_release(&rules);
 */
#ifndef CHAOSDRILL_FAULTFS_RULES_H
#define CHAOSDRILL_FAULTFS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FFS_GLOB_MAX 256
#define FFS_RANGE_END UINT64_MAX

enum ffs_rule_kind {
	FFS_RULE_BAD_RANGE,   /* -err on reads (and optionally writes) touching [start, end) */
	FFS_RULE_BITROT,      /* flip `bits` seeded bits of [start, end) in every read */
	FFS_RULE_DELAY,	      /* sleep delay_ns before each matching operation */
	FFS_RULE_FSYNC_ERRNO, /* the next `count` fsyncs of matching files fail with err */
};

enum ffs_op { FFS_OP_READ = 1, FFS_OP_WRITE = 2, FFS_OP_FSYNC = 4 };

struct ffs_rule {
	enum ffs_rule_kind kind;
	char glob[FFS_GLOB_MAX]; /* fnmatch(3) against the path from the mount root, "/a/b" */
	uint64_t start, end;	 /* byte range [start, end); end FFS_RANGE_END: to the end */
	unsigned ops;		 /* FFS_OP_* the rule applies to */
	int err;		 /* positive errno: bad ranges, fsync errors */
	uint32_t count;		 /* FSYNC_ERRNO: fires left */
	uint32_t bits;		 /* BITROT: bits flipped in the range */
	uint64_t seed;		 /* BITROT: which bits */
	int64_t delay_ns;	 /* DELAY */
	uint64_t hits;		 /* how often it fired */
};

struct ffs_rules {
	struct ffs_rule *v; /* owned */
	size_t n, cap;
};

/* Copies r into the table. -ENOMEM. */
int ffs_rules_add(struct ffs_rules *rules, const struct ffs_rule *r);
void ffs_rules_clear(struct ffs_rules *rules);
void ffs_rules_release(struct ffs_rules *rules);

/* Sets r->start/end to [off, off + len) widened to whole sectors of gran bytes (512 or
 * 4096). -EINVAL for another granularity, a zero length or an overflow. */
int ffs_rule_align(struct ffs_rule *r, uint64_t off, uint64_t len, uint32_t gran);

/* `sectors: random(N)`: fills out[0..n) with n distinct sector indexes of gran bytes below
 * span, chosen from seed (sorted). -EINVAL if span holds fewer than n sectors. */
int ffs_pick_sectors(uint64_t seed, uint32_t n, uint32_t gran, uint64_t span, uint64_t *out);

/* The first bad-range rule for op that overlaps [off, off + len) of path, with its hit
 * counted; NULL when none. */
const struct ffs_rule *ffs_rules_bad(struct ffs_rules *rules, const char *path, uint64_t off,
				     uint64_t len, unsigned op);
/* Applies every bit-rot rule of path to buf, which holds the file's bytes at off. Returns
 * the number of bits flipped. */
uint64_t ffs_rules_rot(struct ffs_rules *rules, const char *path, void *buf, uint64_t off,
		       size_t len);
/* The i-th flip of a bit-rot rule: byte position and bit number. Pure. */
void ffs_bitrot_flip(const struct ffs_rule *r, uint32_t i, uint64_t *pos, unsigned *bit);
/* Total delay of the rules for op on path, in ns. */
int64_t ffs_rules_delay(struct ffs_rules *rules, const char *path, unsigned op);
/* -errno if an fsync-errno rule fires for path (it is used up), else 0. */
int ffs_rules_fsync_errno(struct ffs_rules *rules, const char *path);
/* Whether any rule changes what reads return (a bad range for reads, bit rot): pages a
 * cache holds from before its arming or clearing would hide it or keep it. */
bool ffs_rules_act_on_reads(const struct ffs_rules *rules);
/* Whether a rule acts on reads of path (a bad range for reads, bit rot, a read delay): the
 * kernel must not serve its reads from pages cached before this open. */
bool ffs_rules_on_reads_of(const struct ffs_rules *rules, const char *path);

#endif
