/* Unit tests of the volatile cache model: what reads see, what fsync makes durable, what a
 * power cut drops or keeps (deterministically from its seed). Backing files are memfds. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "faults/faultfs/ffs_cache.h"

static const struct ffs_key K1 = { 1, 10 };

static int backing(const char *content)
{
	int fd = memfd_create("backing", MFD_CLOEXEC);

	assert_true(fd >= 0);
	if (content)
		assert_int_equal(pwrite(fd, content, strlen(content), 0), (ssize_t)strlen(content));
	return fd;
}

static off_t size_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_size;
}

static void test_write_stays_in_cache(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing("old-data");
	char buf[32] = { 0 };
	uint64_t size;

	assert_int_equal(ffs_cache_write(c, K1, fd, "/f", "NEW", 3, 0), 3);
	/* The backing file is untouched, the cache shows the write. */
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 8);
	assert_string_equal(buf, "old-data");
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ffs_cache_read(c, K1, fd, buf, sizeof(buf), 0), 8);
	assert_string_equal(buf, "NEW-data");
	assert_int_equal(ffs_cache_size(c, K1, &size), 1);
	assert_int_equal(size, 8);
	ffs_cache_free(c);
}

static void test_sync_makes_durable(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing("0123456789");
	char buf[32] = { 0 };
	uint64_t files, secs;

	/* A write past the end leaves a hole of zeros; fsync writes it all. */
	assert_int_equal(ffs_cache_write(c, K1, fd, "/f", "xy", 2, 1000), 2);
	assert_int_equal(ffs_cache_write(c, K1, fd, "/f", "AB", 2, 2), 2);
	ffs_cache_counts(c, &files, &secs);
	assert_int_equal(files, 1);
	assert_int_equal(secs, 2);
	assert_int_equal(ffs_cache_sync(c, K1, true), 0);
	ffs_cache_counts(c, &files, &secs);
	assert_int_equal(files, 0);
	assert_int_equal(size_of(fd), 1002);
	assert_int_equal(pread(fd, buf, 10, 0), 10);
	assert_string_equal(buf, "01AB456789");
	assert_int_equal(pread(fd, buf, 4, 998), 4);
	assert_memory_equal(buf, "\0\0xy", 4);
	ffs_cache_free(c);
}

