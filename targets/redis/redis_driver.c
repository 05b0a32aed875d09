/* Redis's protocol (RESP2) for the workload engine (targets/driver.h). A set is
 * `SET key value` as a RESP array; Redis answers in request order, so every reply is to the
 * oldest request in flight. The final read is one EVAL whose script returns a flat array
 * k1, v1, ..., kN, vN, N: the pairs are bulk strings and the count, last, an integer, so
 * that a stateless decoder can tell each piece of the array by its first byte (README.md
 * here says why RESP is parsed by hand rather than with hiredis's reader):
 *   "*<2N+1>\r\n" + first pair  -> one KV (the array's header goes with its first pair)
 *   "$k\r\n..$v\r\n.."          -> one KV
 *   ":N\r\n"                    -> the end, ACKED with the count
 *   "*1\r\n:0\r\n"              -> no keys at all: the end, count 0
 *   "-WORD text\r\n"            -> the read refused (or unknown), as for a set. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "targets/driver.h"
#include "targets/redis/redis_resp.h"

/* Every key with its value, then how many keys; atomic, as a script runs alone. Declared
 * read-only (Redis 7's shebang flags), so that a replica, a full memory or too few
 * replicas (min-replicas-to-write) do not refuse it as they would a script that may write. */
static const char read_all_script[] =
	"#!lua flags=no-writes\n"
	"local ks = redis.call('KEYS', '*') "
	"local r = {} "
	"for _, k in ipairs(ks) do r[#r + 1] = k; r[#r + 1] = redis.call('GET', k) end "
	"r[#r + 1] = #ks "
	"return r";

static ssize_t encode_set(void *buf, size_t cap, uint64_t tag, const char *key, const void *val,
			  size_t vlen)
{
	const char *argv[] = { "SET", key, val };
	size_t lens[] = { 3, strlen(key), vlen };

	if (lens[1] == 0)
		return -EINVAL;
	return resp_encode_command(buf, cap, 3, argv, lens);
}

static ssize_t encode_read_all(void *buf, size_t cap, uint64_t tag)
{
	const char *argv[] = { "EVAL", read_all_script, "0" };
	size_t lens[] = { 4, sizeof(read_all_script) - 1, 1 };

	return resp_encode_command(buf, cap, 3, argv, lens);
}

/* An error reply (its line without '-' and CRLF in line/n) as REFUSED or UNKNOWN. */
static void error_reply(const char *line, size_t n, struct target_reply *out)
{
	int err = resp_error_errno(line, n);

	out->kind = err > 0 ? TARGET_REFUSED : TARGET_UNKNOWN;
	out->err = err > 0 ? err : EIO;
	out->reason = line;
	out->reason_len = n;
}

static ssize_t decode_reply(const void *buf, size_t len, struct target_reply *out)
{
	const char *p = buf;
	ssize_t n;

	*out = (struct target_reply){ .kind = TARGET_ACKED, .oldest = true };
	n = resp_line(p, len);
	if (n <= 0)
		return n;
	switch (p[0]) {
	case '+': /* +OK */
		return n;
	case '-':
		error_reply(p + 1, (size_t)n - 3, out);
		return n;
	default: /* a SET without options answers nothing else */
		return -EPROTO;
	}
}

/* A key and its value, two bulk strings at p: their length, 0 if not all here yet. */
static ssize_t pair(const char *p, size_t len, struct target_reply *out)
{
	const char *v;
	ssize_t a, b;

	a = resp_bulk(p, len, &out->key, &out->klen);
	if (a <= 0)
		return a;
	b = resp_bulk(p + a, len - (size_t)a, &v, &out->vlen);
	if (b <= 0)
		return b;
	if (!out->key || !v) /* a key the script could not GET */
		return -EPROTO;
	out->val = v;
	out->kind = TARGET_KV;
	return a + b;
}

/* The count that ends the read: ":N\r\n" at p. */
static ssize_t count(const char *p, size_t len, struct target_reply *out)
{
	long long v;
	ssize_t n = resp_integer(p, len, &v);

	if (n <= 0)
		return n;
	if (v < 0)
		return -EPROTO;
	out->has_count = true;
	out->count = (uint64_t)v;
	return n;
}

static ssize_t decode_read_all(const void *buf, size_t len, struct target_reply *out)
{
	const char *p = buf;
	long long elems;
	ssize_t h, n;

	*out = (struct target_reply){ .kind = TARGET_ACKED, .oldest = true };
	if (len == 0)
		return 0;
	switch (p[0]) {
	case '-':
		return decode_reply(buf, len, out);
	case ':':
		return count(p, len, out);
	case '$':
		return pair(p, len, out);
	case '*':
		h = resp_array_header(p, len, &elems);
		if (h <= 0)
			return h;
		if (elems < 1 || elems % 2 == 0)
			return -EPROTO;
		if ((size_t)h == len)
			return 0;
		n = elems == 1 ? count(p + h, len - (size_t)h, out) :
				 pair(p + h, len - (size_t)h, out);
		return n <= 0 ? n : h + n;
	default:
		return -EPROTO;
	}
}

const struct target_driver redis_driver = {
	.name = "redis",
	.encode_set = encode_set,
	.decode_reply = decode_reply,
	.encode_read_all = encode_read_all,
	.decode_read_all = decode_read_all,
};
