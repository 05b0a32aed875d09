/* Unit tests of kvlog's log library: framing, CRC, torn tails, truncation, rotation,
 * refusal of mid-log corruption (and skip_corrupt), the unsafe modes, fd hygiene. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/crc32c.h"
#include "targets/kvlog/kvlog_buf.h"
#include "targets/kvlog/kvlog_log.h"
#include "targets/kvlog/kvlog_store.h"

struct fixture {
	char dir[64];
	char path[128]; /* dir/txn.log */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/kvlog-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/txn.log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* Records collected by replay. */
struct seen {
	uint64_t n, last_seq;
	char last_val[64];
};

static int collect(void *ud, const struct kvlog_rec *rec)
{
	struct seen *s = ud;
	size_t n = rec->vlen < sizeof(s->last_val) - 1 ? rec->vlen : sizeof(s->last_val) - 1;

	s->n++;
	s->last_seq = rec->seq;
	memcpy(s->last_val, rec->val, n);
	s->last_val[n] = '\0';
	return 0;
}

/* Records from..to, one write(2) each, into dir opened with base's options. */
static void write_records_opts(const char *dir, const struct kvlog_opts *base, int from, int to)
{
	struct kvlog_opts o = *base;
	struct kvlog_replay st;
	struct kvlog *l = NULL;

	o.dir = dir;
	assert_int_equal(kvlog_open(&o, NULL, NULL, &st, &l), 0);
	for (int i = from; i <= to; i++) {
		char key[32], val[32];

		snprintf(key, sizeof(key), "key-%d", i);
		snprintf(val, sizeof(val), "value-%d", i);
		assert_int_equal(kvlog_append(l, (uint64_t)i, 1000 + i, key, strlen(key), val,
					      strlen(val)),
				 0);
		assert_int_equal(kvlog_write(l), 0);
	}
	assert_int_equal(kvlog_sync(l), 0);
	assert_int_equal(kvlog_synced_seq(l), (uint64_t)to);
	kvlog_free(l);
}

static void write_records(const char *dir, uint64_t max_size, int from, int to)
{
	write_records_opts(dir, &(struct kvlog_opts){ .max_size = max_size }, from, to);
}

static int replay(const char *dir, const struct kvlog_opts *base, struct seen *s,
		  struct kvlog_replay *st)
{
	struct kvlog_opts o = *base;
	struct kvlog *l = NULL;
	int r;

	o.dir = dir;
	memset(s, 0, sizeof(*s));
	r = kvlog_open(&o, collect, s, st, &l);
	kvlog_free(l);
	return r;
}

