/* The control commands of chaosdrill-faultfs: arm faults in the table, cut the power, rot
 * bits at rest, report status and stats. Each runs under the state's lock and reports what
 * it did as events. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/errname.h"
#include "common/crc32c.h"
#include "common/strbuf.h"
#include "faults/faultfs/faultfs.h"

static bool literal(const char *path)
{
	return path[0] == '/' && !strpbrk(path, "*?[");
}

static const char *const kind_names[] = {
	[FFS_RULE_BAD_RANGE] = "bad-range",
	[FFS_RULE_BITROT] = "bitrot",
	[FFS_RULE_DELAY] = "delay",
	[FFS_RULE_FSYNC_ERRNO] = "fsync-errno",
};

static int arm(struct faultfs *fs, const struct ffs_rule *r)
{
	int e = ffs_rules_add(&fs->rules, r);

	if (e == 0)
		faultfs_event(fs, "armed", r->glob,
			      "\"fault\":\"%s\",\"start\":%" PRIu64 ",\"end\":%" PRIu64
			      ",\"ops\":%u,\"errno\":%d,\"delay_ns\":%" PRId64,
			      kind_names[r->kind], r->start, r->end, r->ops, r->err, r->delay_ns);
	return e;
}

static int arm_random(struct faultfs *fs, const struct ffs_cmd *c, struct ffs_rule *r, char *reply,
		      size_t len)
{
	_cleanup_free_ uint64_t *idx = calloc(c->random_n, sizeof(*idx));
	uint64_t span = c->span;
	struct stat st;
	int e;

	if (!idx)
		return -ENOMEM;
	if (!(c->has & FFS_K_SPAN)) {
		if (!literal(c->path))
			return -EINVAL; /* a glob needs span= */
		if (fstatat(fs->backing_fd, faultfs_rel(c->path), &st, 0) < 0)
			return -errno;
		span = (uint64_t)st.st_size;
	}
	e = ffs_pick_sectors(c->seed, c->random_n, c->gran, span, idx);
	for (uint32_t i = 0; i < c->random_n && e == 0; i++) {
		e = ffs_rule_align(r, idx[i] * c->gran, c->gran, c->gran);
		if (e == 0)
			e = arm(fs, r);
	}
	if (e == 0)
		snprintf(reply, len, "ok ranges=%" PRIu32, c->random_n);
	return e;
}

static int cmd_bad_range(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	struct ffs_rule r = { .kind = FFS_RULE_BAD_RANGE, .ops = c->ops, .err = c->err };
	int e;

	snprintf(r.glob, sizeof(r.glob), "%s", c->path);
	if (c->has & FFS_K_SECTORS)
		return arm_random(fs, c, &r, reply, len);
	e = ffs_rule_align(&r, c->off, c->len, c->gran);
	if (e == 0)
		e = arm(fs, &r);
	if (e == 0)
		snprintf(reply, len, "ok ranges=1 start=%" PRIu64 " end=%" PRIu64, r.start, r.end);
	return e;
}

/* Bit rot at rest: the flips are written to the backing file (meant for a node that is
 * down; a cached copy of the sectors is not touched). */
