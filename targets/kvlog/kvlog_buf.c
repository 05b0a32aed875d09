/* Growable byte buffer: see kvlog_buf.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "targets/kvlog/kvlog_buf.h"

unsigned char *kvlog_buf_reserve(struct kvlog_buf *b, size_t n)
{
	size_t used = b->len - b->head, cap;
	unsigned char *nd;

	if (b->len + n <= b->cap)
		return b->data + b->len;
	/* Slide the unconsumed bytes down first when that makes enough room. */
	if (b->head > 0 && used + n <= b->cap) {
		memmove(b->data, b->data + b->head, used);
		b->head = 0;
		b->len = used;
		return b->data + b->len;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < used + n)
		cap *= 2;
	nd = malloc(cap);
	if (!nd)
		return NULL;
	if (used)
		memcpy(nd, b->data + b->head, used);
	free(b->data);
	b->data = nd;
	b->cap = cap;
	b->head = 0;
	b->len = used;
	return b->data + b->len;
}

int kvlog_buf_append(struct kvlog_buf *b, const void *p, size_t n)
{
	unsigned char *d = kvlog_buf_reserve(b, n);

	if (!d)
		return -ENOMEM;
	if (n)
		memcpy(d, p, n);
	b->len += n;
	return 0;
}

void kvlog_buf_consume(struct kvlog_buf *b, size_t n)
{
	b->head += n;
	if (b->head >= b->len)
		b->head = b->len = 0;
}

void kvlog_buf_release(struct kvlog_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->len = b->cap = 0;
}

int kvlog_buf_send(struct kvlog_buf *b, int fd)
{
	while (kvlog_buf_size(b) > 0) {
		ssize_t n = send(fd, kvlog_buf_data(b), kvlog_buf_size(b), MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		kvlog_buf_consume(b, (size_t)n);
	}
	return 0;
}
