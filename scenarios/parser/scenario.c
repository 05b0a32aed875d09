/* Drill file → struct scenario: shape, types and units of every key the scenario owns.
 * See scenario.h; the format is shared/DESIGN.md §4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/units.h"
#include "scenarios/parser/scenario.h"
#include "scenarios/parser/yaml_load.h"

static const char *const top_keys[] = { "drill",  "description", "runbook",  "seed",	"target",
					"nodes",  "params",	 "workload", "faults",	"recovery",
					"expect", "disk",	 "actions",  "targets", "nemesis", NULL };
static const char *const workload_keys[] = { "kind",   "rate",	     "clients", "timeout", "tail",
					     "warmup", "value-size", "node",	NULL };
static const char *const workload_kinds[] = { "set", NULL };
static const char *const expect_keys[] = { "rto", "rpo", "integrity", "rto-ops", "slow", NULL };
static const char *const fault_item_keys[] = { "at", "heal", "name", "recovery", NULL };
static const char *const heal_keys[] = { "at", "after", NULL };
static const char *const node_keys[] = { "name", "params", "disk", NULL };
static const char *const disk_keys[] = { "size", "fs", NULL };
static const char *const disk_fs[] = { "tmpfs", "ext4", NULL };
static const char *const recovery_keys[] = { "at", "steps", NULL };
static const char *const target_item_keys[] = { "target",   "nodes",  "params", "disk",
						"workload", "expect", NULL };
/* what a `targets:` list holds per target instead of at the top */
static const char *const single_only_keys[] = { "target", "nodes", "params", "workload", NULL };

static struct scenario_pos pos_of(const struct cfg_node *n)
{
	struct scenario_pos p = { n->line, n->col };

	return p;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

bool scenario_valid_node_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= SCENARIO_NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '-' && c != '_')))
			return false;
	}
	return true;
}

/* drill: a name usable as a directory and a JUnit suite name. */
static int parse_drill(struct scenario *sc, const struct cfg_node *v, struct cd_error *err)
{
	int r = cfg_string(v, &sc->drill, err);

	if (r < 0)
		return r;
	if (!sc->drill[0] || strlen(sc->drill) > 100)
		return cfg_error(v, err, "drill name must be 1 to 100 characters");
	for (const char *p = sc->drill; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return cfg_error(
				v, err,
				"drill name '%s' may hold only letters, digits, '-', '_' and '.'",
				sc->drill);
	}
	if (sc->drill[0] == '.')
		return cfg_error(v, err, "drill name must not start with '.'");
	sc->drill_pos = pos_of(v);
	return 0;
}

static int parse_params(const struct cfg_node *v, struct scenario_param **out, size_t *n,
			struct cd_error *err)
{
	int r = cfg_expect(v, CFG_MAP, "params", err);