/* Offset of record i (1-based) in a file of records written by write_records(). */
static off_t record_offset(int i)
{
	off_t off = 0;

	for (int k = 1; k < i; k++) {
		char key[32], val[32];

		off += (off_t)kvlog_rec_size((size_t)snprintf(key, sizeof(key), "key-%d", k),
					     (size_t)snprintf(val, sizeof(val), "value-%d", k));
	}
	return off;
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_framing(void **state)
{
	unsigned char buf[128];
	struct kvlog_rec rec;
	size_t n = kvlog_rec_size(3, 5);

	assert_int_equal(n, KVLOG_HDR_SIZE + 8);
	kvlog_rec_encode(buf, 42, 123456789, "abc", 3, "v\0lue", 5);
	assert_memory_equal(buf, "KVL1", 4);
	assert_int_equal(kvlog_get_u32(buf + 8), 8);
	assert_int_equal(kvlog_get_u32(buf + 4), crc32c(0, buf + 8, n - 8));
	assert_int_equal(kvlog_rec_decode(buf, n, true, &rec), KVLOG_BAD_NONE);
	assert_int_equal(rec.seq, 42);
	assert_int_equal(rec.ts_ns, 123456789);
	assert_int_equal(rec.klen, 3);
	assert_memory_equal(rec.key, "abc", 3);
	assert_int_equal(rec.vlen, 5);
	assert_memory_equal(rec.val, "v\0lue", 5); /* binary-safe */
	assert_int_equal(rec.raw_len, n);
	/* every truncation is short, never valid */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(kvlog_rec_decode(buf, k, true, &rec), KVLOG_BAD_SHORT);
	buf[0] = 'X';
	assert_int_equal(kvlog_rec_decode(buf, n, true, &rec), KVLOG_BAD_MAGIC);
	buf[0] = 'K';
	kvlog_put_u32(buf + 8, KVLOG_MAX_VALUE + KVLOG_MAX_KEY + 1);
	assert_int_equal(kvlog_rec_decode(buf, n, true, &rec), KVLOG_BAD_LENGTH);
	kvlog_put_u32(buf + 8, 2); /* shorter than the key */
	assert_int_equal(kvlog_rec_decode(buf, n, true, &rec), KVLOG_BAD_LENGTH);
}

static void test_crc(void **state)
{
	unsigned char buf[128];
	struct kvlog_rec rec;
	size_t n = kvlog_rec_size(3, 5);

	for (size_t i = 4; i < n; i++) {
		kvlog_rec_encode(buf, 7, 1, "abc", 3, "value", 5);
		buf[i] ^= 0x01;
		/* a flipped length/type may fail earlier; anything else is a CRC mismatch */
		if (i >= 8 && i < 16)
			assert_int_not_equal(kvlog_rec_decode(buf, n, true, &rec), KVLOG_BAD_NONE);
		else
			assert_int_equal(kvlog_rec_decode(buf, n, true, &rec), KVLOG_BAD_CRC);
		if (i >= 16)
			assert_int_equal(kvlog_rec_decode(buf, n, false, &rec), KVLOG_BAD_NONE);
	}
}

static void test_append_replay(void **state)
{
	struct fixture *f = *state;
	struct kvlog_replay st;
	struct kvlog_opts o = {};
	struct seen s = { 0 };

	write_records(f->dir, 0, 1, 100);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 100);
	assert_int_equal(st.records, 100);
	assert_int_equal(st.last_seq, 100);
	assert_int_equal(st.last_ts_ns, 1100);
	assert_int_equal(st.bytes, (uint64_t)file_size(f->path));
	assert_int_equal(st.dropped_bytes, 0);
	assert_false(st.corrupt);
	assert_string_equal(s.last_val, "value-100");
	/* appending continues the sequence; a stale seq is refused */
	write_records(f->dir, 0, 101, 110);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 110);
}

static void test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = {};
	struct kvlog_replay st;
	struct seen s = { 0 };
	off_t full, cut;

	write_records(f->dir, 0, 1, 20);
	full = file_size(f->path);
	cut = record_offset(20) + 10; /* record 20 torn after 10 bytes */
	assert_int_equal(truncate(f->path, cut), 0);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 19);
	/* the 10th byte is the length's high byte, zero: zeros at the end are not data */
	assert_int_equal(st.dropped_bytes, 9);
	assert_int_equal(st.dropped_records, 1);
	assert_false(st.corrupt);
	assert_non_null(strstr(st.msg, "dropped"));
	assert_int_equal(file_size(f->path), record_offset(20)); /* truncated */
	/* the next replay is clean, and new records follow the last valid one */
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(st.dropped_bytes, 0);
	write_records(f->dir, 0, 20, 25);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 25);
	assert_true(full < file_size(f->path));
}

static void test_torn_tail_bad_crc(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = {};
	struct kvlog_replay st;
	struct seen s = { 0 };

	write_records(f->dir, 0, 1, 10);
	flip_byte(f->path, record_offset(10) + KVLOG_HDR_SIZE + 2); /* last record's key */
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(st.first_bad_reason, KVLOG_BAD_CRC);
	assert_int_equal(file_size(f->path), record_offset(10));
}

