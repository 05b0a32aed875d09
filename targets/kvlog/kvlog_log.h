/* kvlog's transaction log: CRC32C-framed records appended under a data directory,
 * rotated into numbered segments, replayed on start with torn-tail truncation.
 *
 * Usage:
 *   struct kvlog_opts o = { .dir = "data", .max_size = 64 << 20 };
 *   struct kvlog_replay st;  struct kvlog *l;
 *   r = kvlog_open(&o, apply, ud, &st, &l);     // replays every valid record into apply()
 *   if (r == -EBADMSG) st.msg says where the log is corrupt (refused without skip_corrupt)
 *   kvlog_append(l, seq, ts, key, klen, val, vlen);  // buffered in memory
 *   kvlog_write(l);  kvlog_sync(l);                 // write(2), then fdatasync(2)
 *   kvlog_free(l);
 *
 * Group commit (the server's --sync batch): fdatasync(2) on a helper thread while the
 * caller goes on appending and writing:
 *   efd = kvlog_sync_thread(l);   // once; efd becomes readable when a sync has returned
 *   kvlog_write(l);  kvlog_sync_begin(l);     // covers kvlog_written_seq() as of now
 *   ... the helper syncs back to back, each fdatasync covering every begin before it
 *   ... append, write more; efd readable ...
 *   kvlog_sync_end(l);                        // now kvlog_synced_seq() includes it
 *
 * Record (little-endian; 32-byte header, then key, then value):
 *   u32 magic "KVL1" | u32 crc | u32 len (= klen + vlen) | u16 type (1 = set) | u16 klen
 *   | u64 seq | u64 timestamp (CLOCK_REALTIME ns) | key | value
 *   crc = CRC32C of every byte after the crc field (len .. end of value).
 * A record is valid when it is complete, its magic, type and lengths are in range, its CRC
 * matches and its seq is greater than the previous record's.
 *
 * Directory: DIR/txn.log is the active segment; once it reaches max_size it is fsynced and
 * renamed DIR/txn.log.NNNNNN (000001, 000002, ... in log order) and a new txn.log begins.
 * Records never span segments. Replay reads the numbered segments in order, then txn.log.
 *
 * Zeroed tail: with opts.prealloc, txn.log is kept zero-filled (written zeros, not
 * fallocate) ahead of its records, and records overwrite the zeros. An fdatasync(2) of
 * an overwrite inside the file size needs no inode write for i_size, which makes it about
 * a third cheaper (~100 us against ~150 us for an append on these virtio disks). So a
 * segment ends at the first record boundary from which every byte to the end of the file
 * is zero: the zeros are free space, not data. Zeros followed by anything else are invalid
 * data like any other. A rotated segment is cut to its records before it is renamed.
 *
 * Invalid data: in the last segment, invalid bytes with no valid record after them are a
 * torn tail (a crash mid-append): replay truncates them (and the zeroed tail after them)
 * and reports the bytes and records dropped, the zeroed tail not counted. Invalid data followed by any valid record (or anywhere in a sealed segment) is
 * mid-log corruption: replay refuses with -EBADMSG, or with skip_corrupt skips to the next
 * valid record and counts what it skipped (the bytes stay on disk; kvlog-check still
 * reports them). Never silently.
 *
 * All functions return >= 0 or -errno. The library never prints.
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_LOG_H
#define CHAOSDRILL_TARGETS_KVLOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVLOG_MAGIC 0x314c564bu /* "KVL1" on disk */
#define KVLOG_HDR_SIZE 32
#define KVLOG_MAX_KEY 1024
#define KVLOG_MAX_VALUE (1024 * 1024)
#define KVLOG_REC_SET 1
#define KVLOG_DEFAULT_MAX_SIZE (64ULL << 20)
#define KVLOG_ACTIVE "txn.log"

/* A decoded record: a view into a buffer owned by whoever decoded it. */
struct kvlog_rec {
	uint64_t seq;
	int64_t ts_ns;
	const char *key; /* not NUL-terminated */
	size_t klen;
	const void *val;
	size_t vlen;
	const unsigned char *raw; /* the whole framed record */
	size_t raw_len;
};

enum kvlog_bad {
	KVLOG_BAD_NONE,
	KVLOG_BAD_SHORT, /* fewer bytes than the header or the length says */
	KVLOG_BAD_MAGIC,
	KVLOG_BAD_LENGTH, /* length, key length or type out of range */
	KVLOG_BAD_CRC,
	KVLOG_BAD_SEQ,	      /* seq not above the previous record's */
	KVLOG_BAD_UNREADABLE, /* reading its bytes failed with EIO: a bad sector */
};

const char *kvlog_bad_name(enum kvlog_bad b);

/* Framing, exposed for the replication stream and the tests. */
static inline size_t kvlog_rec_size(size_t klen, size_t vlen)
{
	return KVLOG_HDR_SIZE + klen + vlen;
}
/* Writes the record into out (kvlog_rec_size() bytes). */
void kvlog_rec_encode(unsigned char *out, uint64_t seq, int64_t ts_ns, const char *key, size_t klen,
		      const void *val, size_t vlen);
/* Decodes the record at p (avail bytes there); rec points into p. */
enum kvlog_bad kvlog_rec_decode(const unsigned char *p, size_t avail, bool check_crc,
				struct kvlog_rec *rec);

