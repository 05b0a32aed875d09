/* null-adapter: an adapter of the line protocol (docs/adapters.md) with no target behind
 * it, for bench_adapters: every request is answered at once, `ok` (read_all: `ok 0`), so
 * that what a run through it costs the harness is the engine's own cost per operation.
 *
 *   null-adapter        (stdin: requests, stdout: replies; exits 0 at EOF)
 *
 * It reads what is there, answers every whole line in it with one write, and so costs
 * about one read and one write per batch of requests.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A reply is at most 4 times its line ("\n" -> " ok\n"). */
static char in[1 << 16], out[4 << 16];

/* The reply to one line of n bytes (no newline) at s, appended at o: its length. */
static size_t answer(const char *s, size_t n, char *o)
{
	const char *sp = memchr(s, ' ', n);
	size_t idlen = sp ? (size_t)(sp - s) : n;
	const char *what = sp && n - idlen - 1 >= 8 && memcmp(sp + 1, "read_all", 8) == 0 ?
				   " ok 0\n" :
				   " ok\n";

	memcpy(o, s, idlen);
	memcpy(o + idlen, what, strlen(what));
	return idlen + strlen(what);
}

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(STDOUT_FILENO, p, n);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int main(void)
{
	size_t have = 0;
	ssize_t k;

	while ((k = read(STDIN_FILENO, in + have, sizeof(in) - have)) > 0) {
		size_t used = 0, o = 0;
		char *nl;

		have += (size_t)k;
		while ((nl = memchr(in + used, '\n', have - used))) {
			o += answer(in + used, (size_t)(nl - (in + used)), out + o);
			used = (size_t)(nl - in) + 1;
		}
		if (write_all(out, o) < 0)
			return 1;
		memmove(in, in + used, have - used);
		have -= used;
		if (have == sizeof(in)) /* a line longer than the buffer: not ours to answer */
			return 1;
	}
	return k < 0;
}
