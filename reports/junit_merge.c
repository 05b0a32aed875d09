/* JUnit documents merged into one (junit_merge.h): a small scanner of the root element
 * and its attributes; what lies inside the root is copied byte for byte. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "reports/junit_merge.h"

struct totals {
	uint64_t tests, failures, errors, time_ms;
};

struct doc {
	const char *p, *end;
};

static bool starts(const struct doc *d, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(d->end - d->p) >= n && memcmp(d->p, s, n) == 0;
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Moves past close; false if it never comes. */
static bool skip_past(struct doc *d, const char *close)
{
	size_t n = strlen(close);

	for (; d->p + n <= d->end; d->p++)
		if (memcmp(d->p, close, n) == 0) {
			d->p += n;
			return true;
		}
	return false;
}

/* Past white space, the XML declaration, processing instructions, comments, a DOCTYPE. */
static bool skip_prolog(struct doc *d)
{
	for (;;) {
		while (d->p < d->end && space(*d->p))
			d->p++;
		if (starts(d, "\xef\xbb\xbf"))
			d->p += 3;
		else if (starts(d, "<?"))
			if (!skip_past(d, "?>"))
				return false;
			else
				continue;
		else if (starts(d, "<!--"))
			if (!skip_past(d, "-->"))
				return false;
			else
				continue;
		else if (starts(d, "<!"))
			if (!skip_past(d, ">"))
				return false;
			else
				continue;
		else
			return true;
	}
}

/* "12", "1,234", "12.5", "0.250": milliseconds; -1 if it is none of those. */
static int64_t parse_time(const char *s, size_t n)
{
	int64_t ms = 0, frac = 0;
	size_t i = 0, digits = 0;

	for (; i < n && s[i] != '.'; i++) {
		if (s[i] == ',')
			continue;
		if (s[i] < '0' || s[i] > '9' || ms > INT64_MAX / 100)
			return -1;
		ms = ms * 10 + (s[i] - '0');
	}
	if (i < n)
		i++;
	for (; i < n; i++, digits++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (digits < 3)
			frac = frac * 10 + (s[i] - '0');
	}
	for (; digits < 3; digits++)
		frac *= 10;
	return ms * 1000 + frac;
}

