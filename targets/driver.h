/* The contract between the harness's workload engine and a target: a driver is only the
 * target's protocol. It turns requests into bytes and bytes into replies, and keeps no
 * state. The engine (harness/run/conn.h) owns everything else: the connection, the bytes
 * not yet sent or not yet decoded, the operations in flight, and what becomes of them
 * when the connection dies (each one unknown: it may or may not have been applied).
 *
 * Usage (engine side):
 *   const struct target_driver *d = target_driver_lookup("kvlog");
 *   n = d->encode_set(buf, cap, tag, key, val, vlen);  // bytes of the request; n > cap:
 *                                                      // nothing written, call with n
 *   n = d->decode_reply(buf, len, &reply);             // > 0: bytes of one reply, in reply
 *                                                      // 0: no whole reply in buf yet
 *   Final read: d->encode_read_all(buf, cap, tag), then d->decode_read_all(buf, len, &reply)
 *   gives TARGET_KV replies (one key each) until the one that ends the stream.
 *
 * Drivers whose far end is a client program (targets/lines/: an adapter the harness starts)
 * also encode ping (the program answers it itself, without the node) and connect (it talks
 * to another node from then on); both are answered like a set (decode_reply).
 *
 * Every function returns >= 0 or -errno; a negative decode means the bytes cannot be a
 * reply (the engine then gives up on the connection). Whatever a reply points to lives in
 * the buf given to decode: borrowed until the engine consumes those bytes.
 */
#ifndef CHAOSDRILL_TARGETS_DRIVER_H
#define CHAOSDRILL_TARGETS_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum target_reply_kind {
	TARGET_ACKED,	/* acknowledged: the target holds the write (or: the read is complete) */
	TARGET_REFUSED, /* the target says it did not apply it */
	TARGET_UNKNOWN, /* the target itself says it cannot tell */
	TARGET_KV,	/* decode_read_all only: one key/value of the stream, more to come */
};

struct target_reply {
	enum target_reply_kind kind;
	bool oldest;  /* a reply to the oldest request in flight (in-order protocols) */
	uint64_t tag; /* if not oldest: the tag the request was encoded with */
	/* REFUSED, UNKNOWN: the target's errno if its protocol has one (else 0), its words */
	int err;
	const char *reason;
	size_t reason_len;
	/* KV */
	const char *key;
	size_t klen;
	const void *val;
	size_t vlen;
	/* ACKED end of a read_all: has_count when the protocol says how many KV it sent */
	bool has_count;
	uint64_t count;
};

struct target_driver {
	const char *name; /* the target's name, as in targets/NAME/ */
	/* A request that sets key (NUL-terminated) to val (binary). Returns its length;
	 * writes it to buf only if that is <= cap (buf is NULL when cap is 0). */
	ssize_t (*encode_set)(void *buf, size_t cap, uint64_t tag, const char *key, const void *val,
			      size_t vlen);
	/* One reply to a set from buf: ACKED, REFUSED or UNKNOWN. */
	ssize_t (*decode_reply)(const void *buf, size_t len, struct target_reply *out);
	/* A request for every key the node holds, as encode_set. */
	ssize_t (*encode_read_all)(void *buf, size_t cap, uint64_t tag);
	/* One piece of the answer to it: KV, or its end (ACKED, REFUSED, UNKNOWN). */
	ssize_t (*decode_read_all)(const void *buf, size_t len, struct target_reply *out);
	/* Optional (NULL: the protocol has none), as encode_set: are you there? / talk to
	 * node (ADDR:PORT, NUL-terminated) from now on. */
	ssize_t (*encode_ping)(void *buf, size_t cap, uint64_t tag);
	ssize_t (*encode_connect)(void *buf, size_t cap, uint64_t tag, const char *node);
};

/* One key/value of a final read, borrowed for the call; < 0 stops the read with that error. */
typedef int (*target_kv_fn)(void *ud, const char *key, size_t klen, const void *val, size_t vlen);

/* The static registry (targets/registry.c). NULL when no driver has that name. */
const struct target_driver *target_driver_lookup(const char *name);

#endif
