/* The contract between the harness's workload engine and a target's client code.
 *
 * The engine owns the event loop (liburing) and the clock; a driver owns one protocol.
 * Connections are non-blocking and pipelined: the engine submits operations tagged with
 * its own operation ids, polls the connection's fd, and is told per tag whether the
 * target acknowledged, refused, or (connection lost) never answered.
 *
 * Usage (engine side):
 *   const struct target_driver *d = target_driver_lookup("kvlog");
 *   struct target_conn *c; d->conn_open("10.213.0.2", 7700, &c);   // connect started
 *   d->conn_submit_set(c, op_id, key, val, vlen);                   // queued
 *   poll d->conn_fd(c) for POLLIN, and POLLOUT while d->conn_want_write(c)
 *   on POLLOUT: d->conn_flush(c);  on POLLIN: d->conn_read(c, on_done, ud);
 *   a negative return from flush/read means the connection is gone: every tag submitted
 *   and not yet completed is unknown (it may or may not have been applied); conn_free().
 *   Final read after the drill: d->read_all(host, port, timeout_ms, on_kv, ud) (blocking).
 *
 * All functions return >= 0 or -errno. Strings are borrowed for the call only.
 */
#ifndef CHAOSDRILL_TARGETS_DRIVER_H
#define CHAOSDRILL_TARGETS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct target_conn;

/* status: 0 acknowledged; -errno refused by the target (it says it did not apply it),
 * msg the target's reason (borrowed, may be NULL). */
typedef void (*target_done_fn)(void *ud, uint64_t tag, int status, const char *msg);
/* One key/value of the final read; return < 0 to stop the read with that error. */
typedef int (*target_kv_fn)(void *ud, const char *key, size_t klen, const void *val, size_t vlen);

struct target_driver {
	const char *name; /* the target's name, as in targets/NAME/ */
	/* Starts a non-blocking connect; the fd becomes writable when connected. */
	int (*conn_open)(const char *host, uint16_t port, struct target_conn **out);
	int (*conn_fd)(const struct target_conn *c);
	/* Queues "set key = val" (key NUL-terminated, val binary). */
	int (*conn_submit_set)(struct target_conn *c, uint64_t tag, const char *key,
			       const void *val, size_t vlen);
	bool (*conn_want_write)(const struct target_conn *c);
	/* Writes what it can of the queue; 0 when done or would block. */
	int (*conn_flush)(struct target_conn *c);
	/* Reads what is there and calls done once per completed tag, in order. */
	int (*conn_read)(struct target_conn *c, target_done_fn done, void *ud);
	/* Tags submitted and not completed, in submission order; for the engine's bookkeeping
	 * when the connection dies. Returns the count written to tags (at most max). */
	size_t (*conn_pending)(const struct target_conn *c, uint64_t *tags, size_t max);
	void (*conn_free)(struct target_conn *c); /* accepts NULL; closes the fd */
	/* Blocking: reads every key the node at host:port holds. */
	int (*read_all)(const char *host, uint16_t port, int timeout_ms, target_kv_fn cb,
			void *ud);
};

/* The static registry (targets/registry.c). NULL when no driver has that name. */
const struct target_driver *target_driver_lookup(const char *name);

#endif
