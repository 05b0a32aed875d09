/* index.html of a call of several drills (index.h): a table of verdicts with links. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reports/index.h"
#include "reports/xml.h"

const char *report_index_verdict(int exit_code)
{
	static const char *const names[] = { "PASS", "FAIL", "BAD INPUT", "ERROR" };

	return exit_code >= 0 && exit_code <= 3 ? names[exit_code] : "ERROR";
}

/* An href: bytes outside a safe set percent-encoded, '/' kept. */
static void append_href(struct strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-~", *p))
			strbuf_appendc(sb, (char)*p);
		else
			strbuf_appendf(sb, "%%%02X", *p);
	}
}

static void row(struct strbuf *sb, const struct report_index_row *r)
{
	const char *v = report_index_verdict(r->exit_code);
	char dur[32] = "-";

	if (r->duration_ns >= 0)
		snprintf(dur, sizeof(dur), "%lld.%03llds", (long long)(r->duration_ns / 1000000000),
			 (long long)(r->duration_ns / 1000000 % 1000));
	strbuf_appendf(sb, "<tr class=\"%s\"><td>", r->exit_code == 0 ? "pass" : r->exit_code == 1 ? "fail" : "error");
	if (r->link) {
		strbuf_append(sb, "<a href=\"");
		append_href(sb, r->link);
		strbuf_append(sb, "\">");
		xml_append_text(sb, r->drill ? r->drill : "unnamed");
		strbuf_append(sb, "</a>");
	} else {
		xml_append_text(sb, r->drill ? r->drill : "unnamed");
	}
	strbuf_appendf(sb, "</td><td class=\"v\">%s</td><td>%d</td><td>", v, r->exit_code);
	xml_append_text(sb, r->rto ? r->rto : "-");
	strbuf_appendf(sb, "</td><td>%s</td><td>", dur);
	if (r->error)
		xml_append_text(sb, r->error);
	else if (r->run_dir)
		xml_append_text(sb, r->run_dir);
	strbuf_append(sb, "</td></tr>\n");
}

int report_index_write(const char *title, const struct report_index_row *rows, size_t n,
		       struct strbuf *out)
{
	size_t count[4] = { 0 };

	for (size_t i = 0; i < n; i++)
		count[rows[i].exit_code == 0 ? 0 : rows[i].exit_code == 1 ? 1 : 2]++;
	strbuf_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
	xml_append_text(out, title);
	strbuf_append(out,
		      "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;color:#222}\n"
		      "table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;"
		      "text-align:left;vertical-align:top}\n.pass .v{color:#176f2c;font-weight:bold}"
		      ".fail .v{color:#b00020;font-weight:bold}.error .v{color:#8a5a00;font-weight:bold}\n"
		      "</style></head><body>\n<h1>");
	xml_append_text(out, title);
	strbuf_appendf(out,
		       "</h1>\n<p class=\"summary\">%zu drill%s: %zu passed, %zu failed, %zu could "
		       "not run</p>\n<table>\n<tr><th>drill</th><th>verdict</th><th>exit</th>"
		       "<th>RTO</th><th>duration</th><th>run directory</th></tr>\n",
		       n, n == 1 ? "" : "s", count[0], count[1], count[2]);
	for (size_t i = 0; i < n; i++)
		row(out, &rows[i]);
	strbuf_append(out, "</table>\n</body></html>\n");
	return strbuf_failed(out) ? -ENOMEM : 0;
}
