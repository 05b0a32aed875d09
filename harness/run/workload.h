/* The `set` workload: unique inserts with checksummed values (ledger.h), at a fixed rate
 * from N client connections, open loop, so an outage shows as failed or timed-out
 * operations rather than silence. Runs on the harness's event loop; its connections
 * (conn.h: they speak the target's protocol through its driver) are born in the caller's
 * network namespace (the harness enters the lab's), and so is the final read's.
 *
 * Usage:
 *   struct workload_config c = { .rate = 500, .clients = 4, .timeout_ns = ..., ... };
 *   workload_new(loop, &c, ledger, &w);
 *   workload_start(w, host, port);        // first operation now (or workload_start_nodes:
 *                                         // client i writes to node i mod n)
 *   ... workload_retarget(w, host2, port) after a promotion ...
 *   workload_stop(w);                     // no new operations
 *   while (workload_pending(w)) loop_step(...);   // answers or timeouts
 *   workload_free(w);
 *
 * With c.adapters (a target of driver lines, docs/adapters.md), each client is a program
 * (adapter.h) spoken to over pipes instead of a TCP connection: started with a ping before
 * its first operation, pointed elsewhere by `connect` on workload_retarget, and when it
 * misbehaves (a line that does not parse, a reply to nothing in flight or after its
 * timeout, EOF, a crash, no reply in time) what it had in flight becomes unknown, adapters
 * ->note says what it did, and it is restarted. One that cannot start or answer ping in
 * time is fatal: note(fatal) with its stderr's tail, and the workload stops issuing.
 */
#ifndef CHAOSDRILL_HARNESS_WORKLOAD_H
#define CHAOSDRILL_HARNESS_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/record/ledger.h"
#include "harness/run/loop.h"
#include "harness/run/conn.h"

struct workload;

struct workload_adapters {
	/* argv of an adapter that talks to node host:port (NULL: it cannot be made, note
	 * says why); borrowed until the next call */
	char *const *(*argv)(void *ud, const char *host, uint16_t port);
	/* What an adapter did, for the timeline (client: its index); fatal: the drill cannot
	 * go on. text borrowed for the call. */
	void (*note)(void *ud, unsigned client, bool fatal, const char *text);
	void *ud;
	const char *stderr_dir; /* adapter i's stderr goes to stderr_dir/cI.stderr */
	int64_t ping_timeout_ns;
};

struct workload_config {
	double rate; /* operations per second, all clients */
	unsigned clients;
	int64_t timeout_ns; /* per operation */
	const struct target_driver *driver;
	int64_t t0_ns;				  /* CLOCK_MONOTONIC of drill time 0 */
	const struct workload_adapters *adapters; /* driver lines; else NULL; borrowed */
};

struct workload_stats {
	uint64_t issued, ok, failed, unknown, connects;
};

int workload_new(struct loop *l, const struct workload_config *c, struct ledger *ledger,
		 struct workload **out);
void workload_free(struct workload *w); /* pending operations become unknown */
/* Starts issuing operations to host:port (copied). */
int workload_start(struct workload *w, const char *host, uint16_t port);
/* The same to several nodes: client i writes to hosts[i % n]:ports[i % n]. */
int workload_start_nodes(struct workload *w, const char *const *hosts, const uint16_t *ports,
			 size_t n);
/* Points every client at another node: open connections close (their pending operations
 * become unknown) and new ones go to host:port; live adapters are sent `connect`. */
int workload_retarget(struct workload *w, const char *host, uint16_t port);
void workload_stop(struct workload *w);
size_t workload_pending(const struct workload *w);
/* Every adapter has answered ping (always true without adapters). */
bool workload_ready(const struct workload *w);
/* Gives up on whatever is still pending (unknown) and closes every connection. */
void workload_abandon(struct workload *w);
struct workload_stats workload_stats(const struct workload *w);

#endif
