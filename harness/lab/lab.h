/* harness/lab/: everything a drill needs from the kernel to hold its nodes: namespaces
 * kept by holder processes, the bridge and veths (netlink.c, nl_batch.c, the only libnl
 * users), cgroups (cgroup.c), spawning into nodes (lab_proc.c, lab_exec.c) and gc of
 * what a killed harness left (lab_gc.c). It knows nothing of drills.
 *
 * The lab: a private network namespace holding a bridge, and the nodes hung on it, each with
 * persistent net/uts/ipc/mount namespaces, its own cgroup and a fresh pid namespace for every
 * incarnation. The harness's event loop drives nodes through this API; nothing here touches
 * the host's network namespace, and the lab has no route out (DESIGN.md §1, §9).
 *
 * Usage:
 *   lab_init_process();                        // once, early: become the child subreaper
 *   struct lab *lab;
 *   struct lab_options opt = LAB_OPTIONS_INIT; // a free subnet of the pool, cgroups auto
 *   lab_new(&opt, &lab);                       // lab netns + bridge br0 at 10.213.0.1
 *   lab_node_add(lab, "n1", "/runs/x/data/n1", &n1);  // 10.213.0.2, hostname n1
 *   lab_node_add(lab, "n2", "/runs/x/data/n2", &n2);  // 10.213.0.3
 *   lab_wait_ready(lab);                       // optional: lab and nodes are set up
 *
 *   struct lab_cmd cmd = LAB_CMD_INIT;         // stdin/out/err to /dev/null, root
 *   cmd.argv = argv; cmd.stdout_fd = out_fd;
 *   node_spawn(n1, &cmd, &pid, &pidfd);        // an incarnation: pid 1 of a new pid ns
 *   node_freeze(n1, true, &how); node_freeze(n1, false, &how);
 *   node_kill(n1);                             // SIGKILL to the init: the whole node dies
 *   lab_proc_wait(pidfd, -1, &status);         // the caller reaps what it was handed
 *   node_spawn(n1, &cmd, &pid, &pidfd);        // restart: same net, hostname and data
 *
 *   lab_run(lab, n2, &probe, timeout, &res);   // helper in n2's namespaces, output captured
 *   fd = lab_socket(lab, AF_INET, SOCK_STREAM);// a workload client living in the lab netns
 *   lab_free(lab);                             // kills, reaps, removes everything
 *
 *   lab_gc(report, ud);                        // after a crash: what a killed harness left
 *
 * Inside a node: the data dir is bind-mounted at LAB_DATA_PATH, /tmp and /run are private
 * tmpfs, /proc belongs to the incarnation's pid namespace, the only interface besides lo is
 * eth0. Everything else of the host's file system is visible as it is (so programs run
 * from the host's paths); of the host's /tmp and /run only the lab's keep_paths are.
 *
 * Processes and threads: the lab and each node are kept by a small holder process (a child
 * of the calling thread, PR_SET_PDEATHSIG SIGKILL), so a SIGKILLed harness leaves nothing
 * running. PR_SET_PDEATHSIG fires when the creating *thread* exits: create labs from a
 * thread that lives as long as the lab (the main thread). All functions are meant for one
 * thread at a time per lab. Every fd is close-on-exec.
 */
#ifndef CHAOSDRILL_HARNESS_LAB_H
#define CHAOSDRILL_HARNESS_LAB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cleanup.h"

/* Where a node sees its data dir. */
#define LAB_DATA_PATH "/var/lib/chaosdrill/data"
/* Inside a node added with binds: its target's files (targets/NAME/ and its build output)
 * bound read-only here, for a target whose processes run as a user (target.yaml `user:`)
 * that may not reach them where they are: a checkout under /root (mode 700). */
#define LAB_TARGET_PATH "/var/lib/chaosdrill/target"
#define LAB_TARGET_BIN_PATH "/var/lib/chaosdrill/bin"
/* Bridge name inside the lab netns; node-side interface name inside each node. */
#define LAB_BRIDGE "br0"
#define LAB_NODE_IF "eth0"
/* Prefix of lab names ("cd-<pid>-<counter>") and of their cgroups. */
#define LAB_NAME_PREFIX "cd-"

struct lab;
struct lab_node;

enum lab_cgroup_mode {
	LAB_CGROUP_AUTO, /* v2 if usable, else v1 freezer, else none */
	LAB_CGROUP_V2,
	LAB_CGROUP_V1,
	LAB_CGROUP_NONE, /* no cgroups: freeze falls back to SIGSTOP/SIGCONT */
};