static int rot_at_rest(struct faultfs *fs, const struct ffs_rule *r, char *reply, size_t len)
{
	_cleanup_close_ int fd = -1;
	uint32_t n = r->bits ? r->bits : 1, done = 0;

	if (!literal(r->glob))
		return -EINVAL;
	fd = openat(fs->backing_fd, faultfs_rel(r->glob), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (uint32_t i = 0; i < n && (uint64_t)i < (r->end - r->start) * 8; i++) {
		unsigned char b;
		uint64_t pos;
		unsigned bit;

		ffs_bitrot_flip(r, i, &pos, &bit);
		if (pread(fd, &b, 1, (off_t)pos) != 1)
			continue; /* past the end: nothing to rot */
		b ^= (unsigned char)(1u << bit);
		if (pwrite(fd, &b, 1, (off_t)pos) != 1)
			return -EIO;
		done++;
	}
	if (fsync(fd) < 0)
		return -errno;
	faultfs_event(fs, "bitrot-at-rest", r->glob,
		      "\"start\":%" PRIu64 ",\"end\":%" PRIu64 ",\"bits\":%" PRIu32, r->start,
		      r->end, done);
	snprintf(reply, len, "ok flipped=%" PRIu32, done);
	return 0;
}

static int cmd_bitrot(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	struct ffs_rule r = { .kind = FFS_RULE_BITROT,
			      .ops = FFS_OP_READ,
			      .start = c->off,
			      .bits = c->bits,
			      .seed = c->seed };
	int e;

	snprintf(r.glob, sizeof(r.glob), "%s", c->path);
	if (__builtin_add_overflow(c->off, c->len, &r.end) || r.end == FFS_RANGE_END)
		return -EINVAL;
	if (c->mode == FFS_ROT_REST)
		return rot_at_rest(fs, &r, reply, len);
	e = arm(fs, &r);
	if (e == 0)
		snprintf(reply, len, "ok");
	return e;
}

/* "0-3,7,9": the kept sectors of a file, for the event log. */
static void format_sectors(struct strbuf *sb, const uint64_t *idx, uint64_t n)
{
	for (uint64_t i = 0; i < n;) {
		uint64_t j = i;

		while (j + 1 < n && idx[j + 1] == idx[j] + 1)
			j++;
		strbuf_appendf(sb, "%s%" PRIu64, i ? "," : "", idx[i]);
		if (j > i)
			strbuf_appendf(sb, "-%" PRIu64, idx[j]);
		i = j + 1;
	}
}

/* The power cut's report and, for replay, a digest of the sectors it kept: CRC32C over
 * each file's name and its kept sector numbers (sorted, as the cache reports them). */
struct cut_report {
	struct faultfs *fs;
	uint32_t kept_crc;
};

static void report_cut_file(void *ctx, const struct ffs_cut_file *f)
{
	struct cut_report *cr = ctx;
	struct faultfs *fs = cr->fs;
	struct strbuf sb = STRBUF_INIT;

	cr->kept_crc = crc32c(cr->kept_crc, f->name, strlen(f->name) + 1);
	cr->kept_crc = crc32c(cr->kept_crc, f->kept_idx, f->kept * sizeof(*f->kept_idx));

	format_sectors(&sb, f->kept_idx, f->kept);
	faultfs_event(fs, "power-cut-file", f->name,
		      "\"dropped\":%" PRIu64 ",\"kept\":%" PRIu64 ",\"kept_sectors\":\"%s\"",
		      f->dropped, f->kept, sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

static int cmd_power_cut(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	uint64_t dropped = 0, kept = 0, undone = 0;
	struct cut_report cr = { fs, 0 };
	int e1, e2;

	e1 = ffs_cache_cut(fs->cache, c->keep, c->seed, report_cut_file, &cr, &dropped, &kept);
	e2 = faultfs_ns_cut(fs, &undone);
	fs->stats.power_cuts++;
	fs->stats.sectors_dropped += dropped;
	fs->stats.sectors_kept += kept;
	fs->stats.ns_undone += undone;
	faultfs_event(fs, "power-cut", NULL,
		      "\"keep\":\"%s\",\"seed\":%" PRIu64 ",\"dropped\":%" PRIu64
		      ",\"kept\":%" PRIu64 ",\"ns_undone\":%" PRIu64,
		      c->keep == FFS_KEEP_NONE ? "none" : "random-sectors", c->seed, dropped, kept,
		      undone);
	snprintf(reply, len,
		 "ok dropped=%" PRIu64 " kept=%" PRIu64 " ns_undone=%" PRIu64
		 " dropped_bytes=%" PRIu64 " kept_crc=%08x",
		 dropped, kept, undone, dropped * FFS_SECTOR, cr.kept_crc);
	return e1 < 0 ? e1 : e2;
}

static int cmd_delay(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	struct ffs_rule r = {
		.kind = FFS_RULE_DELAY, .ops = c->ops, .delay_ns = c->delay_ns, .end = FFS_RANGE_END
	};

	snprintf(r.glob, sizeof(r.glob), "%s", c->path);
	snprintf(reply, len, "ok");
	return arm(fs, &r);
}

static int cmd_fsync_errno(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	struct ffs_rule r = { .kind = FFS_RULE_FSYNC_ERRNO,
			      .ops = FFS_OP_FSYNC,
			      .err = c->err,
			      .count = c->count,
			      .end = FFS_RANGE_END };

	snprintf(r.glob, sizeof(r.glob), "%s", c->path);
	snprintf(reply, len, "ok");
	return arm(fs, &r);
}

static int cmd_status(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	uint64_t files, sectors;

	ffs_cache_counts(fs->cache, &files, &sectors);
	snprintf(reply, len,
		 "ok cache=%s dirty_files=%" PRIu64 " dirty_sectors=%" PRIu64
		 " pending_ns=%zu rules=%zu",
		 fs->opts.volatile_cache ? "volatile" : "passthrough", files, sectors,
		 ffs_journal_pending(fs->journal), fs->rules.n);
	return 0;
}

static int cmd_stats(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	const struct faultfs_stats *s = &fs->stats;

	snprintf(reply, len,
		 "ok reads=%" PRIu64 " writes=%" PRIu64 " fsyncs=%" PRIu64 " read_errors=%" PRIu64
		 " write_errors=%" PRIu64 " rot_reads=%" PRIu64 " rot_bits=%" PRIu64
		 " fsync_errors=%" PRIu64 " lost_sectors=%" PRIu64 " delays=%" PRIu64
		 " power_cuts=%" PRIu64 " sectors_dropped=%" PRIu64 " sectors_kept=%" PRIu64
		 " ns_undone=%" PRIu64 " ns_committed=%" PRIu64,
		 s->reads, s->writes, s->fsyncs, s->read_errors, s->write_errors, s->rot_reads,
		 s->rot_bits, s->fsync_errors, s->lost_sectors, s->delays, s->power_cuts,
		 s->sectors_dropped, s->sectors_kept, s->ns_undone, s->ns_committed);
	return 0;
}

static int cmd_clear(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len)
{
	faultfs_event(fs, "cleared", NULL, "\"rules\":%zu", fs->rules.n);
	ffs_rules_clear(&fs->rules);
	snprintf(reply, len, "ok");
	return 0;
}

typedef int (*cmd_fn)(struct faultfs *fs, const struct ffs_cmd *c, char *reply, size_t len);

static const cmd_fn handlers[FFS_CMD_COUNT] = {
	[FFS_CMD_ARM_BAD_RANGE] = cmd_bad_range,
	[FFS_CMD_BITROT] = cmd_bitrot,
	[FFS_CMD_POWER_CUT] = cmd_power_cut,
	[FFS_CMD_DELAY] = cmd_delay,
	[FFS_CMD_FSYNC_ERRNO] = cmd_fsync_errno,
	[FFS_CMD_STATUS] = cmd_status,
	[FFS_CMD_STATS] = cmd_stats,
	[FFS_CMD_CLEAR] = cmd_clear,
};

/* Before a command (outside the lock): pages still dirty in the kernel's writeback cache
 * were written before a power cut or bits rotting at rest, so they are written to us
 * first: the cut drops them, the flips land on them. */
static int before(struct faultfs *fs, const struct ffs_cmd *c)
{
	if (!fs->opts.writeback)
		return 0;
	if (c->kind == FFS_CMD_POWER_CUT)
		return faultfs_fuse_invalidate_open(fs, NULL);
	if (c->kind == FFS_CMD_BITROT && c->mode == FFS_ROT_REST)
		return faultfs_fuse_invalidate_open(fs, c->path);
	return 0;
}

/* Whether the command makes the kernel's cached pages hide something: a fault on reads
 * armed or cleared (delays included: a read served from the cache is never delayed), bits
 * rotted, a power cut. */
static bool stales_pages(const struct ffs_cmd *c, bool had_read_rules)
{
	switch (c->kind) {
	case FFS_CMD_POWER_CUT:
	case FFS_CMD_BITROT:
		return true;
	case FFS_CMD_ARM_BAD_RANGE:
	case FFS_CMD_DELAY:
		return c->ops & FFS_OP_READ;
	case FFS_CMD_CLEAR:
		return had_read_rules;
	default:
		return false;
	}
}

/* After a command (outside the lock), the kernel forgets what would hide its effect: pages
 * of open files cached before a fault on reads was armed or cleared, before bits rotted at
 * rest, before a power cut (files not open lose theirs at their next open: fs->keeps was
 * bumped); and with the writeback cache, after a cut, the file sizes it keeps itself. */
static int after(struct faultfs *fs, const struct ffs_cmd *c, bool had_read_rules)
{
	int r = 0;

	switch (c->kind) {
	case FFS_CMD_POWER_CUT:
		r = faultfs_fuse_invalidate_open(fs, NULL);
		if (fs->opts.writeback)
			faultfs_fuse_forget(fs);
		break;
	case FFS_CMD_ARM_BAD_RANGE:
	case FFS_CMD_DELAY:
		if (c->ops & FFS_OP_READ)
			r = faultfs_fuse_invalidate_open(fs, c->path);
		break;
	case FFS_CMD_BITROT:
		r = faultfs_fuse_invalidate_open(fs, c->path);
		break;
	case FFS_CMD_CLEAR:
		if (had_read_rules)
			r = faultfs_fuse_invalidate_open(fs, NULL);
		break;
	default:
		break;
	}
	return r;
}

void faultfs_exec(struct faultfs *fs, const char *line, char *reply, size_t len)
{
	struct ffs_cmd c;
	char msg[256];
	bool had_read_rules;
	int r = ffs_cmd_decode(line, &c, msg, sizeof(msg));

	if (r < 0) {
		snprintf(reply, len, "error EINVAL %s", msg);
		return;
	}
	if (c.kind == FFS_CMD_POWER_CUT && !fs->opts.volatile_cache) {
		snprintf(reply, len, "error EINVAL power-cut needs --cache volatile");
		return;
	}
	snprintf(reply, len, "ok");
	if (before(fs, &c) < 0) {
		snprintf(reply, len,
			 "error ENOMEM %s not done: the kernel's dirty pages could not "
			 "all be written first (out of memory)",
			 ffs_cmd_name(c.kind));
		return;
	}
	pthread_mutex_lock(&fs->lock);
	had_read_rules = ffs_rules_act_on_reads(&fs->rules);
	r = handlers[c.kind](fs, &c, reply, len);
	if (stales_pages(&c, had_read_rules))
		ffs_keeps_bump(fs->keeps); /* in the same hold: see handle_add_file */
	pthread_mutex_unlock(&fs->lock);
	if (r < 0) {
		snprintf(reply, len, "error %s %s failed: %s",
			 errname_str(-r) ? errname_str(-r) : "EIO", ffs_cmd_name(c.kind),
			 strerror(-r));
		return;
	}
	if (after(fs, &c, had_read_rules) < 0) {
		/* Done, but the kernel may serve some open file's reads from pages that hide it. */
		pthread_mutex_lock(&fs->lock);
		faultfs_event(fs, "invalidate-failed", NULL, "\"command\":\"%s\",\"errno\":%d",
			      ffs_cmd_name(c.kind), ENOMEM);
		pthread_mutex_unlock(&fs->lock);
		snprintf(reply, len,
			 "error ENOMEM %s done, but the kernel's cached pages of open "
			 "files could not all be dropped (out of memory)",
			 ffs_cmd_name(c.kind));
	}
}
