/* Unit tests of the XML escaping (reports/xml.c): exact cases, then random bytes checked
 * against what XML 1.0 allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "reports/xml.h"

#define FFFD "\xef\xbf\xbd"

struct escape_case {
	const char *in, *text, *attr;
};

static const struct escape_case cases[] = {
	{ "plain ok", "plain ok", "plain ok" },
	{ "<&\"'>", "&lt;&amp;&quot;&apos;&gt;", "&lt;&amp;&quot;&apos;&gt;" },
	{ "a]]>b", "a]]&gt;b", "a]]&gt;b" },
	{ "t\tn\nr\r", "t\tn\nr&#13;", "t&#9;n&#10;r&#13;" },
	{ "\x1b[31mred\x1b[0m", "red", "red" },
	{ "\x1b[1;38;5;196mX\x1b[?25h", "X", "X" },
	{ "\x1b]0;title\x07"
	  "after",
	  "after", "after" },
	{ "\x1b]8;;http://x\x1b\\link", "link", "link" },
	{ "\x1b(Bx\x1b"
	  "7y",
	  "xy", "xy" },
	{ "cut\x1b", "cut", "cut" },
	{ "cut\x1b[12", "cut", "cut" },
	{ "osc\x1b]0;no end\nnext", "osc\nnext", "osc&#10;next" },
	{ "del\x7f!", "del!", "del!" },
	{ "c0\x01\x08\x1f.", "c0" FFFD FFFD FFFD ".", "c0" FFFD FFFD FFFD "." },
	{ "c1\xc2\x85\xc2\x9b.", "c1" FFFD FFFD ".", "c1" FFFD FFFD "." },
	{ "bad\xff\xfe.", "bad" FFFD FFFD ".", "bad" FFFD FFFD "." },
	{ "trunc\xe2\x82", "trunc" FFFD FFFD, "trunc" FFFD FFFD },
	{ "over\xc0\xaf", "over" FFFD FFFD, "over" FFFD FFFD },
	{ "surr\xed\xa0\x80", "surr" FFFD FFFD FFFD, "surr" FFFD FFFD FFFD },
	{ "nonchar\xef\xbf\xbe\xef\xbf\xbf", "nonchar" FFFD FFFD, "nonchar" FFFD FFFD },
	{ "ok \xc3\xa9\xe2\x9c\x93\xf0\x9f\x92\xa5", "ok \xc3\xa9\xe2\x9c\x93\xf0\x9f\x92\xa5",
	  "ok \xc3\xa9\xe2\x9c\x93\xf0\x9f\x92\xa5" },
	{ "", "", "" },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf t = STRBUF_INIT, a = STRBUF_INIT;

		xml_append_text(&t, cases[i].in);
		xml_append_attr(&a, cases[i].in);
		if (strcmp(t.buf ? t.buf : "", cases[i].text) != 0)
			fail_msg("case %zu, text: got \"%s\"", i, t.buf);
		if (strcmp(a.buf ? a.buf : "", cases[i].attr) != 0)
			fail_msg("case %zu, attribute: got \"%s\"", i, a.buf);
		strbuf_release(&t);
		strbuf_release(&a);
	}
}

static void test_null(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	xml_append_text(&sb, NULL);
	xml_append_attr(&sb, NULL);
	assert_int_equal(sb.len, 0);
}

/* Length of the XML 1.0 Char encoded at p, 0 if it is not one (or not valid UTF-8). */
static size_t xml_char_len(const unsigned char *p, bool attr)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80)
		return (p[0] >= 0x20 && p[0] != 0x7f) || (!attr && (p[0] == '\t' || p[0] == '\n'));
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || p[0] > 0xf4)
		return 0;
	c = p[0] & (0xff >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff)
		return 0;
	if ((c >= 0x80 && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

/* Every byte is part of an XML Char or of an entity we write; no raw < > " ' or ESC; no
 * "]]>". */
static void check_well_formed(const struct strbuf *sb, bool attr)
{
	static const char *const ents[] = { "&amp;",  "&lt;", "&gt;",  "&quot;",
					    "&apos;", "&#9;", "&#10;", "&#13;" };
	const unsigned char *p = (const unsigned char *)(sb->buf ? sb->buf : "");

	assert_null(strstr((const char *)p, "]]>"));
	while (*p) {
		size_t n = 0;

		if (*p == '&') {
			for (size_t i = 0; i < ARRAY_SIZE(ents) && !n; i++)
				if (strncmp((const char *)p, ents[i], strlen(ents[i])) == 0)
					n = strlen(ents[i]);
		} else if (!strchr("<>\"'", *p)) {
			n = xml_char_len(p, attr);
		}
		if (n == 0)
			fail_msg("bad byte 0x%02x at %zu", *p,
				 (size_t)(p - (const unsigned char *)sb->buf));
		p += n;
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned char rand_byte(void)
{
	static const unsigned char pick[] = { 0x1b, '[',  ']',	'>',  '&',  '\r', 0x07, 0xc2,
					      0xef, 0xbf, 0xed, 0xf4, 0x80, '\\', 'm',	0x7f };

	rng ^= rng << 13; /* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng & 1) ? pick[(rng >> 8) % sizeof(pick)] : (unsigned char)(rng >> 16 | 1);
}

static void test_random(void **state)
{
	char in[64];

	for (int round = 0; round < 20000; round++) {
		struct strbuf t = STRBUF_INIT, a = STRBUF_INIT;
		size_t n = (size_t)(round % 63);

		for (size_t i = 0; i < n; i++)
			in[i] = (char)rand_byte();
		in[n] = '\0';
		xml_append_text(&t, in);
		xml_append_attr(&a, in);
		check_well_formed(&t, false);
		check_well_formed(&a, true);
		strbuf_release(&t);
		strbuf_release(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
