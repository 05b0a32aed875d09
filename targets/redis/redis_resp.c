/* RESP2 encoding and in-place parsing for the Redis driver (redis_resp.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "targets/redis/redis_resp.h"

/* snprintf into buf only while it fits; returns the length either way. */
static size_t put(char *buf, size_t cap, size_t off, const char *s, size_t n)
{
	if (buf && off + n <= cap)
		memcpy(buf + off, s, n);
	return off + n;
}

static size_t put_header(char *buf, size_t cap, size_t off, char type, size_t v)
{
	char h[32];
	int n = snprintf(h, sizeof(h), "%c%zu\r\n", type, v);

	return put(buf, cap, off, h, (size_t)n);
}

ssize_t resp_encode_command(void *buf, size_t cap, size_t argc, const char *const *argv,
			    const size_t *lens)
{
	size_t off = 0;

	/* measure first, then write, so that a short buf gets nothing */
	for (int pass = 0; pass < 2; pass++) {
		char *b = pass ? buf : NULL;

		if (pass && off > cap)
			break;
		off = put_header(b, cap, 0, '*', argc);
		for (size_t i = 0; i < argc; i++) {
			off = put_header(b, cap, off, '$', lens[i]);
			off = put(b, cap, off, argv[i], lens[i]);
			off = put(b, cap, off, "\r\n", 2);
		}
	}
	return (ssize_t)off;
}

ssize_t resp_line(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	if (!nl)
		return 0;
	if (nl == p || nl[-1] != '\r' || nl - p < 2)
		return -EPROTO;
	return nl - p + 1;
}

/* The signed decimal of a line's body (between its type byte and CRLF). */
static int number(const char *p, size_t n, long long *v)
{
	bool neg = n > 0 && p[0] == '-';
	long long x = 0;

	if (n == (size_t)neg || n - neg > 18)
		return -EPROTO;
	for (size_t i = neg; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EPROTO;
		x = x * 10 + (p[i] - '0');
	}
	*v = neg ? -x : x;
	return 0;
}

/* A line of type t whose body is a number. */
static ssize_t typed_number(const char *p, size_t len, char t, long long *v)
{
	ssize_t n;

	if (len == 0)
		return 0;
	if (p[0] != t)
		return -EPROTO;
	n = resp_line(p, len);
	if (n <= 0)
		return n;
	return number(p + 1, (size_t)n - 3, v) < 0 ? -EPROTO : n;
}

ssize_t resp_bulk(const char *p, size_t len, const char **s, size_t *n)
{
	long long v;
	ssize_t h = typed_number(p, len, '$', &v);

	if (h <= 0)
		return h;
	if (v == -1) {
		*s = NULL;
		*n = 0;
		return h;
	}
	if (v < 0 || v > RESP_MAX_BULK)
		return -EPROTO;
	if (len - (size_t)h < (size_t)v + 2)
		return 0;
	if (p[h + v] != '\r' || p[h + v + 1] != '\n')
		return -EPROTO;
	*s = p + h;
	*n = (size_t)v;
	return h + v + 2;
}

ssize_t resp_integer(const char *p, size_t len, long long *v)
{
	return typed_number(p, len, ':', v);
}

ssize_t resp_array_header(const char *p, size_t len, long long *n)
{
	ssize_t h = typed_number(p, len, '*', n);

	if (h > 0 && *n < -1)
		return -EPROTO;
	return h;
}

/* Error words of Redis 7 that mean the command was refused before it ran. */
static const struct {
	const char *word;
	int err;
} refusals[] = {
	{ "ERR", EINVAL },	    /* bad command or arguments */
	{ "WRONGTYPE", EINVAL },    /* the key holds another type */
	{ "READONLY", EROFS },	    /* a replica */
	{ "LOADING", EAGAIN },	    /* still loading its data */
	{ "BUSY", EBUSY },	    /* a script runs too long */
	{ "MISCONF", EIO },	    /* a failed AOF write or RDB save: writes refused */
	{ "OOM", ENOMEM },	    /* maxmemory */
	{ "NOREPLICAS", ENOTCONN }, /* min-replicas-to-write */
	{ "MASTERDOWN", ENOTCONN }, /* replica-serve-stale-data no */
	{ "NOAUTH", EACCES },	     { "NOPERM", EACCES }, { "TRYAGAIN", EAGAIN },
	{ "CLUSTERDOWN", ENOTCONN }, { "MOVED", EREMOTE }, { "ASK", EREMOTE },
	{ "EXECABORT", ECANCELED },
};

int resp_error_errno(const char *line, size_t n)
{
	size_t w = 0;

	while (w < n && line[w] != ' ')
		w++;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strlen(refusals[i].word) == w && memcmp(line, refusals[i].word, w) == 0)
			return refusals[i].err;
	return 0;
}
