/* The nemesis's faults drawn from the seed and added to the drill. See nemesis.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/cleanup.h"
#include "common/rng.h"
#include "common/units.h"
#include "faults/fault.h"
#include "harness/drill/drill.h"
#include "harness/drill/nemesis.h"

#define FOREVER INT64_MAX
/* splitmix64 stream of the nemesis ("nemesis" as FNV-1a would be another; any constant) */
#define NEMESIS_STREAM 0x6e656d6573697321ULL
/* times a slot may pass without a fault before the nemesis gives up (count: N, no until:) */
#define MAX_SLOTS 100000

struct planner {
	const struct nemesis_plan_input *in;
	uint64_t rng;
	int64_t *busy_until; /* per node: held until then (FOREVER: to the end) */
	size_t *cands;
};

/* A duration drawn in [r.min, r.max], in whole milliseconds. */
static int64_t draw_ms(struct planner *p, struct nemesis_range r)
{
	int64_t lo = (r.min_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC, hi = r.max_ns / NSEC_PER_MSEC;
	uint64_t x = rng_next(&p->rng);

	if (hi <= lo)
		return lo * NSEC_PER_MSEC;
	return (lo + (int64_t)(x % (uint64_t)(hi - lo + 1))) * NSEC_PER_MSEC;
}

static size_t draw_kind(struct planner *p)
{
	const struct nemesis *nm = p->in->nm;
	uint64_t total = 0, x;

	for (size_t i = 0; i < nm->n_kinds; i++)
		total += nm->kinds[i].weight;
	x = rng_next(&p->rng) % total;
	for (size_t i = 0; i < nm->n_kinds; i++) {
		if (x < nm->kinds[i].weight)
			return i;
		x -= nm->kinds[i].weight;
	}
	return nm->n_kinds - 1;
}

static const struct nemesis_nodes *nodes_of(const struct nemesis *nm, size_t kind)
{
	return nm->kinds[kind].has_nodes ? &nm->kinds[kind].nodes : &nm->nodes;
}

static ssize_t node_index(const struct nemesis_plan_input *in, const char *name)
{
	for (size_t i = 0; name && i < in->n_nodes; i++)
		if (strcmp(in->nodes[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

/* The nodes a kind may go to at time t: *n of them in p->cands. */
static size_t candidates(struct planner *p, size_t kind, int64_t t)
{
	const struct nemesis_plan_input *in = p->in;
	const struct nemesis_nodes *sel = nodes_of(in->nm, kind);
	size_t n = 0, held = 0;

	for (size_t i = 0; i < in->n_nodes; i++)
		held += p->busy_until[i] > t;
	if (sel->kind == NEMESIS_NODES_MINORITY && held >= (in->n_nodes - 1) / 2)
		return 0;
	for (size_t i = 0; i < in->n_nodes; i++) {
		bool in_sel = sel->kind != NEMESIS_NODES_LEADER && sel->kind != NEMESIS_NODES_LIST;

		if (sel->kind == NEMESIS_NODES_LEADER)
			in_sel = (ssize_t)i == node_index(in, in->leader);
		for (size_t k = 0; sel->kind == NEMESIS_NODES_LIST && k < sel->n_names; k++)
			in_sel |= strcmp(sel->names[k], in->nodes[i]) == 0;
		if (in_sel && p->busy_until[i] <= t)
			p->cands[n++] = i;
	}
	return n;
}

/* A node selector that can pick nothing is an error of the drill file. */
static int check_nodes(const struct nemesis_plan_input *in, const struct nemesis_nodes *sel,
		       const struct cfg_node *at, struct cd_error *err)
{
	if (sel->at)
		at = sel->at;
	if (sel->kind == NEMESIS_NODES_LEADER && node_index(in, in->leader) < 0)
		return cfg_error(at, err,
				 "nemesis nodes: leader, but the drill has no leader (its target "
				 "has no role param naming a primary)");
	if (sel->kind == NEMESIS_NODES_MINORITY && in->n_nodes < 3)
		return cfg_error(at, err,
				 "nemesis nodes: minority needs at least 3 nodes (a minority of "
				 "%zu is none)",
				 in->n_nodes);
	for (size_t i = 0; sel->kind == NEMESIS_NODES_LIST && i < sel->n_names; i++)
		if (node_index(in, sel->names[i]) < 0)
			return cfg_error(at->type == CFG_SEQ ? at->items[i] : at, err,
					 "nemesis nodes: '%s' is not one of the drill's nodes",
					 sel->names[i]);
	return 0;
}

static int check_input(const struct nemesis_plan_input *in, struct cd_error *err)
{
	const struct nemesis *nm = in->nm;
	int r;

	for (size_t i = 0; i < nm->n_kinds; i++) {
		const struct nemesis_kind *k = &nm->kinds[i];

		if (k->has_duration && !in->heals[i])
			return cfg_error(
				k->at, err,
				"%s cannot be healed: remove duration: (its recovery: steps "
				"undo it)",
				k->kind);
		if ((r = check_nodes(in, nodes_of(nm, i), nm->at, err)) < 0)
			return r;
	}
	return 0;
}

/* Places one fault of kind at t on a node drawn among the free ones; 0 when none is. */
static int place(struct planner *p, size_t kind, int64_t t, struct nemesis_fault *f)
{
	const struct nemesis_kind *k = &p->in->nm->kinds[kind];
	size_t n = candidates(p, kind, t), node;

	if (n == 0)
		return 0;
	node = p->cands[rng_next(&p->rng) % n];
	*f = (struct nemesis_fault){ .kind = kind, .node = node, .at_ns = t };
	if (k->has_duration) {
		f->has_heal = true;
		f->heal_at_ns = t + draw_ms(p, k->duration);
		p->busy_until[node] = f->heal_at_ns + NEMESIS_SETTLE_NS;
	} else {
		p->busy_until[node] = k->recovery ? t : FOREVER;
	}
	return 1;
}

static int plan(struct planner *p, struct nemesis_fault *out, size_t *n, struct cd_error *err)
{
	const struct nemesis *nm = p->in->nm;
	int64_t t = (nm->from_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC * NSEC_PER_MSEC;

	for (size_t slot = 0; slot < MAX_SLOTS; slot++) {
		size_t kind;

		if ((nm->has_until && t > nm->until_ns) || (nm->has_count && *n >= nm->count))
			return 0;
		if (*n >= NEMESIS_MAX_FAULTS)
			return cfg_error(nm->at, err,
					 "nemesis would schedule more than %d faults: narrow from: "
					 "and until:, widen every:, or give count:",
					 NEMESIS_MAX_FAULTS);
		kind = draw_kind(p);
		*n += (size_t)place(p, kind, t, &out[*n]);
		t += draw_ms(p, nm->every);
	}
	return 0;
}

int nemesis_plan(const struct nemesis_plan_input *in, uint64_t seed, struct nemesis_fault **out,
		 size_t *n, struct cd_error *err)
{
	struct planner p = { .in = in, .rng = seed ^ NEMESIS_STREAM };
	_cleanup_free_ struct nemesis_fault *faults = NULL;
	_cleanup_free_ int64_t *busy = NULL;
	_cleanup_free_ size_t *cands = NULL;
	int r;

	*out = NULL;
	*n = 0;
	if (in->n_nodes == 0)
		return cfg_error(in->nm->at, err, "nemesis: the drill has no node");
	if ((r = check_input(in, err)) < 0)
		return r;
	faults = calloc(NEMESIS_MAX_FAULTS + 1, sizeof(*faults));
	busy = calloc(in->n_nodes, sizeof(*busy));
	cands = calloc(in->n_nodes, sizeof(*cands));
	if (!faults || !busy || !cands)
		return -ENOMEM;
	for (size_t i = 0; i < in->n_nodes; i++)
		busy[i] = INT64_MIN;
	p.busy_until = busy;
	p.cands = cands;
	if ((r = plan(&p, faults, n, err)) < 0) {
		*n = 0;
		return r;
	}
	*out = TAKE_PTR(faults);
	return 0;
}

/* ---- the faults as `faults:` items ---- */

static struct cfg_node *scalar(const struct cfg_node *where, const char *text)
{
	struct cfg_node *s = cfg_node_new(CFG_SCALAR, where->file, where->line, where->col);

	if (s && !(s->scalar = strdup(text))) {
		cfg_node_free(s);
		return NULL;
	}
	return s;
}

/* Appends key: item to map; takes ownership of item (NULL: out of memory). */
static int put(struct cfg_node *map, const char *key, struct cfg_node *item)
{
	struct cfg_node *k = item ? scalar(item, key) : NULL;

	if (!k || cfg_node_append(map, k, item) < 0) {
		cfg_node_free(k);
		cfg_node_free(item);
		return -ENOMEM;
	}
	return 0;
}

/* "{node}" in text replaced by node; caller frees. */
static char *subst(const char *text, const char *node)
{
	const char *hit = strstr(text, "{node}");
	char *out = NULL, *rest;

	if (!hit)
		return strdup(text);
	rest = subst(hit + 6, node);
	if (rest && asprintf(&out, "%.*s%s%s", (int)(hit - text), text, node, rest) < 0)
		out = NULL;
	free(rest);
	return out;
}

/* A deep copy of v with "{node}" in every scalar replaced by node (NULL: none). */
static struct cfg_node *copy(const struct cfg_node *v, const char *node)
{
	struct cfg_node *c = cfg_node_new(v->type, v->file, v->line, v->col);

	if (!c)
		return NULL;
	c->quoted = v->quoted;
	if (v->type == CFG_SCALAR &&
	    !(c->scalar = node ? subst(v->scalar, node) : strdup(v->scalar)))
		goto fail;
	for (size_t i = 0; i < v->n; i++) {
		struct cfg_node *k = v->keys ? copy(v->keys[i], NULL) : NULL;
		struct cfg_node *it = copy(v->items[i], node);

		if (!it || (v->keys && !k) || cfg_node_append(c, k, it) < 0) {
			cfg_node_free(k);
			cfg_node_free(it);
			goto fail;
		}
	}
	return c;
fail:
	cfg_node_free(c);
	return NULL;
}

static struct cfg_node *duration(const struct cfg_node *where, int64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lldms", (long long)(ns / NSEC_PER_MSEC));
	return scalar(where, buf);
}

/* {name: "nemesis N", at:, heal: {at:}, KIND: {BODY..., node:}, recovery: [...]} */
static struct cfg_node *item_of(const struct nemesis *nm, const struct nemesis_fault *f, size_t i,
				const char *node)
{
	const struct nemesis_kind *k = &nm->kinds[f->kind];
	struct cfg_node *it = cfg_node_new(CFG_MAP, k->at->file, k->at->line, k->at->col);
	struct cfg_node *body =
		k->body->type == CFG_MAP ?
			copy(k->body, NULL) :
			cfg_node_new(CFG_MAP, k->body->file, k->body->line, k->body->col);
	struct cfg_node *heal =
		f->has_heal ? cfg_node_new(CFG_MAP, k->at->file, k->at->line, k->at->col) : NULL;
	char name[64];

	snprintf(name, sizeof(name), "nemesis %zu", i + 1);
	if (!it || !body || (f->has_heal && !heal) || put(body, "node", scalar(k->at, node)) < 0 ||
	    (heal && put(heal, "at", duration(k->at, f->heal_at_ns)) < 0)) {
		cfg_node_free(it);
		cfg_node_free(body);
		cfg_node_free(heal);
		return NULL;
	}
	if (put(it, "name", scalar(k->at, name)) < 0 ||
	    put(it, "at", duration(k->at, f->at_ns)) < 0 ||
	    (heal && put(it, "heal", TAKE_PTR(heal)) < 0) || put(it, k->kind, TAKE_PTR(body)) < 0 ||
	    (k->recovery && put(it, "recovery", copy(k->recovery, node)) < 0)) {
		cfg_node_free(heal);
		cfg_node_free(body);
		cfg_node_free(it);
		return NULL;
	}
	return it;
}

const char *nemesis_leader(const struct drill *d)
{
	const struct scenario *sc = d->sc;

	for (size_t i = 0; i < sc->n_nodes; i++) {
		const struct scenario_node *n = &sc->nodes[i];
		const struct target_def *t = d->targets[n->target].target;
		const struct target_param_def *role = target_param(t, "role");
		const char *v = scenario_param(sc, n, "role");

		if (!role)
			continue;
		if (!v)
			v = role->def;
		if (v && (strcmp(v, "primary") == 0 || strcmp(v, "leader") == 0))
			return n->name;
	}
	for (size_t i = 0; i < d->n_targets; i++) /* no role param: where the clients write */
		if (!target_param(d->targets[i].target, "role"))
			return d->targets[i].st->workload.node;
	return NULL;
}

int nemesis_resolve(struct drill *d, const struct scenario_kinds *kinds, struct cd_error *err)
{
	const struct nemesis *nm = d->sc->nemesis;
	_cleanup_free_ struct nemesis_fault *faults = NULL;
	_cleanup_free_ bool *heals = NULL;
	struct nemesis_plan_input in;
	size_t n = 0;
	int r;

	if (!nm)
		return 0;
	heals = calloc(nm->n_kinds, sizeof(*heals));
	if (!heals)
		return -ENOMEM;
	for (size_t i = 0; i < nm->n_kinds; i++) {
		const struct fault_ops *ops = fault_lookup(nm->kinds[i].kind);

		heals[i] = ops && ops->heals;
	}
	in = (struct nemesis_plan_input){ nm, d->node_names, d->sc->n_nodes, nemesis_leader(d),
					  heals };
	if ((r = nemesis_plan(&in, d->seed, &faults, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct cfg_node *it = item_of(nm, &faults[i], i, d->node_names[faults[i].node]);

		if (!it)
			return -ENOMEM;
		if ((r = scenario_add_fault(d->sc, it, kinds, err)) < 0)
			return r;
	}
	return 0;
}