struct lab_options {
	/* "A.B.C.D/len", len 8..30; NULL: the first /16 of the pool no other live lab on the
	 * machine holds, 10.213.0.0/16 on a quiet one (subnet_pool.h). Borrowed. */
	const char *subnet;
	enum lab_cgroup_mode cgroup;
	/* Host paths nodes must see even though /tmp and /run are private in a node (the
	 * target's binaries, the run directory): each one under /tmp or /run is bound back
	 * at the same place. NULL-terminated, absolute, copied; NULL: none. */
	const char *const *keep_paths;
};
#define LAB_OPTIONS_INIT                                                      \
	{                                                                     \
		.subnet = NULL, .cgroup = LAB_CGROUP_AUTO, .keep_paths = NULL \
	}

/* A sentence on the last failure of a lab_* or node_* call in this thread ("" if none):
 * which step failed and, where it is a missing kernel feature, which. Borrowed. */
const char *lab_last_error(void);

/* Once per process, before any lab: PR_SET_CHILD_SUBREAPER, so orphans of what the harness
 * starts come back to it to be reaped. */
int lab_init_process(void);

/* Creates the lab netns, names the lab uniquely and creates its cgroup; the netns is wired
 * in the background (lo up, bridge up at the subnet's .1, no default route) while nodes are
 * added: the first use of the lab or of a node, or lab_wait_ready, waits for it and reports
 * its failure. Caller frees with lab_free. -errno on failure; a missing kernel feature
 * gives the errno of the failing call and lab_last_error() says which. */
int lab_new(const struct lab_options *opt, struct lab **out);
/* Kills (pidfd/cgroup, never by name) and reaps every process the lab started, and removes
 * its cgroups; the namespaces, veths and bridge go with their last process. Accepts NULL. */
void lab_free(struct lab *lab);
DEFINE_CLEANUP_FUNC(struct lab, lab_free)
#define _cleanup_lab_ _cleanup_(lab_freep)

/* Adds a node: namespaces, hostname = name (1..63 chars of [A-Za-z0-9._-]), veth eth0 with
 * the next address, data_dir (a host directory, borrowed, copied) bind-mounted at
 * LAB_DATA_PATH. The node is owned by the lab (*out borrowed until lab_free). The node is
 * set up in the background by a process of its own, beside the next adds (the kernel work
 * of several nodes runs on several cores): its first use, or lab_wait_ready, waits for it
 * and reports what failed. After a failure, free the lab. */
int lab_node_add(struct lab *lab, const char *name, const char *data_dir, struct lab_node **out);
/* The same, with dirs bound read-only in the node at LAB_TARGET_PATH and
 * LAB_TARGET_BIN_PATH (NULL, or a path that is not a directory: not bound). */
int lab_node_add_binds(struct lab *lab, const char *name, const char *data_dir,
		       const char *target_dir, const char *bin_dir, struct lab_node **out);
/* Waits until the lab and every node's holder have finished setting up; reports the lab's
 * failure, else the first node's. */
int lab_wait_ready(struct lab *lab);

/* Accessors; strings are borrowed from the lab. */
const char *lab_name(const struct lab *lab);
const char *lab_subnet(const struct lab *lab); /* "10.213.0.0/16", as given or chosen */
struct in_addr lab_bridge_addr(const struct lab *lab);
const char *lab_cgroup_kind(const struct lab *lab); /* "v2", "v1-freezer", "none" */
size_t lab_node_count(const struct lab *lab);
struct lab_node *lab_node_at(const struct lab *lab, size_t i);
struct lab_node *lab_node_find(const struct lab *lab, const char *name);
const char *node_name(const struct lab_node *node);
struct in_addr node_addr(const struct lab_node *node);
/* The node's cgroup directory, or NULL without cgroups. */
const char *node_cgroup(const struct lab_node *node);
/* pid of the current incarnation's init (host pid namespace), 0 if none was started. */
pid_t node_pid(const struct lab_node *node);
/* pid of the holder process keeping the node's namespaces (for tests and diagnostics). */
pid_t node_holder_pid(const struct lab_node *node);
pid_t lab_holder_pid(const struct lab *lab);

/* The environment of a command without envp; a command that passes its own keeps it. */
#define LAB_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A command to start in a node or in the lab. */
struct lab_cmd {
	const char *const *argv; /* borrowed; argv[0] without '/' is looked up in $PATH */
	const char *const *envp; /* borrowed; NULL: LAB_DEFAULT_PATH only */
	int stdin_fd;		 /* borrowed; -1: /dev/null */
	int stdout_fd;		 /* borrowed; -1: /dev/null */
	int stderr_fd;		 /* borrowed; -1: /dev/null */
	const char *user;	 /* NULL: root; else a user name or uid: setgroups/setgid/setuid */
	const char *cwd;	 /* NULL: LAB_DATA_PATH in a node, "/" in the lab */
	/* Runs in the child right before execve, after every other step (e.g. installs a
	 * seccomp filter whose listener it hands back over a socket). Must be
	 * async-signal-safe; a negative return fails the start with that -errno. */
	int (*pre_exec)(void *ud);
	void *pre_exec_ud;
	/* node_exec only: run in the node's own mount namespace (what it mounts, e.g. the fault
	 * file system over the data dir, every later incarnation sees) and in the harness's
	 * pid namespace, so killing the node does not kill it. */
	bool node_mounts;
	/* node_exec only: while the node runs, join its running incarnation's namespaces, its
	 * pid namespace included, as `docker exec` does: `pg_ctl promote` or `kill $(cat
	 * pidfile)` then reach the node's own processes. What it leaves running stays in the
	 * node (and dies with it). When the node is down, as without it. */
	bool node_pids;
};
#define LAB_CMD_INIT                                                                          \
	{                                                                                     \
		.argv = NULL, .envp = NULL, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, \
		.user = NULL, .cwd = NULL, .pre_exec = NULL, .pre_exec_ud = NULL,             \
		.node_mounts = false, .node_pids = false                                      \
	}

