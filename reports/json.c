/* The result.json writer: one drill's facts as pretty, deterministic JSON (fixed key order). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/units.h"
#include "reports/report.h"
#include "reports/report_internal.h"

/* Bumped when a key changes meaning or goes away; adding keys keeps the version.
 * 2: figures are JSON numbers and flags booleans (they were strings); "schema" added
 * beside "schema_version". docs/result-json.md describes the format. */
#define RESULT_SCHEMA_VERSION 2

/* Strings are written with strbuf_append_json_string: control characters (ANSI escapes
 * included) become \u00XX and invalid UTF-8 becomes U+FFFD, so the facts stay as they were
 * and the file is always valid JSON. */

static void key(struct strbuf *sb, int indent, const char *k)
{
	strbuf_appendf(sb, ",\n%*s\"%s\": ", indent, "", k);
}

static void first_key(struct strbuf *sb, int indent, const char *k)
{
	strbuf_appendf(sb, "{\n%*s\"%s\": ", indent, "", k);
}

static void key_string(struct strbuf *sb, int indent, const char *k, const char *v)
{
	key(sb, indent, k);
	strbuf_append_json_string(sb, v);
}

/* Integer milliseconds (truncated, like the JUnit times); null when negative (unknown). */
static void key_ms(struct strbuf *sb, int indent, const char *k, int64_t ns)
{
	key(sb, indent, k);
	if (ns < 0)
		strbuf_append(sb, "null");
	else
		strbuf_appendf(sb, "%" PRId64, (int64_t)(ns / NSEC_PER_MSEC));
}

/* Whether text is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *v)
{
	const char *p = v;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return false;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* A property's value as its type says: a number or flag that is not one stays a string, so
 * the file is valid JSON whatever the model holds; a missing one is null. */
static void value(struct strbuf *sb, const struct report_property *p)
{
	bool raw = false;

	if (!p->value) {
		strbuf_append(sb, "null");
		return;
	}
	if (p->type == REPORT_NUMBER)
		raw = json_number(p->value);
	else if (p->type == REPORT_FLAG)
		raw = !strcmp(p->value, "true") || !strcmp(p->value, "false");
	if (raw)
		strbuf_append(sb, p->value);
	else
		strbuf_append_json_string(sb, p->value);
}

/* An object of the properties, in the model's order. */
static void key_props(struct strbuf *sb, int indent, const struct report_property *p, size_t n)
{
	const char *sep = "\n";
	size_t written = 0;

	key(sb, indent, "props");
	strbuf_append(sb, "{");
	for (size_t i = 0; i < n; i++) {
		/* as in JUnit: a figure needs both, but a number or flag not measured is null */
		if (!p[i].name || (!p[i].value && p[i].type == REPORT_TEXT))
			continue;
		strbuf_appendf(sb, "%s%*s", sep, indent + 2, "");
		strbuf_append_json_string(sb, p[i].name);
		strbuf_append(sb, ": ");
		value(sb, &p[i]);
		sep = ",\n";
		written++;
	}
	if (written)
		strbuf_appendf(sb, "\n%*s", indent, "");
	strbuf_append(sb, "}");
}

static void one_case(struct strbuf *sb, const struct report_case *c)
{
	strbuf_append(sb, "    ");
	first_key(sb, 6, "kind");
	strbuf_append_json_string(sb, report_kind_name(c->kind));
	key_string(sb, 6, "id", c->id);
	key_string(sb, 6, "name", c->name);
	key_ms(sb, 6, "start_ms", c->start_ns);
	key_ms(sb, 6, "duration_ms", c->start_ns < 0 ? 0 : c->duration_ns);
	key_string(sb, 6, "status", report_status_name(c->status));
	key_string(sb, 6, "message", c->message);
	key_string(sb, 6, "details", c->details);
	key_string(sb, 6, "output", c->output);
	key_props(sb, 6, c->props, c->n_props);
	strbuf_append(sb, "\n    }");
}

static void key_cases(struct strbuf *sb, const struct report_suite *s)
{
	key(sb, 2, "cases");
	if (!s->n_cases) {
		strbuf_append(sb, "[]");
		return;
	}
	strbuf_append(sb, "[\n");
	for (size_t i = 0; i < s->n_cases; i++) {
		one_case(sb, &s->cases[i]);
		strbuf_append(sb, i + 1 < s->n_cases ? ",\n" : "\n");
	}
	strbuf_append(sb, "  ]");
}

/* error: the drill could not run, was interrupted, or a case could not be carried out;
 * fail: an expectation or check missed; pass otherwise. The worst one wins. */
static const char *verdict(const struct report_suite *s)
{
	struct report_tally t;

	report_tally_suite(s, &t);
	if (s->error || s->exit_code >= 2 || s->exit_code < 0 || t.errors)
		return "error";
	if (s->exit_code == 1 || t.failures)
		return "fail";
	return "pass";
}

int result_json_write(const struct report_suite *s, struct strbuf *out)
{
	char buf[REPORT_UTC_LEN];

	if (!s || !out)
		return -EINVAL;
	first_key(out, 2, "schema");
	strbuf_appendf(out, "%d", RESULT_SCHEMA_VERSION);
	key(out, 2, "schema_version"); /* its name in version 1: readers that check it see 2 */
	strbuf_appendf(out, "%d", RESULT_SCHEMA_VERSION);
	key_string(out, 2, "drill", s->name);
	key_string(out, 2, "description", s->description);
	key_string(out, 2, "target", s->target);
	key_string(out, 2, "runbook", s->runbook);
	/* A string: uint64 seeds above 2^53 would lose precision as JSON numbers. */
	key(out, 2, "seed");
	strbuf_appendf(out, "\"%" PRIu64 "\"", s->seed);
	key_string(out, 2, "started", report_format_utc(s->started_real_ns, buf) == 0 ? buf : NULL);
	key_ms(out, 2, "duration_ms", s->duration_ns);
	key_string(out, 2, "hostname", s->hostname);
	key_string(out, 2, "run_dir", s->run_dir);
	key(out, 2, "exit_code");
	strbuf_appendf(out, "%d", s->exit_code);
	key_string(out, 2, "verdict", verdict(s));
	key_string(out, 2, "error", s->error);
	key_props(out, 2, s->props, s->n_props);
	key_cases(out, s);
	strbuf_append(out, "\n}\n");
	return strbuf_failed(out) ? -ENOMEM : 0;
}