static void test_cut_drops_unsynced(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing("durable");
	uint64_t dropped, kept;
	char buf[32] = { 0 };

	assert_int_equal(ffs_cache_write(c, K1, fd, "/f", "lost-lost-lost", 14, 0), 14);
	assert_int_equal(ffs_cache_truncate(c, K1, fd, "/f", 3), 0);
	assert_int_equal(ffs_cache_cut(c, FFS_KEEP_NONE, 1, NULL, NULL, &dropped, &kept), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(kept, 0);
	assert_int_equal(ffs_cache_read(c, K1, fd, buf, sizeof(buf), 0), 7);
	assert_string_equal(buf, "durable");
	assert_int_equal(size_of(fd), 7);
	ffs_cache_free(c);
}

static void test_truncate_then_grow_reads_zeros(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing("abcdefghij");
	char buf[16];

	assert_int_equal(ffs_cache_truncate(c, K1, fd, "/f", 4), 0);
	assert_int_equal(ffs_cache_write(c, K1, fd, "/f", "Z", 1, 7), 1);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(ffs_cache_read(c, K1, fd, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "abcd\0\0\0Z", 8);
	assert_int_equal(ffs_cache_sync(c, K1, false), 0);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "abcd\0\0\0Z", 8);
	ffs_cache_free(c);
}

struct kept_log {
	uint64_t n;
	uint64_t idx[64];
};

static void log_kept(void *ctx, const struct ffs_cut_file *f)
{
	struct kept_log *l = ctx;

	assert_string_equal(f->name, "/torn");
	for (uint64_t i = 0; i < f->kept && l->n < 64; i++)
		l->idx[l->n++] = f->kept_idx[i];
}

/* 64 sectors of 'N' over 64 sectors of 'o', cut with keep=random-sectors. */
static void torn_run(uint64_t ino, uint64_t seed, struct kept_log *l)
{
	struct ffs_cache *c = ffs_cache_new();
	struct ffs_key key = { 1, ino };
	_cleanup_free_ char *buf = malloc(64 * FFS_SECTOR);
	_cleanup_close_ int fd = backing(NULL);
	uint64_t dropped, kept;

	memset(buf, 'o', 64 * FFS_SECTOR);
	assert_int_equal(pwrite(fd, buf, 64 * FFS_SECTOR, 0), 64 * FFS_SECTOR);
	memset(buf, 'N', 64 * FFS_SECTOR);
	assert_int_equal(ffs_cache_write(c, key, fd, "/torn", buf, 64 * FFS_SECTOR, 0),
			 64 * FFS_SECTOR);
	*l = (struct kept_log){ 0 };
	assert_int_equal(
		ffs_cache_cut(c, FFS_KEEP_RANDOM_SECTORS, seed, log_kept, l, &dropped, &kept), 0);
	assert_int_equal(dropped + kept, 64);
	assert_int_equal(kept, l->n);
	/* Kept ones are torn in, the rest kept their old content, each sector whole. */
	assert_int_equal(pread(fd, buf, 64 * FFS_SECTOR, 0), 64 * FFS_SECTOR);
	for (uint64_t s = 0, k = 0; s < 64; s++) {
		bool is_kept = k < l->n && l->idx[k] == s;

		k += is_kept;
		assert_int_equal(is_kept, ffs_cut_keeps(seed, "/torn", s));
		for (size_t b = 0; b < FFS_SECTOR; b++)
			assert_int_equal(buf[s * FFS_SECTOR + b], is_kept ? 'N' : 'o');
	}
	ffs_cache_free(c);
}

static void test_cut_random_sectors_seeded(void **state)
{
	struct kept_log a, b, d;

	torn_run(10, 7, &a);
	torn_run(99, 7, &b); /* another inode, same name and seed: the same sectors */
	torn_run(10, 8, &d);
	assert_true(a.n > 0 && a.n < 64);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.idx, b.idx, a.n * sizeof(a.idx[0]));
	assert_true(a.n != d.n || memcmp(a.idx, d.idx, a.n * sizeof(a.idx[0])) != 0);
}

/* Replay is a promise: which unsynced sectors a power cut keeps is pinned for seed 9, as it
 * was drawn when pinned. A change here breaks every recorded drill's replay. */
static void test_cut_keeps_pinned(void **state)
{
	char got[17] = { 0 };

	for (uint64_t i = 0; i < 16; i++)
		got[i] = ffs_cut_keeps(9, "/txn.log", i) ? '1' : '0';
	assert_string_equal(got, "0001101010001001");
}

static void test_failed_fsync_loses_data(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing("aaaa");
	uint64_t dropped, kept;
	char buf[8] = { 0 };

	assert_int_equal(ffs_cache_write(c, K1, fd, "/f", "bb", 2, 0), 2);
	assert_int_equal(ffs_cache_fail_sync(c, K1), 1);
	/* Still readable (clean in the page cache), never written by the next fsync. */
	assert_int_equal(ffs_cache_read(c, K1, fd, buf, 4, 0), 4);
	assert_string_equal(buf, "bbaa");
	assert_int_equal(ffs_cache_sync(c, K1, false), 0);
	assert_int_equal(pread(fd, buf, 4, 0), 4);
	assert_string_equal(buf, "aaaa");
	assert_int_equal(ffs_cache_cut(c, FFS_KEEP_RANDOM_SECTORS, 3, NULL, NULL, &dropped, &kept),
			 0);
	assert_int_equal(kept, 0);
	assert_int_equal(dropped, 1);
	ffs_cache_free(c);
}

/* A write whose read of the backing file fails (a partial sector at each end, whole ones
 * between) leaves nothing behind: reads still see the backing file. */
