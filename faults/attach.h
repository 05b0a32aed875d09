/* Node attachments: what a fault family keeps on a node for the whole drill, beyond the
 * moment of a fault: a seccomp filter and its supervisor, the preload shim's control block,
 * the fault file system mounted over the data dir, the node's own disk, a delay queue, a
 * skewed clock. A fault kind names the attachment it needs on its node
 * (fault_ops.attach); the runner makes one attachment per node and kind, tells it what
 * each fault needs of it (want), and calls it at each point of the node's life. The runner
 * knows no attachment by name: it loops over a node's attachments.
 *
 * Like faults, an attachment includes only common/: it never forks, logs or exits on its
 * own; the runner hands it a host (struct attach_host) with what it may do: the event
 * loop, the timeline, helper processes, the node's incarnation.
 *
 * Life of one attachment (runner side):
 *   ops->new(&host, &a);                 // the first fault (or `disk:`) that needs it
 *   ops->want(a, fault_state);           // once per fault that needs it
 *   ops->prepare(a);                     // before the node's first start, in ops->order
 *   for every incarnation:
 *     ops->before_start(a, &start);      // environment, pre-exec actions of the child
 *     ops->after_start(a, spawn_result, pidfd);
 *     ops->exited(a, gone);              // it ended (gone), or is about to be killed
 *   ops->stop(a);                        // the drill is over, the node down
 *   ops->free(a);
 * Faults reach their attachment at inject and heal through fault_env.attachment() and
 * the family's own functions on it (faults/sys/attach.h, ...). Every function returns >= 0
 * or -errno; one that fails because of the machine says why through host->ops->cannot
 * first (the drill then ends with exit 3).
 */
#ifndef CHAOSDRILL_FAULTS_ATTACH_H
#define CHAOSDRILL_FAULTS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct node_attach; /* an attachment's own state, defined by its family */
struct attach_op;   /* a pending poll or timer of the runner's event loop */

/* res: a poll's revents (> 0), 0 for a timer, or -errno. */
typedef void (*attach_cb)(void *ud, int res);

/* A process an attachment keeps running beside the node (faultfs): in the node's mount
 * namespace, outside its pid namespace, so that killing the node leaves it. */
struct attach_spawn {
	const char *const *argv;
	int stdout_fd, stderr_fd; /* borrowed; -1: /dev/null */
};

struct attach_host_ops {
	/* The event loop: a one-shot poll of fd, a timer at an absolute CLOCK_MONOTONIC time;
	 * *op (may be NULL) is valid until the callback runs or cancel. */
	int (*poll)(void *h, int fd, unsigned events, attach_cb cb, void *ud,
		    struct attach_op **op);
	int (*timer_at)(void *h, int64_t mono_ns, attach_cb cb, void *ud, struct attach_op **op);
	void (*cancel)(void *h, struct attach_op *op); /* accepts NULL */
	/* The drill's clock: nanoseconds since the drill started. */
	int64_t (*now)(void *h);
	/* A line about this node in the timeline, at drill time at_ns, for fault `fault`
	 * (its index in the drill, -1 none); said (may be NULL) is printed unless the drill
	 * is quiet. */
	void (*note)(void *h, int64_t at_ns, int fault, const char *line, const char *said);
	/* The drill cannot run on this machine, and why (exit 3). Kept once. */
	void (*cannot)(void *h, const char *why);
	/* Runs argv to its end, in the node's mount namespace (in_node) or in the lab's, and
	 * gives its first line of output. -EIO when it exited non-zero (out says why),
	 * -ETIMEDOUT. */
	int (*run)(void *h, bool in_node, const char *const *argv, int64_t timeout_ns, char *out,
		   size_t len);
	int (*spawn)(void *h, const struct attach_spawn *s, pid_t *pid, int *pidfd);
	/* Waits up to timeout_ns for a process it spawned to exit, and reaps it (status may
	 * be NULL). -ETIMEDOUT if it still runs. */
	int (*wait)(void *h, int pidfd, int64_t timeout_ns, int *status);
	/* The node's running incarnation's init: its pidfd (borrowed), or -1 when it is down. */
	int (*pidfd)(void *h);
	/* SIGKILL to the node's incarnation (it is reaped by the runner). */
	int (*kill)(void *h);
};

