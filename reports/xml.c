/* XML escaping of untrusted strings (step output, error text): see xml.h. */
#include <stdbool.h>
#include <stddef.h>

#include "common/utf8.h"
#include "reports/xml.h"

#define ESC 0x1b
#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Whether a valid multi-byte sequence is an XML 1.0 Char: not C1 (U+0080..U+009F, which
 * terminals may obey), not U+FFFE or U+FFFF. */
static bool xml_char(const unsigned char *p, size_t n)
{
	if (n == 2)
		return !(p[0] == 0xc2 && p[1] < 0xa0);
	if (n == 3)
		return !(p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe);
	return true;
}

static bool in(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

/* Length of the escape sequence at p (p[0] == ESC), to drop whole. A sequence cut short
 * ends before the first byte that cannot belong to it, so no later text is lost. */
static size_t esc_len(const unsigned char *p)
{
	size_t i = 2;

	if (p[1] == '[') { /* CSI: parameters, intermediates, final byte */
		while (in(p[i], 0x30, 0x3f))
			i++;
		while (in(p[i], 0x20, 0x2f))
			i++;
		return in(p[i], 0x40, 0x7e) ? i + 1 : i;
	}
	if (p[1] == ']' || p[1] == 'P' || p[1] == 'X' || p[1] == '^' || p[1] == '_') {
		/* OSC, DCS, SOS, PM, APC: a printable string ended by BEL or ST (ESC \) */
		while (p[i] >= 0x20 && p[i] != 0x7f)
			i++;
		if (p[i] == 0x07)
			return i + 1;
		return p[i] == ESC && p[i + 1] == '\\' ? i + 2 : i;
	}
	for (i = 1; in(p[i], 0x20, 0x2f); i++) /* ESC intermediates final (ESC ( B, ESC 7) */
		;
	return in(p[i], 0x30, 0x7e) ? i + 1 : i;
}

/* The entity for c, or NULL if c is written as itself (or not at all). */
static const char *entity(unsigned char c, bool attr)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\r':
		return "&#13;";
	case '\t':
		return attr ? "&#9;" : NULL;
	case '\n':
		return attr ? "&#10;" : NULL;
	default:
		return NULL;
	}
}

/* Escapes the character at p; returns how many bytes it consumed (>= 1). */
static size_t escape_one(struct strbuf *sb, const unsigned char *p, bool attr)
{
	const char *ent = entity(*p, attr);
	size_t n;

	if (ent) {
		strbuf_append(sb, ent);
		return 1;
	}
	if (*p == ESC)
		return esc_len(p);
	if (*p == 0x7f)
		return 1;
	if (*p < 0x20 && *p != '\t' && *p != '\n') {
		strbuf_append(sb, REPLACEMENT);
		return 1;
	}
	n = utf8_len(p);
	if (n == 0 || !xml_char(p, n)) {
		strbuf_append(sb, REPLACEMENT);
		return n ? n : 1;
	}
	strbuf_appendn(sb, (const char *)p, n);
	return n;
}

static void append_escaped(struct strbuf *sb, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	while (*p)
		p += escape_one(sb, p, attr);
}

void xml_append_text(struct strbuf *sb, const char *s)
{
	append_escaped(sb, s, false);
}

void xml_append_attr(struct strbuf *sb, const char *s)
{
	append_escaped(sb, s, true);
}
