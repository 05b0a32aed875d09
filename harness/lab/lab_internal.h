/* Lab internals shared by lab.c, lab_node.c, lab_proc.c and lab_gc.c: the handle structs and
 * the process-creation core. Not for use outside harness/lab*.c. */
#ifndef CHAOSDRILL_HARNESS_LAB_INTERNAL_H
#define CHAOSDRILL_HARNESS_LAB_INTERNAL_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "harness/lab/cgroup.h"
#include "harness/lab/lab.h"
#include "harness/lab/netlink.h"

/* The bridge's ifindex in the lab netns, given at creation instead of left to the kernel:
 * node requests, built while the lab's holder may still be making the bridge, name it as
 * the master of their veth. Far above what a new netns hands out first (lo is 1, then the
 * fallback devices of tunnel modules, then the veths). */
#define LAB_BRIDGE_IFINDEX 1000

/* What the lab's holder tells node holders in the page they share, before the EOF. */
enum { LAB_STATE_STARTING, LAB_STATE_UP };

/* A holder's report, read once and kept: later calls get the same answer. */
struct holder_report {
	int fd; /* owned; the holder's report pipe until read, then -1 */
	bool read;
	int err;       /* -errno, 0 if the holder is ready */
	char msg[512]; /* lab_last_error() of the failure */
};

struct lab_node {
	struct lab *lab; /* borrowed back-pointer */
	char name[64];
	unsigned index;
	struct in_addr addr;
	char *data_dir; /* owned */
	pid_t holder_pid;
	int holder_pidfd; /* owned; setns(pidfd, NET|UTS|IPC|MNT) joins the node */
	int netns_fd;	  /* owned; /proc/<holder>/ns/net for node_socket, opened then; or -1 */
	struct holder_report report; /* namespaces, mounts and network are set up */
	char cgroup[PATH_MAX];	     /* "" without cgroups */
	pid_t init_pid;		     /* current incarnation, 0 if never started */
	int init_pidfd;		     /* owned dup of the incarnation's pidfd, -1 if none */
	bool frozen;		     /* node_freeze(true) was the last word */
	bool killed;		     /* node_kill sent SIGKILL to this incarnation: it is going */
};

/* A helper process the lab started and must kill and reap at teardown. */
struct lab_proc {
	pid_t pid;
	int pidfd; /* owned */
};

struct lab {
	char name[32];
	struct in_addr subnet, bridge_addr;
	unsigned prefix;
	char cidr[32]; /* the subnet as given or chosen: "10.213.0.0/16" */
	int subnet_fd; /* owned; holds the subnet pool's lock on it (subnet_pool.h), or -1 */
	pid_t holder_pid;
	int holder_pidfd; /* owned */
	int netns_fd;	  /* owned; /proc/<holder>/ns/net once the lab is ready, else -1 */
	int self_pidfd;	  /* owned; the harness itself: children check it is still alive */
	struct holder_report report; /* lo, the bridge and its address are set up */
	int up_fd;	   /* owned; EOF once the lab's holder is done: node holders wait on it */
	atomic_int *state; /* owned (a shared page): LAB_STATE_UP once the lab is wired */
	int bridge;	   /* ifindex of LAB_BRIDGE */
	struct cgroup_root cg;
	char cgroup[PATH_MAX];	    /* the lab's cgroup, "" without */
	char cgroup_exec[PATH_MAX]; /* helpers (node_exec, lab_exec) */
	char cgroup_holders[PATH_MAX];
	struct lab_node **nodes; /* owned */
	size_t n_nodes, cap_nodes;
	struct lab_proc *procs; /* owned; helpers started */
	size_t n_procs, cap_procs;
	char **keep_paths; /* owned, NULL-terminated: lab_options.keep_paths under /tmp or /run */
};

/* Records a failure message for lab_last_error and returns -err (err > 0). */
int lab_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets lab_last_error to msg as it is (a failure reported before) and returns err (< 0). */
int lab_fail_again(int err, const char *msg);
/* Waits until the lab's holder has wired the lab netns; its failure, if any. */
int lab_ready(struct lab *lab);

