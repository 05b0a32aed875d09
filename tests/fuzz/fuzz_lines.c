/* Fuzzes the adapter line reader (targets/lines/lines_driver.c): a stream of reply lines
 * from a client adapter, cut into lines as the engine's connection does (harness/run/conn.c
 * calls the driver's decode_reply / decode_read_all on what it has read so far). Every
 * field of a decoded reply must lie inside the line it came from. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "targets/lines/lines.h"
#include "tests/fuzz/fuzz.h"

static void inside(const uint8_t *line, ssize_t n, const void *p, size_t len, const char *what)
{
	const uint8_t *b = p;

	if (!p && len == 0)
		return;
	if (!p || b < line || b + len > line + n)
		fuzz_fail("%s outside its line", what);
}

static void check(const uint8_t *line, ssize_t n, const struct target_reply *r)
{
	inside(line, n, r->reason, r->reason_len, "reason");
	inside(line, n, r->key, r->klen, "key");
	inside(line, n, r->val, r->vlen, "value");
	if (r->oldest)
		fuzz_fail("the lines protocol has tags, never oldest");
}

/* Cuts data into lines with decode, as the engine reads them. */
static void stream(const uint8_t *data, size_t size,
		   ssize_t (*decode)(const void *, size_t, struct target_reply *))
{
	size_t off = 0;

	while (off < size) {
		struct target_reply r;
		ssize_t n = decode(data + off, size - off, &r);

		if (n == 0 || n == -EMSGSIZE)
			return;
		if (n > 0) {
			if ((size_t)n > size - off || data[off + (size_t)n - 1] != '\n')
				fuzz_fail("a line's length %zd past its newline", n);
			check(data + off, n, &r);
		} else {
			/* the engine drops the connection on a bad line; skip it to go on */
			const uint8_t *nl = memchr(data + off, '\n', size - off);

			if (n != -EBADMSG)
				fuzz_fail("decode returned %zd", n);
			if (!nl)
				return;
			n = nl - (data + off) + 1;
		}
		off += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream(data, size, lines_decode);
	stream(data, size, lines_driver.decode_reply);
	stream(data, size, lines_driver.decode_read_all);
	return 0;
}
