/* kvlog's transaction log: framing, segment scan (replay, validate, cut), appends. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/crc32c.h"
#include "common/fsutil.h"
#include "targets/kvlog/kvlog_buf.h"
#include "targets/kvlog/kvlog_log.h"
#include "targets/kvlog/kvlog_syncer.h"

struct kvlog {
	int dirfd;	       /* owned */
	int fd;		       /* owned: txn.log, positioned at the end of its records */
	uint64_t max_size;     /* rotation threshold */
	uint64_t prealloc;     /* zeroed bytes to keep ahead of the records */
	uint64_t active_size;  /* bytes in txn.log before its zeroed tail, kept garbage included */
	uint64_t file_size;    /* bytes in txn.log, zeroed tail included */
	uint32_t next_segment; /* number the next sealed segment gets */
	uint64_t bytes;	       /* logical bytes written */
	uint64_t last_seq, buf_last_seq, written_seq, synced_seq;
	struct kvlog_buf wbuf;	     /* owned: appended, not yet written */
	struct kvlog_syncer *syncer; /* owned, NULL until kvlog_sync_thread() */
};

enum scan_mode {
	SCAN_REPLAY,   /* truncate the torn tail (unless no_truncate), refuse corruption */
	SCAN_VALIDATE, /* change nothing, count past corruption */
	SCAN_CUT,      /* cut at the first invalid record */
	SCAN_READ,     /* stop quietly at the first invalid record */
};

struct scan {
	enum scan_mode mode;
	bool check_crc, skip_corrupt, no_truncate, eio_as_tail;
	kvlog_apply_fn apply;
	void *ud;
	struct kvlog_replay *st;
	uint64_t prev_seq;
	bool stop; /* SCAN_CUT/SCAN_READ hit invalid data: later segments are not read */
	size_t bad_lo, bad_hi; /* this segment's unreadable bytes (zeros in the buffer), or 0, 0 */
};

const char *kvlog_bad_name(enum kvlog_bad b)
{
	static const char *const names[] = {
		[KVLOG_BAD_NONE] = "valid",
		[KVLOG_BAD_SHORT] = "short record",
		[KVLOG_BAD_MAGIC] = "bad magic",
		[KVLOG_BAD_LENGTH] = "bad length",
		[KVLOG_BAD_CRC] = "CRC mismatch",
		[KVLOG_BAD_SEQ] = "sequence out of order",
		[KVLOG_BAD_UNREADABLE] = "unreadable: I/O error",
	};

	return (size_t)b < ARRAY_SIZE(names) ? names[b] : "unknown";
}

void kvlog_rec_encode(unsigned char *out, uint64_t seq, int64_t ts_ns, const char *key, size_t klen,
		      const void *val, size_t vlen)
{
	kvlog_put_u32(out, KVLOG_MAGIC);
	kvlog_put_u32(out + 8, (uint32_t)(klen + vlen));
	kvlog_put_u16(out + 12, KVLOG_REC_SET);
	kvlog_put_u16(out + 14, (uint16_t)klen);
	kvlog_put_u64(out + 16, seq);
	kvlog_put_u64(out + 24, (uint64_t)ts_ns);
	memcpy(out + KVLOG_HDR_SIZE, key, klen);
	if (vlen)
		memcpy(out + KVLOG_HDR_SIZE + klen, val, vlen);
	kvlog_put_u32(out + 4, crc32c(0, out + 8, KVLOG_HDR_SIZE - 8 + klen + vlen));
}

enum kvlog_bad kvlog_rec_decode(const unsigned char *p, size_t avail, bool check_crc,
				struct kvlog_rec *rec)
{
	uint32_t len;
	uint16_t klen;

