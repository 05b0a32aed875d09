/* The JUnit XML writer: one <testsuite> per drill, valid against shared/schemas/junit-10.xsd. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "common/units.h"
#include "reports/report.h"
#include "reports/report_internal.h"
#include "reports/xml.h"

/* The schema allows <properties> only under <testsuite>, so a case's figures go there too,
 * named "<case id>.<figure>"; they also go into the failure text, which GitLab shows. */

static const char *suite_name(const struct report_suite *s)
{
	return s->name ? s->name : "unnamed";
}

static void attr(struct strbuf *sb, const char *name, const char *value)
{
	if (!value)
		return;
	strbuf_appendf(sb, " %s=\"", name);
	xml_append_attr(sb, value);
	strbuf_appendc(sb, '"');
}

static void attr_size(struct strbuf *sb, const char *name, size_t value)
{
	strbuf_appendf(sb, " %s=\"%zu\"", name, value);
}

static void attr_time(struct strbuf *sb, int64_t ns)
{
	char buf[REPORT_SECONDS_LEN];

	units_format_seconds_ms(ns, buf, sizeof(buf));
	strbuf_appendf(sb, " time=\"%s\"", buf);
}

/* <property name="PREFIX.NAME" value="VALUE"/>; the prefix is optional. */
static void property(struct strbuf *sb, const char *prefix, const char *name, const char *value)
{
	if (!name || !value)
		return;
	strbuf_append(sb, "      <property name=\"");
	if (prefix) {
		xml_append_attr(sb, prefix);
		strbuf_appendc(sb, '.');
	}
	xml_append_attr(sb, name);
	strbuf_append(sb, "\"");
	attr(sb, "value", value);
	strbuf_append(sb, "/>\n");
}

static void properties(struct strbuf *sb, const struct report_suite *s)
{
	char num[32];

	strbuf_append(sb, "    <properties>\n");
	property(sb, NULL, "description", s->description);
	property(sb, NULL, "target", s->target);
	snprintf(num, sizeof(num), "%" PRIu64, s->seed);
	property(sb, NULL, "seed", num);
	property(sb, NULL, "run_dir", s->run_dir);
	property(sb, NULL, "runbook", s->runbook);
	snprintf(num, sizeof(num), "%d", s->exit_code);
	property(sb, NULL, "exit_code", num);
	for (size_t i = 0; i < s->n_props; i++)
		property(sb, NULL, s->props[i].name, s->props[i].value);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct report_case *c = &s->cases[i];

		for (size_t j = 0; j < c->n_props; j++)
			property(sb, c->id ? c->id : c->name, c->props[j].name, c->props[j].value);
	}
	strbuf_append(sb, "    </properties>\n");
}

/* The text of a <failure>/<error>/<skipped>: the message, the details, then the case's
 * figures one per line, since GitLab shows only this text. */
static void outcome_text(struct strbuf *sb, const struct report_case *c)
{
	const char *sep = "";

	if (c->message) {
		xml_append_text(sb, c->message);
		sep = "\n";
	}
	if (c->details) {
		strbuf_append(sb, sep);
		xml_append_text(sb, c->details);
		sep = "\n";
	}
	for (size_t i = 0; i < c->n_props; i++) {
		if (!c->props[i].name || !c->props[i].value)
			continue;
		strbuf_append(sb, sep);
		xml_append_text(sb, c->props[i].name);
		strbuf_append(sb, ": ");
		xml_append_text(sb, c->props[i].value);
		sep = "\n";
	}
}

static void outcome(struct strbuf *sb, const struct report_case *c)
{
	static const char *const tags[] = {
		[REPORT_FAIL] = "failure", [REPORT_ERROR] = "error", [REPORT_SKIP] = "skipped"
	};
	const char *tag;

	if (c->status != REPORT_FAIL && c->status != REPORT_ERROR && c->status != REPORT_SKIP)
		return;
	tag = tags[c->status];
	strbuf_appendf(sb, "      <%s", tag);
	attr(sb, "message", c->message);
	attr(sb, "type", c->id);
	strbuf_append(sb, ">");
	outcome_text(sb, c);
	strbuf_appendf(sb, "</%s>\n", tag);
}

