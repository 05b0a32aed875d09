/* Buffered line I/O on non-blocking fds (lineio.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "targets/sqlite/lineio.h"

#define READ_CHUNK (64 * 1024)

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int lineio_in_fill(struct lineio_in *in, int fd)
{
	ssize_t n;
	int r;

	if (in->too_long)
		return -E2BIG;
	/* Drop what was returned already before reading more. */
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->len - in->start);
		in->len -= in->start;
		in->scanned -= in->start;
		in->start = 0;
	}
	r = grow(&in->buf, &in->cap, in->len + READ_CHUNK + 1);
	if (r < 0)
		return r;
	do
		n = read(fd, in->buf + in->len, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	in->len += (size_t)n;
	if (in->len - in->scanned > LINEIO_MAX_LINE &&
	    !memchr(in->buf + in->scanned, '\n', in->len - in->scanned)) {
		in->too_long = true;
		return -E2BIG;
	}
	return (int)n;
}

static char *cut(struct lineio_in *in, size_t end)
{
	char *line = in->buf + in->start;
	size_t n = end - in->start;

	in->buf[end] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	in->start = end + 1;
	in->scanned = in->start;
	return line;
}

char *lineio_in_next(struct lineio_in *in)
{
	char *nl;

	if (in->too_long || in->len <= in->scanned)
		return NULL;
	nl = memchr(in->buf + in->scanned, '\n', in->len - in->scanned);
	if (!nl) {
		in->scanned = in->len;
		return NULL;
	}
	return cut(in, (size_t)(nl - in->buf));
}

char *lineio_in_rest(struct lineio_in *in)
{
	if (in->too_long || in->start >= in->len || grow(&in->buf, &in->cap, in->len + 1) < 0)
		return NULL;
	return cut(in, in->len);
}

void lineio_in_free(struct lineio_in *in)
{
	free(in->buf);
	*in = (struct lineio_in){ 0 };
}

int lineio_out_append(struct lineio_out *out, const char *s, size_t n)
{
	int r;

	if (out->off == out->len)
		out->off = out->len = 0;
	r = grow(&out->buf, &out->cap, out->len + n + 1);
	if (r < 0)
		return r;
	memcpy(out->buf + out->len, s, n);
	out->len += n;
	return 0;
}

int lineio_out_printf(struct lineio_out *out, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (out->off == out->len)
		out->off = out->len = 0;
	r = grow(&out->buf, &out->cap, out->len + (size_t)n + 1);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(out->buf + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
	return 0;
}

int lineio_out_flush(struct lineio_out *out, int fd)
{
	while (out->off < out->len) {
		ssize_t n = write(fd, out->buf + out->off, out->len - out->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		out->off += (size_t)n;
	}
	out->off = out->len = 0;
	/* A read_all can leave megabytes behind; give them back once written. */
	if (out->cap > (4u << 20)) {
		free(out->buf);
		*out = (struct lineio_out){ 0 };
	}
	return 0;
}

void lineio_out_free(struct lineio_out *out)
{
	free(out->buf);
	*out = (struct lineio_out){ 0 };
}

int lineio_parse_hostport(const char *s, struct sockaddr_in *sa)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	char host[INET_ADDRSTRLEN];
	char *end;
	unsigned long port;
	size_t n;

	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535)
		return -EINVAL;
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

int lineio_split(char *line, char **id, char **verb, char **rest)
{
	char *sp = strchr(line, ' ');

	if (!sp || sp == line)
		return -EINVAL;
	*sp = '\0';
	*id = line;
	*verb = sp + 1;
	sp = strchr(*verb, ' ');
	if (sp) {
		*sp = '\0';
		*rest = sp + 1;
	} else {
		*rest = *verb + strlen(*verb);
	}
	return **verb ? 0 : -EINVAL;
}