/* What the runner says of the node, for the whole drill. Strings are borrowed. */
struct attach_host {
	void *h;
	const struct attach_host_ops *ops;
	const char *node;	 /* its name */
	const char *node_dir;	 /* host path: the run directory's nodes/NAME/ (logs, blocks) */
	const char *data_path;	 /* where the node sees its data dir */
	const char *user;	 /* the user its processes run as, NULL for root */
	const char *const *argv; /* its start command, as expanded */
	const char *program;	 /* argv[0] as the node finds it (absolute), NULL if not found */
	const char *chaosdrill;	 /* the harness's own binary (`chaosdrill node-disk`) */
	uint64_t seed;
	int64_t t0; /* CLOCK_MONOTONIC at drill time 0 */
};

/* One incarnation being started: what its attachments may add before exec (attach.c).
 * The runner makes it, lets each attachment add to it, then starts the node with its
 * environment and runs its pre-exec actions in the child:
 *   attach_start_new(base_env, &s);  ops->before_start(a, s) ...;
 *   cmd.envp = attach_start_envp(s); cmd.pre_exec = attach_start_pre_exec_all; cmd.pre_exec_ud = s;
 *   ... spawn ...; attach_start_free(s); */
struct attach_start;
/* base_env: NULL-terminated NAME=value strings (copied), the node's environment so far. */
int attach_start_new(const char *const *base_env, struct attach_start **out);
void attach_start_free(struct attach_start *s);
/* NULL-terminated, borrowed until attach_start_free. */
const char *const *attach_start_envp(const struct attach_start *s);
/* Whether some attachment asked for a pre-exec action. */
bool attach_start_has_pre_exec(const struct attach_start *s);
/* Runs every pre-exec action in order (for lab_cmd.pre_exec): the first failure's -errno. */
int attach_start_pre_exec_all(void *s);
/* Sets NAME=value in the node's environment (which otherwise is only the default PATH);
 * with sep, appends to a value already set (LD_PRELOAD=a.so:b.so). */
int attach_start_setenv(struct attach_start *s, const char *name, const char *value, char sep);
/* Runs fn(ud) in the node's child right before exec, after its user is set; in the
 * attachments' order (ops->order). Must be async-signal-safe. */
int attach_start_pre_exec(struct attach_start *s, int (*fn)(void *ud), void *ud);

struct attach_ops {
	const char *name; /* "seccomp", "preload", "faultfs", "disk", "delay-queue", "clock" */
	/* prepare and pre-exec order, lower first: a disk before the fault file system over it;
	 * a seccomp filter last before exec (it would trap what the others do). */
	int order;
	/* A host file the node must see (the shim, a binary it runs there) although its /tmp
	 * and /run are private; may be NULL. */
	const char *(*host_path)(void);
	int (*new)(const struct attach_host *host, struct node_attach **out);
	/* What one fault needs of it (arg: the fault's state, or the node's `disk:`). */
	int (*want)(struct node_attach *a, const void *arg, size_t fault);
	int (*prepare)(struct node_attach *a);				    /* may be NULL */
	int (*before_start)(struct node_attach *a, struct attach_start *s); /* may be NULL */
	/* spawn_result: node_spawn's (< 0: it did not start); the attachment may fail the
	 * start (the runner then kills the incarnation). */
	int (*after_start)(struct node_attach *a, int spawn_result, int pidfd); /* may be NULL */
	/* The incarnation ended (gone), or is about to be killed by the runner (!gone). */
	void (*exited)(struct node_attach *a, bool gone); /* may be NULL */
	void (*stop)(struct node_attach *a);		  /* may be NULL */
	void (*free)(struct node_attach *a);		  /* accepts NULL */
};

#endif