static void testcase(struct strbuf *sb, const struct report_suite *s, const struct report_case *c)
{
	strbuf_append(sb, "    <testcase");
	attr(sb, "name", c->name ? c->name : c->id ? c->id : "unnamed");
	strbuf_append(sb, " classname=\"");
	xml_append_attr(sb, suite_name(s));
	strbuf_appendf(sb, ".%s\"", report_kind_name(c->kind));
	attr_time(sb, c->start_ns < 0 ? 0 : c->duration_ns);
	if (c->status == REPORT_PASS && !c->output) {
		strbuf_append(sb, "/>\n");
		return;
	}
	strbuf_append(sb, ">\n");
	outcome(sb, c);
	if (c->output) {
		strbuf_append(sb, "      <system-out>");
		xml_append_text(sb, c->output);
		strbuf_append(sb, "</system-out>\n");
	}
	strbuf_append(sb, "    </testcase>\n");
}

/* A drill that could not run or was interrupted is itself an error case, so CI shows it
 * even when every case it reached passed. */
static void drill_error(struct strbuf *sb, const struct report_suite *s)
{
	strbuf_append(sb, "    <testcase name=\"drill\" classname=\"");
	xml_append_attr(sb, suite_name(s));
	strbuf_append(sb, ".drill\"");
	attr_time(sb, s->duration_ns);
	strbuf_append(sb, ">\n      <error");
	attr(sb, "message", s->error);
	strbuf_append(sb, " type=\"drill\">");
	xml_append_text(sb, s->error);
	strbuf_appendf(sb, "\nexit_code: %d</error>\n    </testcase>\n", s->exit_code);
}

static void testsuite(struct strbuf *sb, const struct report_suite *s)
{
	struct report_tally t;
	char ts[REPORT_UTC_LEN];

	report_tally_suite(s, &t);
	strbuf_append(sb, "  <testsuite");
	attr(sb, "name", suite_name(s));
	attr_size(sb, "tests", t.tests);
	attr_size(sb, "failures", t.failures);
	attr_size(sb, "errors", t.errors);
	attr_size(sb, "skipped", t.skipped);
	attr_time(sb, s->duration_ns);
	if (report_format_utc(s->started_real_ns, ts) == 0)
		attr(sb, "timestamp", ts);
	attr(sb, "hostname", s->hostname);
	strbuf_append(sb, ">\n");
	properties(sb, s);
	for (size_t i = 0; i < s->n_cases; i++)
		testcase(sb, s, &s->cases[i]);
	if (s->error)
		drill_error(sb, s);
	strbuf_append(sb, "  </testsuite>\n");
}

int junit_write(const struct report_suite *suites, size_t n_suites, struct strbuf *out)
{
	struct report_tally all = { 0 }, t;
	int64_t ns = 0;

	if (!out || (n_suites && !suites))
		return -EINVAL;
	for (size_t i = 0; i < n_suites; i++) {
		report_tally_suite(&suites[i], &t);
		all.tests += t.tests;
		all.failures += t.failures;
		all.errors += t.errors;
		if (suites[i].duration_ns > 0)
			ns += suites[i].duration_ns;
	}
	strbuf_append(
		out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"chaosdrill\"");
	attr_size(out, "tests", all.tests);
	attr_size(out, "failures", all.failures);
	attr_size(out, "errors", all.errors);
	attr_time(out, ns);
	strbuf_append(out, ">\n");
	for (size_t i = 0; i < n_suites; i++)
		testsuite(out, &suites[i]);
	strbuf_append(out, "</testsuites>\n");
	return strbuf_failed(out) ? -ENOMEM : 0;
}
