/* The workloads of bench_faultfs, run on one directory (the plain one or the faultfs
 * mount): 4 KiB sequential and random writes and reads, and fsync latency after small
 * writes. Each returns >= 0 or -errno; throughput in MB/s (10^6 bytes), latency in ms.
 *
 * Usage:
 *   bench_io_prepare(dir, size);              // "pre": the file random writes and reads use
 *   bench_io_run(BENCH_SEQ_WRITE, dir, size, &mbs);
 *   bench_io_fsync(dir, count, lat_ms);       // lat_ms[count], caller's
 *   bench_io_clean(dir);                      // syncs, then removes the files
 */
#ifndef CHAOSDRILL_BENCH_IO_H
#define CHAOSDRILL_BENCH_IO_H

#include <stdint.h>

#define BENCH_BLOCK 4096u

enum bench_test { BENCH_SEQ_WRITE, BENCH_RAND_WRITE, BENCH_SEQ_READ, BENCH_RAND_READ, BENCH_TESTS };

extern const char *const bench_test_names[BENCH_TESTS];

/* Writes dir/pre (size bytes, 1 MiB writes) and fsyncs it; untimed. */
int bench_io_prepare(const char *dir, uint64_t size);
/* One timed pass of test over size bytes (random tests: size / 4 KiB operations at
 * seeded random 4 KiB-aligned offsets of dir/pre); the time includes the close. */
int bench_io_run(enum bench_test test, const char *dir, uint64_t size, double *mbs);
/* count rounds of a 4 KiB write then fsync on a new file; the fsync times go to lat_ms. */
int bench_io_fsync(const char *dir, int count, double *lat_ms);
/* Syncs, then removes, what the workloads created in dir. */
void bench_io_clean(const char *dir);

#endif
