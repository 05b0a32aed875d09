/* The line protocol of client adapters (lines_driver.c; docs/adapters.md), for the engine
 * and its tests: the driver is lines_driver (also found as target_driver_lookup("lines")).
 *
 * Usage:
 *   conn_adopt(&lines_driver, adapter stdout, adapter stdin, done, ud, &c);
 *   n = lines_decode(buf, len, &reply);   // one line, any reply kind; 0: not whole yet
 */
#ifndef CHAOSDRILL_TARGETS_LINES_H
#define CHAOSDRILL_TARGETS_LINES_H

#include <sys/types.h>

#include "targets/driver.h"

/* The longest line either side may send, newline included. */
#define LINES_MAX_LINE (1 << 20)

extern const struct target_driver lines_driver;

/* Decodes one line "ID ok [COUNT] | ID fail [TEXT] | ID unknown [TEXT] | ID kv KEY VALUE":
 * its length, 0 when no newline yet, -EBADMSG when it does not parse, -EMSGSIZE when no
 * newline comes within LINES_MAX_LINE. out->tag is ID (never oldest). */
ssize_t lines_decode(const void *buf, size_t len, struct target_reply *out);

#endif