static void test_mid_log_corruption(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = {};
	struct kvlog_replay st;
	struct seen s = { 0 };
	off_t size;

	write_records(f->dir, 0, 1, 10);
	size = file_size(f->path);
	flip_byte(f->path, record_offset(4) + KVLOG_HDR_SIZE + 1);
	assert_int_equal(replay(f->dir, &o, &s, &st), -EBADMSG);
	assert_true(st.corrupt);
	assert_non_null(strstr(st.msg, "corrupt record at byte"));
	assert_non_null(strstr(st.msg, "--skip-corrupt"));
	assert_int_equal(file_size(f->path), size); /* nothing cut */
	/* validate counts without changing anything */
	assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
	assert_int_equal(st.records, 9);
	assert_int_equal(st.skipped_records, 1);
	assert_true(st.corrupt);
	/* skip_corrupt: replays the rest, says what it skipped */
	o.skip_corrupt = true;
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(s.last_seq, 10);
	assert_int_equal(st.skipped_records, 1);
	assert_int_equal(st.skipped_bytes, record_offset(5) - record_offset(4));
	assert_non_null(strstr(st.msg, "skipped 1 records"));
}

static void test_truncate(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = {};
	struct kvlog_replay st;
	struct seen s = { 0 };

	write_records(f->dir, 0, 1, 10);
	flip_byte(f->path, record_offset(6) + 20); /* inside seq */
	assert_int_equal(kvlog_truncate(f->dir, &st), 0);
	assert_int_equal(st.records, 5);
	assert_int_equal(st.first_bad_offset, record_offset(6));
	assert_int_equal(st.dropped_bytes, record_offset(11) - record_offset(6));
	assert_int_equal(file_size(f->path), record_offset(6));
	assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
	assert_int_equal(st.records, 5);
	assert_false(st.corrupt);
	assert_int_equal(st.dropped_bytes, 0);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.last_seq, 5);
}

/* Sealed segments (dropped = false) or set-aside ones (dropped = true) in dir. */
static int count_files(const char *dir, bool dropped)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "txn.log", 7) == 0 &&
		    (strstr(de->d_name, ".dropped") != NULL) == dropped &&
		    (dropped || strlen(de->d_name) > 7))
			n++;
	closedir(d);
	return n;
}

static int count_segments(const char *dir)
{
	return count_files(dir, false);
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .max_size = 1024 };
	struct kvlog_replay st;
	struct seen s = { 0 };
	char seg[160];
	uint64_t total = 0;

	write_records(f->dir, 1024, 1, 200);
	assert_true(count_segments(f->dir) >= 5);
	snprintf(seg, sizeof(seg), "%s/txn.log.000001", f->dir);
	assert_true(file_size(seg) >= 1024);
	assert_true(file_size(f->path) < 1024);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 200);
	assert_int_equal(s.last_seq, 200);
	assert_int_equal(st.segments, count_segments(f->dir) + 1);
	for (int i = 1; i <= count_segments(f->dir); i++) {
		snprintf(seg, sizeof(seg), "%s/txn.log.%06d", f->dir, i);
		total += (uint64_t)file_size(seg);
	}
	assert_int_equal(st.bytes, total + (uint64_t)file_size(f->path));
	/* corruption inside a sealed segment is never a torn tail */
	snprintf(seg, sizeof(seg), "%s/txn.log.000002", f->dir);
	assert_int_equal(truncate(seg, file_size(seg) - 3), 0);
	assert_int_equal(replay(f->dir, &o, &s, &st), -EBADMSG);
	assert_non_null(strstr(st.msg, "txn.log.000002"));
	/* kvlog_truncate cuts there and sets later segments (and txn.log) aside */
	{
		int sealed = count_segments(f->dir);

		assert_int_equal(kvlog_truncate(f->dir, &st), 0);
		assert_int_equal(count_segments(f->dir), 2);
		assert_int_equal(count_files(f->dir, true), sealed - 2 + 1);
	}
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_true(s.n > 0 && s.n < 200);
	assert_int_equal(s.last_seq, s.n);
}

static void test_unsafe_no_crc(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = {};
	struct kvlog_replay st;
	struct seen s = { 0 };

	write_records(f->dir, 0, 1, 10);
	/* rot in the last record's value: "value-10" -> "value-1p" */
	flip_byte(f->path, file_size(f->path) - 1);
	o.no_crc = true;
	assert_int_equal(kvlog_validate(f->dir, true, collect, &s, &st), 0);
	assert_int_equal(st.records, 10);
	assert_string_equal(s.last_val, "value-1p"); /* the rotted value is accepted */
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 10);
	assert_int_equal(st.dropped_bytes, 0);
	/* the safe replay drops it */
	o.no_crc = false;
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(st.first_bad_reason, KVLOG_BAD_CRC);
}

