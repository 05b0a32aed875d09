/* Loading a drill: scenario + target + plug-in checks. See drill.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"
#include "harness/drill/drill.h"
#include "harness/drill/nemesis.h"

/* Error at a position recorded in the scenario. */
static int at_pos(const struct scenario *sc, struct scenario_pos p, struct cd_error *err,
		  const char *msg)
{
	return cd_error_set(err, EINVAL, sc->file, p.line, p.col, "%s", msg);
}

static int check_value(const struct target_def *t, const char *key, const char *value, char *msg,
		       size_t len)
{
	const struct target_param_def *p = target_param(t, key);
	size_t off = 0;

	if (!p) {
		off = (size_t)snprintf(msg, len,
				       "target %s has no param '%s'; its params:", t->name, key);
		for (size_t i = 0; i < t->n_params && off < len; i++)
			off += (size_t)snprintf(msg + off, len - off, " %s", t->params[i].name);
		return -ENOENT;
	}
	if (!p->values)
		return 0;
	for (size_t i = 0; p->values[i]; i++)
		if (strcmp(p->values[i], value) == 0)
			return 0;
	off = (size_t)snprintf(msg, len, "param %s: '%s' is not one of:", key, value);
	for (size_t i = 0; p->values[i] && off < len; i++)
		off += (size_t)snprintf(msg + off, len - off, " %s", p->values[i]);
	return -EINVAL;
}

static int check_params(const struct scenario *sc, const struct scenario_param *ps, size_t n,
			const struct target_def *t, struct cd_error *err)
{
	char msg[512];

	for (size_t i = 0; i < n; i++) {
		int r = check_value(t, ps[i].key, ps[i].value, msg, sizeof(msg));

		if (r == 0)
			continue;
		if (ps[i].pos.line == 0)
			return cd_error_set(err, EINVAL, "", 0, 0, "--param %s=%s: %s", ps[i].key,
					    ps[i].value, msg);
		return at_pos(sc, r == -ENOENT ? ps[i].key_pos : ps[i].pos, err, msg);
	}
	return 0;
}

