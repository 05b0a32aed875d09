/* kvlog's protocol for the workload engine (targets/driver.h): SET and DUMP requests,
 * framed as kvlog_proto.h says. kvlog answers in request order, so every reply is to the
 * oldest request in flight and tags never go on the wire. */
#include <errno.h>
#include <string.h>

#include "targets/driver.h"
#include "targets/kvlog/kvlog_proto.h"

static ssize_t encode_set(void *buf, size_t cap, uint64_t tag, const char *key, const void *val,
			  size_t vlen)
{
	size_t klen = strlen(key), n = kvp_kv_size(klen, vlen);

	if (klen == 0 || klen > KVLOG_MAX_KEY || vlen > KVLOG_MAX_VALUE)
		return -EINVAL;
	if (n <= cap)
		kvp_write_kv(buf, KVP_SET, key, klen, val, vlen);
	return (ssize_t)n;
}

static ssize_t encode_read_all(void *buf, size_t cap, uint64_t tag)
{
	if (KVP_HDR <= cap)
		kvp_write_hdr(buf, KVP_DUMP, 0);
	return KVP_HDR;
}

/* The next whole frame, as a reply to the oldest request: ACKED until told otherwise. */
static ssize_t next_frame(const void *buf, size_t len, struct kvp_frame *f,
			  struct target_reply *out)
{
	*out = (struct target_reply){ .kind = TARGET_ACKED, .oldest = true };
	return kvp_parse(buf, len, f);
}

/* ERR u16 errno | text: the target refused. */
static ssize_t refused(const struct kvp_frame *f, ssize_t n, struct target_reply *out)
{
	int code;

	if (f->len < 2)
		return -EPROTO;
	code = kvlog_get_u16(f->body);
	out->kind = TARGET_REFUSED;
	out->err = code ? code : EIO;
	out->reason = (const char *)f->body + 2;
	out->reason_len = f->len - 2;
	return n;
}

static ssize_t decode_reply(const void *buf, size_t len, struct target_reply *out)
{
	struct kvp_frame f;
	ssize_t n = next_frame(buf, len, &f, out);

	if (n <= 0 || f.type == KVP_OK)
		return n;
	return f.type == KVP_ERR ? refused(&f, n, out) : -EPROTO;
}

/* KV frames, then END (or ERR). */
static ssize_t decode_read_all(const void *buf, size_t len, struct target_reply *out)
{
	struct kvp_frame f;
	ssize_t n = next_frame(buf, len, &f, out);

	if (n <= 0 || f.type == KVP_END)
		return n;
	if (f.type == KVP_ERR)
		return refused(&f, n, out);
	out->kind = TARGET_KV;
	if (f.type != KVP_KV || kvp_get_kv(&f, &out->key, &out->klen, &out->val, &out->vlen) < 0)
		return -EPROTO;
	return n;
}

const struct target_driver kvlog_driver = {
	.name = "kvlog",
	.encode_set = encode_set,
	.decode_reply = decode_reply,
	.encode_read_all = encode_read_all,
	.decode_read_all = decode_read_all,
};
