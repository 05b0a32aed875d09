/* The line protocol of client adapters (docs/adapters.md) as a driver (targets/driver.h):
 * a target whose target.yaml says `driver: lines` is spoken to through a program of its
 * own (`client:`), one per workload client, over that program's stdin and stdout.
 *
 * Requests, one line each, ID a decimal tag:  ID ping | ID set KEY VALUE | ID read_all |
 * ID connect ADDR:PORT.  Replies, in any order:  ID ok | ID fail TEXT | ID unknown TEXT,
 * and for read_all a stream of ID kv KEY VALUE closed by ID ok COUNT. Keys and values are
 * printable ASCII tokens without spaces. A line that is none of these cannot be decoded
 * (-EBADMSG): the engine then gives up on the adapter (harness/run/conn.h). */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "targets/driver.h"
#include "targets/lines/lines.h"

/* A key or value the protocol can carry: printable, no space, not empty. */
static bool token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* snprintf's contract without the NUL: the length; written only if it fits. */
static ssize_t put(void *buf, size_t cap, const char *line, size_t n)
{
	if (n <= cap)
		memcpy(buf, line, n);
	return (ssize_t)n;
}

static ssize_t encode_set(void *buf, size_t cap, uint64_t tag, const char *key, const void *val,
			  size_t vlen)
{
	char head[64];
	size_t klen = strlen(key), hn, n;

	if (!token(key, klen) || !token(val, vlen) || klen > LINES_MAX_LINE / 2 ||
	    vlen > LINES_MAX_LINE / 2)
		return -EINVAL;
	hn = (size_t)snprintf(head, sizeof(head), "%" PRIu64 " set ", tag);
	n = hn + klen + 1 + vlen + 1;
	if (n <= cap) {
		char *p = buf;

		memcpy(p, head, hn);
		memcpy(p + hn, key, klen);
		p[hn + klen] = ' ';
		memcpy(p + hn + klen + 1, val, vlen);
		p[n - 1] = '\n';
	}
	return (ssize_t)n;
}

static ssize_t encode_word(void *buf, size_t cap, uint64_t tag, const char *word)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", tag, word);

	return put(buf, cap, line, (size_t)n);
}

static ssize_t encode_read_all(void *buf, size_t cap, uint64_t tag)
{
	return encode_word(buf, cap, tag, "read_all");
}

static ssize_t encode_ping(void *buf, size_t cap, uint64_t tag)
{
	return encode_word(buf, cap, tag, "ping");
}

static ssize_t encode_connect(void *buf, size_t cap, uint64_t tag, const char *node)
{
	char line[128];
	int n;

	if (!token(node, strlen(node)) || strlen(node) > 64)
		return -EINVAL;
	n = snprintf(line, sizeof(line), "%" PRIu64 " connect %s\n", tag, node);
	return put(buf, cap, line, (size_t)n);
}

/* A decimal number of 1 to 20 digits that fits 64 bits, spanning all of s[0..n). */
static bool number(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Splits the next space-separated word off [*p, end): its start and length. */
static const char *word(const char **p, const char *end, size_t *n)
{
	const char *s = *p, *sp = memchr(s, ' ', (size_t)(end - s));

	*n = (size_t)((sp ? sp : end) - s);
	*p = sp ? sp + 1 : end;
	return s;
}

static bool is(const char *w, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(w, lit, n) == 0;
}

/* "kv KEY VALUE" after the id: exactly two tokens. */
static int parse_kv(const char *p, const char *end, struct target_reply *out)
{
	out->kind = TARGET_KV;
	out->key = word(&p, end, &out->klen);
	out->val = word(&p, end, &out->vlen);
	if (p != end || !token(out->key, out->klen) || !token(out->val, out->vlen))
		return -EBADMSG;
	return 0;
}

/* What follows "ID ": ok [COUNT], fail [TEXT], unknown [TEXT], kv KEY VALUE. */
static int parse_rest(const char *p, const char *end, struct target_reply *out)
{
	size_t n;
	const char *w = word(&p, end, &n);

	if (is(w, n, "ok")) {
		out->kind = TARGET_ACKED;
		out->has_count = p != end || w + n != end;
		return out->has_count && !number(p, (size_t)(end - p), &out->count) ? -EBADMSG : 0;
	}
	if (is(w, n, "kv"))
		return parse_kv(p, end, out);
	if (is(w, n, "fail"))
		out->kind = TARGET_REFUSED;
	else if (is(w, n, "unknown"))
		out->kind = TARGET_UNKNOWN;
	else
		return -EBADMSG;
	out->reason = p;
	out->reason_len = (size_t)(end - p);
	return 0;
}

ssize_t lines_decode(const void *buf, size_t len, struct target_reply *out)
{
	const char *s = buf, *nl = memchr(s, '\n', len < LINES_MAX_LINE ? len : LINES_MAX_LINE);
	const char *p = s, *end, *id;
	size_t n;

	*out = (struct target_reply){ .kind = TARGET_UNKNOWN };
	if (!nl)
		return len >= LINES_MAX_LINE ? -EMSGSIZE : 0;
	end = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
	id = word(&p, end, &n);
	if (!number(id, n, &out->tag) || (p == end && id + n == end))
		return -EBADMSG;
	if (parse_rest(p, end, out) < 0)
		return -EBADMSG;
	return (ssize_t)(nl - s) + 1;
}

/* A reply to ping, set or connect: a count or a key/value is not one. */
static ssize_t decode_reply(const void *buf, size_t len, struct target_reply *out)
{
	ssize_t n = lines_decode(buf, len, out);

	if (n > 0 && (out->kind == TARGET_KV || out->has_count))
		return -EBADMSG;
	return n;
}

/* The stream of a read_all: kv lines, then ok COUNT (or fail, unknown). */
static ssize_t decode_read_all(const void *buf, size_t len, struct target_reply *out)
{
	ssize_t n = lines_decode(buf, len, out);

	if (n > 0 && out->kind == TARGET_ACKED && !out->has_count)
		return -EBADMSG;
	return n;
}

const struct target_driver lines_driver = {
	.name = "lines",
	.encode_set = encode_set,
	.decode_reply = decode_reply,
	.encode_read_all = encode_read_all,
	.decode_read_all = decode_read_all,
	.encode_ping = encode_ping,
	.encode_connect = encode_connect,
};