static void test_unsafe_no_truncate(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .no_truncate = true };
	struct kvlog_replay st;
	struct seen s = { 0 };
	off_t torn;

	write_records(f->dir, 0, 1, 10);
	torn = record_offset(10) + 7;
	assert_int_equal(truncate(f->path, torn), 0);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 9);
	assert_true(st.tail_kept);
	assert_int_equal(st.dropped_bytes, 7);
	assert_int_equal(file_size(f->path), torn); /* the torn tail stays */
	assert_non_null(strstr(st.msg, "kept"));
	/* ... and new records land after it, so the log is now corrupt mid-way */
	{
		struct kvlog *l = NULL;

		assert_int_equal(
			kvlog_open(&(struct kvlog_opts){ .dir = f->dir, .no_truncate = true }, NULL,
				   NULL, &st, &l),
			0);
		assert_int_equal(kvlog_append(l, 10, 1, "k", 1, "v", 1), 0);
		assert_int_equal(kvlog_write(l), 0);
		kvlog_free(l);
	}
	assert_int_equal(file_size(f->path), torn + (off_t)kvlog_rec_size(1, 1));
	o.no_truncate = false;
	assert_int_equal(replay(f->dir, &o, &s, &st), -EBADMSG);
}

static void zero_range(const char *path, off_t off, size_t n)
{
	static const char zeros[64];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0 && n <= sizeof(zeros));
	assert_int_equal(pwrite(fd, zeros, n, off), (ssize_t)n);
	close(fd);
}

static int last_byte(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char c = 0;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, file_size(path) - 1), 1);
	close(fd);
	return c;
}

static void test_prealloc_tail(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .prealloc = 4096 };
	/* the first write zero-filled 4096 bytes ahead of its record; the others fit */
	off_t size = record_offset(2) + 4096;
	struct kvlog_replay st;
	struct seen s = {};

	write_records_opts(f->dir, &o, 1, 20);
	assert_int_equal(file_size(f->path), size);
	assert_int_equal(last_byte(f->path), 0);
	/* the zeroed tail ends the log: clean for replay, validate, truncate and read_after */
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 20);
	assert_int_equal(st.bytes, record_offset(21));
	assert_int_equal(st.end_offset, record_offset(21));
	assert_int_equal(st.dropped_bytes, 0);
	assert_string_equal(st.msg, "");
	assert_int_equal(file_size(f->path), size); /* nothing cut */
	assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
	assert_int_equal(st.records, 20);
	assert_true(st.dropped_bytes == 0 && !st.corrupt);
	assert_int_equal(kvlog_truncate(f->dir, &st), 0);
	assert_int_equal(st.dropped_bytes, 0);
	assert_int_equal(file_size(f->path), size);
	memset(&s, 0, sizeof(s));
	assert_int_equal(kvlog_read_after(f->dir, 15, collect, &s), 0);
	assert_int_equal(s.n, 5);
	/* new records overwrite the zeros after the last one: the file does not grow */
	write_records_opts(f->dir, &o, 21, 30);
	assert_int_equal(file_size(f->path), size);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 30);
	assert_string_equal(s.last_val, "value-30");
	assert_int_equal(st.end_offset, record_offset(31));
}

/* Ten records in a zero-filled log, the last one torn: the end of its value never reached
 * the disk, "value-10" reads back "val\0\0\0\0\0". */
static void write_torn_tail(const struct fixture *f, const struct kvlog_opts *o)
{
	write_records_opts(f->dir, o, 1, 10);
	zero_range(f->path, record_offset(11) - 5, 5);
}