	if (r < 0)
		return r;
	*out = calloc(v->n ? v->n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		struct scenario_param *p = &(*out)[i];

		p->key = v->keys[i]->scalar;
		p->key_pos = pos_of(v->keys[i]);
		p->pos = pos_of(v->items[i]);
		r = cfg_string(v->items[i], &p->value, err);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

static int add_node(struct scenario *sc, const char *name, const struct cfg_node *at,
		    struct cd_error *err)
{
	struct scenario_node *nd;

	if (!scenario_valid_node_name(name))
		return cfg_error(
			at, err,
			"bad node name '%s': letters, digits, '-' and '_', at most %d characters, starting with a letter or digit",
			name, SCENARIO_NODE_NAME_MAX - 1);
	if (scenario_node(sc, name))
		return cfg_error(at, err, "duplicate node name '%s'", name);
	if (sc->n_nodes >= SCENARIO_MAX_NODES)
		return cfg_error(at, err, "a drill holds at most %d nodes", SCENARIO_MAX_NODES);
	nd = &sc->nodes[sc->n_nodes++];
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	nd->pos = pos_of(at);
	return 0;
}

/* disk: {size: 64MiB, fs: tmpfs|ext4} (fs defaults to tmpfs). */
static int parse_disk(const struct cfg_node *v, struct scenario_disk *d, struct cd_error *err)
{
	const struct cfg_node *size;
	size_t fs = 0;
	int r = cfg_expect(v, CFG_MAP, "disk", err);

	if (r < 0 || (r = cfg_check_keys(v, disk_keys, "disk", err)) < 0)
		return r;
	size = cfg_get(v, "size");
	if (!size)
		return cfg_error(v, err, "disk needs a size (like size: 64MiB)");
	if ((r = cfg_size(size, &d->size, err)) < 0)
		return r;
	if (cfg_get(v, "fs") && (r = cfg_enum(cfg_get(v, "fs"), disk_fs, &fs, err)) < 0)
		return r;
	/* ext4 needs room for its own metadata (journal, tables): 8 MiB is its floor here. */
	if (d->size < (fs == 1 ? 8u : 1u) << 20 || d->size > (uint64_t)1 << 40)
		return cfg_error(size, err, "disk size must be between %s and 1TiB",
				 fs == 1 ? "8MiB (ext4)" : "1MiB");
	d->fs = fs == 1 ? SCENARIO_DISK_EXT4 : SCENARIO_DISK_TMPFS;
	d->pos = pos_of(v);
	return 0;
}

static int parse_node_item(struct scenario *sc, const struct cfg_node *it, struct cd_error *err)
{
	const char *name;
	const struct cfg_node *params;
	int r;

	if (it->type == CFG_SCALAR)
		return add_node(sc, it->scalar, it, err);
	r = cfg_expect(it, CFG_MAP, "a node", err);
	if (r < 0 || (r = cfg_check_keys(it, node_keys, "a node", err)) < 0)
		return r;
	r = cfg_get_string(it, "name", true, &name, err);
	if (r < 0)
		return r;
	r = add_node(sc, name, cfg_get(it, "name"), err);
	if (r < 0)
		return r;
	if (cfg_get(it, "disk") &&
	    (r = parse_disk(cfg_get(it, "disk"), &sc->nodes[sc->n_nodes - 1].disk, err)) < 0)
		return r;
	params = cfg_get(it, "params");
	if (!params)
		return 0;
	return parse_params(params, &sc->nodes[sc->n_nodes - 1].params,
			    &sc->nodes[sc->n_nodes - 1].n_params, err);
}

/* Room for n more nodes in sc->nodes (targets: append theirs one after the other). */
static int grow_nodes(struct scenario *sc, size_t n)
{
	struct scenario_node *nodes = realloc(sc->nodes, (sc->n_nodes + n) * sizeof(*nodes));

	if (!nodes)
		return -ENOMEM;
	memset(nodes + sc->n_nodes, 0, n * sizeof(*nodes));
	sc->nodes = nodes;
	return 0;
}

/* nodes: a count (n1..nN), or a list of names / {name, params} mappings; appended to
 * sc->nodes. A count only when the drill has one target (names are unique across the
 * drill). */
static int parse_nodes(struct scenario *sc, const struct cfg_node *v, bool count_ok,
		       struct cd_error *err)
{
	uint64_t count;
	int r;

	sc->nodes_pos = pos_of(v);
	if (v->type == CFG_SCALAR && !count_ok)
		return cfg_error(v, err,
				 "nodes: a drill of several targets names its nodes "
				 "(nodes: [db1, db2]): names are unique across the drill");
	if (v->type == CFG_SCALAR) {
		r = cfg_uint(v, 1, SCENARIO_MAX_NODES, &count, err);
		if (r < 0)
			return r;
		if (sc->n_nodes + count > SCENARIO_MAX_NODES)
			return cfg_error(v, err, "a drill holds at most %d nodes",
					 SCENARIO_MAX_NODES);
		if ((r = grow_nodes(sc, count)) < 0)
			return r;
		for (uint64_t i = 0; i < count; i++) {
			struct scenario_node *nd = &sc->nodes[sc->n_nodes++];

			snprintf(nd->name, sizeof(nd->name), "n%llu", (unsigned long long)i + 1);
			nd->pos = sc->nodes_pos;
		}
		return 0;
	}
	r = cfg_expect(v, CFG_SEQ, "nodes (a count or a list of names)", err);
	if (r < 0)
		return r;
	if (v->n == 0 || v->n > SCENARIO_MAX_NODES)
		return cfg_error(v, err, "nodes: expected 1 to %d nodes, found %zu",
				 SCENARIO_MAX_NODES, v->n);
	if ((r = grow_nodes(sc, v->n)) < 0)
		return r;
	for (size_t i = 0; i < v->n; i++) {
		r = parse_node_item(sc, v->items[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* node: NAME, or node: [NAME, ...] (clients spread over them, i mod n). */
static int parse_workload_nodes(struct scenario_workload *w, const struct cfg_node *v,
				struct cd_error *err)
{
	size_t n = v->type == CFG_SEQ ? v->n : 1;
	int r;

	if (v->type != CFG_SEQ && v->type != CFG_SCALAR)
		return cfg_error(v, err, "workload node must be a node's name or a list of them");
	if (n == 0 || n > SCENARIO_WORKLOAD_NODES_MAX)
		return cfg_error(v, err, "workload node: a list of 1 to %d nodes",
				 SCENARIO_WORKLOAD_NODES_MAX);
	w->nodes = calloc(n, sizeof(*w->nodes));
	if (!w->nodes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = cfg_string(v->type == CFG_SEQ ? v->items[i] : v, &w->nodes[i], err);
		if (r < 0)
			return r;
		w->n_nodes = i + 1;
	}
	w->node = w->nodes[0];
	return 0;
}

static int parse_workload(struct scenario_workload *w, const struct cfg_node *v,
			  struct cd_error *err)
{
	const struct cfg_node *x;
	uint64_t u;
	size_t idx;
	int r;

	w->pos = pos_of(v);
	if (v->type == CFG_SCALAR && strcmp(v->scalar, "none") == 0) { /* no driver yet */
		w->kind = SCENARIO_WORKLOAD_NONE;
		return 0;
	}
	if (v->type == CFG_SCALAR)
		return cfg_error(v, err, "workload must be a map ({rate: 1000/s, ...}) or 'none'");
	if ((r = cfg_expect(v, CFG_MAP, "workload", err)) < 0 ||
	    (r = cfg_check_keys(v, workload_keys, "workload", err)) < 0)
		return r;
	if ((x = cfg_get(v, "kind")) && (r = cfg_enum(x, workload_kinds, &idx, err)) < 0)
		return r;
	if ((x = cfg_get(v, "rate")) && (r = cfg_rate(x, &w->rate, err)) < 0)
		return r;
	if ((r = cfg_get_uint(v, "clients", false, 1, 1024, &u, err)) < 0)
		return r;
	if (r > 0)
		w->clients = (unsigned)u;
	if ((r = cfg_get_duration(v, "timeout", false, &w->timeout_ns, err)) < 0 ||
	    (r = cfg_get_duration(v, "tail", false, &w->tail_ns, err)) < 0 ||
	    (r = cfg_get_duration(v, "warmup", false, &w->warmup_ns, err)) < 0 ||
	    ((x = cfg_get(v, "node")) && (r = parse_workload_nodes(w, x, err)) < 0))
		return r;
	if (w->timeout_ns <= 0)
		return cfg_error(cfg_get(v, "timeout"), err,
				 "workload timeout must be more than 0");
	if ((x = cfg_get(v, "value-size"))) {
		if ((r = cfg_size(x, &w->value_size, err)) < 0)
			return r;
		if (w->value_size < 32 || w->value_size > 65536)
			return cfg_error(x, err, "value-size must be 32 bytes to 64KiB");
	}
	return 0;
}

static int parse_heal(struct scenario_fault *f, const struct cfg_node *v, struct cd_error *err)
{
	int r;

	f->has_heal = true;
	if (v->type == CFG_SCALAR) { /* heal: 5s  ==  heal: {after: 5s} */
		f->heal_is_after = true;
		return cfg_duration(v, &f->heal_ns, err);
	}
	if ((r = cfg_expect(v, CFG_MAP, "heal", err)) < 0 ||
	    (r = cfg_check_keys(v, heal_keys, "heal", err)) < 0)
		return r;
	if (v->n != 1)
		return cfg_error(v, err, "heal takes one of 'at: TIME' or 'after: DURATION'");
	f->heal_is_after = cfg_get(v, "after") != NULL;
	r = cfg_duration(v->items[0], &f->heal_ns, err);
	if (r < 0)
		return r;
	if (!f->heal_is_after && f->heal_ns < f->at_ns)
		return cfg_error(v->items[0], err, "heal at %s comes before the fault itself",
				 v->items[0]->scalar);
	return 0;
}

/* The one key of item that names a kind; the others must be in extra. */
static int find_kind(const struct cfg_node *it, const char *const *extra, const char *const *kinds,
		     const char *what, size_t *kind_idx, struct cd_error *err)
{
	bool found = false;

	for (size_t i = 0; i < it->n; i++) {
		const char *k = it->keys[i]->scalar;
		const char *near;

		if (in_list(k, extra))
			continue;
		if (!in_list(k, kinds)) {
			near = cfg_suggest(k, kinds);
			if (!near)
				near = cfg_suggest(k, extra);
			if (near)
				return cfg_error(it->keys[i], err,
						 "unknown %s kind '%s'; did you mean '%s'?", what,
						 k, near);
			return cfg_error(
				it->keys[i], err,
				"unknown %s kind '%s' (`chaosdrill list` shows the known ones)",
				what, k);
		}
		if (found)
			return cfg_error(it->keys[i], err,
					 "one %s per list item: found both '%s' and '%s'", what,
					 it->keys[*kind_idx]->scalar, k);
		found = true;
		*kind_idx = i;
	}
	if (!found)
		return cfg_error(it, err, "this %s names no kind (`chaosdrill list` shows them)",
				 what);
	return 0;
}

/* Appends the steps of list v, owned by fault (-1: the drill's recovery; SCENARIO_ACTION:
 * the drill's actions, each with its own at:). */
static int parse_steps(struct scenario *sc, const struct cfg_node *v, int fault,
		       const struct scenario_kinds *kinds, struct cd_error *err)
{
	static const char *const step_extra[] = { "name", NULL };
	static const char *const action_extra[] = { "name", "at", NULL };
	bool action = fault == SCENARIO_ACTION;
	int r = cfg_expect(v, CFG_SEQ, action ? "actions" : "recovery steps", err);

	if (r < 0)
		return r;
	if (sc->n_steps + v->n > sc->cap_steps) {
		size_t cap = sc->n_steps + v->n + 8;
		struct scenario_step *st = realloc(sc->steps, cap * sizeof(*st));

		if (!st)
			return -ENOMEM;
		sc->steps = st;
		sc->cap_steps = cap;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *it = v->items[i];
		struct scenario_step *s = &sc->steps[sc->n_steps];
		size_t k;

		*s = (struct scenario_step){ .fault = fault };
		if ((r = cfg_expect(it, CFG_MAP, action ? "an action" : "a recovery step", err)) <
			    0 ||
		    (r = find_kind(it, action ? action_extra : step_extra, kinds->steps,
				   action ? "action" : "recovery step", &k, err)) < 0 ||
		    (r = cfg_get_string(it, "name", false, &s->name, err)) < 0 ||
		    (action && (r = cfg_get_duration(it, "at", true, &s->at_ns, err)) < 0))
			return r;
		s->kind = it->keys[k]->scalar;
		s->args = it->items[k];
		s->pos = pos_of(it->keys[k]);
		sc->n_steps++;
	}
	return 0;
}

static int parse_fault(struct scenario *sc, struct scenario_fault *f, const struct cfg_node *it,
		       const struct scenario_kinds *kinds, struct cd_error *err)
{
	const struct cfg_node *heal, *rec;
	size_t k;
	int r;

	if ((r = cfg_expect(it, CFG_MAP, "a fault", err)) < 0 ||
	    (r = find_kind(it, fault_item_keys, kinds->faults, "fault", &k, err)) < 0)
		return r;
	f->kind = it->keys[k]->scalar;
	f->args = it->items[k];
	f->item = it;
	f->pos = pos_of(it->keys[k]);
	if ((r = cfg_get_duration(it, "at", true, &f->at_ns, err)) < 0 ||
	    (r = cfg_get_string(it, "name", false, &f->name, err)) < 0)
		return r;
	heal = cfg_get(it, "heal");
	if (heal && (r = parse_heal(f, heal, err)) < 0)
		return r;
	rec = cfg_get(it, "recovery"); /* this fault's own steps, run as soon as it is in */
	return rec ? parse_steps(sc, rec, (int)(f - sc->faults), kinds, err) : 0;
}

static int parse_faults(struct scenario *sc, const struct cfg_node *v,
			const struct scenario_kinds *kinds, struct cd_error *err)
{
	int r = cfg_expect(v, CFG_SEQ, "faults", err);

	if (r < 0)
		return r;
	sc->faults = calloc(v->n ? v->n : 1, sizeof(*sc->faults));
	if (!sc->faults)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		r = parse_fault(sc, &sc->faults[i], v->items[i], kinds, err);
		if (r < 0)
			return r;
		sc->n_faults++;
	}
	return 0;
}

/* recovery: a list of steps, or {at: TIME, steps: [...]}. */
static int parse_recovery(struct scenario *sc, const struct cfg_node *v,
			  const struct scenario_kinds *kinds, struct cd_error *err)
{
	int r;

	if (v->type == CFG_SEQ)
		return parse_steps(sc, v, -1, kinds, err);
	if ((r = cfg_expect(v, CFG_MAP, "recovery (a list of steps, or at: and steps:)", err)) <
		    0 ||
	    (r = cfg_check_keys(v, recovery_keys, "recovery", err)) < 0 ||
	    (r = cfg_get_duration(v, "at", false, &sc->recovery_at_ns, err)) < 0)
		return r;
	sc->has_recovery_at = r > 0;
	if (!cfg_get(v, "steps"))
		return cfg_error(v, err, "missing required key 'steps'");
	return parse_steps(sc, cfg_get(v, "steps"), -1, kinds, err);
}

/* Sets the keys v has (a target's expect: overrides the drill's, key by key). */
static int parse_expect(struct scenario_expect *e, const struct cfg_node *v, struct cd_error *err)
{
	const struct cfg_node *rpo;
	uint64_t u;
	int r;

	if ((r = cfg_expect(v, CFG_MAP, "expect", err)) < 0 ||
	    (r = cfg_check_keys(v, expect_keys, "expect", err)) < 0)
		return r;
	if ((r = cfg_get_duration(v, "rto", false, &e->rto_ns, err)) < 0)
		return r;
	e->has_rto |= r > 0;
	if ((r = cfg_get_bool(v, "integrity", false, &e->integrity, err)) < 0)
		return r;
	e->has_integrity |= r > 0;
	if ((r = cfg_get_uint(v, "rto-ops", false, 1, 1000000, &u, err)) < 0)
		return r;
	if (r > 0)
		e->rto_ops = (unsigned)u;
	if ((r = cfg_get_duration(v, "slow", false, &e->slow_ns, err)) < 0)
		return r;
	if (r > 0 && e->slow_ns <= 0)
		return cfg_error(
			cfg_get(v, "slow"), err,
			"slow must be more than 0: the latency past which an acknowledged write counts as a casualty");
	rpo = cfg_get(v, "rpo");
	if (!rpo)
		return 0;
	if (cfg_is_uint(rpo)) {
		e->rpo_kind = SCENARIO_RPO_COUNT;
		return cfg_uint(rpo, 0, UINT64_MAX, &e->rpo_count, err);
	}
	if (rpo->type == CFG_SCALAR && units_parse_duration(rpo->scalar, &e->rpo_window_ns) == 0) {
		e->rpo_kind = SCENARIO_RPO_WINDOW;
		return 0;
	}
	return cfg_error(
		rpo, err,
		"rpo must be a count of lost acknowledged writes (like 0) or a time window (like 5s)");
}

static void workload_defaults(struct scenario_workload *w)
{
	*w = (struct scenario_workload){ .kind = SCENARIO_WORKLOAD_SET,
					 .rate = 1000,
					 .clients = 4,
					 .timeout_ns = 500 * NSEC_PER_MSEC,
					 .tail_ns = 2 * NSEC_PER_SEC,
					 .warmup_ns = 1 * NSEC_PER_SEC,
					 .value_size = 64 };
}

static void set_defaults(struct scenario *sc)
{
	sc->target = "kvlog";
	workload_defaults(&sc->workload);
	sc->expect.rto_ops = 3;
}

/* Every node the workload w writes to is one of target t's (default: its first). */
static int check_workload_nodes(struct scenario *sc, struct scenario_workload *w,
				const struct scenario_target *t, const struct cfg_node *wv,
				struct cd_error *err)
{
	const struct cfg_node *v = cfg_get(wv, "node");

	if (!w->node) {
		w->nodes = calloc(1, sizeof(*w->nodes));
		if (!w->nodes)
			return -ENOMEM;
		w->node = w->nodes[0] = sc->nodes[t->first_node].name;
		w->n_nodes = 1;
	}
	for (size_t i = 0; i < w->n_nodes; i++) {
		const struct scenario_node *n = scenario_node(sc, w->nodes[i]);

		if (!n)
			return cfg_error(v && v->type == CFG_SEQ ? v->items[i] : v, err,
					 "workload node '%s' is not one of the drill's nodes",
					 w->nodes[i]);
		if (sc->multi && n->target != (size_t)(t - sc->targets))
			return cfg_error(v && v->type == CFG_SEQ ? v->items[i] : v, err,
					 "workload node '%s' is a node of target %s, not of %s",
					 w->nodes[i], sc->targets[n->target].name, t->name);
	}
	return 0;
}

static int parse_target_item(struct scenario *sc, struct scenario_target *t,
			     const struct cfg_node *it, bool single, struct cd_error *err)
{
	const struct cfg_node *v;
	int r;

	if ((r = cfg_expect(it, CFG_MAP, "a target ({target: NAME, nodes: [...], ...})", err)) <
		    0 ||
	    (r = cfg_check_keys(it, target_item_keys, "a target", err)) < 0)
		return r;
	if (!(v = cfg_get(it, "target")))
		return cfg_error(it, err,
				 "missing required key 'target' (targets/NAME/target.yaml)");
	if ((r = cfg_string(v, &t->name, err)) < 0)
		return r;
	t->pos = pos_of(v);
	for (size_t i = 0; i < (size_t)(t - sc->targets); i++)
		if (strcmp(sc->targets[i].name, t->name) == 0)
			return cfg_error(v, err,
					 "target %s is in the list twice: give it all its nodes "
					 "in one entry",
					 t->name);
	t->first_node = sc->n_nodes;
	v = cfg_get(it, "nodes");
	if (!v && !single)
		return cfg_error(it, err,
				 "missing required key 'nodes' (with several targets, each names "
				 "its nodes: nodes: [db1])");
	if (v && (r = parse_nodes(sc, v, single, err)) < 0)
		return r;
	if (!v) { /* one target without nodes: n1, as the single form */
		if ((r = grow_nodes(sc, 1)) < 0 || (r = add_node(sc, "n1", it, err)) < 0)
			return r;
	}
	t->n_nodes = sc->n_nodes - t->first_node;
	for (size_t i = t->first_node; i < sc->n_nodes; i++)
		sc->nodes[i].target = (size_t)(t - sc->targets);
	if ((v = cfg_get(it, "params")) && (r = parse_params(v, &t->params, &t->n_params, err)) < 0)
		return r;
	if ((v = cfg_get(it, "disk")) && (r = parse_disk(v, &t->disk, err)) < 0)
		return r;
	workload_defaults(&t->workload);
	t->workload.pos = pos_of(it);
	if ((v = cfg_get(it, "workload")) && (r = parse_workload(&t->workload, v, err)) < 0)
		return r;
	t->expect = sc->expect;
	if ((v = cfg_get(it, "expect")) && (r = parse_expect(&t->expect, v, err)) < 0)
		return r;
	return 0;
}

/* targets: [{target: kvlog, nodes: [db1], params:, disk:, workload:, expect:}, ...]. */
static int parse_targets(struct scenario *sc, const struct cfg_node *root, const struct cfg_node *v,
			 struct cd_error *err)
{
	struct strbuf names = STRBUF_INIT;
	int r;

	for (size_t i = 0; single_only_keys[i]; i++)
		for (size_t k = 0; k < root->n; k++)
			if (strcmp(root->keys[k]->scalar, single_only_keys[i]) == 0)
				return cfg_error(root->keys[k], err,
						 "'%s' and 'targets' do not go together: each "
						 "target of the list has its own %s",
						 single_only_keys[i], single_only_keys[i]);
	if ((r = cfg_expect(v, CFG_SEQ, "targets (a list of {target: NAME, nodes: [...]})", err)) <
	    0)
		return r;
	if (v->n == 0 || v->n > SCENARIO_MAX_TARGETS)
		return cfg_error(v, err, "targets: expected 1 to %d targets, found %zu",
				 SCENARIO_MAX_TARGETS, v->n);
	sc->multi = true;
	sc->targets = calloc(v->n, sizeof(*sc->targets));
	if (!sc->targets)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		sc->n_targets = i + 1;
		r = parse_target_item(sc, &sc->targets[i], v->items[i], v->n == 1, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < sc->n_targets; i++) {
		const struct cfg_node *wv = cfg_get(v->items[i], "workload");

		r = check_workload_nodes(sc, &sc->targets[i].workload, &sc->targets[i], wv, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < sc->n_targets; i++)
		strbuf_appendf(&names, "%s%s", i ? ", " : "", sc->targets[i].name);
	if (strbuf_failed(&names)) {
		strbuf_release(&names);
		return -ENOMEM;
	}
	sc->target_names = strbuf_detach(&names);
	sc->target = sc->target_names;
	sc->target_pos = sc->targets[0].pos;
	return 0;
}

static int parse_top(struct scenario *sc, const struct cfg_node *root,
		     const struct scenario_kinds *kinds, struct cd_error *err)
{
	const struct cfg_node *v;
	int r;

	if ((v = cfg_get(root, "description")) && (r = cfg_string(v, &sc->description, err)) < 0)
		return r;
	if ((v = cfg_get(root, "runbook")) && (r = cfg_string(v, &sc->runbook, err)) < 0)
		return r;
	if ((v = cfg_get(root, "seed"))) {
		if ((r = cfg_uint(v, 0, UINT64_MAX, &sc->seed, err)) < 0)
			return r;
		sc->has_seed = true;
		sc->seed_pos = pos_of(v);
	}
	if ((v = cfg_get(root, "target"))) {
		if ((r = cfg_string(v, &sc->target, err)) < 0)
			return r;
		sc->target_pos = pos_of(v);
	}
	if ((v = cfg_get(root, "nodes")) && (r = parse_nodes(sc, v, true, err)) < 0)
		return r;
	if ((v = cfg_get(root, "params"))) {
		sc->params_pos = pos_of(v);
		if ((r = parse_params(v, &sc->params, &sc->n_params, err)) < 0)
			return r;
	}
	if ((v = cfg_get(root, "disk")) && (r = parse_disk(v, &sc->disk, err)) < 0)
		return r;
	if ((v = cfg_get(root, "workload")) && (r = parse_workload(&sc->workload, v, err)) < 0)
		return r;
	if ((v = cfg_get(root, "faults")) && (r = parse_faults(sc, v, kinds, err)) < 0)
		return r;
	if ((v = cfg_get(root, "nemesis")) &&
	    (r = nemesis_parse(v, kinds->faults, &sc->nemesis, err)) < 0)
		return r;
	if ((v = cfg_get(root, "recovery")) && (r = parse_recovery(sc, v, kinds, err)) < 0)
		return r;
	if ((v = cfg_get(root, "expect")) && (r = parse_expect(&sc->expect, v, err)) < 0)
		return r;
	if ((v = cfg_get(root, "actions")) &&
	    (r = parse_steps(sc, v, SCENARIO_ACTION, kinds, err)) < 0)
		return r;
	/* last: a target's expect: starts from the drill's */
	if ((v = cfg_get(root, "targets")) && (r = parse_targets(sc, root, v, err)) < 0)
		return r;
	return 0;
}

/* Defaults that depend on other keys, and cross-key checks. The single form: one target,
 * whose fields are the top-level ones (borrowed: freed as the scenario's). */
static int finish(struct scenario *sc, const struct cfg_node *root, struct cd_error *err)
{
	struct scenario_target *t;
	int r;

	if (sc->multi)
		return 0;
	if (sc->n_nodes == 0) {
		sc->nodes = calloc(1, sizeof(*sc->nodes));
		if (!sc->nodes)
			return -ENOMEM;
		snprintf(sc->nodes[0].name, sizeof(sc->nodes[0].name), "n1");
		sc->nodes[0].pos = pos_of(root);
		sc->n_nodes = 1;
	}
	t = sc->targets = calloc(1, sizeof(*sc->targets));
	if (!t)
		return -ENOMEM;
	sc->n_targets = 1;
	*t = (struct scenario_target){ .name = sc->target,
				       .pos = sc->target_pos,
				       .n_nodes = sc->n_nodes,
				       .params = sc->params,
				       .n_params = sc->n_params,
				       .disk = sc->disk };
	r = check_workload_nodes(sc, &sc->workload, t, cfg_get(root, "workload"), err);
	t->workload = sc->workload;
	t->expect = sc->expect;
	return r;
}

int scenario_from_tree(struct cfg_node *tree, const struct scenario_kinds *kinds,
		       struct scenario **out, struct cd_error *err)
{
	struct scenario *sc = calloc(1, sizeof(*sc));
	const struct cfg_node *v;
	int r;

	if (!sc) {
		cfg_node_free(tree);
		return -ENOMEM;
	}
	sc->tree = tree;
	sc->file = tree->file;
	set_defaults(sc);
	if (tree->type == CFG_SCALAR && !tree->quoted && !tree->scalar[0])
		r = cfg_error(tree, err, "the file holds no drill: expected drill:, target:, ...");
	else if ((r = cfg_expect(tree, CFG_MAP, "a drill file", err)) < 0)
		;
	else if ((r = cfg_check_keys(tree, top_keys, "a drill", err)) < 0)
		;
	else if (!(v = cfg_get(tree, "drill")))
		r = cfg_error(tree, err, "missing required key 'drill' (the drill's unique name)");
	else if ((r = parse_drill(sc, v, err)) >= 0 && (r = parse_top(sc, tree, kinds, err)) >= 0)
		r = finish(sc, tree, err);
	if (r < 0) {
		scenario_free(sc);
		return r;
	}
	*out = sc;
	return 0;
}

/* Moves steps [from, n_steps) to just after the last step owned by a fault (before the
 * drill's recovery and its actions), keeping their order. */
static void move_steps_up(struct scenario *sc, size_t from)
{
	size_t at = 0, n = sc->n_steps - from;
	struct scenario_step *tmp;

	for (size_t i = 0; i < from; i++)
		if (sc->steps[i].fault >= 0)
			at = i + 1;
	if (n == 0 || at == from || !(tmp = malloc(n * sizeof(*tmp))))
		return; /* no memory: the order only affects step numbers */
	memcpy(tmp, sc->steps + from, n * sizeof(*tmp));
	memmove(sc->steps + at + n, sc->steps + at, (from - at) * sizeof(*tmp));
	memcpy(sc->steps + at, tmp, n * sizeof(*tmp));
	free(tmp);
}

int scenario_add_fault(struct scenario *sc, struct cfg_node *item,
		       const struct scenario_kinds *kinds, struct cd_error *err)
{
	struct cfg_node **added = realloc(sc->added, (sc->n_added + 1) * sizeof(*added));
	struct scenario_fault *faults;
	size_t first_step = sc->n_steps;
	int r;

	if (added)
		sc->added = added;
	faults = added ? realloc(sc->faults, (sc->n_faults + 1) * sizeof(*faults)) : NULL;
	if (!faults) {
		cfg_node_free(item);
		return -ENOMEM;
	}
	sc->faults = faults;
	sc->added[sc->n_added++] = item;
	faults[sc->n_faults] = (struct scenario_fault){ .from_nemesis = true };
	r = parse_fault(sc, &faults[sc->n_faults], item, kinds, err);
	if (r < 0)
		return r;
	sc->n_faults++;
	move_steps_up(sc, first_step);
	return 0;
}

int scenario_load(const char *path, const struct scenario_kinds *kinds, struct scenario **out,
		  struct cd_error *err)
{
	struct cfg_node *tree;
	int r = yaml_load_file(path, &tree, err);

	if (r < 0)
		return r;
	return scenario_from_tree(tree, kinds, out, err);
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n_nodes; i++)
		free(sc->nodes[i].params);
	for (size_t i = 0; i < sc->n_overrides; i++) {
		free((char *)sc->overrides[i].key);
		free((char *)sc->overrides[i].value);
		free((char *)sc->overrides[i].target);
	}
	for (size_t i = 0; sc->multi && i < sc->n_targets; i++) { /* else sc's own */
		free(sc->targets[i].params);
		free(sc->targets[i].workload.nodes);
	}
	free(sc->targets);
	free(sc->target_names);
	free(sc->overrides);
	free(sc->workload.nodes);
	free(sc->nodes);
	free(sc->params);
	free(sc->faults);
	free(sc->steps);
	nemesis_free(sc->nemesis);
	for (size_t i = 0; i < sc->n_added; i++)
		cfg_node_free(sc->added[i]);
	free(sc->added);
	cfg_node_free(sc->tree);
	free(sc);
}

const struct scenario_node *scenario_node(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_nodes; i++)
		if (strcmp(sc->nodes[i].name, name) == 0)
			return &sc->nodes[i];
	return NULL;
}

const struct scenario_target *scenario_node_target(const struct scenario *sc,
						   const struct scenario_node *node)
{
	return node && node->target < sc->n_targets ? &sc->targets[node->target] : NULL;
}

const struct scenario_target *scenario_target(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_targets; i++)
		if (strcmp(sc->targets[i].name, name) == 0)
			return &sc->targets[i];
	return NULL;
}

const struct scenario_disk *scenario_node_disk(const struct scenario *sc,
					       const struct scenario_node *node)
{
	const struct scenario_target *t = sc->multi ? scenario_node_target(sc, node) : NULL;

	if (node && node->disk.fs != SCENARIO_DISK_NONE)
		return &node->disk;
	return t && t->disk.fs != SCENARIO_DISK_NONE ? &t->disk : &sc->disk;
}

/* The last of p[] for key, among those for every target or for target (NULL: none). */
static const char *lookup_for(const struct scenario_param *p, size_t n, const char *key,
			      const char *target)
{
	for (size_t i = n; i-- > 0;)
		if (strcmp(p[i].key, key) == 0 &&
		    (!p[i].target || (target && strcmp(p[i].target, target) == 0)))
			return p[i].value;
	return NULL;
}

static const char *lookup(const struct scenario_param *p, size_t n, const char *key)
{
	return lookup_for(p, n, key, NULL);
}

int scenario_override_param(struct scenario *sc, const char *key, const char *value)
{
	struct scenario_param *p = realloc(sc->overrides, (sc->n_overrides + 1) * sizeof(*p));
	const char *dot = strchr(key, '.');
	_cleanup_free_ char *k = NULL, *v = strdup(value), *t = NULL;

	if (p)
		sc->overrides = p;
	if (!p || !v)
		return -ENOMEM;
	for (size_t i = 0; dot && i < sc->n_targets; i++) /* TARGET.KEY */
		if (strlen(sc->targets[i].name) == (size_t)(dot - key) &&
		    strncmp(sc->targets[i].name, key, (size_t)(dot - key)) == 0 &&
		    !(t = strdup(sc->targets[i].name)))
			return -ENOMEM;
	k = strdup(t ? dot + 1 : key);
	if (!k)
		return -ENOMEM;
	p[sc->n_overrides] = (struct scenario_param){ 0 };
	p[sc->n_overrides].key = TAKE_PTR(k);
	p[sc->n_overrides].value = TAKE_PTR(v);
	p[sc->n_overrides].target = TAKE_PTR(t);
	p[sc->n_overrides].pos = (struct scenario_pos){ 0, 0 };
	sc->n_overrides++;
	return 0;
}

const char *scenario_param(const struct scenario *sc, const struct scenario_node *node,
			   const char *key)
{
	const struct scenario_target *t = scenario_node_target(sc, node);
	const char *v = lookup_for(sc->overrides, sc->n_overrides, key, t ? t->name : NULL);

	if (!v && node)
		v = lookup(node->params, node->n_params, key);
	if (!v && t && sc->multi)
		v = lookup(t->params, t->n_params, key);
	if (!v)
		v = lookup(sc->params, sc->n_params, key);
	return v;
}