static int64_t parse_count(const char *s, size_t n)
{
	int64_t v = 0;

	if (n == 0 || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

enum { A_TESTS, A_FAILURES, A_ERRORS, A_TIME, N_ATTRS };

/* The root's start tag from "<name" on: the four attributes (-1 where absent), and
 * whether it closes itself. d ends past the '>'. */
static const char *root_attrs(struct doc *d, int64_t v[N_ATTRS], bool *empty)
{
	static const char *const names[N_ATTRS] = { "tests", "failures", "errors", "time" };

	for (int i = 0; i < N_ATTRS; i++)
		v[i] = -1;
	for (;;) {
		const char *name, *val;
		size_t nlen;
		char q;

		while (d->p < d->end && space(*d->p))
			d->p++;
		if (starts(d, "/>") || starts(d, ">")) {
			*empty = *d->p == '/';
			d->p += *empty ? 2 : 1;
			return NULL;
		}
		name = d->p;
		while (d->p < d->end && !space(*d->p) && *d->p != '=' && *d->p != '>')
			d->p++;
		nlen = (size_t)(d->p - name);
		while (d->p < d->end && space(*d->p))
			d->p++;
		if (d->p >= d->end || *d->p != '=' || nlen == 0)
			return "a malformed attribute in the root's start tag";
		d->p++;
		while (d->p < d->end && space(*d->p))
			d->p++;
		if (d->p >= d->end || (*d->p != '"' && *d->p != '\''))
			return "an attribute value without quotes";
		q = *d->p++;
		val = d->p;
		while (d->p < d->end && *d->p != q)
			d->p++;
		if (d->p >= d->end)
			return "an unterminated attribute value";
		for (int i = 0; i < N_ATTRS; i++)
			if (strlen(names[i]) == nlen && memcmp(name, names[i], nlen) == 0) {
				size_t n = (size_t)(d->p - val);

				v[i] = i == A_TIME ? parse_time(val, n) : parse_count(val, n);
				if (v[i] < 0)
					return i == A_TIME ? "a time= that is not seconds" :
							     "a count that is not a number";
			}
		d->p++;
	}
}

/* The last occurrence of s in [from, end), or NULL. */
static const char *last_of(const char *from, const char *end, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = end - n; p >= from && end - from >= (ptrdiff_t)n; p--)
		if (memcmp(p, s, n) == 0)
			return p;
	return NULL;
}

/* Only white space and comments after the root. */
static bool only_trailer(struct doc d)
{
	while (d.p < d.end) {
		if (space(*d.p))
			d.p++;
		else if (starts(&d, "<!--")) {
			if (!skip_past(&d, "-->"))
				return false;
		} else
			return false;
	}
	return true;
}

static const char *one(const char *buf, size_t len, struct strbuf *out, struct totals *t)
{
	struct doc d = { buf, buf + len };
	const char *start, *body, *close;
	bool suites, empty = false;
	int64_t v[N_ATTRS];
	const char *why;

	if (!skip_prolog(&d))
		return "an unterminated declaration or comment";
	start = d.p;
	if (starts(&d, "<testsuites") && (d.p + 11 < d.end) &&
	    (space(d.p[11]) || d.p[11] == '>' || d.p[11] == '/'))
		suites = true;
	else if (starts(&d, "<testsuite") && d.p + 10 < d.end &&
		 (space(d.p[10]) || d.p[10] == '>' || d.p[10] == '/'))
		suites = false;
	else
		return "its root is neither <testsuites> nor <testsuite>";
	d.p += suites ? 11 : 10;
	if ((why = root_attrs(&d, v, &empty)))
		return why;
	if (v[A_TESTS] < 0 || v[A_FAILURES] < 0 || v[A_ERRORS] < 0)
		return "its root lacks tests=, failures= or errors=";
	body = d.p;
	if (empty) {
		close = body;
	} else if (!(close = last_of(body, d.end, suites ? "</testsuites>" : "</testsuite>"))) {
		return "its root element is not closed";
	}
	d.p = close + (empty ? 0 : suites ? 13 : 12);
	if (!only_trailer(d))
		return "something follows its root element";
	t->tests += (uint64_t)v[A_TESTS];
	t->failures += (uint64_t)v[A_FAILURES];
	t->errors += (uint64_t)v[A_ERRORS];
	t->time_ms += v[A_TIME] > 0 ? (uint64_t)v[A_TIME] : 0;
	if (suites) {
		while (body < close && space(*body))
			body++;
		while (close > body && space(close[-1]))
			close--;
		if (close > body) {
			strbuf_append(out, "  ");
			strbuf_appendn(out, body, (size_t)(close - body));
			strbuf_append(out, "\n");
		}
	} else {
		strbuf_append(out, "  ");
		strbuf_appendn(out, start, (size_t)(d.p - start));
		strbuf_append(out, "\n");
	}
	return NULL;
}

int junit_merge(const char *const *docs, const size_t *lens, size_t n, struct strbuf *out,
		char *err, size_t errlen)
{
	struct strbuf body = STRBUF_INIT;
	struct totals t = { 0 };
	int r = 0;

	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *why = one(docs[i], lens[i], &body, &t);

		if (why) {
			if (err && errlen)
				snprintf(err, errlen, "document %zu is not JUnit XML: %s", i, why);
			strbuf_release(&body);
			return -EINVAL;
		}
	}
	strbuf_appendf(out,
		       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"chaosdrill\" "
		       "tests=\"%llu\" failures=\"%llu\" errors=\"%llu\" time=\"%llu.%03llu\">\n",
		       (unsigned long long)t.tests, (unsigned long long)t.failures,
		       (unsigned long long)t.errors, (unsigned long long)(t.time_ms / 1000),
		       (unsigned long long)(t.time_ms % 1000));
	if (body.buf)
		strbuf_appendn(out, body.buf, body.len);
	strbuf_append(out, "</testsuites>\n");
	if (strbuf_failed(out) || strbuf_failed(&body))
		r = -ENOMEM;
	strbuf_release(&body);
	return r;
}
