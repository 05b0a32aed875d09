/* Fuzzes the Redis driver's RESP reader (targets/redis/redis_driver.c, redis_resp.c): a
 * stream of replies from redis-server, cut as the engine's connection cuts it (harness/run/
 * conn.c calls decode_reply / decode_read_all on what it has read so far). A decoded reply
 * lies inside the bytes it consumed, and every shorter prefix of it asks for more bytes
 * (0): the engine reads in pieces of any size, and a prefix taken for an error or for a
 * shorter reply would drop a good connection or split a reply. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "targets/driver.h"
#include "tests/fuzz/fuzz.h"

extern const struct target_driver redis_driver;

typedef ssize_t (*decode_fn)(const void *, size_t, struct target_reply *);

static void inside(const uint8_t *b, ssize_t n, const void *p, size_t len, const char *what)
{
	const uint8_t *q = p;

	if (!p && len == 0)
		return;
	if (!p || q < b || q + len > b + n)
		fuzz_fail("%s outside its reply", what);
}

static void stream(const uint8_t *data, size_t size, decode_fn decode)
{
	size_t off = 0;

	while (off < size) {
		struct target_reply r;
		ssize_t n = decode(data + off, size - off, &r);

		if (n <= 0) {
			if (n < 0 && n != -EPROTO && n != -EBADMSG && n != -EMSGSIZE &&
			    n != -ERANGE)
				fuzz_fail("decode returned %zd", n);
			return; /* more bytes needed, or the engine drops the connection */
		}
		if ((size_t)n > size - off)
			fuzz_fail("a reply of %zd bytes with %zu at hand", n, size - off);
		inside(data + off, n, r.reason, r.reason_len, "reason");
		inside(data + off, n, r.key, r.klen, "key");
		inside(data + off, n, r.val, r.vlen, "value");
		/* every prefix asks for more (checked on a few lengths: the loop is quadratic) */
		for (size_t cut = 0; cut < (size_t)n; cut += cut < 8 ? 1 : (size_t)n / 8 + 1) {
			struct target_reply q;
			ssize_t k = decode(data + off, cut, &q);

			if (k != 0)
				fuzz_fail("a prefix of %zu bytes of a %zd-byte reply gave %zd", cut, n, k);
		}
		off += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream(data, size, redis_driver.decode_reply);
	stream(data, size, redis_driver.decode_read_all);
	return 0;
}
