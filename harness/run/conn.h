/* The workload engine's connection to a target node, speaking one driver's protocol
 * (targets/driver.h). Everything that does not depend on the protocol is here: the
 * socket and its non-blocking connect, the bytes not yet sent and not yet decoded, the
 * operations in flight in submission order, and the rule for what becomes of them.
 *
 * Each operation submitted ends exactly once, through done: as the target replied
 * (acknowledged, refused, unknown), or, when the connection is freed with it still in
 * flight, unknown if the connection was ever up (it may have reached the target) and
 * refused if it never was (it was never sent). A reply to an operation that is not in
 * flight, or bytes the driver cannot decode, kill the connection (conn_error says why).
 *
 * Usage (the caller polls; no event loop here):
 *   struct conn *c;  conn_open(driver, host, port, on_done, ud, &c);   // connect started
 *   conn_submit_set(c, tag, key, val, vlen);                           // encoded, queued
 *   poll conn_rfd(c) for POLLIN once conn_connected(c), conn_wfd(c) for POLLOUT while
 *   conn_want_write(c): on POLLOUT conn_flush(c), on POLLIN conn_read(c).
 *   a negative return from either: the connection is dead; conn_free(c) ends what was in
 *   flight.
 *   The final read, blocking: conn_read_all(driver, host, port, timeout_ms, on_kv, ud).
 *   A client program (an adapter, harness/run/adapter.h) instead of a socket:
 *   conn_adopt(driver, its stdout, its stdin, ...), conn_submit_ping(c, tag) first.
 *
 * All functions return >= 0 or -errno. Strings are borrowed for the call only.
 */
#ifndef CHAOSDRILL_HARNESS_CONN_H
#define CHAOSDRILL_HARNESS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "targets/driver.h"

struct conn;

/* How operation tag ended: r->kind is TARGET_ACKED, TARGET_REFUSED or TARGET_UNKNOWN, with
 * the target's errno and words, or the engine's when the connection ended it. r is
 * borrowed for the call; done must not free the connection. */
typedef void (*conn_done_fn)(void *ud, uint64_t tag, const struct target_reply *r);

/* Starts a non-blocking TCP connect to host (numeric IPv4):port. d and ud are borrowed
 * for the connection's life. *out: caller frees with conn_free(). */
int conn_open(const struct target_driver *d, const char *host, uint16_t port, conn_done_fn done,
	      void *ud, struct conn **out);
/* Takes ownership of an established transport: rfd to read replies from, wfd to write
 * requests to (the same fd for a socket; a pipe pair for a program spoken to over its
 * stdin/stdout, where SIGPIPE must be ignored). Both are made non-blocking. */
int conn_adopt(const struct target_driver *d, int rfd, int wfd, conn_done_fn done, void *ud,
	       struct conn **out);
/* Ends what is in flight (see above), closes the fds, frees. Accepts NULL. */
void conn_free(struct conn *c);

int conn_rfd(const struct conn *c);
int conn_wfd(const struct conn *c);
bool conn_connected(const struct conn *c);
/* Connecting, or requests not yet all sent. */
bool conn_want_write(const struct conn *c);
/* Operations in flight. */
size_t conn_in_flight(const struct conn *c);
/* What killed the connection (-errno; -ECONNRESET: the far end closed it), 0 while alive. */
int conn_err(const struct conn *c);
/* Why the connection died, "" while it has not. Borrowed. */
const char *conn_error(const struct conn *c);

/* Encodes "set key = val" (key NUL-terminated, val binary) and queues it; nothing is sent
 * until conn_flush. -EINVAL etc. from the driver: nothing queued, tag not in flight. */
int conn_submit_set(struct conn *c, uint64_t tag, const char *key, const void *val, size_t vlen);
/* Queues the driver's ping (are you there?) or connect (talk to node ADDR:PORT from now
 * on), answered like a set: -EOPNOTSUPP when the protocol has none. */
int conn_submit_ping(struct conn *c, uint64_t tag);
int conn_submit_connect(struct conn *c, uint64_t tag, const char *node);
/* Ends operation tag (in flight) as unknown now, its reply overdue; a reply to it that comes
 * later kills the connection ("after its timeout"). -ENOENT if it is not in flight. */
int conn_expire(struct conn *c, uint64_t tag);
/* Completes the connect if it is pending (0 while it still is), then writes what it can
 * of the queue: 0 when all is sent or the fd would block. */
int conn_flush(struct conn *c);
/* Reads what is there and decodes every whole reply in it, calling done for each. */
int conn_read(struct conn *c);

/* Connects to host:port, asks for every key, hands each to kv, in the order the target
 * sends them. Waits at most timeout_ms each time it waits (connect, send, each read):
 * -ETIMEDOUT beyond. Returns 0 when the target ended the stream, -errno from the target
 * (refused or unknown: its errno, else -EIO), the connection or kv otherwise. */
int conn_read_all(const struct target_driver *d, const char *host, uint16_t port, int timeout_ms,
		  target_kv_fn kv, void *ud);
/* The same over an established transport (conn_adopt: takes ownership of the fds): a
 * client program's pipes. On failure, why (if not NULL) gets what went wrong in words. */
int conn_read_all_adopt(const struct target_driver *d, int rfd, int wfd, int timeout_ms,
			target_kv_fn kv, void *ud, char *why, size_t why_len);

#endif