struct kvlog_opts {
	const char *dir;   /* borrowed for kvlog_open only */
	uint64_t max_size; /* rotate the active segment at this size; 0 = default (64 MiB) */
	bool skip_corrupt; /* skip mid-log corruption (counted) instead of refusing */
	bool no_crc;	   /* UNSAFE: replay accepts records without checking their CRC */
	bool no_truncate;  /* UNSAFE: replay keeps a torn tail and appends after it (after
			    * the end of the file, zeroed tail included) */
	bool eio_as_tail;  /* UNSAFE: replay takes unreadable bytes for a torn tail and cuts
			    * the log there, losing every record behind them */
	uint64_t prealloc; /* keep this many zeroed bytes ahead of txn.log's records; 0 = none */
};

/* What a scan found. Filled by kvlog_open, kvlog_validate and kvlog_truncate. */
struct kvlog_replay {
	uint64_t records;    /* valid records */
	uint64_t bytes;	     /* bytes of valid records: the logical log position */
	uint64_t end_offset; /* in the last segment read: the end of its last valid record */
	uint64_t last_seq;
	int64_t last_ts_ns;
	unsigned int segments;
	uint64_t dropped_records; /* torn tail (truncated, or kept under no_truncate) */
	uint64_t dropped_bytes;
	bool tail_kept;		  /* no_truncate kept the torn tail */
	uint64_t skipped_records; /* mid-log corruption (skip_corrupt or validate) */
	uint64_t skipped_bytes;
	bool corrupt;		   /* mid-log corruption seen */
	uint64_t first_bad_offset; /* in first_bad_file; valid when dropped or corrupt */
	char first_bad_file[32];
	enum kvlog_bad first_bad_reason;
	char msg[512]; /* one line about the first problem; "" when clean */
};

/* Called once per valid record, in log order; rec is valid for the call only.
 * A negative return stops the scan with that error. */
typedef int (*kvlog_apply_fn)(void *ud, const struct kvlog_rec *rec);

struct kvlog;

/* Creates dir if needed, replays it through apply (may be NULL), truncates a torn tail
 * and opens txn.log for appending. *out: caller frees with kvlog_free(). st: filled even
 * on failure. -EBADMSG: mid-log corruption refused. */
int kvlog_open(const struct kvlog_opts *o, kvlog_apply_fn apply, void *ud, struct kvlog_replay *st,
	       struct kvlog **out);
void kvlog_free(struct kvlog *l); /* accepts NULL; does not write pending records */

/* Buffers one record (seq must be above kvlog_last_seq()). -EINVAL/-E2BIG on bad sizes. */
int kvlog_append(struct kvlog *l, uint64_t seq, int64_t ts_ns, const char *key, size_t klen,
		 const void *val, size_t vlen);
/* Buffers an already framed record (a replication stream's), rec->raw unchanged. */
int kvlog_append_raw(struct kvlog *l, const struct kvlog_rec *rec);
/* Writes the buffered records to txn.log (one write(2) at the end of its records, after
 * zero-filling ahead of them with prealloc), rotating past max_size. */
int kvlog_write(struct kvlog *l);
/* fdatasync(2) of txn.log when something written is not yet synced. */
int kvlog_sync(struct kvlog *l);

/* Starts the group-commit helper thread (once). Returns its event fd (owned by l), which
 * is readable when a sync asked for by kvlog_sync_begin() has returned, or -errno. */
int kvlog_sync_thread(struct kvlog *l);
/* Asks the helper to fdatasync(2) everything written so far: at once when it is idle,
 * else right after the sync in flight returns (one sync for every begin meanwhile).
 * 1 asked; 0 when everything written is synced; -EINVAL without the thread. */
int kvlog_sync_begin(struct kvlog *l);
/* Takes the helper's finished syncs: 1 kvlog_synced_seq() advanced to what they covered,
 * 0 none finished (in flight, or none begun), -errno an fdatasync failed. Never blocks. */
int kvlog_sync_end(struct kvlog *l);
bool kvlog_sync_in_flight(const struct kvlog *l); /* begun, not ended */

uint64_t kvlog_last_seq(const struct kvlog *l);	   /* last appended (maybe buffered) */
uint64_t kvlog_written_seq(const struct kvlog *l); /* last handed to write(2) */
uint64_t kvlog_synced_seq(const struct kvlog *l);  /* last made durable */
uint64_t kvlog_bytes(const struct kvlog *l);	   /* logical bytes written */
size_t kvlog_pending(const struct kvlog *l);	   /* bytes buffered, not written */

/* Read-only check of dir: counts valid and invalid records without changing anything
 * (continues past corruption). Returns 0 (st says whether it is clean) or -errno. */
int kvlog_validate(const char *dir, bool no_crc, kvlog_apply_fn apply, void *ud,
		   struct kvlog_replay *st);
/* Cuts the log at its first invalid record: that segment is truncated there and later
 * segments are renamed NAME.dropped (kept, but no longer replayed). */
int kvlog_truncate(const char *dir, struct kvlog_replay *st);
/* Calls cb for every record with seq > after_seq, stopping at the first invalid one. */
int kvlog_read_after(const char *dir, uint64_t after_seq, kvlog_apply_fn cb, void *ud);

#endif