	if (avail < KVLOG_HDR_SIZE)
		return avail >= 4 && kvlog_get_u32(p) != KVLOG_MAGIC ? KVLOG_BAD_MAGIC :
								       KVLOG_BAD_SHORT;
	if (kvlog_get_u32(p) != KVLOG_MAGIC)
		return KVLOG_BAD_MAGIC;
	len = kvlog_get_u32(p + 8);
	klen = kvlog_get_u16(p + 14);
	if (kvlog_get_u16(p + 12) != KVLOG_REC_SET || klen == 0 || klen > KVLOG_MAX_KEY ||
	    len < klen || len - klen > KVLOG_MAX_VALUE)
		return KVLOG_BAD_LENGTH;
	if (avail - KVLOG_HDR_SIZE < len)
		return KVLOG_BAD_SHORT;
	if (check_crc && crc32c(0, p + 8, KVLOG_HDR_SIZE - 8 + len) != kvlog_get_u32(p + 4))
		return KVLOG_BAD_CRC;
	rec->seq = kvlog_get_u64(p + 16);
	rec->ts_ns = (int64_t)kvlog_get_u64(p + 24);
	rec->key = (const char *)p + KVLOG_HDR_SIZE;
	rec->klen = klen;
	rec->val = p + KVLOG_HDR_SIZE + klen;
	rec->vlen = len - klen;
	rec->raw = p;
	rec->raw_len = KVLOG_HDR_SIZE + len;
	return KVLOG_BAD_NONE;
}

/* Does the record starting at p (its header, and its body as far as the header says)
 * touch the segment's unreadable bytes? base is the segment's first byte. */
static bool touches_unreadable(const struct scan *sc, const unsigned char *base,
			       const unsigned char *p, size_t avail)
{
	size_t off = (size_t)(p - base),
	       end = off + (avail < KVLOG_HDR_SIZE ? avail : KVLOG_HDR_SIZE);

	if (sc->bad_hi <= off)
		return false;
	if (end > sc->bad_lo)
		return true; /* the header itself */
	if (avail < KVLOG_HDR_SIZE || kvlog_get_u32(p) != KVLOG_MAGIC)
		return false; /* garbage before the bad bytes: judged as such */
	end = off + KVLOG_HDR_SIZE + kvlog_get_u32(p + 8);
	return end > sc->bad_lo;
}

/* Valid record at p, continuing the sequence after prev? Bytes that could not be read are
 * zeros in the buffer: a record touching them is unreadable, whatever its bytes say. */
static enum kvlog_bad check_at(const struct scan *sc, const unsigned char *base,
			       const unsigned char *p, size_t avail, uint64_t prev,
			       struct kvlog_rec *rec)
{
	enum kvlog_bad b;

	if (sc->bad_hi && touches_unreadable(sc, base, p, avail))
		return KVLOG_BAD_UNREADABLE;
	b = kvlog_rec_decode(p, avail, sc->check_crc, rec);
	if (b == KVLOG_BAD_NONE && rec->seq <= prev)
		return KVLOG_BAD_SEQ;
	return b;
}

/* Offset of the next valid record after off, or len when there is none. */
static size_t resync(const struct scan *sc, const unsigned char *p, size_t off, size_t len)
{
	static const unsigned char magic[4] = { 'K', 'V', 'L', '1' };
	struct kvlog_rec rec;

	for (size_t at = off + 1; at + KVLOG_HDR_SIZE <= len; at++) {
		const unsigned char *m = memmem(p + at, len - at, magic, sizeof(magic));

		if (!m)
			break;
		at = (size_t)(m - p);
		if (check_at(sc, p, m, len - at, sc->prev_seq, &rec) == KVLOG_BAD_NONE)
			return at;
	}
	return len;
}

/* Record headers (by magic) in p[0..len): the records a torn tail held, at least 1. */
static uint64_t count_magic(const unsigned char *p, size_t len)
{
	static const unsigned char magic[4] = { 'K', 'V', 'L', '1' };
	uint64_t n = 0;

	for (const unsigned char *m = p; (m = memmem(m, len - (size_t)(m - p), magic, 4)); m += 4)
		n++;
	return n ? n : 1;
}

