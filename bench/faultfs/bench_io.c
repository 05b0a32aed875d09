/* The workloads of bench_faultfs (see bench_io.h): plain POSIX I/O on a directory, so the
 * same code measures the faultfs mount and the plain directory beside it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/faultfs/bench_io.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/timeutil.h"

const char *const bench_test_names[BENCH_TESTS] = {
	[BENCH_SEQ_WRITE] = "seq write 4K",
	[BENCH_RAND_WRITE] = "rand write 4K",
	[BENCH_SEQ_READ] = "seq read 4K",
	[BENCH_RAND_READ] = "rand read 4K",
};

static int open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

int bench_io_prepare(const char *dir, uint64_t size)
{
	_cleanup_free_ char *buf = malloc(1 << 20);
	_cleanup_close_ int fd = open_in(dir, "pre", O_WRONLY | O_CREAT | O_TRUNC);
	int r = 0;

	if (fd < 0)
		return fd;
	if (!buf)
		return -ENOMEM;
	memset(buf, 'p', 1 << 20);
	for (uint64_t off = 0; off < size && r == 0; off += 1 << 20)
		r = fs_write_full(fd, buf, size - off < (1 << 20) ? (size_t)(size - off) : 1 << 20);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

/* xorshift64: the same offsets for both sides and every run. */
static uint64_t next_block(uint64_t *s, uint64_t blocks)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s % blocks;
}

static int one_op(enum bench_test test, int fd, char *buf, uint64_t i, uint64_t blocks,
		  uint64_t *seed)
{
	off_t off = (off_t)((test == BENCH_RAND_WRITE || test == BENCH_RAND_READ ?
				     next_block(seed, blocks) :
				     i) *
			    BENCH_BLOCK);
	ssize_t n;

	if (test == BENCH_SEQ_WRITE || test == BENCH_RAND_WRITE)
		n = pwrite(fd, buf, BENCH_BLOCK, off);
	else
		n = pread(fd, buf, BENCH_BLOCK, off);
	if (n < 0)
		return -errno;
	return n == BENCH_BLOCK ? 0 : -EIO;
}

int bench_io_run(enum bench_test test, const char *dir, uint64_t size, double *mbs)
{
	static const int flags[BENCH_TESTS] = {
		[BENCH_SEQ_WRITE] = O_WRONLY | O_CREAT | O_TRUNC,
		[BENCH_RAND_WRITE] = O_WRONLY,
		[BENCH_SEQ_READ] = O_RDONLY,
		[BENCH_RAND_READ] = O_RDONLY,
	};
	char buf[BENCH_BLOCK];
	uint64_t blocks = size / BENCH_BLOCK, seed = 0x9e3779b97f4a7c15ull;
	int64_t t0 = time_mono_ns();
	int fd, r = 0;

	memset(buf, 'w', sizeof(buf));
	fd = open_in(dir, test == BENCH_SEQ_WRITE ? "seq" : "pre", flags[test]);
	if (fd < 0)
		return fd;
	for (uint64_t i = 0; i < blocks && r == 0; i++)
		r = one_op(test, fd, buf, i, blocks, &seed);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	*mbs = (double)size / ((double)(time_mono_ns() - t0) / 1e9) / 1e6;
	return r;
}

int bench_io_fsync(const char *dir, int count, double *lat_ms)
{
	_cleanup_close_ int fd = open_in(dir, "fsync", O_WRONLY | O_CREAT | O_TRUNC);
	char buf[BENCH_BLOCK];

	if (fd < 0)
		return fd;
	memset(buf, 'f', sizeof(buf));
	for (int i = 0; i < count; i++) {
		int64_t t0;

		if (pwrite(fd, buf, sizeof(buf), (off_t)i * BENCH_BLOCK) != BENCH_BLOCK)
			return -EIO;
		t0 = time_mono_ns();
		if (fsync(fd) < 0)
			return -errno;
		lat_ms[i] = (double)(time_mono_ns() - t0) / 1e6;
	}
	return 0;
}

void bench_io_clean(const char *dir)
{
	static const char *const names[] = { "pre", "seq", "fsync" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* Synced first: in volatile mode that empties faultfs's cache of the file. */
		int fd = open_in(dir, names[i], O_WRONLY);

		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}
