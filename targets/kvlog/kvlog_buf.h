/* A growable byte buffer with a consumed head, for socket I/O and log write batching.
 *
 * Usage:
 *   struct kvlog_buf b = KVLOG_BUF_INIT;
 *   kvlog_buf_append(&b, p, n);           // or kvlog_buf_reserve() + b.len += n
 *   use kvlog_buf_data(&b) / kvlog_buf_size(&b); kvlog_buf_consume(&b, n);
 *   kvlog_buf_release(&b);
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_BUF_H
#define CHAOSDRILL_TARGETS_KVLOG_BUF_H

#include <stddef.h>
#include <stdint.h>

struct kvlog_buf {
	unsigned char *data; /* owned */
	size_t head;	     /* first unconsumed byte */
	size_t len;	     /* end of valid bytes */
	size_t cap;
};

#define KVLOG_BUF_INIT        \
	{                     \
		NULL, 0, 0, 0 \
	}

/* Makes room for n more bytes after len; returns a pointer to them, NULL on ENOMEM. */
unsigned char *kvlog_buf_reserve(struct kvlog_buf *b, size_t n);
int kvlog_buf_append(struct kvlog_buf *b, const void *p, size_t n);
void kvlog_buf_consume(struct kvlog_buf *b, size_t n);
void kvlog_buf_release(struct kvlog_buf *b);
/* Sends what the non-blocking socket fd takes of b (MSG_NOSIGNAL) and consumes it: 0 when
 * b is empty or the socket would block, -errno when the connection failed. */
int kvlog_buf_send(struct kvlog_buf *b, int fd);

static inline unsigned char *kvlog_buf_data(const struct kvlog_buf *b)
{
	return b->data + b->head;
}

static inline size_t kvlog_buf_size(const struct kvlog_buf *b)
{
	return b->len - b->head;
}

/* Little-endian stores and loads used by the log and wire formats. */
static inline void kvlog_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void kvlog_put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void kvlog_put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t kvlog_get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t kvlog_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t kvlog_get_u64(const unsigned char *p)
{
	return (uint64_t)kvlog_get_u32(p) | (uint64_t)kvlog_get_u32(p + 4) << 32;
}

#endif
