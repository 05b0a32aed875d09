/* Nodes of a lab: their holder and namespaces, veth and address, cgroup, incarnations,
 * freeze/thaw and kill. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/linux.h"
#include "harness/lab/lab_internal.h"
#include "harness/lab/lab_ns.h"
#include "harness/lab/nl_batch.h"

#define NODE_NS_FLAGS (CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS)

static bool valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 63 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

static int node_alloc(struct lab *lab, const char *name, const char *data_dir,
		      struct lab_node **out)
{
	struct lab_node *node;
	uint32_t hosts = (1U << (32 - lab->prefix)) - 2; /* minus network and broadcast */
	struct stat st;

	if (!valid_name(name))
		return lab_fail(EINVAL, "node name '%s': 1-63 of [A-Za-z0-9._-]", name);
	if (lab_node_find(lab, name))
		return lab_fail(EEXIST, "node %s", name);
	if (lab->n_nodes + 2 > hosts)
		return lab_fail(ENOSPC, "node %s: no address left in /%u", name, lab->prefix);
	if (stat(data_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return lab_fail(stat(data_dir, &st) < 0 ? errno : ENOTDIR, "data dir %s", data_dir);
	if (lab->n_nodes == lab->cap_nodes) {
		size_t cap = lab->cap_nodes ? lab->cap_nodes * 2 : 8;
		struct lab_node **v = realloc(lab->nodes, cap * sizeof(*v));

		if (!v)
			return lab_fail(ENOMEM, "node %s", name);
		lab->nodes = v;
		lab->cap_nodes = cap;
	}
	node = calloc(1, sizeof(*node));
	if (!node || !(node->data_dir = realpath(data_dir, NULL))) {
		free(node);
		return lab_fail(ENOMEM, "node %s", name);
	}
	node->lab = lab;
	snprintf(node->name, sizeof(node->name), "%s", name);
	node->index = (unsigned)lab->n_nodes;
	node->addr.s_addr = htonl(ntohl(lab->subnet.s_addr) + 2 + node->index);
	node->holder_pidfd = node->netns_fd = node->report.fd = node->init_pidfd = -1;
	/* Owned by the lab from here on, so lab_free cleans a half-made node too. */
	lab->nodes[lab->n_nodes++] = node;
	*out = node;
	return 0;
}

/* Starts the node's holder, which makes the namespaces, mounts and wires the network itself
 * (lab_holder.c) while the harness goes on: nothing here waits for it, so the holders of
 * several nodes work side by side; the node's first use, or lab_wait_ready, waits. The veth
 * is created with each end straight in its namespace: creating it in one and moving it
 * costs 15-22 ms per link. */
static const char *dir_or_null(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

int lab_node_add(struct lab *lab, const char *name, const char *data_dir, struct lab_node **out)
{
	return lab_node_add_binds(lab, name, data_dir, NULL, NULL, out);
}

int lab_node_add_binds(struct lab *lab, const char *name, const char *data_dir,
		       const char *target_dir, const char *bin_dir, struct lab_node **out)
{
	struct lab_node *node = NULL;
	struct nl_batch wiring;
	struct holder_setup setup = { .wiring = &wiring,
				      .lab_up_fd = lab->up_fd,
				      .lab_state = lab->state };
	struct netlink_node net = { .lab_pid = lab->holder_pid,
				    .master = lab->bridge,
				    .peer = LAB_NODE_IF,
				    .prefix = lab->prefix };
	char veth[IFNAMSIZ];
	int r;

	r = node_alloc(lab, name, data_dir, &node);
	if (r < 0)
		return r;
	if (lab->cgroup[0]) {
		char rel[96];

		snprintf(rel, sizeof(rel), "%s/node.%s", lab->name, name);
		r = cgroup_create(&lab->cg, rel, node->cgroup, sizeof(node->cgroup));
		if (r < 0) {
			node->cgroup[0] = '\0';
			return lab_fail(-r, "node %s: create its cgroup", name);
		}
	}
	snprintf(veth, sizeof(veth), "vn%u", node->index);
	net.veth = veth;
	net.addr = node->addr;
	r = netlink_node_batch(&net, &wiring);
	if (r < 0)
		return lab_fail(-r, "node %s: build its netlink requests", name);
	setup.hostname = node->name;
	setup.data_dir = node->data_dir;
	setup.target_dir = dir_or_null(target_dir);
	setup.bin_dir = dir_or_null(bin_dir);
	node->holder_pid = holder_start(lab, 0, NODE_NS_FLAGS, lab->cgroup_holders, &setup,
					&node->holder_pidfd, &node->report);
	if (node->holder_pid < 0)
		return node->holder_pid;
	*out = node;
	return 0;
}

int node_wait_ready(struct lab_node *node)
{
	int r = lab_ready(node->lab);

	return r < 0 ? r : holder_wait(&node->report, node->name);
}

int lab_wait_ready(struct lab *lab)
{
	struct lab_node *failed = NULL;
	int r = lab_ready(lab);
	size_t i;

	if (r < 0)
		return r;
	for (i = 0; i < lab->n_nodes; i++)
		if (node_wait_ready(lab->nodes[i]) < 0 && !failed)
			failed = lab->nodes[i];
	return failed ? node_wait_ready(failed) : 0; /* again: its message, not the last one's */
}

void node_destroy(struct lab_node *node)
{
	if (!node)
		return;
	if (node->holder_pidfd >= 0)
		close(node->holder_pidfd);
	if (node->netns_fd >= 0)
		close(node->netns_fd);
	holder_report_close(&node->report);
	if (node->init_pidfd >= 0)
		close(node->init_pidfd);
	free(node->data_dir);
	free(node);
}

static bool running(const struct lab_node *node)
{
	struct pollfd p = { .fd = node->init_pidfd, .events = POLLIN };

	return node->init_pidfd >= 0 && poll(&p, 1, 0) == 0;
}

int node_spawn(struct lab_node *node, const struct lab_cmd *cmd, pid_t *pid, int *pidfd)
{
	enum lab_freeze_how how;
	struct proc_spec spec = { .join_pidfd = node->holder_pidfd,
				  .pidns_pidfd = -1,
				  .join_flags = NODE_NS_FLAGS,
				  .new_pid = true,
				  .cwd = LAB_DATA_PATH };
	int r, dup;

	r = node_wait_ready(node);
	if (r < 0)
		return r;
	if (running(node))
		return lab_fail(EBUSY, "node %s: an incarnation is still running", node->name);
	/* A new incarnation must not be born into a cgroup left frozen. */
	if (node->frozen && (r = node_freeze(node, false, &how)) < 0)
		return r;
	spec.cgroup = node->cgroup;
	r = proc_start(node->lab, &spec, cmd, pid, pidfd);
	if (r < 0)
		return r;
	dup = fcntl(*pidfd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0) {
		r = lab_fail(errno, "dup a pidfd");
		proc_signal(*pidfd, *pid, SIGKILL);
		lab_proc_wait(*pidfd, -1, NULL);
		close(*pidfd);
		return r;
	}
	if (node->init_pidfd >= 0)
		close(node->init_pidfd);
	node->init_pidfd = dup;
	node->killed = false;
	node->init_pid = *pid;
	node->frozen = false;
	return 0;
}

int node_exec(struct lab_node *node, const struct lab_cmd *cmd, pid_t *pid, int *pidfd)
{
	struct proc_spec spec = { .join_pidfd = node->holder_pidfd,
				  .pidns_pidfd = -1,
				  .join_flags = NODE_NS_FLAGS,
				  .new_pid = !cmd->node_mounts,
				  .cwd = LAB_DATA_PATH };
	int r = node_wait_ready(node);

	if (r < 0)
		return r;
	if (cmd->node_pids && !cmd->node_mounts && running(node) && !node->killed) {
		/* its incarnation's namespaces: its mount namespace has the /proc of its pid
		 * namespace, where the program is born (lab_proc.c). Not once it
		 * was killed: its pid namespace is going, and would take the program with it
		 * (an exec right after a kill sees the node's files, as on a dead host). */
		spec.join_pidfd = spec.pidns_pidfd = node->init_pidfd;
		spec.new_pid = false;
	}
	return lab_start_helper(node->lab, &spec, cmd, pid, pidfd);
}

/* Last resort without a freezer: signal every process of the node's pid namespace. Racy
 * by nature (a process may fork meanwhile), hence only when no cgroup freezer exists. */
static int signal_pidns(struct lab_node *node, int sig)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct stat ns, st;
	struct dirent *e;
	char p[64];
	int r;

	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)node->init_pid);
	if (stat(p, &ns) < 0)
		return -errno;
	r = proc_signal(node->init_pidfd, node->init_pid, sig);
	if (r < 0)
		return r;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		int pid = atoi(e->d_name);

		if (pid <= 0 || pid == node->init_pid)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/pid", pid);
		if (stat(p, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev)
			kill(pid, sig);
	}
	return 0;
}

