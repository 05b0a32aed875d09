/* Growable strings: see strbuf.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/utf8.h"

static bool grow(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *nb;

	if (sb->oom)
		return false;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	nb = realloc(sb->buf, cap);
	if (!nb) {
		sb->oom = true;
		return false;
	}
	sb->buf = nb;
	sb->cap = cap;
	return true;
}

void strbuf_appendn(struct strbuf *sb, const char *s, size_t n)
{
	if (!grow(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_append(struct strbuf *sb, const char *s)
{
	strbuf_appendn(sb, s, strlen(s));
}

void strbuf_appendc(struct strbuf *sb, char c)
{
	strbuf_appendn(sb, &c, 1);
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void strbuf_append_json_string(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		strbuf_append(sb, "null");
		return;
	}
	strbuf_appendc(sb, '"');
	while (*p) {
		size_t n;

		switch (*p) {
		case '"':
			strbuf_append(sb, "\\\"");
			p++;
			continue;
		case '\\':
			strbuf_append(sb, "\\\\");
			p++;
			continue;
		case '\n':
			strbuf_append(sb, "\\n");
			p++;
			continue;
		case '\r':
			strbuf_append(sb, "\\r");
			p++;
			continue;
		case '\t':
			strbuf_append(sb, "\\t");
			p++;
			continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			strbuf_appendf(sb, "\\u%04x", *p);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			strbuf_append(sb, "\\ufffd");
			p++;
			continue;
		}
		strbuf_appendn(sb, (const char *)p, n);
		p += n;
	}
	strbuf_appendc(sb, '"');
}

bool strbuf_failed(const struct strbuf *sb)
{
	return sb->oom;
}

char *strbuf_detach(struct strbuf *sb)
{
	char *b = sb->buf;

	if (!b)
		b = strdup("");
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->oom = false;
	return b;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->oom = false;
}
