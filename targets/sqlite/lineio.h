/* Buffered line I/O on non-blocking fds, for programs that speak the line protocol
 * (docs/adapters.md): sqlite-node on its TCP connections, line-relay on stdin/stdout and
 * on its TCP connection to a node. No protocol knowledge here: lines in, bytes out.
 *
 * Usage:
 *   struct lineio_in in = { 0 };             // zeroed is empty; lineio_in_free() at the end
 *   r = lineio_in_fill(&in, fd);             // > 0 read, 0 EOF, -EAGAIN nothing yet, -errno
 *   while ((line = lineio_in_next(&in)))     // each complete line, '\n' (and '\r') stripped;
 *           ...;                             //   valid until the next fill
 *   struct lineio_out out = { 0 };
 *   lineio_out_printf(&out, "%s ok\n", id);  // -ENOMEM
 *   r = lineio_out_flush(&out, fd);          // 0 all written, -EAGAIN some left, -errno
 * All return >= 0 or -errno.
 */
#ifndef CHAOSDRILL_TARGETS_SQLITE_LINEIO_H
#define CHAOSDRILL_TARGETS_SQLITE_LINEIO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest line accepted: a 64 KiB value and its key with room to spare. */
#define LINEIO_MAX_LINE (1 << 20)

struct lineio_in {
	char *buf;
	size_t len;	/* bytes held */
	size_t start;	/* first byte not yet returned as a line */
	size_t scanned; /* bytes from start already known to hold no '\n' */
	size_t cap;
	bool too_long; /* a line longer than LINEIO_MAX_LINE arrived: the stream is unusable */
};

struct lineio_out {
	char *buf;
	size_t len;
	size_t off; /* written so far */
	size_t cap;
};

/* Reads what the fd has (one read of up to 64 KiB). -E2BIG once a line exceeded the limit. */
int lineio_in_fill(struct lineio_in *in, int fd);
/* The next complete line (NUL-terminated in place), or NULL. Borrowed. */
char *lineio_in_next(struct lineio_in *in);
/* A final line without '\n' at EOF, or NULL. Borrowed. */
char *lineio_in_rest(struct lineio_in *in);
void lineio_in_free(struct lineio_in *in);

int lineio_out_printf(struct lineio_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int lineio_out_append(struct lineio_out *out, const char *s, size_t n);
/* Bytes still to write. */
static inline size_t lineio_out_pending(const struct lineio_out *out)
{
	return out->len - out->off;
}
int lineio_out_flush(struct lineio_out *out, int fd);
void lineio_out_free(struct lineio_out *out);

/* "10.213.0.2:7800" (numeric IPv4) -> sa; -EINVAL otherwise. */
int lineio_parse_hostport(const char *s, struct sockaddr_in *sa);
/* Splits "ID VERB REST" in place: *id and *verb point into line, *rest at what follows the
 * verb's space (or at the terminating NUL). -EINVAL when there is no verb. */
int lineio_split(char *line, char **id, char **verb, char **rest);

#endif
