/* faults/: one file per fault kind behind struct fault_ops (this file), one registry
 * (registry.c), one folder per family: node/ (kill, stop), net/ (partition, isolate, loss,
 * delay, bandwidth), sys/ (syscall: seccomp supervisor and LD_PRELOAD shim), faultfs/ (the
 * FUSE fault file system and power-cut, bitrot, bad-sectors), disk/ (disk-full on a node's
 * own disk), clock/ (clock skew). What a family keeps on a node for the whole drill is a
 * node attachment (attach.h). Faults include only common/; the harness hands them what
 * they may do.
 *
 * Fault plug-ins: one file per kind behind one ops table, one static registry.
 * A fault never logs above debug, never exits, never forks on its own: the harness hands
 * it an env with the node operations it may use (shared/CONVENTIONS.md).
 *
 * Usage (harness side):
 *   const struct fault_ops *ops = fault_lookup("kill");
 *   void *st; ops->parse(args, &pctx, &st, &err);      // at validate time, pure
 *   ops->inject(st, &env, &what);                      // at the scheduled time
 *   if (ops->heal) ops->heal(st, &env, &what);         // at the heal time
 *   ops->free(st);
 */
#ifndef CHAOSDRILL_FAULTS_FAULT_H
#define CHAOSDRILL_FAULTS_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/error.h"
#include "common/strbuf.h"

/* What a parser of the drill's faults, and of its recovery steps (harness/drill/steps.h),
 * may know of the drill. */
struct fault_parse_ctx {
	const char *const *nodes; /* the drill's node names */
	size_t n_nodes;
};

struct attach_ops;
struct node_attach;

/* What a fault may do to the drill, provided by the harness: generic node operations, and
 * the node's attachments for what a family keeps on it. Each returns >= 0 or -errno;
 * `how` (may be NULL) receives a static description of the mechanism used. */
struct fault_env {
	void *harness;
	int (*node_kill)(void *harness, const char *node);
	int (*node_freeze)(void *harness, const char *node, bool frozen, const char **how);
	bool (*node_running)(void *harness, const char *node);
	/* A socket (caller owns, close-on-exec) inside the node's network namespace: netlink
	 * for network faults. */
	int (*node_socket)(void *harness, const char *node, int domain, int type, int protocol);
	/* The node's lab address (IPv4, network byte order). */
	int (*node_addr)(void *harness, const char *node, uint32_t *addr);
	/* Kills the node (SIGKILL to its pid-namespace init) and waits until every process of
	 * it is gone: nothing of it writes after this returns. -ESRCH if it was not running. */
	int (*node_kill_wait)(void *harness, const char *node);
	uint64_t seed; /* the drill's, for seeded choices made at injection */
	/* The node's attachment of that kind (faults/attach.h), which the fault's own family
	 * then drives (arm its rules, send its file system a command, fill its disk); NULL
	 * when the node has none. */
	struct node_attach *(*attachment)(void *harness, const char *node,
					  const struct attach_ops *ops);
	/* The node that leads now (role "leader" or "primary"): the one running node whose
	 * target leader probe passes; *node is borrowed. -ENOTSUP: the target has no leader
	 * probe; -ENOENT: none passed; -ENOTUNIQ: several did. */
	int (*node_select)(void *harness, const char *role, const char **node);
	/* The fault failed because this machine lacks what it needs (a kernel feature): why
	 * says what. The drill then ends with exit 3, not as a missed expectation. May be NULL. */
	void (*unsupported)(void *harness, const char *why);
};

/* Calls env->unsupported when there is one. */
static inline void fault_unsupported(const struct fault_env *env, const char *why)
{
	if (env->unsupported)
		env->unsupported(env->harness, why);
}

/* What a fault did beyond its injection (fault_ops.effects). Strings are borrowed from the
 * fault or its attachment until the drill's end. */
struct fault_effects {
	unsigned count;	     /* how many times it struck; 0: it had no effect (an error) */
	int64_t first_ns;    /* drill time it first struck (RTO counts from it), -1 never */
	const char *details; /* one line per strike, or "" */
	const char *none;    /* what no effect means: "no call matched its rules" */
	const char *hint;    /* why it may not have struck although it was armed, or "" */
};

struct fault_ops {
	const char *name;    /* the scenario key: "kill" */
	const char *summary; /* one line for `chaosdrill list` */
	const char *needs;   /* kernel features it needs, for `list` and the README */
	bool heals;	     /* accepts `heal:` */
	bool needs_disk;     /* acts on the node's own disk (`disk:`), which the drill must give */
	/* Checks args and builds the fault's state (*state, freed by free). Pure. */
	int (*parse)(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		     struct cd_error *err);
	/* The node a fault acts on, or NULL (for timeline and reports). */
	const char *(*node)(const void *state);
	/* Injects; appends what it did, for the timeline and reports, to what. */
	int (*inject)(void *state, const struct fault_env *env, struct strbuf *what);
	/* Undoes the injection exactly (NULL when heals is false). */
	int (*heal)(void *state, const struct fault_env *env, struct strbuf *what);
	void (*free)(void *state);
	/* The attachment the fault needs on its node for the whole drill (faults/attach.h),
	 * or NULL; the runner makes it before the node's first start. May be NULL. */
	const struct attach_ops *(*attach)(const void *state);
	/* What the fault did after its injection, when that is not the injection itself (a
	 * syscall fault strikes at matching calls): filled at the end of the drill. NULL: the
	 * injection is the effect. */
	void (*effects)(const void *state, const struct fault_env *env, struct fault_effects *out);
	/* What the seed (or the drill file) decided when it struck, for `replay --check`:
	 * one line per decision of words "key=value" (the seed decides it: a replay must
	 * match), "key~value" (timing decides it: shown, not compared) and "key^a,b,c" (a
	 * sequence of draws: compared over the prefix both runs have). Filled at the end of
	 * the drill; the harness writes each line to the timeline. May be NULL. */
	void (*seeded)(const void *state, const struct fault_env *env, struct strbuf *out);
};

const struct fault_ops *fault_lookup(const char *name);
/* The i-th registered kind, NULL past the end. */
const struct fault_ops *fault_at(size_t i);
/* Fills names[] (NULL-terminated, at most max-1 entries) for the scenario parser. */
void fault_names(const char **names, size_t max);

/* A scalar v that names one of the drill's nodes; an error located at v (for the `kind`)
 * if no node has that name. *node is borrowed from ctx. */
int fault_parse_node(const struct cfg_node *v, const struct fault_parse_ctx *ctx, const char *kind,
		     const char **node, struct cd_error *err);
/* Shared by kinds whose body is a node: `kind: n1` or `kind: {node: n1}`. Checks the
 * node exists and that no other key is given. *node is borrowed from ctx. */
int fault_parse_node_arg(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			 const char *kind, const char **node, struct cd_error *err);

#endif