static void test_failed_write_changes_nothing(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing(NULL), wo = -1;
	char path[64], buf[2048], want[2048];

	memset(want, 'o', sizeof(want));
	assert_int_equal(pwrite(fd, want, sizeof(want), 0), (ssize_t)sizeof(want));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wo = open(path, O_WRONLY | O_CLOEXEC); /* the cache's reads through it fail: EBADF */
	assert_true(wo >= 0);
	memset(buf, 'n', sizeof(buf));
	assert_int_equal(ffs_cache_write(c, K1, wo, "/f", buf, 1500, 100), -EBADF);
	assert_int_equal(ffs_cache_read(c, K1, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	assert_memory_equal(buf, want, sizeof(want));
	ffs_cache_free(c);
}

/* Random writes (a third of them whole sectors, as the kernel's writeback cache sends
 * them) and truncates against a plain buffer: reads agree at every step and the backing
 * file equals the buffer after fsync. */
static void test_against_shadow(void **state)
{
	enum { MAX = 20000 };
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_free_ unsigned char *shadow = calloc(1, MAX), *buf = malloc(MAX);
	_cleanup_close_ int fd = backing(NULL);
	uint64_t size = 0, seed = 12345;

	for (int step = 0; step < 400; step++) {
		uint64_t off, len;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		off = (seed >> 33) % (MAX / 2);
		len = 1 + (seed >> 13) % 3000;
		if ((seed >> 23) % 3 == 0) {
			off -= off % FFS_SECTOR;
			len = (len + FFS_SECTOR - 1) / FFS_SECTOR * FFS_SECTOR;
		}
		if ((seed >> 7) % 10 == 0) {
			assert_int_equal(ffs_cache_truncate(c, K1, fd, "/s", off), 0);
			if (off < size)
				memset(shadow + off, 0, size - off);
			size = off;
		} else {
			for (uint64_t i = 0; i < len; i++)
				buf[i] = (unsigned char)(step + i);
			assert_int_equal(ffs_cache_write(c, K1, fd, "/s", buf, len, off),
					 (ssize_t)len);
			memcpy(shadow + off, buf, len);
			size = off + len > size ? off + len : size;
		}
		if ((seed >> 17) % 25 == 0)
			assert_int_equal(ffs_cache_sync(c, K1, false), 0);
		assert_int_equal(ffs_cache_read(c, K1, fd, buf, MAX, 0), (ssize_t)size);
		assert_memory_equal(buf, shadow, size);
	}
	assert_int_equal(ffs_cache_sync(c, K1, false), 0);
	assert_int_equal(size_of(fd), (off_t)size);
	assert_int_equal(pread(fd, buf, MAX, 0), (ssize_t)size);
	assert_memory_equal(buf, shadow, size);
	ffs_cache_free(c);
}

/* Many files, keyed in no order: each read finds its own file's data, a sync of one
 * leaves the others cached, and a cut drops all that is left. */
static void test_many_files(void **state)
{
	enum { FILES = 64 };
	struct ffs_cache *c = ffs_cache_new();
	int fds[FILES];
	uint64_t files, sectors, dropped, kept;
	char buf[16];

	for (int i = 0; i < FILES; i++) {
		struct ffs_key k = { (uint64_t)(i % 3), (uint64_t)((i * 37) % FILES) };

		fds[i] = backing(NULL);
		snprintf(buf, sizeof(buf), "file%02d", i);
		assert_int_equal(ffs_cache_write(c, k, fds[i], buf, buf, 6, (uint64_t)i * 1000), 6);
	}
	for (int i = FILES; i-- > 0;) {
		struct ffs_key k = { (uint64_t)(i % 3), (uint64_t)((i * 37) % FILES) };
		char want[16];

		snprintf(want, sizeof(want), "file%02d", i);
		assert_int_equal(ffs_cache_read(c, k, fds[i], buf, 6, (uint64_t)i * 1000), 6);
		assert_memory_equal(buf, want, 6);
		if (i % 2 == 0)
			assert_int_equal(ffs_cache_sync(c, k, true), 0);
	}
	ffs_cache_counts(c, &files, &sectors);
	assert_int_equal(files, FILES / 2);
	assert_int_equal(ffs_cache_cut(c, FFS_KEEP_NONE, 0, NULL, NULL, &dropped, &kept), 0);
	assert_int_equal(dropped, FILES / 2); /* one sector each */
	for (int i = 0; i < FILES; i++) {
		assert_int_equal(size_of(fds[i]), i % 2 ? 0 : (off_t)i * 1000 + 6);
		close(fds[i]);
	}
	ffs_cache_free(c);
}

/* A sector model of one file for test_pages_against_model. */
enum { M_SECT = 4096 }; /* 2 MiB */
struct model {
	bool held[M_SECT], lost[M_SECT];
	uint64_t size;
};

struct model_cut {
	const struct model *m;
	uint64_t seed, n;
};

static void check_cut(void *ctx, const struct ffs_cut_file *f)
{
	struct model_cut *mc = ctx;
	uint64_t k = 0;

	for (uint64_t s = 0; s < M_SECT; s++) {
		bool keep = mc->m->held[s] && !mc->m->lost[s] && s * FFS_SECTOR < mc->m->size &&
			    ffs_cut_keeps(mc->seed, "/m", s);

		if (!keep)
			continue;
		assert_true(k < f->kept);
		assert_int_equal(f->kept_idx[k], s); /* in file order */
		k++;
	}
	assert_int_equal(k, f->kept);
	mc->n = f->kept + f->dropped;
}

/* Whole pages in random order (as writeback sends them), odd pieces, truncates and failed
 * fsyncs against a model of which sectors are held and lost: the counts agree at every
 * step, and a torn cut keeps exactly the sectors the model says, in file order. */
static void test_pages_against_model(void **state)
{
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_free_ struct model *m = calloc(1, sizeof(*m));
	_cleanup_free_ unsigned char *buf = malloc(3 * 4096);
	_cleanup_close_ int fd = backing(NULL);
	uint64_t seed = 99, files, sectors, dropped, kept, held;
	struct model_cut mc = { m, 5, 0 };

	memset(buf, 'x', 3 * 4096);
	for (int step = 0; step < 3000; step++) {
		uint64_t off, len, lost_now = 0;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		switch ((seed >> 60) % 8) {
		case 0: /* an odd piece */
			off = (seed >> 20) % (M_SECT * FFS_SECTOR - 5000);
			len = 1 + (seed >> 8) % 4999;
			break;
		case 1: /* a truncate */
			off = (seed >> 20) % (M_SECT * FFS_SECTOR);
			assert_int_equal(ffs_cache_truncate(c, K1, fd, "/m", off), 0);
			for (uint64_t s = (off + FFS_SECTOR - 1) / FFS_SECTOR; s < M_SECT; s++)
				m->held[s] = m->lost[s] = false;
			m->size = off;
			continue;
		case 2: /* a failed fsync */
			for (uint64_t s = 0; s < M_SECT; s++) {
				lost_now += m->held[s] && !m->lost[s];
				m->lost[s] |= m->held[s];
			}
			assert_int_equal(ffs_cache_fail_sync(c, K1), lost_now);
			continue;
		default: /* one to three whole pages */
			off = (seed >> 20) % (M_SECT / 8 - 3) * 4096;
			len = 4096 * (1 + (seed >> 8) % 3);
		}
		assert_int_equal(ffs_cache_write(c, K1, fd, "/m", buf, len, off), (ssize_t)len);
		for (uint64_t s = off / FFS_SECTOR; s <= (off + len - 1) / FFS_SECTOR; s++) {
			m->held[s] = true;
			m->lost[s] = false;
		}
		m->size = off + len > m->size ? off + len : m->size;
		held = 0;
		for (uint64_t s = 0; s < M_SECT; s++)
			held += m->held[s];
		ffs_cache_counts(c, &files, &sectors);
		assert_int_equal(sectors, held);
	}
	assert_int_equal(ffs_cache_cut(c, FFS_KEEP_RANDOM_SECTORS, mc.seed, check_cut, &mc,
				       &dropped, &kept),
			 0);
	assert_int_equal(dropped + kept, held);
	assert_int_equal(mc.n, held);
	ffs_cache_free(c);
}

/* Pages far apart (the tree grows to its full height) are found, truncated and dropped. */
static void test_far_offsets(void **state)
{
	static const uint64_t offs[] = { 0,	     64 * 4096,	 4096ull << 12,
					 1ull << 40, 1ull << 52, (1ull << 62) + 100 };
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_close_ int fd = backing(NULL);
	uint64_t files, sectors, dropped, kept;
	char buf[8];

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		snprintf(buf, sizeof(buf), "far%zu", i);
		assert_int_equal(ffs_cache_write(c, K1, fd, "/far", buf, 4, offs[i]), 4);
	}
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		char want[8];

		snprintf(want, sizeof(want), "far%zu", i);
		assert_int_equal(ffs_cache_read(c, K1, fd, buf, 4, offs[i]), 4);
		assert_memory_equal(buf, want, 4);
		/* Between them: zeros; past the last: the end of the file. */
		assert_int_equal(ffs_cache_read(c, K1, fd, buf, 4, offs[i] + 4096), i < 5 ? 4 : 0);
		assert_true(i == 5 || memcmp(buf, "\0\0\0\0", 4) == 0);
	}
	ffs_cache_counts(c, &files, &sectors);
	assert_int_equal(sectors, 6);
	assert_int_equal(ffs_cache_truncate(c, K1, fd, "/far", (1ull << 40) + 2), 0);
	ffs_cache_counts(c, &files, &sectors);
	assert_int_equal(sectors, 4);
	assert_int_equal(ffs_cache_read(c, K1, fd, buf, 8, 1ull << 40), 2);
	assert_memory_equal(buf, "fa", 2);
	assert_int_equal(ffs_cache_cut(c, FFS_KEEP_NONE, 0, NULL, NULL, &dropped, &kept), 0);
	assert_int_equal(dropped, 4);
	ffs_cache_free(c);
}

