/* The `set` workload: unique inserts with checksummed values (ledger.h), at a fixed rate
 * from N client connections, open loop, so an outage shows as failed or timed-out
 * operations rather than silence. Runs on the harness's event loop; its connections
 * (conn.h: they speak the target's protocol through its driver) are born in the caller's
 * network namespace (the harness enters the lab's), and so is the final read's.
 *
 * Usage:
 *   struct workload_config c = { .rate = 500, .clients = 4, .timeout_ns = ..., ... };
 *   workload_new(loop, &c, ledger, &w);
 *   workload_start(w, host, port);        // first operation now
 *   ... workload_retarget(w, host2, port) after a promotion ...
 *   workload_stop(w);                     // no new operations
 *   while (workload_pending(w)) loop_step(...);   // answers or timeouts
 *   workload_free(w);
 */
#ifndef CHAOSDRILL_HARNESS_WORKLOAD_H
#define CHAOSDRILL_HARNESS_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "harness/record/ledger.h"
#include "harness/run/loop.h"
#include "harness/run/conn.h"

struct workload;

struct workload_config {
	double rate; /* operations per second, all clients */
	unsigned clients;
	int64_t timeout_ns; /* per operation */
	const struct target_driver *driver;
	int64_t t0_ns; /* CLOCK_MONOTONIC of drill time 0 */
};

struct workload_stats {
	uint64_t issued, ok, failed, unknown, connects;
};

int workload_new(struct loop *l, const struct workload_config *c, struct ledger *ledger,
		 struct workload **out);
void workload_free(struct workload *w); /* pending operations become unknown */
/* Starts issuing operations to host:port (copied). */
int workload_start(struct workload *w, const char *host, uint16_t port);
/* Points every client at another node: open connections close (their pending operations
 * become unknown) and new ones go to host:port. */
int workload_retarget(struct workload *w, const char *host, uint16_t port);
void workload_stop(struct workload *w);
size_t workload_pending(const struct workload *w);
/* Gives up on whatever is still pending (unknown) and closes every connection. */
void workload_abandon(struct workload *w);
struct workload_stats workload_stats(const struct workload *w);

#endif
