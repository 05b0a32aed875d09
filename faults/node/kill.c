/* Fault `kill: NODE`: SIGKILL to the node's pid-namespace init, so the whole node dies at
 * once (the kernel kills every process of a pid namespace whose init dies). */
#include <errno.h>
#include <stdlib.h>

#include "faults/fault.h"

struct kill_state {
	const char *node; /* borrowed from the scenario tree */
};

static int kill_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		      struct cd_error *err)
{
	struct kill_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	r = fault_parse_node_arg(args, ctx, "kill", &st->node, err);
	if (r < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static const char *kill_node(const void *state)
{
	return ((const struct kill_state *)state)->node;
}

static int kill_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct kill_state *st = state;
	int r;

	/* A fault with no effect is an error of the drill, not a pass (DESIGN §5). */
	if (!env->node_running(env->harness, st->node))
		return -ESRCH;
	r = env->node_kill(env->harness, st->node);
	if (r < 0)
		return r;
	strbuf_appendf(what, "SIGKILL to the pid-namespace init of %s", st->node);
	return 0;
}

const struct fault_ops fault_kill_ops = {
	.name = "kill",
	.summary = "kill -9 a node: SIGKILL to its pid-namespace init, the whole node dies",
	.needs = "pid namespaces, pidfd_send_signal (Linux 5.1)",
	.heals = false,
	.parse = kill_parse,
	.node = kill_node,
	.inject = kill_inject,
	.heal = NULL,
	.free = free,
};
