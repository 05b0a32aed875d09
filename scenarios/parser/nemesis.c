/* The `nemesis:` block of a drill file → struct nemesis: shape, types and units, with
 * file:line:column on every error. See nemesis.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "scenarios/parser/nemesis.h"

static const char *const nemesis_keys[] = { "from",  "until",  "count", "every",
					    "nodes", "faults", NULL };
static const char *const kind_extra[] = { "duration", "weight", "nodes", "recovery", NULL };
static const char *const node_words[] = { "any", "leader", "minority", NULL };

static bool in_list(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

int nemesis_parse_range(const struct cfg_node *v, struct nemesis_range *out, struct cd_error *err)
{
	const char *s, *dots;
	char lo[64];
	int r = cfg_string(v, &s, err);

	if (r < 0)
		return r;
	dots = strstr(s, "..");
	if (!dots) {
		if ((r = cfg_duration(v, &out->min_ns, err)) < 0)
			return r;
		out->max_ns = out->min_ns;
		return 0;
	}
	if ((size_t)(dots - s) >= sizeof(lo))
		return cfg_error(v, err, "bad range '%s': expected MIN..MAX, like 2s..5s", s);
	memcpy(lo, s, (size_t)(dots - s));
	lo[dots - s] = '\0';
	if (units_parse_duration(lo, &out->min_ns) < 0 ||
	    units_parse_duration(dots + 2, &out->max_ns) < 0)
		return cfg_error(v, err,
				 "bad range '%s': expected MIN..MAX with units, like 2s..5s or "
				 "500ms..2s",
				 s);
	if (out->min_ns > out->max_ns)
		return cfg_error(v, err, "bad range '%s': its minimum is above its maximum", s);
	return 0;
}

/* nodes: any | leader | minority | [n1, n2] (names checked against the drill later). */
static int parse_nodes(const struct cfg_node *v, struct nemesis_nodes *out, struct cd_error *err)
{
	size_t idx;
	int r;

	out->at = v;
	if (v->type == CFG_SCALAR) {
		if ((r = cfg_enum(v, node_words, &idx, err)) < 0)
			return r;
		out->kind = (enum nemesis_nodes_kind)idx;
		return 0;
	}
	if ((r = cfg_expect(v, CFG_SEQ, "nemesis nodes (any, leader, minority or a list of nodes)",
			    err)) < 0)
		return r;
	if (v->n == 0)
		return cfg_error(v, err, "nemesis nodes: an empty list picks no node");
	out->kind = NEMESIS_NODES_LIST;
	out->names = calloc(v->n, sizeof(*out->names));
	if (!out->names)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		if ((r = cfg_string(v->items[i], &out->names[i], err)) < 0)
			return r;
		out->n_names = i + 1;
	}
	return 0;
}

/* The one key of item that names a fault kind. */
static int find_kind(const struct cfg_node *it, const char *const *kinds, size_t *idx,
		     struct cd_error *err)
{
	bool found = false;

	for (size_t i = 0; i < it->n; i++) {
		const char *k = it->keys[i]->scalar, *near;

		if (in_list(k, kind_extra))
			continue;
		if (!in_list(k, kinds)) {
			near = cfg_suggest(k, kinds);
			if (!near)
				near = cfg_suggest(k, kind_extra);
			if (near)
				return cfg_error(
					it->keys[i], err,
					"unknown nemesis fault kind '%s'; did you mean '%s'?", k,
					near);
			return cfg_error(it->keys[i], err,
					 "unknown nemesis fault kind '%s' (`chaosdrill list` shows "
					 "the known ones)",
					 k);
		}
		if (found)
			return cfg_error(
				it->keys[i], err,
				"one fault kind per nemesis entry: found both '%s' and '%s'",
				it->keys[*idx]->scalar, k);
		found = true;
		*idx = i;
	}
	if (!found)
		return cfg_error(it, err, "this nemesis entry names no fault kind (like kill: {})");
	return 0;
}

static int parse_kind(const struct cfg_node *it, const char *const *kinds, struct nemesis_kind *k,
		      struct cd_error *err)
{
	const struct cfg_node *v;
	uint64_t w = 1;
	size_t idx = 0;
	int r;