static void test_prealloc_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .prealloc = 4096 };
	struct kvlog_replay st;
	struct seen s = { 0 };

	write_torn_tail(f, &o);
	assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
	assert_int_equal(st.records, 9);
	assert_int_equal(st.dropped_records, 1);
	assert_int_equal(st.end_offset, record_offset(10));
	/* without CRCs the torn record is believed */
	assert_int_equal(kvlog_validate(f->dir, true, collect, &s, &st), 0);
	assert_int_equal(st.records, 10);
	assert_string_equal(s.last_val, "val");
	/* replay drops it (the zeros after it are not counted) and cuts the file there */
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(st.first_bad_reason, KVLOG_BAD_CRC);
	assert_int_equal(st.first_bad_offset, record_offset(10));
	assert_int_equal(st.dropped_records, 1);
	assert_int_equal(st.dropped_bytes, record_offset(11) - 5 - record_offset(10));
	assert_int_equal(file_size(f->path), record_offset(10));
	write_records_opts(f->dir, &o, 10, 12);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 12);
}

static void test_prealloc_no_truncate(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .prealloc = 4096, .no_truncate = true };
	struct kvlog_replay st;
	struct seen s = { 0 };
	off_t size;

	write_torn_tail(f, &o);
	size = file_size(f->path);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 9);
	assert_true(st.tail_kept);
	assert_int_equal(file_size(f->path), size);
	/* the next record goes after everything kept, the torn record stays mid-log */
	write_records_opts(f->dir, &o, 10, 10);
	assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
	assert_true(st.corrupt);
	assert_int_equal(st.records, 10);
	o.no_truncate = false;
	assert_int_equal(replay(f->dir, &o, &s, &st), -EBADMSG);
}

/* Zeros end the log only when nothing but zeros follows them. */
static void test_prealloc_zeros_then_data(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .prealloc = 4096 };
	off_t end = record_offset(11);
	struct kvlog_replay st;
	struct seen s = { 0 };

	write_records_opts(f->dir, &o, 1, 10);
	/* one non-zero byte deep in the zeroed tail: invalid data after the last record */
	flip_byte(f->path, end + 100);
	assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
	assert_int_equal(st.dropped_bytes, 101);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 10);
	assert_int_equal(st.first_bad_offset, end);
	assert_int_equal(file_size(f->path), end);
	/* a record read back as zeros, with records after it: corruption, not the end */
	write_records_opts(f->dir, &o, 11, 11);
	assert_true(file_size(f->path) > record_offset(12));
	zero_range(f->path, record_offset(4), (size_t)(record_offset(5) - record_offset(4)));
	assert_int_equal(replay(f->dir, &o, &s, &st), -EBADMSG);
	assert_true(st.corrupt);
	assert_int_equal(st.first_bad_offset, record_offset(4));
	o.skip_corrupt = true;
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 10);
	assert_int_equal(st.skipped_bytes, record_offset(5) - record_offset(4));
	assert_int_equal(st.end_offset, record_offset(12));
}

static void test_prealloc_rotation(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .max_size = 1024, .prealloc = 512 };
	struct kvlog_replay st;
	struct seen s = { 0 };
	char seg[160];
	uint64_t sealed = 0;
	int n;

	/* the first segment starts with a zeroed tail longer than the rotation size */
	write_records_opts(f->dir, &(struct kvlog_opts){ .prealloc = 4096 }, 1, 5);
	assert_true(file_size(f->path) > 4096);
	write_records_opts(f->dir, &o, 6, 200);
	n = count_segments(f->dir);
	assert_true(n >= 5);
	/* sealed segments end with their last record (cut before the rename) */
	for (int i = 1; i <= n; i++) {
		snprintf(seg, sizeof(seg), "%s/txn.log.%06d", f->dir, i);
		assert_int_not_equal(last_byte(seg), 0);
		sealed += (uint64_t)file_size(seg);
	}
	/* the zeroed tail never runs past the rotation size */
	assert_true(file_size(f->path) <= 1024);
	assert_int_equal(replay(f->dir, &o, &s, &st), 0);
	assert_int_equal(s.n, 200);
	assert_int_equal(st.bytes, sealed + st.end_offset);
	assert_true((off_t)st.end_offset < file_size(f->path));
}
static int stop_after_3(void *ud, const struct kvlog_rec *rec)
{
	uint64_t *seqs = ud;

	seqs[seqs[0] + 1] = rec->seq;
	return ++seqs[0] == 3 ? -ECANCELED : 0;
}

