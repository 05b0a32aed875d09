/* kvlog's frames, encoded and parsed (see kvlog_wire.h). */
#include <errno.h>
#include <string.h>

#include "kvlog_wire.h"

static void put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_hdr(unsigned char *p, uint8_t type, size_t body)
{
	put_u32(p, (uint32_t)(body + 1));
	p[4] = type;
}

size_t kvw_set_size(size_t klen, size_t vlen)
{
	return KVW_HDR + 2 + klen + vlen;
}

void kvw_put_set(unsigned char *p, const char *key, size_t klen, const char *val, size_t vlen)
{
	put_hdr(p, KVW_SET, 2 + klen + vlen);
	put_u16(p + KVW_HDR, (uint16_t)klen);
	memcpy(p + KVW_HDR + 2, key, klen);
	memcpy(p + KVW_HDR + 2 + klen, val, vlen);
}

void kvw_put_dump(unsigned char *p)
{
	put_hdr(p, KVW_DUMP, 0);
}

ssize_t kvw_parse(const unsigned char *p, size_t avail, struct kvw_frame *f)
{
	uint32_t len;

	if (avail < 4)
		return 0;
	len = get_u32(p);
	if (len < 1 || len > KVW_MAX_FRAME)
		return -EBADMSG;
	if (avail - 4 < len)
		return 0;
	f->type = p[4];
	f->body = p + KVW_HDR;
	f->len = len - 1;
	return (ssize_t)(4 + len);
}

int kvw_get_kv(const struct kvw_frame *f, const char **key, size_t *klen, const char **val,
	       size_t *vlen)
{
	size_t k;

	if (f->len < 2)
		return -EBADMSG;
	k = get_u16(f->body);
	if (k > f->len - 2)
		return -EBADMSG;
	*key = (const char *)f->body + 2;
	*klen = k;
	*val = (const char *)f->body + 2 + k;
	*vlen = f->len - 2 - k;
	return 0;
}

int kvw_get_u64(const struct kvw_frame *f, uint64_t *v)
{
	if (f->len < 8)
		return -EBADMSG;
	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | f->body[i];
	return 0;
}

int kvw_get_err(const struct kvw_frame *f, int *code, const char **text, size_t *len)
{
	if (f->len < 2)
		return -EBADMSG;
	*code = get_u16(f->body);
	*text = (const char *)f->body + 2;
	*len = f->len - 2;
	return 0;
}
