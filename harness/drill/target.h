/* A target's definition, targets/NAME/target.yaml: how to start a node, probe it, check
 * its data, and which params it takes. Argv templates hold {placeholders} the harness
 * fills per node ({bin}, {targets_bin}, {data}, {addr}, {port}, {name}, {replicas},
 * {peers}, and every param; harness/run/run_nodes.c).
 *
 * Usage:
 *   struct target_def *t;
 *   r = target_load("kvlog", &t, &err);   // from target_src_root()
 *   ... t->start, t->params[i] ...
 *   target_free(t);
 */
#ifndef CHAOSDRILL_HARNESS_DRILL_TARGET_H
#define CHAOSDRILL_HARNESS_DRILL_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/error.h"

struct target_param_def {
	const char *name;
	const char *def;	    /* default value, or NULL (then required) */
	const char *const *values;  /* allowed values, NULL-terminated; NULL = any */
	const struct cfg_node *pos; /* where it was declared */
};

struct target_argv {
	const char **argv; /* NULL-terminated; strings borrowed from the tree */
	size_t argc;
};

struct target_def {
	const char *name;
	const char *description;
	const char *driver; /* workload driver name (targets/driver.h) */
	const char *user;   /* run nodes as this user, or NULL for root */
	uint16_t port;
	struct target_param_def *params;
	size_t n_params;
	struct target_argv start;
	struct target_argv probe_ready;
	struct target_argv probe_leader; /* argc 0: none; exits 0 on the node that leads */
	struct target_argv check;	 /* argc 0 when the target has no checker */
	struct target_argv client;	 /* driver lines: the adapter program; else argc 0 */
	char *src_dir;			 /* folder holding target.yaml (owned) */
	char *bin_dir;			 /* folder holding its built binaries: {bin} (owned) */
	struct cfg_node *tree;		 /* owned */
};

/* Where targets are looked for: $CHAOSDRILL_TARGETS (a folder of NAME/target.yaml), else
 * the source tree this chaosdrill was built from. Binaries: $CHAOSDRILL_TARGETS_BIN, else
 * the build tree. */
const char *target_src_root(void);
const char *target_bin_root(void);

/* NAME/target.yaml, else examples/NAME/target.yaml under target_src_root(). -ENOENT when
 * no such target (err says so); other errors are located in target.yaml. */
int target_load(const char *name, struct target_def **out, struct cd_error *err);
void target_free(struct target_def *t);
const struct target_param_def *target_param(const struct target_def *t, const char *name);
/* Names of the targets found under target_src_root(), for `chaosdrill list`; caller
 * frees each and the array. */
int target_list(char ***names, size_t *n);

#endif