static int apply_overrides(struct drill *d, const struct drill_options *o, struct cd_error *err)
{
	for (size_t i = 0; i < o->n_params; i++) {
		const char *eq = strchr(o->params[i], '=');
		_cleanup_free_ char *key = NULL;

		if (!eq || eq == o->params[i])
			return cd_error_set(err, EINVAL, "", 0, 0,
					    "--param '%s': expected KEY=VALUE", o->params[i]);
		key = strndup(o->params[i], (size_t)(eq - o->params[i]));
		if (!key || scenario_override_param(d->sc, key, eq + 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* --param for a drill of several targets: TARGET.KEY checked against that target, KEY
 * against every target that declares it (none does: an error). */
static int check_overrides_multi(const struct drill *d, struct cd_error *err)
{
	const struct scenario *sc = d->sc;
	char msg[512];

	for (size_t i = 0; i < sc->n_overrides; i++) {
		const struct scenario_param *o = &sc->overrides[i];
		size_t declared = 0;

		for (size_t t = 0; t < d->n_targets; t++) {
			const struct target_def *td = d->targets[t].target;
			int r;

			if (o->target && strcmp(o->target, td->name) != 0)
				continue;
			if (!o->target && !target_param(td, o->key))
				continue;
			declared++;
			r = check_value(td, o->key, o->value, msg, sizeof(msg));
			if (r < 0)
				return cd_error_set(err, EINVAL, "", 0, 0, "--param %s%s%s=%s: %s",
						    o->target ? o->target : "",
						    o->target ? "." : "", o->key, o->value, msg);
		}
		if (!declared)
			return cd_error_set(err, EINVAL, "", 0, 0,
					    "--param %s=%s: no target of the drill (%s) has a "
					    "param '%s'",
					    o->key, o->value, sc->target, o->key);
	}
	return 0;
}

static int load_target(struct drill *d, struct drill_target *dt, struct cd_error *err)
{
	struct scenario *sc = d->sc;
	const struct scenario_target *st = dt->st;
	char msg[600];
	int r = target_load(st->name, &dt->target, err);

	if (r == -ENOENT) {
		char **names = NULL;
		size_t n = 0, off;

		off = (size_t)snprintf(msg, sizeof(msg),
				       "unknown target '%s'; known targets:", st->name);
		if (target_list(&names, &n) == 0)
			for (size_t i = 0; i < n; i++) {
				if (off < sizeof(msg))
					off += (size_t)snprintf(msg + off, sizeof(msg) - off, " %s",
								names[i]);
				free(names[i]);
			}
		free(names);
		return at_pos(sc, st->pos.line ? st->pos : sc->drill_pos, err, msg);
	}
	if (r < 0)
		return r;
	dt->driver = dt->target->driver ? target_driver_lookup(dt->target->driver) : NULL;
	if (dt->target->driver && !dt->driver)
		return cd_error_set(
			err, EINVAL, "", 0, 0,
			"target %s names driver '%s', which this chaosdrill does not have",
			dt->target->name, dt->target->driver);
	if ((r = check_params(sc, st->params, st->n_params, dt->target, err)) < 0)
		return r;
	if (!sc->multi &&
	    (r = check_params(sc, sc->overrides, sc->n_overrides, dt->target, err)) < 0)
		return r;
	for (size_t i = st->first_node; i < st->first_node + st->n_nodes; i++)
		if ((r = check_params(sc, sc->nodes[i].params, sc->nodes[i].n_params, dt->target,
				      err)) < 0)
			return r;
	return 0;
}

static int load_targets(struct drill *d, struct cd_error *err)
{
	int r;

	d->targets = calloc(d->sc->n_targets, sizeof(*d->targets));
	if (!d->targets)
		return -ENOMEM;
	for (size_t i = 0; i < d->sc->n_targets; i++) {
		d->targets[i].st = &d->sc->targets[i];
		d->n_targets = i + 1;
		if ((r = load_target(d, &d->targets[i], err)) < 0)
			return r;
	}
	d->target = d->targets[0].target;
	d->driver = d->targets[0].driver;
	return d->sc->multi ? check_overrides_multi(d, err) : 0;
}

/* The key node of key in a mapping (for errors at the key), or NULL. */
static const struct cfg_node *key_of(const struct cfg_node *map, const char *key)
{
	for (size_t i = 0; map && map->type == CFG_MAP && i < map->n; i++)
		if (strcmp(map->keys[i]->scalar, key) == 0)
			return map->keys[i];
	return NULL;
}

/* Without a workload nothing counts lost writes or reads values back: the expectations
 * that need one are errors at their key, saying why. expect is the map they were written
 * in (the drill's, or with several targets the target's own; the drill's rpo and integrity
 * then are defaults for the targets that have a workload only). */
static int check_no_workload(struct drill *d, struct drill_target *dt,
			     const struct cfg_node *expect, struct cd_error *err)
{
	static const char *const needs[] = { "rpo", "integrity" };
	struct scenario_expect *e = &d->sc->targets[dt - d->targets].expect;
	const char *why;

	dt->no_workload = !dt->target->driver || dt->st->workload.kind == SCENARIO_WORKLOAD_NONE;
	if (!dt->no_workload)
		return 0;
	dt->driver = NULL;
	why = dt->target->driver ? "the drill has workload: none" :
				   "its target has no driver (no workload can run)";
	/* rto without a workload: from the first fault to the readiness probe's next pass */
	if (key_of(expect, "rto") && d->sc->n_faults == 0)
		return cfg_error(
			key_of(expect, "rto"), err,
			"expect rto needs a workload or a fault (%s, and without one rto is "
			"measured from the first fault to ready): the drill has no fault",
			why);
	for (size_t i = 0; expect && i < ARRAY_SIZE(needs); i++) {
		const struct cfg_node *k = key_of(expect, needs[i]);

		if (k)
			return cfg_error(k, err,
					 "expect %s needs a workload, and %s; check the nodes with "
					 "the target's check: or check-online: instead",
					 needs[i], why);
	}
	e->rpo_kind = SCENARIO_RPO_UNSET; /* inherited from the drill's expect: not its own */
	e->has_integrity = false;
	return 0;
}

static int check_workloads(struct drill *d, struct cd_error *err)
{
	const struct cfg_node *list = cfg_get(d->sc->tree, "targets");
	int r;

	d->no_workload = true;
	for (size_t i = 0; i < d->n_targets; i++) {
		const struct cfg_node *expect = d->sc->multi ? cfg_get(list->items[i], "expect") :
							       cfg_get(d->sc->tree, "expect");

		if ((r = check_no_workload(d, &d->targets[i], expect, err)) < 0)
			return r;
		d->no_workload &= d->targets[i].no_workload;
	}
	d->driver = d->targets[0].driver;
	return 0;
}

static int load_faults(struct drill *d, struct cd_error *err)
{
	struct fault_parse_ctx ctx = { d->node_names, d->sc->n_nodes };

	d->faults = calloc(d->sc->n_faults + 1, sizeof(*d->faults));
	if (!d->faults)
		return -ENOMEM;
	for (size_t i = 0; i < d->sc->n_faults; i++) {
		const struct scenario_fault *sf = &d->sc->faults[i];
		struct drill_fault *f = &d->faults[i];
		int r;

		f->sf = sf;
		f->ops = fault_lookup(sf->kind);
		if (!f->ops)
			return at_pos(d->sc, sf->pos, err, "unknown fault kind");
		if (sf->has_heal && !f->ops->heals)
			return cd_error_set(
				err, EINVAL, d->sc->file, sf->pos.line, sf->pos.col,
				"fault '%s' cannot be healed; remove heal: (recovery steps undo it)",
				sf->kind);
		r = f->ops->parse(sf->args, &ctx, &f->state, err);
		if (r < 0)
			return r;
		d->n_faults++;
		if (f->ops->needs_disk &&
		    scenario_node_disk(d->sc, scenario_node(d->sc, f->ops->node(f->state)))->fs ==
			    SCENARIO_DISK_NONE)
			return cd_error_set(
				err, EINVAL, d->sc->file, sf->pos.line, sf->pos.col,
				"%s on %s needs the node's data dir on a disk of its own: add "
				"disk: {size: 64MiB, fs: ext4} (or fs: tmpfs) to the drill or to the node",
				sf->kind, f->ops->node(f->state));
	}
	return 0;
}

/* restart: {params: {...}}: each one a param of the target, with an allowed value. */
static int check_step_params(const struct target_def *t, const struct cfg_node *p,
			     struct cd_error *err)
{
	char msg[512];

	for (size_t i = 0; i < p->n; i++) {
		int r = check_value(t, p->keys[i]->scalar, p->items[i]->scalar, msg, sizeof(msg));

		if (r < 0)
			return cfg_error(r == -ENOENT ? p->keys[i] : p->items[i], err, "%s", msg);
	}
	return 0;
}

/* The target of the node a step names (none: the first target). */
static const struct target_def *step_target(const struct drill *d, const struct step_spec *s)
{
	const struct scenario_node *n = s->node ? scenario_node(d->sc, s->node) : NULL;

	return d->targets[n ? n->target : 0].target;
}

static int load_steps(struct drill *d, struct cd_error *err)
{
	struct fault_parse_ctx ctx = { d->node_names, d->sc->n_nodes };

	d->steps = calloc(d->sc->n_steps + 1, sizeof(*d->steps));
	if (!d->steps)
		return -ENOMEM;
	for (size_t i = 0; i < d->sc->n_steps; i++) {
		const struct scenario_step *ss = &d->sc->steps[i];
		const struct step_kind_def *k = step_kind_lookup(ss->kind);
		struct drill_step *s = &d->steps[i];
		int r;

		s->ss = ss;
		if (!k)
			return at_pos(d->sc, ss->pos, err, "unknown recovery step kind");
		s->spec.kind = (enum step_kind)(k - step_kind_at(0));
		d->n_steps++;
		/* an action runs beside the drill: only kinds that never hold the drill up */
		if (ss->fault == SCENARIO_ACTION && s->spec.kind != STEP_EXEC &&
		    s->spec.kind != STEP_SIGNAL && s->spec.kind != STEP_WAIT &&
		    s->spec.kind != STEP_SLEEP)
			return at_pos(d->sc, ss->pos, err,
				      "an action is exec, signal, wait or sleep; kill, restart "
				      "and shutdown of nodes belong to faults: and recovery:");
		r = k->parse(ss->args, &ctx, &s->spec, err);
		/* wait for ready or tcp without a node waits on the workload's node: with
		 * several targets, which one is for the drill to say */
		if (r >= 0 && d->sc->multi && s->spec.kind == STEP_WAIT && !s->spec.node &&
		    s->spec.wait != STEP_WAIT_COMMAND)
			return at_pos(d->sc, ss->pos, err,
				      "with several targets, a wait for a probe or a port names "
				      "its node (wait: {probe: ready, node: db1})");
		if (r >= 0 && s->spec.params)
			r = check_step_params(step_target(d, &s->spec), s->spec.params, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int pick_seed(struct drill *d, const struct drill_options *o)
{
	if (o->has_seed) {
		d->seed = o->seed;
	} else if (d->sc->has_seed) {
		d->seed = d->sc->seed;
	} else {
		if (getrandom(&d->seed, sizeof(d->seed), 0) != sizeof(d->seed))
			return -errno;
		d->seed_drawn = true;
	}
	return 0;
}

/* Several targets: each its view of the drill (see drill.h), made once all is loaded. */
static int make_views(struct drill *d)
{
	for (size_t i = 0; i < d->n_targets; i++) {
		struct drill_target *dt = &d->targets[i];
		const struct scenario_target *st = dt->st;
		struct scenario *sc;
		struct drill *v;

		if (!d->sc->multi) {
			dt->view = d;
			continue;
		}
		sc = dt->own_sc = malloc(sizeof(*sc));
		v = dt->own_view = malloc(sizeof(*v));
		if (!sc || !v)
			return -ENOMEM;
		*sc = *d->sc;
		sc->target = st->name;
		sc->target_pos = st->pos;
		sc->params = st->params;
		sc->n_params = st->n_params;
		sc->disk = st->disk;
		sc->workload = st->workload;
		sc->expect = st->expect;
		*v = *d;
		v->sc = sc;
		v->target = dt->target;
		v->driver = dt->driver;
		v->no_workload = dt->no_workload;
		dt->view = v;
	}
	return 0;
}

const struct drill *drill_node_view(const struct drill *d, const struct scenario_node *node)
{
	return d->targets[node && node->target < d->n_targets ? node->target : 0].view;
}

int drill_load(const char *path, const struct drill_options *opts, struct drill **out,
	       struct cd_error *err)
{
	const char *faults[64], *steps[64];
	struct scenario_kinds kinds = { faults, steps };
	struct drill *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	fault_names(faults, ARRAY_SIZE(faults));
	step_kind_names(steps, ARRAY_SIZE(steps));
	r = scenario_load(path, &kinds, &d->sc, err);
	if (r >= 0 && !(d->node_names = calloc(d->sc->n_nodes, sizeof(char *))))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < d->sc->n_nodes; i++)
		d->node_names[i] = d->sc->nodes[i].name;
	if (r >= 0)
		r = apply_overrides(d, opts, err);
	if (r >= 0)
		r = load_targets(d, err);
	if (r >= 0)
		r = check_workloads(d, err);
	if (r >= 0) /* the nemesis's faults are drawn from the seed */
		r = pick_seed(d, opts);
	if (r >= 0)
		r = nemesis_resolve(d, &kinds, err);
	if (r >= 0)
		r = load_faults(d, err);
	if (r >= 0)
		r = load_steps(d, err);
	if (r >= 0)
		r = make_views(d);
	if (r < 0) {
		drill_free(d);
		return r;
	}
	*out = d;
	return 0;
}

void drill_free(struct drill *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_faults; i++)
		d->faults[i].ops->free(d->faults[i].state);
	for (size_t i = 0; i < d->n_steps; i++)
		step_spec_release(&d->steps[i].spec);
	free(d->faults);
	free(d->steps);
	free(d->node_names);
	for (size_t i = 0; d->targets && i < d->n_targets; i++) {
		target_free(d->targets[i].target);
		free(d->targets[i].own_view);
		free(d->targets[i].own_sc);
	}
	free(d->targets);
	scenario_free(d->sc);
	free(d);
}
