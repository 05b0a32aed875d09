/* kvlog's wire protocol: length-prefixed binary frames over TCP, pipelined.
 *
 * Every frame, both ways: u32 length (little-endian, bytes after this field, at most
 * KVP_MAX_FRAME) | u8 type | body. A client may send any number of requests before
 * reading; responses come back in request order, one per request (DUMP: many, see below).
 *
 * Requests (client -> server):
 *   SET      u16 klen | key | value      -> OK u64 seq once durable (per --sync and
 *                                           --replication); ERR EROFS on a replica
 *   GET      key                         -> VALUE value | NOTFOUND
 *   DUMP     (empty)                     -> KV u16 klen | key | value, one per key, then
 *                                           END u64 count  (the final read)
 *   STATUS   (empty)                     -> STATUS text lines "name value"
 *   PROMOTE  "addr:port,..." (may be "") -> OK; the replica becomes a primary
 * Replication (a primary connects to each replica and sends):
 *   REPL_HELLO  u64 primary's last seq  -> POS u64 replica's last seq, then the primary
 *                                           streams REPL_RECORD frames from there on
 *   REPL_RECORD a framed log record (see kvlog_log.h), byte for byte
 *   REPL_BEAT   u64 primary's last seq  (for the replica's lag)
 *   The replica answers with ACK u64 seq whenever more of the stream is durable on it.
 * Errors: ERR u16 errno | message text (EROFS, EINVAL, E2BIG, EBUSY, EPROTO).
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_PROTO_H
#define CHAOSDRILL_TARGETS_KVLOG_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "targets/kvlog/kvlog_buf.h"
#include "targets/kvlog/kvlog_log.h"

#define KVP_MAX_FRAME (KVLOG_MAX_VALUE + KVLOG_MAX_KEY + 64)
#define KVP_HDR 5

enum kvp_type {
	/* requests */
	KVP_SET = 1,
	KVP_GET = 2,
	KVP_DUMP = 3,
	KVP_STATUS = 4,
	KVP_PROMOTE = 5,
	KVP_REPL_HELLO = 6,
	KVP_REPL_RECORD = 7,
	KVP_REPL_BEAT = 8,
	/* responses */
	KVP_OK = 64,
	KVP_VALUE = 65,
	KVP_NOTFOUND = 66,
	KVP_ERR = 67,
	KVP_KV = 68,
	KVP_END = 69,
	KVP_STATUS_TEXT = 70,
	KVP_POS = 71,
	KVP_ACK = 72,
};

/* A parsed frame; body points into the caller's buffer. */
struct kvp_frame {
	uint8_t type;
	const unsigned char *body;
	size_t len;
};

/* Parses one frame at p: bytes consumed (> 0), 0 when incomplete, -EBADMSG when the
 * length is out of range. */
ssize_t kvp_parse(const unsigned char *p, size_t avail, struct kvp_frame *f);

/* Writers into a flat buffer: a frame's header (for a body of len bytes), and a whole SET
 * or KV frame (kvp_kv_size bytes; the caller checked the sizes as kvp_put_kv does). */
void kvp_write_hdr(unsigned char *p, uint8_t type, size_t len);
size_t kvp_kv_size(size_t klen, size_t vlen);
void kvp_write_kv(unsigned char *p, uint8_t type, const char *key, size_t klen, const void *val,
		  size_t vlen);

/* Appenders: each adds one whole frame to b; 0 or -ENOMEM. */
int kvp_put(struct kvlog_buf *b, uint8_t type, const void *body, size_t len);
int kvp_put_u64(struct kvlog_buf *b, uint8_t type, uint64_t v);
/* SET and KV: u16 klen | key | value. */
int kvp_put_kv(struct kvlog_buf *b, uint8_t type, const char *key, size_t klen, const void *val,
	       size_t vlen);
int kvp_put_err(struct kvlog_buf *b, int code, const char *msg);

/* Readers of bodies: 0 or -EBADMSG. Outputs point into f->body. */
int kvp_get_kv(const struct kvp_frame *f, const char **key, size_t *klen, const void **val,
	       size_t *vlen);
int kvp_get_u64(const struct kvp_frame *f, uint64_t *v);
/* ERR body: *code positive errno; msg copied NUL-terminated into buf. */
int kvp_get_err(const struct kvp_frame *f, int *code, char *buf, size_t len);

#endif
