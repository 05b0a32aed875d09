/* What the benches that load a kvlog-server share: a free loopback port, a server started
 * on it and waited for, and the figures of a closed-loop run (harness/run/load.h).
 *
 * Usage:
 *   uint16_t port = bench_free_port();
 *   pid_t pid = bench_kvlog_start(server, data, port, "batch");   // ready, or -1
 *   ... load_run(...) against 127.0.0.1:port ...
 *   bench_kvlog_stop(pid, data);                                  // SIGTERM, reap, rm -rf
 *   bench_load_figure(&res, &fig);                                // rate, p50, p99
 */
#ifndef CHAOSDRILL_BENCH_KVLOG_H
#define CHAOSDRILL_BENCH_KVLOG_H

#include <stdint.h>
#include <sys/types.h>

#include "harness/run/load.h"

struct bench_figure {
	double rate, p50_us, p99_us;
};

/* A TCP port of 127.0.0.1 that nobody listens on now; 0 if none could be found. */
uint16_t bench_free_port(void);
/* Starts kvlog-server (stderr to /dev/null) with --data data --listen 127.0.0.1:port
 * --sync sync and waits until it answers: its pid, or -1 (then nothing is left running). */
pid_t bench_kvlog_start(const char *server, const char *data, uint16_t port, const char *sync);
/* SIGTERM, reap, and remove data: 0, or -EIO if data could not be removed. */
int bench_kvlog_stop(pid_t pid, const char *data);
/* Acknowledged writes/s and p50/p99 of res (sorts res->lat_ns): 0, or -ENODATA when no
 * write was acknowledged. */
int bench_load_figure(struct load_result *res, struct bench_figure *fig);
int bench_cmp_double(const void *a, const void *b);

#endif
