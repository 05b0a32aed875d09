/* RESP2, the Redis protocol, as far as the driver needs it: commands encoded as arrays of
 * bulk strings, and the parts of replies (a line, a bulk string, an integer, an array's
 * header) parsed in place. Nothing is copied or allocated: what a parser points to lives
 * in the buffer it was given.
 *
 * Every parser takes the bytes received so far and returns the length of the whole piece
 * at their start, 0 when it is not all there yet, or -EPROTO when the bytes cannot be it.
 */
#ifndef CHAOSDRILL_TARGETS_REDIS_RESP_H
#define CHAOSDRILL_TARGETS_REDIS_RESP_H

#include <stddef.h>
#include <sys/types.h>

/* Longest bulk string accepted (Redis's proto-max-bulk-len default, 512 MiB). */
#define RESP_MAX_BULK (512LL * 1024 * 1024)

/* "*argc\r\n" and argc bulk strings; returns the length, written only if it is <= cap. */
ssize_t resp_encode_command(void *buf, size_t cap, size_t argc, const char *const *argv,
			    const size_t *lens);
/* One line ending in CRLF (a simple string, an error, an integer, a header). */
ssize_t resp_line(const char *p, size_t len);
/* "$n\r\n<n bytes>\r\n"; "$-1\r\n" (nil) gives *s = NULL. */
ssize_t resp_bulk(const char *p, size_t len, const char **s, size_t *n);
/* ":v\r\n". */
ssize_t resp_integer(const char *p, size_t len, long long *v);
/* "*n\r\n", the header only (n may be -1: a nil array). */
ssize_t resp_array_header(const char *p, size_t len, long long *n);
/* The errno an error reply stands for when Redis did not apply the command (its first
 * word: READONLY -> EROFS, LOADING -> EAGAIN, MISCONF -> EIO, ...), or 0 when its words do
 * not say (an unknown error word: the command may have run). line/n: without '-', CRLF. */
int resp_error_errno(const char *line, size_t n);

#endif