const char *lab_freeze_how_name(enum lab_freeze_how how)
{
	switch (how) {
	case LAB_FREEZE_CGROUP_V2:
		return "cgroup v2 cgroup.freeze";
	case LAB_FREEZE_CGROUP_V1:
		return "cgroup v1 freezer.state";
	default:
		return "SIGSTOP/SIGCONT";
	}
}

int node_freeze(struct lab_node *node, bool frozen, enum lab_freeze_how *how)
{
	enum cgroup_kind kind = node->lab->cg.kind;
	int r;

	if (frozen && !running(node))
		return lab_fail(ESRCH, "node %s: nothing running to freeze", node->name);
	if (node->cgroup[0]) {
		*how = kind == CGROUP_V2 ? LAB_FREEZE_CGROUP_V2 : LAB_FREEZE_CGROUP_V1;
		r = cgroup_freeze(kind, node->cgroup, frozen);
	} else {
		*how = LAB_FREEZE_SIGSTOP;
		r = node->init_pidfd >= 0 ? signal_pidns(node, frozen ? SIGSTOP : SIGCONT) : 0;
	}
	if (r < 0)
		return lab_fail(-r, "node %s: %s with %s", node->name, frozen ? "freeze" : "thaw",
				lab_freeze_how_name(*how));
	node->frozen = frozen;
	return 0;
}

