/* The fault table: which reads, writes and fsyncs a rule hits, and what it does to them. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "faults/faultfs/ffs_rules.h"

int ffs_rules_add(struct ffs_rules *rules, const struct ffs_rule *r)
{
	if (rules->n == rules->cap) {
		size_t cap = rules->cap ? rules->cap * 2 : 8;
		struct ffs_rule *v = realloc(rules->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rules->v = v;
		rules->cap = cap;
	}
	rules->v[rules->n++] = *r;
	return 0;
}

void ffs_rules_clear(struct ffs_rules *rules)
{
	rules->n = 0;
}

void ffs_rules_release(struct ffs_rules *rules)
{
	free(rules->v);
	*rules = (struct ffs_rules){ 0 };
}

int ffs_rule_align(struct ffs_rule *r, uint64_t off, uint64_t len, uint32_t gran)
{
	uint64_t end;

	if ((gran != 512 && gran != 4096) || len == 0)
		return -EINVAL;
	if (len == FFS_RANGE_END) {
		r->start = off / gran * gran;
		r->end = FFS_RANGE_END;
		return 0;
	}
	if (__builtin_add_overflow(off, len, &end) || end > FFS_RANGE_END - gran)
		return -EINVAL;
	r->start = off / gran * gran;
	r->end = (end + gran - 1) / gran * gran;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int ffs_pick_sectors(uint64_t seed, uint32_t n, uint32_t gran, uint64_t span, uint64_t *out)
{
	uint64_t total = gran ? span / gran : 0;
	uint64_t draw = 0;

	if (gran == 0 || total < n)
		return -EINVAL;
	/* Rejection of repeats: n is small next to most spans; when it is not, the loop still
	 * ends because total >= n. */
	for (uint32_t k = 0; k < n; draw++) {
		uint64_t s = rng_draw(seed, 0x5ec7, draw) % total;
		bool dup = false;

		for (uint32_t j = 0; j < k && !dup; j++)
			dup = out[j] == s;
		if (!dup)
			out[k++] = s;
	}
	qsort(out, n, sizeof(*out), cmp_u64);
	return 0;
}

static bool matches(const struct ffs_rule *r, enum ffs_rule_kind kind, const char *path,
		    unsigned op)
{
	return r->kind == kind && (r->ops & op) && path && fnmatch(r->glob, path, 0) == 0;
}

static bool overlaps(const struct ffs_rule *r, uint64_t off, uint64_t len)
{
	return len > 0 && off < r->end && off + len > r->start;
}

const struct ffs_rule *ffs_rules_bad(struct ffs_rules *rules, const char *path, uint64_t off,
				     uint64_t len, unsigned op)
{
	for (size_t i = 0; i < rules->n; i++) {
		struct ffs_rule *r = &rules->v[i];

		if (matches(r, FFS_RULE_BAD_RANGE, path, op) && overlaps(r, off, len)) {
			r->hits++;
			return r;
		}
	}
	return NULL;
}

void ffs_bitrot_flip(const struct ffs_rule *r, uint32_t i, uint64_t *pos, unsigned *bit)
{
	uint64_t total = (r->end - r->start) * 8, n = r->bits ? r->bits : 1;
	uint64_t b;

	if (n > total)
		n = total;
	/* Evenly spaced from a seeded base: distinct flips, so none undoes another. */
	b = (rng_draw(r->seed, r->start, 0) + (uint64_t)i * (total / n)) % total;
	*pos = r->start + b / 8;
	*bit = (unsigned)(b % 8);
}

static uint64_t rot_one(const struct ffs_rule *r, unsigned char *buf, uint64_t off, size_t len)
{
	uint64_t total = (r->end - r->start) * 8, n = r->bits ? r->bits : 1, flipped = 0;

	if (n > total)
		n = total;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pos;
		unsigned bit;

		ffs_bitrot_flip(r, i, &pos, &bit);
		if (pos >= off && pos < off + len) {
			buf[pos - off] ^= (unsigned char)(1u << bit);
			flipped++;
		}
	}
	return flipped;
}

uint64_t ffs_rules_rot(struct ffs_rules *rules, const char *path, void *buf, uint64_t off,
		       size_t len)
{
	uint64_t flipped = 0;

	for (size_t i = 0; i < rules->n; i++) {
		struct ffs_rule *r = &rules->v[i];
		uint64_t f;

		if (!matches(r, FFS_RULE_BITROT, path, FFS_OP_READ) || !overlaps(r, off, len) ||
		    r->end == FFS_RANGE_END)
			continue;
		f = rot_one(r, buf, off, len);
		if (f) {
			r->hits++;
			flipped += f;
		}
	}
	return flipped;
}

int64_t ffs_rules_delay(struct ffs_rules *rules, const char *path, unsigned op)
{
	int64_t total = 0;

	for (size_t i = 0; i < rules->n; i++) {
		struct ffs_rule *r = &rules->v[i];

		if (matches(r, FFS_RULE_DELAY, path, op)) {
			r->hits++;
			total += r->delay_ns;
		}
	}
	return total;
}

int ffs_rules_fsync_errno(struct ffs_rules *rules, const char *path)
{
	for (size_t i = 0; i < rules->n; i++) {
		struct ffs_rule *r = &rules->v[i];

		if (matches(r, FFS_RULE_FSYNC_ERRNO, path, FFS_OP_FSYNC) && r->count > 0) {
			r->count--;
			r->hits++;
			return -r->err;
		}
	}
	return 0;
}

bool ffs_rules_act_on_reads(const struct ffs_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++) {
		const struct ffs_rule *r = &rules->v[i];

		if ((r->kind == FFS_RULE_BAD_RANGE || r->kind == FFS_RULE_BITROT) &&
		    (r->ops & FFS_OP_READ))
			return true;
	}
	return false;
}

bool ffs_rules_on_reads_of(const struct ffs_rules *rules, const char *path)
{
	static const enum ffs_rule_kind kinds[] = { FFS_RULE_BAD_RANGE, FFS_RULE_BITROT,
						    FFS_RULE_DELAY };

	for (size_t i = 0; i < rules->n; i++)
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (matches(&rules->v[i], kinds[k], path, FFS_OP_READ))
				return true;
	return false;
}