/* What a child does between clone and execve. */
struct proc_spec {
	int join_pidfd;	    /* setns into this process's namespaces; -1: none */
	int join_flags;	    /* CLONE_NEW* for join_pidfd */
	bool new_pid;	    /* a new pid ns (and a mount ns with its own /proc) */
	int pidns_pidfd;    /* born in this process's pid namespace (not new_pid); -1: the
			     * harness's own */
	const char *cgroup; /* cgroup to start in; NULL or "": none */
	int cgroup_fd;	    /* set by proc_start: its cgroup.procs, or -1 */
	int cgroup_dirfd;   /* set by proc_start: its directory for CLONE_INTO_CGROUP, or -1 */
	int parent_pidfd;   /* the harness: die now if it is gone */
	const char *path;   /* resolved executable */
	char *const *argv;
	char *const *envp;
	int fds[3]; /* become 0, 1, 2 */
	const char *cwd;
	bool drop; /* setgroups/setgid/setuid to the following */
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
	int err_fd;		   /* the child's end of the exec-report socket */
	int (*pre_exec)(void *ud); /* lab_cmd.pre_exec */
	void *pre_exec_ud;
};

/* clone3 (falling back to clone(2) where clone3 is missing, e.g. under valgrind) with
 * CLONE_PIDFD and extra flags, straight into cgroup_dirfd's cgroup (v2; -1: none) when the
 * kernel can; the child runs fn(arg, in_cgroup) and _exits with its result, joining the
 * cgroup itself when !in_cgroup. All signals are blocked across the call; the child resets
 * dispositions and unblocks. */
pid_t proc_clone(unsigned long flags, int *pidfd, int cgroup_dirfd,
		 int (*fn)(void *, bool in_cgroup), void *arg);
/* pidfd_send_signal, or kill(pid) where the kernel (or valgrind) lacks it and the pidfd
 * says the process has not exited (so, our child, it cannot have been reaped and its pid
 * reused). -errno. */
int proc_signal(int pidfd, pid_t pid, int sig);
/* Closes every fd >= lowfd except keep (may be -1). For children only. */
void proc_close_fds(int lowfd, int keep);
/* Dies (SIGKILL via PDEATHSIG) with the harness; returns < 0 if it is already gone. */
int proc_tie_to_parent(int parent_pidfd);

struct nl_batch;

/* What a holder sets up once it has its namespaces (all borrowed). */
struct holder_setup {
	const char *hostname;	 /* a node's; NULL for the lab's holder */
	const char *data_dir;	 /* a node's, bind-mounted at LAB_DATA_PATH */
	const char *target_dir;	 /* a node's, bound read-only at LAB_TARGET_PATH; or NULL */
	const char *bin_dir;	 /* a node's, bound read-only at LAB_TARGET_BIN_PATH; or NULL */
	struct nl_batch *wiring; /* netlink_lab_batch or netlink_node_batch, sent from inside */
	int lab_up_fd;		 /* the lab's holder closes it once the lab is wired; a node's
				  * waits for that (EOF) before it sends its wiring */
	atomic_int *lab_state;	 /* shared: the lab's holder sets LAB_STATE_UP before that
				  * EOF; a node's holder goes on only if it is set */
};

/* Starts a holder: a child cloned with new namespaces (flags) that joins cgroup (may be ""),
 * unshares more (unshare_flags), sets itself up as setup says (a node: hostname, mounts;
 * then the network), reports to *report (its fd owned by the caller: holder_wait or
 * holder_report_close) and sleeps until killed. Returns its pid; *pidfd is owned by the
 * caller. */
pid_t holder_start(struct lab *lab, unsigned long flags, unsigned long unshare_flags,
		   const char *cgroup, const struct holder_setup *setup, int *pidfd,
		   struct holder_report *report);
/* Reads the holder's report the first time, then gives the same answer: 0 ready, else
 * -errno with lab_last_error set to what failed (who: the lab's or the node's name). */
int holder_wait(struct holder_report *report, const char *who);
void holder_report_close(struct holder_report *report);

/* Starts cmd as spec describes (spec's exec fields are filled here). */
int proc_start(struct lab *lab, struct proc_spec *spec, const struct lab_cmd *cmd, pid_t *pid,
	       int *pidfd);
/* Remembers a helper so lab_free kills and reaps it; drops ones already reaped. */
int lab_track(struct lab *lab, pid_t pid, int pidfd);
/* A helper (lab_exec, node_exec): proc_start in the lab's exec cgroup, then lab_track. */
int lab_start_helper(struct lab *lab, struct proc_spec *spec, const struct lab_cmd *cmd, pid_t *pid,
		     int *pidfd);
/* fd on /proc/<pid>/ns/<kind>, O_CLOEXEC, or -errno. */
int lab_open_ns(pid_t pid, const char *kind);

/* Finishes a node: waits for its holder's report. 0 once usable. */
int node_wait_ready(struct lab_node *node);
void node_destroy(struct lab_node *node);

#endif