int node_kill(struct lab_node *node)
{
	enum lab_freeze_how how;
	int r;

	if (!running(node))
		return lab_fail(ESRCH, "node %s: nothing running to kill", node->name);
	r = proc_signal(node->init_pidfd, node->init_pid, SIGKILL);
	if (r < 0)
		return lab_fail(-r, "node %s: pidfd_send_signal", node->name);
	node->killed = true;
	/* A v1-frozen process cannot act on SIGKILL until thawed. */
	if (node->frozen)
		node_freeze(node, false, &how);
	return 0;
}

int node_socket(struct lab_node *node, int domain, int type, int protocol)
{
	int fd = node_wait_ready(node);

	if (fd < 0)
		return fd;
	if (node->netns_fd < 0) {
		fd = lab_open_ns(node->holder_pid, "net");
		if (fd < 0)
			return lab_fail(-fd, "node %s: open its netns", node->name);
		node->netns_fd = fd;
	}
	fd = ns_socket(node->netns_fd, domain, type, protocol);
	return fd < 0 ? lab_fail(-fd, "node %s: socket in its netns", node->name) : fd;
}

const char *node_name(const struct lab_node *node)
{
	return node->name;
}

struct in_addr node_addr(const struct lab_node *node)
{
	return node->addr;
}

const char *node_cgroup(const struct lab_node *node)
{
	return node->cgroup[0] ? node->cgroup : NULL;
}

pid_t node_pid(const struct lab_node *node)
{
	return node->init_pid;
}

pid_t node_holder_pid(const struct lab_node *node)
{
	return node->holder_pid;
}