	if ((r = cfg_expect(it, CFG_MAP, "a nemesis fault ({kill: {}, ...})", err)) < 0 ||
	    (r = find_kind(it, kinds, &idx, err)) < 0)
		return r;
	k->kind = it->keys[idx]->scalar;
	k->at = it->keys[idx];
	k->body = it->items[idx];
	if (k->body->type == CFG_SEQ ||
	    (k->body->type == CFG_SCALAR && (k->body->quoted || k->body->scalar[0])))
		return cfg_error(k->body, err,
				 "a nemesis %s takes a map of its params without node: (like %s: "
				 "{}): the nemesis picks the node",
				 k->kind, k->kind);
	if (k->body->type == CFG_MAP && cfg_get(k->body, "node"))
		return cfg_error(cfg_get(k->body, "node"), err,
				 "a nemesis fault names no node: the nemesis picks it (say which "
				 "with nodes: any, leader, minority or a list)");
	if ((v = cfg_get(it, "duration"))) {
		if ((r = nemesis_parse_range(v, &k->duration, err)) < 0)
			return r;
		if (k->duration.min_ns <= 0)
			return cfg_error(v, err, "a fault's duration must be more than 0");
		k->has_duration = true;
	}
	if ((r = cfg_get_uint(it, "weight", false, 1, 1000, &w, err)) < 0)
		return r;
	k->weight = (unsigned)w;
	if ((v = cfg_get(it, "nodes"))) {
		if ((r = parse_nodes(v, &k->nodes, err)) < 0)
			return r;
		k->has_nodes = true;
	}
	if ((v = cfg_get(it, "recovery")) &&
	    (r = cfg_expect(v, CFG_SEQ, "a nemesis fault's recovery (a list of steps)", err)) < 0)
		return r;
	k->recovery = v;
	return 0;
}

static int parse_kinds(const struct cfg_node *v, const char *const *kinds, struct nemesis *nm,
		       struct cd_error *err)
{
	int r = cfg_expect(v, CFG_SEQ, "nemesis faults (a list of fault kinds)", err);

	if (r < 0)
		return r;
	if (v->n == 0)
		return cfg_error(v, err, "nemesis faults: the list is empty");
	nm->kinds = calloc(v->n, sizeof(*nm->kinds));
	if (!nm->kinds)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		nm->n_kinds = i + 1;
		if ((r = parse_kind(v->items[i], kinds, &nm->kinds[i], err)) < 0)
			return r;
	}
	return 0;
}

/* when it starts, how often, until when */
static int parse_times(const struct cfg_node *v, struct nemesis *nm, struct cd_error *err)
{
	const struct cfg_node *every = cfg_get(v, "every");
	int r;

	if ((r = cfg_get_duration(v, "from", false, &nm->from_ns, err)) < 0 ||
	    (r = cfg_get_duration(v, "until", false, &nm->until_ns, err)) < 0)
		return r;
	nm->has_until = r > 0;
	if ((r = cfg_get_uint(v, "count", false, 1, NEMESIS_MAX_FAULTS, &nm->count, err)) < 0)
		return r;
	nm->has_count = r > 0;
	if (!nm->has_until && !nm->has_count)
		return cfg_error(v, err, "nemesis needs an end: until: TIME, count: N, or both");
	if (nm->has_until && nm->until_ns < nm->from_ns)
		return cfg_error(cfg_get(v, "until"), err, "nemesis until comes before its from");
	if (!every)
		return cfg_error(v, err,
				 "nemesis needs every: (the time between faults, like 2s..5s)");
	if ((r = nemesis_parse_range(every, &nm->every, err)) < 0)
		return r;
	if (nm->every.min_ns < NSEC_PER_MSEC)
		return cfg_error(every, err, "nemesis every must be at least 1ms");
	return 0;
}

int nemesis_parse(const struct cfg_node *v, const char *const *fault_kinds, struct nemesis **out,
		  struct cd_error *err)
{
	struct nemesis *nm;
	int r;

	if ((r = cfg_expect(v, CFG_MAP, "nemesis", err)) < 0 ||
	    (r = cfg_check_keys(v, nemesis_keys, "nemesis", err)) < 0)
		return r;
	if (!cfg_get(v, "faults"))
		return cfg_error(v, err,
				 "nemesis needs faults: (the fault kinds it draws from, like "
				 "[{kill: {}}])");
	nm = calloc(1, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	nm->at = v;
	r = parse_times(v, nm, err);
	if (r >= 0 && cfg_get(v, "nodes"))
		r = parse_nodes(cfg_get(v, "nodes"), &nm->nodes, err);
	if (r >= 0)
		r = parse_kinds(cfg_get(v, "faults"), fault_kinds, nm, err);
	if (r < 0) {
		nemesis_free(nm);
		return r;
	}
	*out = nm;
	return 0;
}

void nemesis_free(struct nemesis *nm)
{
	if (!nm)
		return;
	for (size_t i = 0; i < nm->n_kinds; i++)
		free(nm->kinds[i].nodes.names);
	free(nm->nodes.names);
	free(nm->kinds);
	free(nm);
}
