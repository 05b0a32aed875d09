/* A closed-loop load generator over any target's driver, through the engine's connections
 * (conn.h): N pipelined connections, each keeping `window` sets in flight. For kvlog's
 * integration tests and kvlog-bench; drills use the open-loop workload (workload.h).
 *
 * Keys are "PREFIX-CLIENT-N"; each value is derived from its key (load_value), so a
 * final read can check every value it finds. Acknowledged keys go to o->acked, one a line.
 * A connection that dies is not replaced: what it had in flight counts as unknown.
 *
 * Usage:
 *   struct load_opts o = { .driver = target_driver_lookup("kvlog"), .host = "127.0.0.1",
 *                          .port = p, .clients = 16, .window = 16,
 *                          .duration_ns = 2 * NSEC_PER_SEC };
 *   struct load_result res;  load_run(&o, &res);  ...  load_result_free(&res);
 *
 * With o.adapter (a client adapter's argv, docs/adapters.md) each client is that program
 * instead of a TCP connection, spoken to in the line protocol (o.driver is then ignored),
 * started with CHAOSDRILL_NODE=host:port and pinged before its first set.
 */
#ifndef CHAOSDRILL_HARNESS_LOAD_H
#define CHAOSDRILL_HARNESS_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "targets/driver.h"

struct load_opts {
	const struct target_driver *driver; /* borrowed */
	const char *host;		    /* borrowed, numeric IPv4 */
	uint16_t port;
	int clients;
	int window;	     /* sets in flight per connection */
	int64_t duration_ns; /* stop submitting after this long */
	uint64_t max_ops;    /* per client; 0 = no limit */
	size_t value_size;
	const char *prefix;	     /* key prefix, borrowed */
	FILE *acked;		     /* borrowed, may be NULL */
	volatile sig_atomic_t *stop; /* borrowed, may be NULL: stop when set */
	bool latencies;		     /* record each acknowledged set's latency */
	char *const *adapter;	     /* borrowed, may be NULL: clients are this program */
	const char *adapter_stderr;  /* borrowed, may be NULL (/dev/null): where theirs goes */
};

struct load_result {
	uint64_t acked, refused, unknown;
	int64_t elapsed_ns;
	uint64_t *lat_ns; /* owned (load_result_free): acked latencies, unsorted */
	size_t nlat, lat_cap;
	char error[160]; /* the first refusal, unknown outcome or dead connection, "" if none */
};

int load_run(const struct load_opts *o, struct load_result *res);
void load_result_free(struct load_result *res);
/* The value written for key: size bytes, at least the key itself when size is smaller. */
size_t load_value(const char *key, size_t size, char *out, size_t cap);

#endif
