/* Pieces shared by the subcommands: --param lists and the duplicate-drill-name check. */
#ifndef CHAOSDRILL_HARNESS_CMD_COMMON_H
#define CHAOSDRILL_HARNESS_CMD_COMMON_H

#include <stddef.h>

#include "common/error.h"
#include "harness/drill/drill.h"

struct cli_params {
	char **v; /* owned "KEY=VALUE" copies */
	size_t n;
};

/* Adds "KEY=VALUE"; prints why and returns -EINVAL when it has no '=' or no key. */
int cli_params_add(struct cli_params *p, const char *kv);
void cli_params_release(struct cli_params *p);

/* Drill names seen so far in one call: a second drill of the same name is an error
 * (names identify JUnit test suites and run directories). */
struct drill_names {
	char **name;
	char **where; /* "file:line:col" of the first */
	size_t n;
};

int drill_names_check(struct drill_names *seen, const struct drill *d, struct cd_error *err);
void drill_names_release(struct drill_names *seen);

#endif
