/* A growable string for writers (JSON, XML, timeline lines). Allocation failure is
 * sticky: later appends do nothing and strbuf_failed() reports it, so writers check once.
 *
 * Usage:
 *   struct strbuf sb = STRBUF_INIT;
 *   strbuf_append(&sb, "x"); strbuf_appendf(&sb, "%d", 3); strbuf_append_json_string(&sb, s);
 *   if (strbuf_failed(&sb)) ...;  use sb.buf / sb.len;  strbuf_release(&sb);
 */
#ifndef CHAOSDRILL_COMMON_STRBUF_H
#define CHAOSDRILL_COMMON_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NUL-terminated when non-NULL; owned */
	size_t len;
	size_t cap;
	bool oom;
};

#define STRBUF_INIT               \
	{                         \
		NULL, 0, 0, false \
	}

void strbuf_appendn(struct strbuf *sb, const char *s, size_t n);
void strbuf_append(struct strbuf *sb, const char *s);
void strbuf_appendc(struct strbuf *sb, char c);
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included; NULL becomes null. Invalid UTF-8
 * bytes become U+FFFD so the output is always valid JSON. */
void strbuf_append_json_string(struct strbuf *sb, const char *s);
bool strbuf_failed(const struct strbuf *sb);
/* Returns the buffer (caller frees) and resets sb. "" rather than NULL when empty. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

#endif
