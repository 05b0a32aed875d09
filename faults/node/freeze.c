/* Faults `stop: NODE` (freeze every process of the node; heal thaws) and `cont: NODE`
 * (thaw a stopped node). The harness picks the mechanism: cgroup v2 cgroup.freeze, the
 * v1 freezer, or SIGSTOP/SIGCONT as a last resort; `what` says which was used. */
#include <errno.h>
#include <stdlib.h>

#include "faults/fault.h"

struct freeze_state {
	const char *node; /* borrowed from the scenario tree */
};

static int parse_as(const char *kind, const struct cfg_node *args,
		    const struct fault_parse_ctx *ctx, void **state, struct cd_error *err)
{
	struct freeze_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	r = fault_parse_node_arg(args, ctx, kind, &st->node, err);
	if (r < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static int stop_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		      struct cd_error *err)
{
	return parse_as("stop", args, ctx, state, err);
}

static int cont_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		      struct cd_error *err)
{
	return parse_as("cont", args, ctx, state, err);
}

static const char *freeze_node(const void *state)
{
	return ((const struct freeze_state *)state)->node;
}

static int set_frozen(struct freeze_state *st, const struct fault_env *env, bool frozen,
		      struct strbuf *what)
{
	const char *how = NULL;
	int r;

	if (!env->node_running(env->harness, st->node))
		return -ESRCH;
	r = env->node_freeze(env->harness, st->node, frozen, &how);
	if (r < 0)
		return r;
	strbuf_appendf(what, "%s %s through %s", frozen ? "froze" : "thawed", st->node,
		       how ? how : "?");
	return 0;
}

static int stop_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	return set_frozen(state, env, true, what);
}

static int stop_heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	return set_frozen(state, env, false, what);
}

const struct fault_ops fault_stop_ops = {
	.name = "stop",
	.summary = "freeze every process of a node (heal, or a later cont, thaws it)",
	.needs = "cgroup v2 cgroup.freeze or the v1 freezer (else SIGSTOP)",
	.heals = true,
	.parse = stop_parse,
	.node = freeze_node,
	.inject = stop_inject,
	.heal = stop_heal,
	.free = free,
};

const struct fault_ops fault_cont_ops = {
	.name = "cont",
	.summary = "thaw a node frozen by stop",
	.needs = "as stop",
	.heals = false,
	.parse = cont_parse,
	.node = freeze_node,
	.inject = stop_heal,
	.heal = NULL,
	.free = free,
};
