/* The volatile cache of the fault file system (the LazyFS model): in `cache: volatile`
 * mode every write, truncate and extension of a file is kept here, per file, as dirty
 * 512-byte sectors over the backing file, and reaches the backing file only on that file's
 * fsync/fdatasync. Reads see the cache, as they would see a page cache. A power cut drops
 * every unsynced sector, or keeps a seeded subset of them (a torn state).
 *
 * Files are keyed by the backing inode (so renames keep their cache). Each entry holds its
 * own dup of a writable backing fd, so a file closed before its fsync can still be flushed
 * or torn. Not thread-safe: the caller holds its lock.
 *
 * Usage:
 *   struct ffs_cache *c = ffs_cache_new();
 *   ffs_cache_write(c, key, fd, "/a.log", buf, len, off);   // fd borrowed
 *   ffs_cache_read(c, key, fd, buf, len, off);              // cache over backing
 *   ffs_cache_sync(c, key, false);                          // durable
 *   ffs_cache_cut(c, FFS_KEEP_RANDOM_SECTORS, seed, report, ctx);
 *   ffs_cache_trim(c, time_mono_ns());                      // memory back, when idle
 *   ffs_cache_free(c);
 */
#ifndef CHAOSDRILL_FAULTFS_CACHE_H
#define CHAOSDRILL_FAULTFS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FFS_SECTOR 512u

struct ffs_key {
	uint64_t dev, ino;
};

enum ffs_keep { FFS_KEEP_NONE, FFS_KEEP_RANDOM_SECTORS };

struct ffs_cache;

struct ffs_cache *ffs_cache_new(void);
/* Forgets everything (nothing is written). Accepts NULL. */
void ffs_cache_free(struct ffs_cache *c);

/* Keeps [off, off + len) of the file in the cache. fd (borrowed) is a writable backing fd;
 * name names the file in reports and seeds its torn state. Returns len or -errno. */
ssize_t ffs_cache_write(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
			const void *buf, size_t len, uint64_t off);
/* Sets the file's size in the cache (truncate, ftruncate, O_TRUNC). */
int ffs_cache_truncate(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
		       uint64_t size);
/* Reads through the cache: backing bytes, holes left by truncates, dirty sectors on top.
 * fd (borrowed) reads the backing file. Returns the byte count or -errno. */
ssize_t ffs_cache_read(struct ffs_cache *c, struct ffs_key key, int fd, void *buf, size_t len,
		       uint64_t off);
/* 1 and *size set when the file has cached state, else 0. */
int ffs_cache_size(const struct ffs_cache *c, struct ffs_key key, uint64_t *size);
/* Makes the file's cached state durable: writes it to the backing file and fsyncs (or
 * fdatasyncs) that. Sectors lost by a failed fsync are not written. 0 or -errno. */
int ffs_cache_sync(struct ffs_cache *c, struct ffs_key key, bool datasync);
/* A failed fsync (Linux since 4.13): the file's dirty sectors stay readable but are lost;
 * no later fsync writes them, and a power cut drops them. Returns how many were lost. */
uint64_t ffs_cache_fail_sync(struct ffs_cache *c, struct ffs_key key);
/* Syncs every file (a clean shutdown). 0 or the first -errno. */
int ffs_cache_sync_all(struct ffs_cache *c);

/* What a power cut did to one file: kept[] lists the kept sector indexes (sorted). */
struct ffs_cut_file {
	const char *name;
	uint64_t dropped, kept;
	const uint64_t *kept_idx;
};
typedef void (*ffs_cut_report_fn)(void *ctx, const struct ffs_cut_file *f);

/* Whether a power cut with keep=random-sectors and seed keeps sector idx of file name.
 * Pure: the same seed keeps the same sectors of the same file. */
bool ffs_cut_keeps(uint64_t seed, const char *name, uint64_t idx);
/* The power cut: every file's unsynced state is dropped; with FFS_KEEP_RANDOM_SECTORS the
 * sectors ffs_cut_keeps() picks are written to the backing file first (and its size grows
 * to cover them). report (may be NULL) is called once per file. The cache is empty after.
 * Totals go to *dropped and *kept. 0 or the first -errno (the cache is emptied anyway). */
int ffs_cache_cut(struct ffs_cache *c, enum ffs_keep keep, uint64_t seed, ffs_cut_report_fn report,
		  void *ctx, uint64_t *dropped, uint64_t *kept);

/* Files and sectors held, for `status`. */
void ffs_cache_counts(const struct ffs_cache *c, uint64_t *files, uint64_t *sectors);

/* Freed 4 KiB pages kept for reuse: a steady workload takes them again instead of fresh
 * memory. ffs_cache_trim frees those the pool did not need over the last second or more;
 * call it often (it returns at once until a second has passed since the last one). */
uint64_t ffs_cache_pooled(const struct ffs_cache *c);
void ffs_cache_trim(struct ffs_cache *c, int64_t now_ns);

#endif
