/* A closed-loop load generator over kvlog's driver (targets/driver.h), for the integration
 * tests and the benchmark: N pipelined connections, each keeping `window` SETs in flight.
 *
 * Keys are "PREFIX-CLIENT-N"; each value is derived from its key (kvlog_load_value), so a
 * final read can check every value it finds. Acknowledged keys go to o->acked, one a line.
 *
 * Usage:
 *   struct kvlog_load_opts o = { .host = "127.0.0.1", .port = p, .clients = 16,
 *                                .window = 16, .duration_ns = 2 * NSEC_PER_SEC };
 *   struct kvlog_load_result res;  kvlog_load_run(&o, &res);  ...  kvlog_load_result_free(&res);
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_LOAD_H
#define CHAOSDRILL_TARGETS_KVLOG_LOAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kvlog_load_opts {
	const char *host; /* borrowed */
	uint16_t port;
	int clients;
	int window;	     /* SETs in flight per connection */
	int64_t duration_ns; /* stop submitting after this long */
	uint64_t max_ops;    /* per client; 0 = no limit */
	size_t value_size;
	const char *prefix;		   /* key prefix, borrowed */
	FILE *acked;			   /* borrowed, may be NULL */
	volatile sig_atomic_t *stop;	   /* borrowed, may be NULL: stop when set */
	bool latencies;			   /* record each acknowledged SET's latency */
};

struct kvlog_load_result {
	uint64_t acked, refused, unknown;
	int64_t elapsed_ns;
	uint64_t *lat_ns; /* owned (kvlog_load_result_free): acked latencies, unsorted */
	size_t nlat, lat_cap;
	char error[160]; /* the first connection error or refusal, "" if none */
};

int kvlog_load_run(const struct kvlog_load_opts *o, struct kvlog_load_result *res);
void kvlog_load_result_free(struct kvlog_load_result *res);
/* The value written for key: size bytes, at least the key itself when size is smaller. */
size_t kvlog_load_value(const char *key, size_t size, char *out, size_t cap);

#endif