/* Freed pages are pooled for reuse; a trim frees those the pool did not need since the
 * last one, a second or more ago. */
static void test_pool_trim(void **state)
{
	const int64_t S = 1000000000;
	struct ffs_cache *c = ffs_cache_new();
	_cleanup_free_ char *buf = calloc(1, 100 * 4096);
	_cleanup_close_ int fd = backing(NULL);

	assert_int_equal(ffs_cache_write(c, K1, fd, "/p", buf, 100 * 4096, 0), 100 * 4096);
	assert_int_equal(ffs_cache_pooled(c), 0);
	assert_int_equal(ffs_cache_sync(c, K1, true), 0);
	assert_int_equal(ffs_cache_pooled(c), 100);
	ffs_cache_trim(c, 2 * S); /* the pool was empty before: nothing went unneeded */
	assert_int_equal(ffs_cache_pooled(c), 100);
	ffs_cache_trim(c, 2 * S + S / 2); /* too soon */
	assert_int_equal(ffs_cache_pooled(c), 100);
	assert_int_equal(ffs_cache_write(c, K1, fd, "/p", buf, 30 * 4096, 0), 30 * 4096);
	assert_int_equal(ffs_cache_pooled(c), 70);
	assert_int_equal(ffs_cache_sync(c, K1, true), 0);
	ffs_cache_trim(c, 3 * S + S / 10); /* 70 were never taken */
	assert_int_equal(ffs_cache_pooled(c), 30);
	ffs_cache_trim(c, 4 * S + S / 5); /* idle: the rest go */
	assert_int_equal(ffs_cache_pooled(c), 0);
	ffs_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_stays_in_cache),
		cmocka_unit_test(test_sync_makes_durable),
		cmocka_unit_test(test_cut_drops_unsynced),
		cmocka_unit_test(test_truncate_then_grow_reads_zeros),
		cmocka_unit_test(test_cut_random_sectors_seeded),
		cmocka_unit_test(test_cut_keeps_pinned),
		cmocka_unit_test(test_failed_fsync_loses_data),
		cmocka_unit_test(test_failed_write_changes_nothing),
		cmocka_unit_test(test_against_shadow),
		cmocka_unit_test(test_many_files),
		cmocka_unit_test(test_pages_against_model),
		cmocka_unit_test(test_far_offsets),
		cmocka_unit_test(test_pool_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
