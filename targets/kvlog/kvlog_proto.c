/* kvlog's wire protocol: frame encoding and parsing (see kvlog_proto.h). */
#include <errno.h>
#include <string.h>

#include "targets/kvlog/kvlog_proto.h"

ssize_t kvp_parse(const unsigned char *p, size_t avail, struct kvp_frame *f)
{
	uint32_t len;

	if (avail < 4)
		return 0;
	len = kvlog_get_u32(p);
	if (len < 1 || len > KVP_MAX_FRAME)
		return -EBADMSG;
	if (avail - 4 < len)
		return 0;
	f->type = p[4];
	f->body = p + KVP_HDR;
	f->len = len - 1;
	return (ssize_t)(4 + len);
}

void kvp_write_hdr(unsigned char *p, uint8_t type, size_t len)
{
	kvlog_put_u32(p, (uint32_t)(len + 1));
	p[4] = type;
}

static unsigned char *put_hdr(struct kvlog_buf *b, uint8_t type, size_t len)
{
	unsigned char *p = kvlog_buf_reserve(b, KVP_HDR + len);

	if (!p)
		return NULL;
	kvp_write_hdr(p, type, len);
	b->len += KVP_HDR + len;
	return p + KVP_HDR;
}

int kvp_put(struct kvlog_buf *b, uint8_t type, const void *body, size_t len)
{
	unsigned char *p = put_hdr(b, type, len);

	if (!p)
		return -ENOMEM;
	if (len)
		memcpy(p, body, len);
	return 0;
}

int kvp_put_u64(struct kvlog_buf *b, uint8_t type, uint64_t v)
{
	unsigned char *p = put_hdr(b, type, 8);

	if (!p)
		return -ENOMEM;
	kvlog_put_u64(p, v);
	return 0;
}

size_t kvp_kv_size(size_t klen, size_t vlen)
{
	return KVP_HDR + 2 + klen + vlen;
}

void kvp_write_kv(unsigned char *p, uint8_t type, const char *key, size_t klen, const void *val,
		  size_t vlen)
{
	kvp_write_hdr(p, type, 2 + klen + vlen);
	kvlog_put_u16(p + KVP_HDR, (uint16_t)klen);
	memcpy(p + KVP_HDR + 2, key, klen);
	if (vlen)
		memcpy(p + KVP_HDR + 2 + klen, val, vlen);
}

int kvp_put_kv(struct kvlog_buf *b, uint8_t type, const char *key, size_t klen, const void *val,
	       size_t vlen)
{
	size_t n = kvp_kv_size(klen, vlen);
	unsigned char *p;

	if (klen > UINT16_MAX || klen + vlen + 3 > KVP_MAX_FRAME)
		return -E2BIG;
	p = kvlog_buf_reserve(b, n);
	if (!p)
		return -ENOMEM;
	kvp_write_kv(p, type, key, klen, val, vlen);
	b->len += n;
	return 0;
}

int kvp_put_err(struct kvlog_buf *b, int code, const char *msg)
{
	size_t n = strlen(msg);
	unsigned char *p = put_hdr(b, KVP_ERR, 2 + n);

	if (!p)
		return -ENOMEM;
	kvlog_put_u16(p, (uint16_t)(code < 0 ? -code : code));
	memcpy(p + 2, msg, n);
	return 0;
}

int kvp_get_kv(const struct kvp_frame *f, const char **key, size_t *klen, const void **val,
	       size_t *vlen)
{
	size_t k;

	if (f->len < 2)
		return -EBADMSG;
	k = kvlog_get_u16(f->body);
	if (k > f->len - 2)
		return -EBADMSG;
	*key = (const char *)f->body + 2;
	*klen = k;
	*val = f->body + 2 + k;
	*vlen = f->len - 2 - k;
	return 0;
}

int kvp_get_u64(const struct kvp_frame *f, uint64_t *v)
{
	if (f->len < 8)
		return -EBADMSG;
	*v = kvlog_get_u64(f->body);
	return 0;
}

int kvp_get_err(const struct kvp_frame *f, int *code, char *buf, size_t len)
{
	size_t n;

	if (f->len < 2 || len == 0)
		return -EBADMSG;
	*code = kvlog_get_u16(f->body);
	if (*code == 0)
		*code = EIO;
	n = f->len - 2 < len - 1 ? f->len - 2 : len - 1;
	memcpy(buf, f->body + 2, n);
	buf[n] = '\0';
	return 0;
}
