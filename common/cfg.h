/* A located configuration tree: the shape of a YAML document (scalars, mappings, lists),
 * every node with its file, line and column, and typed getters whose errors say where and
 * what was expected. Plain data: scenarios/parser/yaml_load.c builds it (the only user of
 * libyaml); scenarios/, faults/, targets' and the harness's parsers read it.
 *
 * Usage:
 *   struct cfg_node *root;  yaml_load_file(path, &root, &err);       // scenarios/parser/yaml_load.h
 *   static const char *const keys[] = { "at", "node", NULL };
 *   r = cfg_check_keys(map, keys, "a kill fault", &err);             // unknown key + suggestion
 *   r = cfg_get_duration(map, "at", true, &at_ns, &err);             // required key
 *   cfg_node_free(root);
 */
#ifndef CHAOSDRILL_COMMON_CFG_H
#define CHAOSDRILL_COMMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum cfg_type { CFG_SCALAR, CFG_MAP, CFG_SEQ };

struct cfg_node {
	enum cfg_type type;
	const char *file;	 /* borrowed from the root (owned_file) */
	int line, col;		 /* 1-based */
	char *scalar;		 /* CFG_SCALAR: the text (owned) */
	bool quoted;		 /* CFG_SCALAR: written in quotes (so never null/bool/number) */
	size_t n;		 /* CFG_MAP: pairs; CFG_SEQ: items */
	struct cfg_node **keys;	 /* CFG_MAP: scalar key nodes (owned) */
	struct cfg_node **items; /* CFG_MAP: values; CFG_SEQ: items (owned) */
	char *owned_file;	 /* root only */
};

/* Frees a tree (root or detached subtree); accepts NULL. */
void cfg_node_free(struct cfg_node *n);
/* Allocation helpers for builders. cfg_node_new returns NULL on ENOMEM. */
struct cfg_node *cfg_node_new(enum cfg_type type, const char *file, int line, int col);
int cfg_node_append(struct cfg_node *parent, struct cfg_node *key, struct cfg_node *item);

/* "a mapping", "a list", "a scalar": for messages. */
const char *cfg_type_name(enum cfg_type t);
/* Fails with a located error at n (err may be NULL). Returns -EINVAL. */
int cfg_error(const struct cfg_node *n, struct cd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The value of key in a mapping, or NULL. */
const struct cfg_node *cfg_get(const struct cfg_node *map, const char *key);
/* Fails unless n is of type t; `what` names the thing ("the workload", "a fault"). */
int cfg_expect(const struct cfg_node *n, enum cfg_type t, const char *what, struct cd_error *err);
/* Every key of map must be in allowed (NULL-terminated); an unknown one is an error that
 * lists the known keys, or suggests the nearest one ("did you mean 'rate'?"). */
int cfg_check_keys(const struct cfg_node *map, const char *const *allowed, const char *what,
		   struct cd_error *err);
/* Nearest of candidates to word by edit distance, or NULL if none is close. */
const char *cfg_suggest(const char *word, const char *const *candidates);

/* Typed scalar readers: each fails with a located error naming what was expected. */
int cfg_string(const struct cfg_node *n, const char **out, struct cd_error *err);
int cfg_duration(const struct cfg_node *n, int64_t *ns, struct cd_error *err);
int cfg_size(const struct cfg_node *n, uint64_t *bytes, struct cd_error *err);
int cfg_rate(const struct cfg_node *n, double *per_sec, struct cd_error *err);
int cfg_uint(const struct cfg_node *n, uint64_t min, uint64_t max, uint64_t *out,
	     struct cd_error *err);
int cfg_bool(const struct cfg_node *n, bool *out, struct cd_error *err);
/* One of values (NULL-terminated); *idx is its index. */
int cfg_enum(const struct cfg_node *n, const char *const *values, size_t *idx,
	     struct cd_error *err);
/* True when n is a plain (unquoted) scalar that reads as an unsigned integer. */
bool cfg_is_uint(const struct cfg_node *n);

/* Map-level conveniences: key missing and required → error at the map; missing and
 * optional → returns 0 and leaves *out untouched (so callers preset defaults). Returns 1
 * when the key was present and read. */
int cfg_get_string(const struct cfg_node *map, const char *key, bool required, const char **out,
		   struct cd_error *err);
int cfg_get_duration(const struct cfg_node *map, const char *key, bool required, int64_t *ns,
		     struct cd_error *err);
int cfg_get_uint(const struct cfg_node *map, const char *key, bool required, uint64_t min,
		 uint64_t max, uint64_t *out, struct cd_error *err);
int cfg_get_bool(const struct cfg_node *map, const char *key, bool required, bool *out,
		 struct cd_error *err);

#endif
