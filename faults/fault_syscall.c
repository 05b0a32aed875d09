/* Fault `syscall: {node: n1, rules: [...], io_uring: enosys}`: torn writes, short writes,
 * errno, crash before/after and delays at chosen syscalls of a node's processes, through
 * seccomp user notification (works for static and Go binaries). The rule language is
 * faults/sys_rule.h; inject arms the rules, heal disarms them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault_syscall.h"

struct syscall_state {
	const char *node;        /* borrowed from the scenario tree */
	struct sys_rules *rules; /* owned */
};

const char *fault_syscall_node(const void *state)
{
	return ((const struct syscall_state *)state)->node;
}

const struct sys_rules *fault_syscall_rules(const void *state)
{
	return ((const struct syscall_state *)state)->rules;
}

static void syscall_free(void *state)
{
	struct syscall_state *st = state;

	if (!st)
		return;
	sys_rules_free(st->rules);
	free(st);
}

static int syscall_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			 void **state, struct cd_error *err)
{
	struct syscall_state *st;
	const struct cfg_node *node;
	int r;

	if ((r = cfg_expect(args, CFG_MAP, "a syscall fault", err)) < 0)
		return r;
	if (!(node = cfg_get(args, "node")))
		return cfg_error(args, err, "a syscall fault needs the node whose calls it breaks (node: n1)");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	r = fault_parse_node_arg(node, ctx, "syscall", &st->node, err);
	if (r >= 0)
		r = sys_rules_parse(args, &st->rules, err);
	if (r < 0) {
		syscall_free(st);
		return r;
	}
	*state = st;
	return 0;
}

static const char *syscall_node(const void *state)
{
	return fault_syscall_node(state);
}

static int set_armed(struct syscall_state *st, const struct fault_env *env, bool armed,
		     struct strbuf *what)
{
	int r = env->syscall_arm(env->harness, st->node, armed);

	if (r < 0)
		return r;
	strbuf_appendf(what, "%s %zu syscall rule%s on %s", armed ? "armed" : "disarmed",
		       st->rules->n, st->rules->n == 1 ? "" : "s", st->node);
	return 0;
}

static int syscall_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	return set_armed(state, env, true, what);
}

static int syscall_heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	return set_armed(state, env, false, what);
}

const struct fault_ops fault_syscall_ops = {
	.name = "syscall",
	.summary = "torn/short writes, errno, crash before/after, delay at chosen syscalls (seccomp)",
	.needs = "seccomp user notification (Linux 5.5), pidfd_getfd (5.6)",
	.heals = true,
	.parse = syscall_parse,
	.node = syscall_node,
	.inject = syscall_inject,
	.heal = syscall_heal,
	.free = syscall_free,
};
