/* kvlog's binary wire protocol, the part a client needs, written from its description
 * (targets/kvlog/kvlog_proto.h) without using kvlog's code: this adapter stands for a
 * user's, who has only a server and its protocol's documentation.
 *
 * A frame, both ways: u32 length (little-endian, the bytes after this field) | u8 type |
 * body. SET's body is u16 klen | key | value (answered OK u64 seq, or ERR u16 errno |
 * text); DUMP's is empty (answered KV u16 klen | key | value per key, then END u64 count).
 * The server answers in request order.
 *
 * Usage:
 *   n = kvw_set_size(klen, vlen);  kvw_put_set(p, key, klen, val, vlen);  // n bytes at p
 *   kvw_put_dump(p);                                                      // KVW_HDR bytes
 *   n = kvw_parse(p, avail, &f);  // > 0 a whole frame of n bytes, 0 not yet, < 0 garbage
 */
#ifndef KVLOG_C_WIRE_H
#define KVLOG_C_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KVW_HDR 5
#define KVW_MAX_KEY 1024
#define KVW_MAX_VALUE (1024 * 1024)
#define KVW_MAX_FRAME (KVW_MAX_VALUE + KVW_MAX_KEY + 64)

enum kvw_type {
	KVW_SET = 1,
	KVW_DUMP = 3,
	KVW_OK = 64,
	KVW_ERR = 67,
	KVW_KV = 68,
	KVW_END = 69,
};

/* A whole frame; body points into the buffer given to kvw_parse. */
struct kvw_frame {
	uint8_t type;
	const unsigned char *body;
	size_t len;
};

size_t kvw_set_size(size_t klen, size_t vlen);
void kvw_put_set(unsigned char *p, const char *key, size_t klen, const char *val, size_t vlen);
void kvw_put_dump(unsigned char *p);

/* Bytes of the whole frame at p (> 0), 0 when it is not all there, -EBADMSG when its
 * length is out of range. */
ssize_t kvw_parse(const unsigned char *p, size_t avail, struct kvw_frame *f);

/* Bodies: 0, or -EBADMSG when too short. Outputs point into f->body. */
int kvw_get_kv(const struct kvw_frame *f, const char **key, size_t *klen, const char **val,
	       size_t *vlen);
int kvw_get_u64(const struct kvw_frame *f, uint64_t *v);
/* ERR: *code the errno the server sent; *text (not NUL-terminated) and its length. */
int kvw_get_err(const struct kvw_frame *f, int *code, const char **text, size_t *len);

#endif
