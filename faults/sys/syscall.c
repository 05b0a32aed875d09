/* Fault `syscall: {node: n1, mechanism: seccomp|preload, rules: [...], io_uring: enosys}`:
 * torn writes, short writes, errno, crash before/after and delays at chosen syscalls of a
 * node's processes, through seccomp user notification (the default; works for static and
 * Go binaries) or the LD_PRELOAD shim (dynamically linked programs that call libc). The
 * rule language is faults/sys/rule.h; inject arms the rules, heal disarms them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/sys/attach.h"
#include "faults/sys/syscall.h"
#include "faults/sys/shimctl.h"

static const char *const mechanisms[] = {
	[FAULT_SYSCALL_SECCOMP] = "seccomp",
	[FAULT_SYSCALL_PRELOAD] = "preload",
	NULL,
};

struct syscall_state {
	const char *node; /* borrowed from the scenario tree */
	enum fault_syscall_mechanism mech;
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

enum fault_syscall_mechanism fault_syscall_mechanism(const void *state)
{
	return ((const struct syscall_state *)state)->mech;
}

const char *fault_syscall_mechanism_name(enum fault_syscall_mechanism m)
{
	return (unsigned)m <= FAULT_SYSCALL_PRELOAD ? mechanisms[m] : "?";
}

static void syscall_free(void *state)
{
	struct syscall_state *st = state;

	if (!st)
		return;
	sys_rules_free(st->rules);
	free(st);
}

/* What the shim cannot do is an error where it was written, not a rule that never acts:
 * io_uring_setup is a raw system call (liburing makes it without libc), and the shim
 * wraps only some calls (SYS_SHIM_CALLS). */
static int check_preload(const struct cfg_node *args, const struct sys_rules *rs,
			 struct cd_error *err)
{
	const struct cfg_node *list = cfg_get(args, "rules");
	char wrapped[256] = "";

	if (rs->n > SYS_SHIM_MAX_RULES)
		return cfg_error(
			list->items[SYS_SHIM_MAX_RULES], err,
			"the preload shim takes at most %d rules: use mechanism: seccomp, or fewer rules",
			SYS_SHIM_MAX_RULES);
	if (rs->io_uring_enosys)
		return cfg_error(
			cfg_get(args, "io_uring"), err,
			"io_uring: enosys needs mechanism: seccomp (io_uring_setup is a raw system call the preload shim never sees)");
	for (int c = 0; c < SYS_CALL_N; c++)
		if (SYS_SHIM_CALLS & (1u << c))
			snprintf(wrapped + strlen(wrapped), sizeof(wrapped) - strlen(wrapped),
				 "%s%s", wrapped[0] ? ", " : "", sys_call_name((enum sys_call)c));
	for (size_t i = 0; i < rs->n; i++) {
		uint32_t other = rs->v[i].calls & ~SYS_SHIM_CALLS;

		if (other)
			return cfg_error(
				cfg_get(list->items[i], "calls"), err,
				"the preload shim does not wrap %s (it wraps %s): use mechanism: seccomp",
				sys_call_name((enum sys_call)__builtin_ctz(other)), wrapped);
	}
	return 0;
}

static int parse_mechanism(const struct cfg_node *args, struct syscall_state *st,
			   struct cd_error *err)
{
	const struct cfg_node *n = cfg_get(args, "mechanism");
	size_t idx;
	int r;

	st->mech = FAULT_SYSCALL_SECCOMP;
	if (!n)
		return 0;
	if ((r = cfg_enum(n, mechanisms, &idx, err)) < 0)
		return r;
	st->mech = (enum fault_syscall_mechanism)idx;
	return st->mech == FAULT_SYSCALL_PRELOAD ? check_preload(args, st->rules, err) : 0;
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
		return cfg_error(args, err,
				 "a syscall fault needs the node whose calls it breaks (node: n1)");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	r = fault_parse_node_arg(node, ctx, "syscall", &st->node, err);
	if (r >= 0)
		r = sys_rules_parse(args, &st->rules, err);
	if (r >= 0)
		r = parse_mechanism(args, st, err);
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

static const struct attach_ops *syscall_attach(const void *state)
{
	const struct syscall_state *st = state;

	return st->mech == FAULT_SYSCALL_PRELOAD ? &sys_preload_attach_ops :
						   &sys_seccomp_attach_ops;
}

static struct node_attach *attachment(const struct syscall_state *st, const struct fault_env *env)
{
	return env->attachment(env->harness, st->node, syscall_attach(st));
}

static int set_armed(struct syscall_state *st, const struct fault_env *env, bool armed,
		     struct strbuf *what)
{
	int r = sys_attach_arm(attachment(st, env), armed);

	if (r < 0)
		return r;
	strbuf_appendf(what, "%s %zu syscall rule%s on %s (mechanism: %s)",
		       armed ? "armed" : "disarmed", st->rules->n, st->rules->n == 1 ? "" : "s",
		       st->node, mechanisms[st->mech]);
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

/* It strikes at the calls its rules match, not when it is armed: RTO counts from the first. */
static void syscall_effects(const void *state, const struct fault_env *env,
			    struct fault_effects *out)
{
	sys_attach_effects(attachment(state, env), out);
}

static void syscall_seeded(const void *state, const struct fault_env *env, struct strbuf *out)
{
	sys_attach_seeded(attachment(state, env), out);
}

const struct fault_ops fault_syscall_ops = {
	.name = "syscall",
	.summary =
		"torn/short writes, errno, crash before/after, delay at chosen syscalls (seccomp, or the preload shim)",
	.needs =
		"seccomp user notification (Linux 5.5), pidfd_getfd (5.6); mechanism: preload needs none, but a dynamically linked target",
	.heals = true,
	.parse = syscall_parse,
	.node = syscall_node,
	.inject = syscall_inject,
	.heal = syscall_heal,
	.free = syscall_free,
	.attach = syscall_attach,
	.effects = syscall_effects,
	.seeded = syscall_seeded,
};
