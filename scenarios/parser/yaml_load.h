/* YAML → located configuration tree (common/cfg.h). The only code that includes yaml.h.
 * Rejects what a drill file never needs and would only hide mistakes: several documents,
 * aliases, non-scalar or duplicate mapping keys. An empty file is an error. */
#ifndef CHAOSDRILL_SCENARIOS_YAML_LOAD_H
#define CHAOSDRILL_SCENARIOS_YAML_LOAD_H

#include <stddef.h>

#include "common/cfg.h"
#include "common/error.h"

/* Largest file accepted (a drill file is a few KiB). */
#define YAML_LOAD_MAX_BYTES (4u << 20)

/* *out: the root node, caller frees with cfg_node_free(). Errors carry file:line:col. */
int yaml_load_file(const char *path, struct cfg_node **out, struct cd_error *err);
/* name is used in error messages and as every node's file. */
int yaml_load_string(const char *name, const char *buf, size_t len, struct cfg_node **out,
		     struct cd_error *err);

#endif