/* Records skipped in p[off..nx): their headers, or, where the bytes were unreadable (no
 * headers to count), the gap in sequence numbers up to the next valid record. */
static uint64_t skipped_count(const struct scan *sc, const unsigned char *p, size_t off, size_t nx,
			      size_t len)
{
	uint64_t n = count_magic(p + off, nx - off);
	struct kvlog_rec rec;

	if (sc->bad_hi > off && nx < len &&
	    kvlog_rec_decode(p + nx, len - nx, false, &rec) == KVLOG_BAD_NONE &&
	    rec.seq - sc->prev_seq - 1 > n)
		n = rec.seq - sc->prev_seq - 1;
	return n;
}

/* Where p[off..len) stops holding data: the start of its run of trailing zero bytes (off
 * when they are all zero: a zeroed tail; len when the last byte is not zero). */
static size_t data_end(const unsigned char *p, size_t off, size_t len)
{
	static const unsigned char zeros[4096];

	while (len - off >= sizeof(zeros) &&
	       memcmp(p + len - sizeof(zeros), zeros, sizeof(zeros)) == 0)
		len -= sizeof(zeros);
	while (len > off && p[len - 1] == 0)
		len--;
	return len;
}

static void note_bad(struct scan *sc, const char *name, size_t off, enum kvlog_bad why)
{
	struct kvlog_replay *st = sc->st;

	if (st->dropped_bytes || st->corrupt)
		return; /* keep the first */
	snprintf(st->first_bad_file, sizeof(st->first_bad_file), "%s", name);
	st->first_bad_offset = off;
	st->first_bad_reason = why;
}

static void refuse_msg(struct scan *sc, const char *name, size_t off, size_t next,
		       enum kvlog_bad why)
{
	if (why == KVLOG_BAD_UNREADABLE || sc->bad_hi > off) {
		snprintf(sc->st->msg, sizeof(sc->st->msg),
			 "%s: bytes %zu..%zu cannot be read (I/O error: bad sectors?), from the "
			 "record at byte %zu on; refusing to replay: restore the log from a "
			 "replica, or cut it there with kvlog-check --truncate (losing every "
			 "record from byte %zu on, and every later segment)",
			 name, sc->bad_lo, sc->bad_hi, off, off);
		return;
	}
	snprintf(sc->st->msg, sizeof(sc->st->msg),
		 "%s: corrupt record at byte %zu (%s) followed by valid records (next at byte "
		 "%zu); refusing to replay: start with --skip-corrupt to skip it, or cut the "
		 "log with kvlog-check --truncate",
		 name, off, kvlog_bad_name(why), next);
}

