/* Holder processes: one per lab (its netns) and one per node (net, uts, ipc and mount
 * namespaces). Why a process and not bind-mounted namespace files: a holder dies with the
 * harness (PR_SET_PDEATHSIG SIGKILL), so a SIGKILLed harness leaves no namespace behind and
 * nothing in /run/netns to clean; one pidfd joins all of a node's namespaces in a single
 * setns(2); and a holder sets its namespaces up itself, while the harness goes on. A holder
 * costs one sleeping process and no exec.
 *
 * A holder does all of the kernel work of its lab or node: a node's creates its namespaces
 * (unshare after clone: a new netns costs 0.6-1.3 ms) and mounts; both wire their netns
 * from inside with netlink requests the harness built beforehand (netlink.h; libnl cannot
 * run in a forked child). So the harness only starts holders, and the holders of the lab
 * and of several nodes run side by side on the other cores; what still serializes them is
 * the kernel's RTNL. A node's holder sends its veth only once the lab's holder has made
 * the bridge: it waits for EOF on lab_up_fd, whose write end only the lab's holder has. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/fsutil.h"
#include "harness/lab/lab_internal.h"
#include "harness/lab/nl_batch.h"

struct holder_spec {
	int parent_pidfd, cgroup_fd, ready_fd;
	unsigned long unshare_flags;
	const struct holder_setup *setup;
	char *const *keep_paths; /* host paths under /tmp or /run to bind back; may be NULL */
};

#define MAX_KEEP 16

enum holder_step {
	H_OK,
	H_PARENT,
	H_CGROUP,
	H_UNSHARE,
	H_HOSTNAME,
	H_PRIVATE,
	H_DATA,
	H_TARGET,
	H_TMP,
	H_RUN,
	H_KEEP,
	H_NETLINK,
	H_LO,
	H_BRIDGE,
	H_BRIDGE_ADDR,
	H_LAB,
	H_VETH,
	H_ADDR,
	H_UP,
	H_STEPS
};

static const char *const holder_steps[] = {
	[H_OK] = "ok",
	[H_PARENT] = "tie itself to the harness",
	[H_CGROUP] = "join its cgroup",
	[H_UNSHARE] = "create its namespaces (unshare net, uts, ipc, mount)",
	[H_HOSTNAME] = "set the hostname",
	[H_PRIVATE] = "make its mounts private",
	[H_DATA] = "bind-mount the data dir at " LAB_DATA_PATH,
	[H_TARGET] = "bind the target's files read-only at " LAB_TARGET_PATH " and "
		     LAB_TARGET_BIN_PATH,
	[H_TMP] = "mount a tmpfs on /tmp",
	[H_RUN] = "mount a tmpfs on /run",
	[H_KEEP] = "bind a kept host path (target binaries, run directory) back under /tmp or /run",
	[H_NETLINK] = "open an rtnetlink socket in its netns",
	[H_LO] = "set lo up",
	[H_BRIDGE] = "create the bridge " LAB_BRIDGE " (kernel bridge support)",
	[H_BRIDGE_ADDR] = "address the bridge",
	[H_LAB] = "go on without the lab (its holder failed)",
	[H_VETH] = "create its veth pair, " LAB_NODE_IF " here and its end in the lab's bridge "
		   "(kernel veth support)",
	[H_ADDR] = "address " LAB_NODE_IF,
	[H_UP] = "set " LAB_NODE_IF " up",
};

/* After the private /tmp and /run hide the host's, the paths nodes need from there come
 * back at the same place, bound from fds opened before the tmpfs covered them. */
static int keep_rebind(const struct holder_spec *h, const int *fds, size_t n)
{
	char src[64];

	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fds[i]);
		if (fs_mkdir_p(h->keep_paths[i], 0755) < 0 ||
		    mount(src, h->keep_paths[i], "none", MS_BIND | MS_REC, NULL) < 0)
			return H_KEEP;
		close(fds[i]);
	}
	return H_OK;
}