/* Starts an incarnation of the node: argv runs as pid 1 of a new pid namespace, inside the
 * node's net/uts/ipc/mount namespaces (with its own /proc) and its cgroup. *pid is its pid in
 * the harness's pid namespace; *pidfd (caller owns, O_CLOEXEC) becomes readable when it exits.
 * The caller reaps it (lab_proc_wait). -EBUSY if the previous incarnation still runs; an exec
 * failure (e.g. -ENOENT) is reported here, not as an exit status. */
int node_spawn(struct lab_node *node, const struct lab_cmd *cmd, pid_t *pid, int *pidfd);
/* The program a command's argv[0] names, as the spawns above find it: name itself if it has
 * a '/', else the first executable match in $PATH. -ENOENT if none. */
int lab_find_program(const char *name, char *buf, size_t len);
/* Runs a helper (probe, recovery `exec` step, checker) in the node's namespaces, in its own
 * pid namespace, outside the node's cgroup (a frozen node does not freeze its probes). Same
 * ownership as node_spawn. */
int node_exec(struct lab_node *node, const struct lab_cmd *cmd, pid_t *pid, int *pidfd);
/* Runs a helper inside the lab netns (the host's mounts; own pid namespace). */
int lab_exec(struct lab *lab, const struct lab_cmd *cmd, pid_t *pid, int *pidfd);

struct lab_run_result {
	int status;	/* wait status (WIFEXITED...), valid unless timed_out */
	bool timed_out; /* killed (with its whole pid namespace) at the timeout */
	char *output;	/* stdout and stderr interleaved, NUL-terminated; caller frees */
	size_t len;
};
/* Runs cmd in node (NULL: in the lab) and waits up to timeout_ns (< 0: forever), capturing
 * up to 1 MiB of output; cmd's stdout/stderr fds are ignored. Returns 0 or -errno. */
int lab_run(struct lab *lab, struct lab_node *node, const struct lab_cmd *cmd, int64_t timeout_ns,
	    struct lab_run_result *res);

/* How node_freeze did it. */
enum lab_freeze_how { LAB_FREEZE_CGROUP_V2, LAB_FREEZE_CGROUP_V1, LAB_FREEZE_SIGSTOP };
const char *lab_freeze_how_name(enum lab_freeze_how how);
/* Freezes (true) or thaws the whole node: v2 cgroup.freeze, else v1 freezer.state, else
 * SIGSTOP/SIGCONT to every process of its pid namespace. -ESRCH if no incarnation runs. */
int node_freeze(struct lab_node *node, bool frozen, enum lab_freeze_how *how);
/* SIGKILL to the incarnation's init with pidfd_send_signal: its pid namespace dies with it.
 * Thaws first if frozen. Does not reap (the holder of the pidfd does). -ESRCH if not running. */
int node_kill(struct lab_node *node);

/* socket(2) created inside the lab netns (bound to it for life), close-on-exec; the caller
 * owns the fd. Workload clients in the harness connect to nodes through these. */
int lab_socket(struct lab *lab, int domain, int type);
/* socket(2) inside a node's netns (e.g. NETLINK_ROUTE for network faults). Caller owns. */
int node_socket(struct lab_node *node, int domain, int type, int protocol);

/* Waits up to timeout_ns (< 0: forever) for the process behind pidfd (borrowed) to exit and
 * reaps it. -ETIMEDOUT if it is still running, -ECHILD if someone else reaped it. */
int lab_proc_wait(int pidfd, int64_t timeout_ns, int *wstatus);

/* Finds what killed harnesses left (labs under <cgroup root>/chaosdrill/ whose owner is
 * gone), kills their processes through those cgroups and removes the cgroups. report (may be
 * NULL) is called for each thing removed: what = "kill" or "rmdir", object = a description.
 * Labs of live harnesses are left alone. Labs made without cgroups (LAB_CGROUP_NONE, or no
 * usable hierarchy) leave nothing to find: their processes die with the harness through
 * PR_SET_PDEATHSIG. Returns the number of labs removed or -errno. */
int lab_gc(void (*report)(void *ud, const char *what, const char *object), void *ud);

#endif