static int cut_at(int fd, size_t off)
{
	if (ftruncate(fd, (off_t)off) < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Where scanning goes on after invalid data at off (len when nothing valid follows).
 * Unreadable bytes are passed over whole: records touching them cannot be judged. */
static size_t next_valid(const struct scan *sc, const unsigned char *p, size_t off, size_t len,
			 enum kvlog_bad why)
{
	if (why == KVLOG_BAD_UNREADABLE)
		return sc->eio_as_tail ? len : resync(sc, p, sc->bad_hi - 1, len);
	return resync(sc, p, off, len);
}

/* Invalid data at off, in a segment of len bytes whose data ends at end (zeros after it
 * are its zeroed tail): decides torn tail / corruption by mode; *next is where to go on.
 * Unknown bytes (unreadable, at or after off) are never a torn tail, nor part of a zeroed
 * one: records there may have been acknowledged (only the unsafe eio_as_tail believes
 * otherwise). */
static int on_invalid(struct scan *sc, int fd, const char *name, const unsigned char *p, size_t off,
		      size_t end, size_t len, bool is_last, enum kvlog_bad why, size_t *next)
{
	struct kvlog_replay *st = sc->st;
	bool unknown = sc->bad_hi > off && !sc->eio_as_tail;
	size_t nx = next_valid(sc, p, off, len, why);

	note_bad(sc, name, off, why);
	*next = end;
	if (sc->mode == SCAN_READ) {
		/* a reader (a replica's catch-up) must not take what it cannot read, or
		 * corruption with records after it, for the end of the log */
		sc->stop = true;
		if (why == KVLOG_BAD_UNREADABLE || unknown)
			return -EIO;
		return nx < len || !is_last ? -EBADMSG : 0;
	}
	if (sc->mode == SCAN_CUT) {
		sc->stop = true;
		st->dropped_bytes += end - off;
		st->dropped_records += count_magic(p + off, end - off);
		return cut_at(fd, off);
	}
	if (nx >= len && is_last && !unknown) {
		st->dropped_bytes += end - off;
		st->dropped_records += count_magic(p + off, end - off);
		if (sc->mode != SCAN_REPLAY)
			return 0;
		if (sc->no_truncate) {
			st->tail_kept = true;
			return 0;
		}
		return cut_at(fd, off);
	}
	st->corrupt = true;
	/* Skipping unreadable bytes with nothing valid after them would append new records
	 * over them, with sequence numbers the lost ones had: refused even under skip. */
	if (sc->mode == SCAN_REPLAY && (!sc->skip_corrupt || (unknown && nx >= len))) {
		refuse_msg(sc, name, off, nx, why);
		return -EBADMSG;
	}
	st->skipped_bytes += (nx < end ? nx : end) - off;
	st->skipped_records += skipped_count(sc, p, off, nx, len);
	*next = nx;
	return 0;
}

static int scan_records(struct scan *sc, int fd, const char *name, const unsigned char *p,
			size_t len, bool is_last)
{
	struct kvlog_replay *st = sc->st;
	size_t off = 0;
	int r;

	while (off < len && !sc->stop) {
		struct kvlog_rec rec;
		enum kvlog_bad b = check_at(sc, p, p + off, len - off, sc->prev_seq, &rec);
		size_t end;

		if (b != KVLOG_BAD_NONE) {
			/* Unreadable bytes read as zeros but held who knows what: the data may end
			 * no earlier than they do. Only the active segment has a zeroed tail
			 * (a sealed one was cut to its records). */
			end = data_end(p, off, len);
			if (sc->bad_hi > off && end < sc->bad_hi)
				end = sc->bad_hi;
			if (end == off && is_last)
				break; /* a zeroed tail: the segment ends here */
			if (end == off)
				end = len;
			r = on_invalid(sc, fd, name, p, off, end, len, is_last, b, &off);
			if (r < 0)
				return r;
			if (off >= end)
				break; /* a torn tail: the file may be cut, read no further */
			continue;
		}
		if (sc->apply) {
			r = sc->apply(sc->ud, &rec);
			if (r < 0)
				return r;
		}
		st->records++;
		st->bytes += rec.raw_len;
		st->last_seq = rec.seq;
		st->last_ts_ns = rec.ts_ns;
		sc->prev_seq = rec.seq;
		off += rec.raw_len;
		st->end_offset = off;
	}
	return 0;
}

/* Reads len bytes of fd into p. A bad sector fails read(2) with EIO (kvlog used to mmap
 * its segments: that turned the EIO into SIGBUS); past the first failure the file is read
 * in 4 KiB blocks, unreadable ones left as zeros, and [*lo, *hi) spans them (0, 0: none). */
static int load(int fd, unsigned char *p, size_t len, size_t *lo, size_t *hi)
{
	size_t off = 0;

	*lo = *hi = 0;
	while (off < len) {
		size_t want = *hi ? 4096 - off % 4096 : len - off;
		ssize_t n = pread(fd, p + off, want < len - off ? want : len - off, (off_t)off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ENODATA; /* shrank under us */
		if (errno == EINTR)
			continue;
		if (errno != EIO)
			return -errno;
		want = 4096 - off % 4096 < len - off ? 4096 - off % 4096 : len - off;
		memset(p + off, 0, want);
		if (!*hi)
			*lo = off;
		off += want;
		*hi = off;
	}
	return 0;
}

static int scan_segment(struct scan *sc, int dirfd, const char *name, bool is_last)
{
	bool writable = sc->mode == SCAN_REPLAY || sc->mode == SCAN_CUT;
	_cleanup_close_ int fd = -1;
	unsigned char *p;
	struct stat sb;
	size_t len;
	int r;

	fd = openat(dirfd, name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0)
		return -errno;
	sc->st->segments++;
	sc->st->end_offset = 0;
	len = (size_t)sb.st_size;
	if (len == 0)
		return 0;
	p = malloc(len);
	if (!p)
		return -ENOMEM;
	r = load(fd, p, len, &sc->bad_lo, &sc->bad_hi);
	if (r >= 0)
		r = scan_records(sc, fd, name, p, len, is_last);
	sc->bad_lo = sc->bad_hi = 0;
	free(p);
	return r;
}

/* "txn.log.NNNNNN" (digits only) -> NNNNNN. */
static bool parse_segment_name(const char *name, uint32_t *num)
{
	const char *p = name + strlen(KVLOG_ACTIVE) + 1;
	uint64_t v = 0;

	if (strncmp(name, KVLOG_ACTIVE ".", strlen(KVLOG_ACTIVE) + 1) != 0 || !*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > UINT32_MAX / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*num = (uint32_t)v;
	return v > 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sealed segment numbers in order (*nums: caller frees); *has_active: txn.log exists. */
static int list_segments(int dirfd, uint32_t **nums, size_t *n, bool *has_active)
{
	_cleanup_free_ uint32_t *v = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	int r = fs_opendirat(dirfd, ".", 0, &d);

	if (r < 0)
		return r;
	*has_active = false;
	while ((de = readdir(d))) {
		uint32_t num;

		if (strcmp(de->d_name, KVLOG_ACTIVE) == 0)
			*has_active = true;
		if (!parse_segment_name(de->d_name, &num))
			continue;
		if (cnt == cap) {
			uint32_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[cnt++] = num;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u32);
	*nums = TAKE_PTR(v);
	*n = cnt;
	return 0;
}

static void segment_name(char *buf, size_t len, uint32_t num)
{
	snprintf(buf, len, "%s.%06" PRIu32, KVLOG_ACTIVE, num);
}

/* After a cut: later segments are renamed NAME.dropped so replay no longer reads them. */
static int set_aside(struct scan *sc, int dirfd, const char *name)
{
	char to[64];
	struct stat sb;

	if (fstatat(dirfd, name, &sb, 0) == 0)
		sc->st->dropped_bytes += (uint64_t)sb.st_size;
	snprintf(to, sizeof(to), "%s.dropped", name);
	if (renameat(dirfd, name, dirfd, to) < 0)
		return -errno;
	return fsync(dirfd) < 0 ? -errno : 0;
}

static int scan_one(struct scan *sc, int dirfd, const char *name, bool is_last)
{
	if (sc->stop)
		return sc->mode == SCAN_CUT ? set_aside(sc, dirfd, name) : 0;
	return scan_segment(sc, dirfd, name, is_last);
}

static void summarize(struct kvlog_replay *st, const struct scan *sc)
{
	if (st->msg[0])
		return;
	if (st->corrupt)
		snprintf(st->msg, sizeof(st->msg),
			 "%s: corrupt record at byte %" PRIu64 " (%s)%s; skipped %" PRIu64
			 " records (%" PRIu64 " bytes)",
			 st->first_bad_file, st->first_bad_offset,
			 kvlog_bad_name(st->first_bad_reason),
			 st->first_bad_reason == KVLOG_BAD_UNREADABLE ?
				 "" :
				 " followed by valid records",
			 st->skipped_records, st->skipped_bytes);
	else if (st->dropped_bytes)
		snprintf(st->msg, sizeof(st->msg),
			 "%s: invalid tail at byte %" PRIu64 " (%s): %" PRIu64 " records, %" PRIu64
			 " bytes %s",
			 st->first_bad_file, st->first_bad_offset,
			 kvlog_bad_name(st->first_bad_reason), st->dropped_records,
			 st->dropped_bytes,
			 sc->mode == SCAN_VALIDATE ? "past the last valid record" :
			 st->tail_kept		   ? "kept (unsafe no-truncate)" :
						     "dropped (truncated)");
}

/* Scans every segment of dirfd in order; *max_num: highest sealed segment number. */
static int scan_dir(struct scan *sc, int dirfd, uint32_t *max_num)
{
	_cleanup_free_ uint32_t *nums = NULL;
	bool has_active = false;
	char name[64];
	size_t n = 0;
	int r;

	r = list_segments(dirfd, &nums, &n, &has_active);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		segment_name(name, sizeof(name), nums[i]);
		r = scan_one(sc, dirfd, name, i + 1 == n && !has_active);
		if (r < 0)
			return r;
	}
	if (has_active) {
		r = scan_one(sc, dirfd, KVLOG_ACTIVE, true);
		if (r < 0)
			return r;
	}
	if (max_num)
		*max_num = n ? nums[n - 1] : 0;
	summarize(sc->st, sc);
	return 0;
}

void kvlog_free(struct kvlog *l)
{
	if (!l)
		return;
	kvlog_syncer_free(l->syncer); /* before the fd it may be syncing is closed */
	if (l->fd >= 0)
		close(l->fd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	kvlog_buf_release(&l->wbuf);
	free(l);
}

DEFINE_CLEANUP_FUNC(struct kvlog, kvlog_free)

/* Opens txn.log (creating it) for writing at end, or past everything in it with
 * past_all (a torn tail kept by no_truncate). Not O_APPEND: with a zeroed tail the records
 * end before the end of the file. */
static int open_active(struct kvlog *l, uint64_t end, bool past_all)
{
	struct stat sb;

	l->fd = openat(l->dirfd, KVLOG_ACTIVE, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (l->fd < 0 || fstat(l->fd, &sb) < 0)
		return -errno;
	l->file_size = (uint64_t)sb.st_size;
	l->active_size = past_all || end > l->file_size ? l->file_size : end;
	if (lseek(l->fd, (off_t)l->active_size, SEEK_SET) < 0)
		return -errno;
	/* The directory entry of a new txn.log must be durable before anything in it. */
	return fsync(l->dirfd) < 0 ? -errno : 0;
}

int kvlog_open(const struct kvlog_opts *o, kvlog_apply_fn apply, void *ud, struct kvlog_replay *st,
	       struct kvlog **out)
{
	_cleanup_(kvlog_freep) struct kvlog *l = NULL;
	struct scan sc = {
		.mode = SCAN_REPLAY,
		.check_crc = !o->no_crc,
		.skip_corrupt = o->skip_corrupt,
		.no_truncate = o->no_truncate,
		.eio_as_tail = o->eio_as_tail,
		.apply = apply,
		.ud = ud,
		.st = st,
	};
	uint32_t max_num = 0;
	int r;

	memset(st, 0, sizeof(*st));
	r = fs_mkdir_p(o->dir, 0755);
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fd = -1;
	l->max_size = o->max_size ? o->max_size : KVLOG_DEFAULT_MAX_SIZE;
	l->prealloc = o->prealloc;
	l->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return -errno;
	r = scan_dir(&sc, l->dirfd, &max_num);
	if (r < 0)
		return r;
	l->next_segment = max_num + 1;
	/* txn.log, when it exists, was read last: end_offset is its own. */
	r = open_active(l, st->end_offset, st->tail_kept);
	if (r < 0)
		return r;
	l->last_seq = l->buf_last_seq = l->written_seq = l->synced_seq = st->last_seq;
	l->bytes = st->bytes;
	*out = TAKE_PTR(l);
	return 0;
}

int kvlog_append(struct kvlog *l, uint64_t seq, int64_t ts_ns, const char *key, size_t klen,
		 const void *val, size_t vlen)
{
	unsigned char *p;

	if (klen == 0 || klen > KVLOG_MAX_KEY || seq <= l->last_seq)
		return -EINVAL;
	if (vlen > KVLOG_MAX_VALUE)
		return -E2BIG;
	p = kvlog_buf_reserve(&l->wbuf, kvlog_rec_size(klen, vlen));
	if (!p)
		return -ENOMEM;
	kvlog_rec_encode(p, seq, ts_ns, key, klen, val, vlen);
	l->wbuf.len += kvlog_rec_size(klen, vlen);
	l->last_seq = l->buf_last_seq = seq;
	return 0;
}

int kvlog_append_raw(struct kvlog *l, const struct kvlog_rec *rec)
{
	int r;

	if (rec->seq <= l->last_seq)
		return -EINVAL;
	r = kvlog_buf_append(&l->wbuf, rec->raw, rec->raw_len);
	if (r < 0)
		return r;
	l->last_seq = l->buf_last_seq = rec->seq;
	return 0;
}

static void synced_to(struct kvlog *l, uint64_t seq)
{
	if (seq > l->synced_seq)
		l->synced_seq = seq;
}

/* Waits for the helper's sync in flight, if any, and takes its result. */
static int sync_wait(struct kvlog *l)
{
	uint64_t seq = 0;
	int r;

	if (!l->syncer)
		return 0;
	r = kvlog_syncer_wait(l->syncer, &seq);
	synced_to(l, seq);
	return r < 0 ? r : 0;
}

static int rotate(struct kvlog *l)
{
	char name[64];
	int fd, r;

	r = sync_wait(l); /* the helper may be syncing the fd closed below */
	if (r < 0)
		return r;
	/* A sealed segment ends with its last record: its zeroed tail goes first. */
	if (l->file_size > l->active_size && ftruncate(l->fd, (off_t)l->active_size) < 0)
		return -errno;
	if (fdatasync(l->fd) < 0)
		return -errno;
	l->synced_seq = l->written_seq;
	segment_name(name, sizeof(name), l->next_segment);
	if (renameat(l->dirfd, KVLOG_ACTIVE, l->dirfd, name) < 0)
		return -errno;
	l->next_segment++;
	fd = l->fd;
	l->fd = -1;
	close(fd);
	return open_active(l, 0, false);
}

/* Zero-fills txn.log ahead of n more bytes of records, prealloc bytes at a time, never
 * past max_size (the segment is sealed there). Best effort: on failure (a full disk) the
 * records are simply appended; a fill only makes their syncs cheaper. */
static void fill(struct kvlog *l, size_t n)
{
	static const unsigned char zeros[65536];
	uint64_t need = l->active_size + n, to = need + l->prealloc;

	if (!l->prealloc || need <= l->file_size || need >= l->max_size)
		return; /* they fit in the zeros, or they seal the segment */
	if (to > l->max_size)
		to = l->max_size;
	while (l->file_size < to) {
		size_t k = to - l->file_size < sizeof(zeros) ? (size_t)(to - l->file_size) :
							       sizeof(zeros);
		ssize_t w = pwrite(l->fd, zeros, k, (off_t)l->file_size);

		if (w <= 0)
			return;
		l->file_size += (uint64_t)w;
	}
}

int kvlog_write(struct kvlog *l)
{
	size_t n = kvlog_buf_size(&l->wbuf);
	int r;

	if (n == 0)
		return 0;
	fill(l, n);
	r = fs_write_full(l->fd, kvlog_buf_data(&l->wbuf), n);
	if (r < 0)
		return r;
	kvlog_buf_consume(&l->wbuf, n);
	l->active_size += n;
	if (l->active_size > l->file_size)
		l->file_size = l->active_size;
	l->bytes += n;
	l->written_seq = l->buf_last_seq;
	if (l->active_size >= l->max_size)
		return rotate(l);
	return 0;
}

int kvlog_sync(struct kvlog *l)
{
	uint64_t seq = l->written_seq;

	if (l->synced_seq >= seq)
		return 0;
	/* Concurrent with the helper's fdatasync, if one is in flight: both are fine. */
	if (fdatasync(l->fd) < 0)
		return -errno;
	synced_to(l, seq);
	return 0;
}

int kvlog_sync_thread(struct kvlog *l)
{
	int r;

	if (!l->syncer) {
		r = kvlog_syncer_new(&l->syncer);
		if (r < 0)
			return r;
	}
	return kvlog_syncer_fd(l->syncer);
}

int kvlog_sync_begin(struct kvlog *l)
{
	if (!l->syncer)
		return -EINVAL;
	if (l->written_seq <= l->synced_seq)
		return 0;
	/* It covers what write(2) returned for so far: written_seq, and nothing later. */
	kvlog_syncer_request(l->syncer, l->fd, l->written_seq);
	return 1;
}

int kvlog_sync_end(struct kvlog *l)
{
	uint64_t seq = 0;
	int r;

	if (!l->syncer)
		return 0;
	r = kvlog_syncer_reap(l->syncer, &seq);
	synced_to(l, seq);
	return r;
}

bool kvlog_sync_in_flight(const struct kvlog *l)
{
	return l->syncer && kvlog_syncer_busy(l->syncer);
}

uint64_t kvlog_last_seq(const struct kvlog *l)
{
	return l->last_seq;
}

uint64_t kvlog_written_seq(const struct kvlog *l)
{
	return l->written_seq;
}

uint64_t kvlog_synced_seq(const struct kvlog *l)
{
	return l->synced_seq;
}

uint64_t kvlog_bytes(const struct kvlog *l)
{
	return l->bytes;
}

size_t kvlog_pending(const struct kvlog *l)
{
	return kvlog_buf_size(&l->wbuf);
}

static int scan_path(const char *dir, struct scan *sc)
{
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	memset(sc->st, 0, sizeof(*sc->st));
	if (dirfd < 0)
		return -errno;
	return scan_dir(sc, dirfd, NULL);
}

int kvlog_validate(const char *dir, bool no_crc, kvlog_apply_fn apply, void *ud,
		   struct kvlog_replay *st)
{
	struct scan sc = {
		.mode = SCAN_VALIDATE,
		.check_crc = !no_crc,
		.apply = apply,
		.ud = ud,
		.st = st,
	};

	return scan_path(dir, &sc);
}

int kvlog_truncate(const char *dir, struct kvlog_replay *st)
{
	struct scan sc = { .mode = SCAN_CUT, .check_crc = true, .st = st };

	return scan_path(dir, &sc);
}

struct after {
	uint64_t after_seq;
	kvlog_apply_fn cb;
	void *ud;
};

static int filter_after(void *ud, const struct kvlog_rec *rec)
{
	struct after *a = ud;

	return rec->seq > a->after_seq ? a->cb(a->ud, rec) : 0;
}

int kvlog_read_after(const char *dir, uint64_t after_seq, kvlog_apply_fn cb, void *ud)
{
	struct kvlog_replay st;
	struct after a = { .after_seq = after_seq, .cb = cb, .ud = ud };
	struct scan sc = {
		.mode = SCAN_READ,
		.check_crc = true,
		.apply = filter_after,
		.ud = &a,
		.st = &st,
	};

	return scan_path(dir, &sc);
}