/* dir at at, read-only; nothing when dir is NULL. */
static int bind_ro(const char *dir, const char *at)
{
	if (!dir)
		return 0;
	if (mount(dir, at, "none", MS_BIND, NULL) < 0 ||
	    mount("none", at, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return -1;
	return 0;
}

static int holder_mounts(const struct holder_spec *h)
{
	int keep[MAX_KEEP];
	size_t n = 0;

	for (; h->keep_paths && h->keep_paths[n] && n < MAX_KEEP; n++) /* a missing one stays out */
		keep[n] = open(h->keep_paths[n], O_PATH | O_CLOEXEC);
	if (sethostname(h->setup->hostname, strlen(h->setup->hostname)) < 0)
		return H_HOSTNAME;
	/* Nothing mounted here may reach the host, nor the host's later mounts reach us. (The
	 * kernel ignores the type of propagation and bind mounts; "none" keeps valgrind calm.) */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return H_PRIVATE;
	if (mount(h->setup->data_dir, LAB_DATA_PATH, "none", MS_BIND | MS_REC, NULL) < 0)
		return H_DATA;
	if (bind_ro(h->setup->target_dir, LAB_TARGET_PATH) < 0 ||
	    bind_ro(h->setup->bin_dir, LAB_TARGET_BIN_PATH) < 0)
		return H_TARGET;
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return H_TMP;
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return H_RUN;
	return keep_rebind(h, keep, n);
}

/* Sends requests [from, to) of b; on a failure, errno and the step of steps[] it was. */
static int send_step(int fd, struct nl_batch *b, unsigned from, unsigned to, const int *steps)
{
	unsigned failed = from;
	int r = nl_batch_send(fd, b, from, to, &failed);

	if (r == 0)
		return H_OK;
	errno = -r;
	return steps[failed < to ? failed : from];
}

/* The lab's netns, in one batch; then closing lab_up_fd lets the node holders go on. */
static int wire_lab(const struct holder_setup *s, int fd)
{
	static const int steps[NETLINK_LAB_REQS] = {
		[NETLINK_LAB_LO_UP] = H_LO,
		[NETLINK_LAB_BRIDGE] = H_BRIDGE,
		[NETLINK_LAB_ADDR] = H_BRIDGE_ADDR,
	};
	int r = send_step(fd, s->wiring, 0, NETLINK_LAB_REQS, steps);

	if (r == H_OK) {
		atomic_store(s->lab_state, LAB_STATE_UP);
		close(s->lab_up_fd);
	}
	return r;
}

/* A node's network, from inside its new netns: lo up and the veth (once the lab's bridge
 * is there), then the address and LAB_NODE_IF up, whose ifindex is known only once the
 * veth exists. */
static int wire_node(const struct holder_setup *s, int fd)
{
	static const int steps[NETLINK_NODE_REQS] = {
		[NETLINK_NODE_LO_UP] = H_LO,
		[NETLINK_NODE_VETH] = H_VETH,
		[NETLINK_NODE_ADDR] = H_ADDR,
		[NETLINK_NODE_PEER_UP] = H_UP,
	};
	struct ifreq ifr = { .ifr_name = LAB_NODE_IF };
	char c;
	ssize_t n;
	int r;

	while ((n = read(s->lab_up_fd, &c, 1)) < 0 && errno == EINTR)
		;
	/* EOF also when the lab's holder died: then its veth end must not go where that
	 * holder was (IFLA_NET_NS_PID), which may still be the harness's own netns. */
	if (n < 0)
		return H_LAB;
	if (atomic_load(s->lab_state) != LAB_STATE_UP) {
		errno = ENETDOWN;
		return H_LAB;
	}
	r = send_step(fd, s->wiring, NETLINK_NODE_LO_UP, NETLINK_NODE_ADDR, steps);
	if (r != H_OK)
		return r;
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return H_VETH;
	nl_batch_set_ifindex(s->wiring, NETLINK_NODE_ADDR, ifr.ifr_ifindex);
	nl_batch_set_ifindex(s->wiring, NETLINK_NODE_PEER_UP, ifr.ifr_ifindex);
	return send_step(fd, s->wiring, NETLINK_NODE_ADDR, NETLINK_NODE_REQS, steps);
}

/* Everything after the namespaces exist: a node's hostname and mounts, then the network. */
static int holder_setup(const struct holder_spec *h)
{
	int fd, r, saved;

	if (h->setup->hostname && (r = holder_mounts(h)) != H_OK)
		return r;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return H_NETLINK;
	r = h->setup->hostname ? wire_node(h->setup, fd) : wire_lab(h->setup, fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static int holder_child(void *arg, bool in_cgroup)
{
	const struct holder_spec *h = arg;
	int msg[2] = { H_OK, 0 }, k;

	if (proc_tie_to_parent(h->parent_pidfd) < 0)
		msg[0] = H_PARENT;
	else if (!in_cgroup && h->cgroup_fd >= 0 && write(h->cgroup_fd, "0", 1) < 0)
		msg[0] = H_CGROUP;
	else if (h->unshare_flags && unshare((int)h->unshare_flags) < 0)
		msg[0] = H_UNSHARE;
	else if ((k = failpoint(h->setup->hostname ? "node.holder" : "lab.holder", -EPERM)) < 0)
		msg[0] = H_UNSHARE, errno = -k; /* after the namespaces exist: they must go too */
	else
		msg[0] = holder_setup(h);
	msg[1] = errno;
	if (write(h->ready_fd, msg, sizeof(msg)) < 0 || msg[0] != H_OK)
		return 1;
	/* Keep none of the harness's fds: a copy of a socket or pipe here would keep it open. */
	proc_close_fds(0, -1);
	for (;;)
		pause();
}

pid_t holder_start(struct lab *lab, unsigned long flags, unsigned long unshare_flags,
		   const char *cgroup, const struct holder_setup *setup, int *pidfd,
		   struct holder_report *report)
{
	_cleanup_close_ int cg = -1, cgdir = -1;
	struct holder_spec h = {
		.parent_pidfd = lab->self_pidfd,
		.setup = setup,
		.unshare_flags = unshare_flags,
		.keep_paths = lab->keep_paths,
	};
	int pipefd[2], saved;
	pid_t pid;

	if (cgroup && *cgroup) {
		cg = cgroup_procs_open(cgroup);
		if (cg < 0)
			return lab_fail(-cg, "open %s/cgroup.procs", cgroup);
		cgdir = cgroup_dir_open(lab->cg.kind, cgroup);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return lab_fail(errno, "pipe");
	h.cgroup_fd = cg;
	h.ready_fd = pipefd[1];
	pid = proc_clone(flags, pidfd, cgdir, holder_child, &h);
	saved = errno;
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return lab_fail(saved, "clone a holder with new namespaces (flags %#lx)", flags);
	}
	report->fd = pipefd[0];
	return pid;
}

static int read_report(int fd, const char *who)
{
	int msg[2] = { 0, 0 };
	ssize_t n;

	if (fd < 0)
		return lab_fail(ESRCH, "%s: its holder was not started", who);
	while ((n = read(fd, msg, sizeof(msg))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(msg))
		return lab_fail(EIO, "%s: holder died before reporting", who);
	if (msg[0] == H_OK)
		return 0;
	if (msg[0] < 0 || msg[0] >= H_STEPS)
		msg[0] = H_PARENT;
	return lab_fail(msg[1] ? msg[1] : EIO, "%s: holder could not %s", who,
			holder_steps[msg[0]]);
}

int holder_wait(struct holder_report *report, const char *who)
{
	if (!report->read) {
		report->read = true;
		report->err = read_report(report->fd, who);
		if (report->err < 0)
			snprintf(report->msg, sizeof(report->msg), "%s", lab_last_error());
		holder_report_close(report);
	}
	return report->err < 0 ? lab_fail_again(report->err, report->msg) : 0;
}

void holder_report_close(struct holder_report *report)
{
	if (report->fd >= 0)
		close(report->fd);
	report->fd = -1;
}
