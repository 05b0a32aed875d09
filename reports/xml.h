/* XML escaping for the JUnit writer: any bytes in, well-formed XML 1.0 character data out.
 *
 * Usage:
 *   strbuf_append(sb, "<failure message=\""); xml_append_attr(sb, msg); strbuf_append(sb, "\">");
 *   xml_append_text(sb, details); strbuf_append(sb, "</failure>");
 *
 * Both take a borrowed string (NULL appends nothing) and:
 *   - write & < > " ' as entities, so "]]>" can never appear literally;
 *   - write \r as &#13; (parsers would turn it into \n), and in attributes also \t and \n as
 *     &#9; &#10; (attribute-value normalisation would turn them into spaces);
 *   - drop ANSI escape sequences (CSI "ESC [ ... final", OSC/DCS strings, two-byte ESC x)
 *     and DEL entirely;
 *   - replace what XML 1.0 cannot hold (other C0 and C1 controls, U+FFFE, U+FFFF) and every
 *     byte of invalid UTF-8 with U+FFFD.
 */
#ifndef CHAOSDRILL_REPORTS_XML_H
#define CHAOSDRILL_REPORTS_XML_H

#include "common/strbuf.h"

/* Appends s as XML text content (between tags). */
void xml_append_text(struct strbuf *sb, const char *s);
/* Appends s as an attribute value meant to sit between double quotes. */
void xml_append_attr(struct strbuf *sb, const char *s);

#endif
