/* Located configuration tree and typed getters: see cfg.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/units.h"

void cfg_node_free(struct cfg_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			cfg_node_free(n->keys[i]);
		cfg_node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->scalar);
	free(n->owned_file);
	free(n);
}

struct cfg_node *cfg_node_new(enum cfg_type type, const char *file, int line, int col)
{
	struct cfg_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->file = file;
	n->line = line;
	n->col = col;
	return n;
}

int cfg_node_append(struct cfg_node *parent, struct cfg_node *key, struct cfg_node *item)
{
	struct cfg_node **items = realloc(parent->items, (parent->n + 1) * sizeof(*items));

	if (!items)
		return -ENOMEM;
	parent->items = items;
	if (parent->type == CFG_MAP) {
		struct cfg_node **keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		parent->keys = keys;
		keys[parent->n] = key;
	}
	items[parent->n++] = item;
	return 0;
}

const char *cfg_type_name(enum cfg_type t)
{
	switch (t) {
	case CFG_SCALAR:
		return "a single value";
	case CFG_MAP:
		return "a mapping (key: value)";
	case CFG_SEQ:
		return "a list";
	}
	return "?";
}

int cfg_error(const struct cfg_node *n, struct cd_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		snprintf(err->file, sizeof(err->file), "%s", n && n->file ? n->file : "");
		err->line = n ? n->line : 0;
		err->col = n ? n->col : 0;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const struct cfg_node *cfg_get(const struct cfg_node *map, const char *key)
{
	if (!map || map->type != CFG_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->scalar, key) == 0)
			return map->items[i];
	return NULL;
}

int cfg_expect(const struct cfg_node *n, enum cfg_type t, const char *what, struct cd_error *err)
{
	if (n->type == t)
		return 0;
	return cfg_error(n, err, "%s must be %s, found %s", what, cfg_type_name(t),
			 cfg_type_name(n->type));
}

/* Levenshtein distance, bounded to short words. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j], best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *cfg_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit = strlen(word) / 3 + 1;

	if (limit > 3)
		limit = 3;
	for (const char *const *c = candidates; *c; c++) {
		size_t d = edit_distance(word, *c);

		if (d < best_d) {
			best_d = d;
			best = *c;
		}
	}
	return best_d <= limit ? best : NULL;
}

static void join_keys(const char *const *allowed, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const char *const *k = allowed; *k && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", k == allowed ? "" : ", ", *k);
}

int cfg_check_keys(const struct cfg_node *map, const char *const *allowed, const char *what,
		   struct cd_error *err)
{
	for (size_t i = 0; i < map->n; i++) {
		const char *key = map->keys[i]->scalar, *near;
		bool ok = false;
		char list[400];

		for (const char *const *k = allowed; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (ok)
			continue;
		near = cfg_suggest(key, allowed);
		if (near)
			return cfg_error(map->keys[i], err,
					 "unknown key '%s' in %s; did you mean '%s'?", key, what,
					 near);
		join_keys(allowed, list, sizeof(list));
		return cfg_error(map->keys[i], err, "unknown key '%s' in %s; expected one of: %s",
				 key, what, list);
	}
	return 0;
}

int cfg_string(const struct cfg_node *n, const char **out, struct cd_error *err)
{
	if (n->type != CFG_SCALAR)
		return cfg_error(n, err, "expected a single value, found %s",
				 cfg_type_name(n->type));
	*out = n->scalar;
	return 0;
}

int cfg_duration(const struct cfg_node *n, int64_t *ns, struct cd_error *err)
{
	const char *s;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	r = units_parse_duration(s, ns);
	if (r == -ERANGE)
		return cfg_error(n, err, "duration '%s' is too large", s);
	if (r < 0)
		return cfg_error(
			n, err,
			"bad duration '%s': expected a number with a unit, like 500ms, 2s or 5m",
			s);
	return 0;
}

int cfg_size(const struct cfg_node *n, uint64_t *bytes, struct cd_error *err)
{
	const char *s;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	r = units_parse_size(s, bytes);
	if (r == -ERANGE)
		return cfg_error(n, err, "size '%s' is too large", s);
	if (r < 0)
		return cfg_error(
			n, err,
			"bad size '%s': expected bytes, or a number with KiB, MiB or GiB, like 64KiB",
			s);
	return 0;
}

int cfg_rate(const struct cfg_node *n, double *per_sec, struct cd_error *err)
{
	const char *s;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	if (units_parse_rate(s, per_sec) < 0 || *per_sec <= 0)
		return cfg_error(n, err,
				 "bad rate '%s': expected operations per second, like 2000/s", s);
	return 0;
}

bool cfg_is_uint(const struct cfg_node *n)
{
	const char *p;

	if (n->type != CFG_SCALAR || n->quoted || !n->scalar[0])
		return false;
	for (p = n->scalar; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

int cfg_uint(const struct cfg_node *n, uint64_t min, uint64_t max, uint64_t *out,
	     struct cd_error *err)
{
	unsigned long long v;
	const char *s;
	char *end;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	if (!cfg_is_uint(n))
		return cfg_error(n, err, "expected a whole number, found '%s'", n->scalar);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return cfg_error(n, err, "%s is out of range: expected %llu to %llu", n->scalar,
				 (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int cfg_bool(const struct cfg_node *n, bool *out, struct cd_error *err)
{
	static const char *const t[] = { "true", "True", "TRUE", NULL };
	static const char *const f[] = { "false", "False", "FALSE", NULL };
	const char *s;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	for (size_t i = 0; t[i]; i++) {
		if (!n->quoted && strcmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (!n->quoted && strcmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return cfg_error(n, err, "expected true or false, found '%s'", s);
}

int cfg_enum(const struct cfg_node *n, const char *const *values, size_t *idx, struct cd_error *err)
{
	const char *s, *near;
	char list[400];
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	for (size_t i = 0; values[i]; i++) {
		if (strcmp(values[i], s) == 0) {
			*idx = i;
			return 0;
		}
	}
	join_keys(values, list, sizeof(list));
	near = cfg_suggest(s, values);
	if (near)
		return cfg_error(n, err, "unknown value '%s'; did you mean '%s'? (one of: %s)", s,
				 near, list);
	return cfg_error(n, err, "unknown value '%s'; expected one of: %s", s, list);
}

static const struct cfg_node *get_req(const struct cfg_node *map, const char *key, bool required,
				      int *r, struct cd_error *err)
{
	const struct cfg_node *v = cfg_get(map, key);

	*r = 0;
	if (!v && required)
		*r = cfg_error(map, err, "missing required key '%s'", key);
	return v;
}

int cfg_get_string(const struct cfg_node *map, const char *key, bool required, const char **out,
		   struct cd_error *err)
{
	int r;
	const struct cfg_node *v = get_req(map, key, required, &r, err);

	if (!v)
		return r;
	r = cfg_string(v, out, err);
	return r < 0 ? r : 1;
}

int cfg_get_duration(const struct cfg_node *map, const char *key, bool required, int64_t *ns,
		     struct cd_error *err)
{
	int r;
	const struct cfg_node *v = get_req(map, key, required, &r, err);

	if (!v)
		return r;
	r = cfg_duration(v, ns, err);
	return r < 0 ? r : 1;
}

int cfg_get_uint(const struct cfg_node *map, const char *key, bool required, uint64_t min,
		 uint64_t max, uint64_t *out, struct cd_error *err)
{
	int r;
	const struct cfg_node *v = get_req(map, key, required, &r, err);

	if (!v)
		return r;
	r = cfg_uint(v, min, max, out, err);
	return r < 0 ? r : 1;
}

int cfg_get_bool(const struct cfg_node *map, const char *key, bool required, bool *out,
		 struct cd_error *err)
{
	int r;
	const struct cfg_node *v = get_req(map, key, required, &r, err);

	if (!v)
		return r;
	r = cfg_bool(v, out, err);
	return r < 0 ? r : 1;
}