static void test_read_after(void **state)
{
	struct fixture *f = *state;
	uint64_t seqs[8] = { 0 };
	struct seen s = {};

	write_records(f->dir, 512, 1, 30);
	assert_int_equal(kvlog_read_after(f->dir, 25, collect, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.last_seq, 30);
	assert_int_equal(kvlog_read_after(f->dir, 10, stop_after_3, seqs), -ECANCELED);
	assert_int_equal(seqs[1], 11);
	assert_int_equal(seqs[3], 13);
}

static void test_append_errors(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .dir = f->dir };
	struct kvlog_replay st;
	struct kvlog *l = NULL;
	char key[KVLOG_MAX_KEY + 1];

	memset(key, 'k', sizeof(key));
	assert_int_equal(kvlog_open(&o, NULL, NULL, &st, &l), 0);
	assert_int_equal(kvlog_append(l, 1, 0, "", 0, "v", 1), -EINVAL);
	assert_int_equal(kvlog_append(l, 1, 0, key, sizeof(key), "v", 1), -EINVAL);
	assert_int_equal(kvlog_append(l, 1, 0, "k", 1, key, KVLOG_MAX_VALUE + 1), -E2BIG);
	assert_int_equal(kvlog_append(l, 1, 0, "k", 1, "v", 1), 0);
	assert_int_equal(kvlog_append(l, 1, 0, "k", 1, "v", 1), -EINVAL); /* seq not above */
	assert_int_equal(kvlog_pending(l), kvlog_rec_size(1, 1));
	assert_int_equal(kvlog_written_seq(l), 0);
	assert_int_equal(kvlog_write(l), 0);
	assert_int_equal(kvlog_written_seq(l), 1);
	assert_int_equal(kvlog_synced_seq(l), 0);
	assert_int_equal(kvlog_sync(l), 0);
	assert_int_equal(kvlog_synced_seq(l), 1);
	kvlog_free(l);
	kvlog_free(NULL);
}

static void test_no_fd_leak(void **state)
{
	struct fixture *f = *state;
	struct kvlog_opts o = { .max_size = 700 };
	struct kvlog_replay st;
	struct seen s = { 0 };
	int before;

	write_records(f->dir, 700, 1, 50);
	before = count_fds();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(replay(f->dir, &o, &s, &st), 0);
		assert_int_equal(kvlog_validate(f->dir, false, NULL, NULL, &st), 0);
		assert_int_equal(kvlog_read_after(f->dir, 10, collect, &s), 0);
	}
	assert_int_equal(count_fds(), before);
	/* failure paths too: refused corruption, missing directory */
	flip_byte(f->path, 40);
	assert_int_equal(replay(f->dir, &o, &s, &st), -EBADMSG);
	assert_int_equal(kvlog_validate("/nonexistent/kvlog", false, NULL, NULL, &st), -ENOENT);
	assert_int_equal(count_fds(), before);
}

static void test_store(void **state)
{
	struct kvlog_store *s = kvlog_store_new();
	const void *v;
	size_t vlen;
	char key[32];

	assert_non_null(s);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "k%d", i);

		assert_int_equal(kvlog_store_set(s, key, (size_t)n, key, (size_t)n), 0);
	}
	assert_int_equal(kvlog_store_set(s, "k7", 2, "x\0y", 3), 0);
	assert_int_equal(kvlog_store_count(s), 5000);
	assert_int_equal(kvlog_store_get(s, "k7", 2, &v, &vlen), 0);
	assert_int_equal(vlen, 3);
	assert_memory_equal(v, "x\0y", 3);
	assert_int_equal(kvlog_store_get(s, "k4999", 5, &v, &vlen), 0);
	assert_int_equal(kvlog_store_get(s, "nope", 4, &v, &vlen), -ENOENT);
	kvlog_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_crc),
		cmocka_unit_test_setup_teardown(test_append_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_bad_crc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mid_log_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_no_crc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_no_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_no_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_zeros_then_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prealloc_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fd_leak, setup, teardown),
		cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
