/* The fault file system during a drill: every node named by a faultfs fault (power-cut,
 * bitrot, bad-sectors) gets chaosdrill-faultfs mounted over its data dir inside its own
 * mount namespace before its first start (volatile cache if a power cut is planned; the
 * kernel's writeback cache unless bad sectors on writes are, which must fail write(2)
 * itself), is driven over its control socket in the run directory, and is stopped
 * (flushing) at the end. faultfs runs outside the node's pid namespace: killing the node
 * leaves it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/linux.h"
#include "common/units.h"
#include "faults/faultfs/kinds.h"
#include "harness/run/run_internal.h"

#define FFS_READY_MS 10000
#define FFS_REPLY_MS 5000

struct run_ffs {
	pid_t pid;
	int pidfd;
	bool volatile_cache;
	bool write_through; /* no kernel writeback cache: a fault on writes is planned */
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

const char *run_ffs_binary(void)
{
	const char *e = getenv("CHAOSDRILL_FAULTFS");

	return e && *e ? e : CHAOSDRILL_FAULTFS_BIN;
}

/* Waits for "ready" on fd, or for faultfs to exit; -errno and a reason on failure. */
static int wait_ready(struct run_node *n, int fd, char *why, size_t len)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { n->ffs->pidfd, POLLIN, 0 } };
	char buf[16] = "";
	int status = 0;

	if (poll(p, 2, FFS_READY_MS) <= 0) {
		snprintf(why, len, "no answer in %d s", FFS_READY_MS / 1000);
		return -ETIMEDOUT;
	}
	if (p[0].revents & POLLIN && read(fd, buf, sizeof(buf) - 1) > 0 && !strncmp(buf, "ready", 5))
		return 0;
	lab_proc_wait(n->ffs->pidfd, NSEC_PER_SEC, &status);
	close(n->ffs->pidfd);
	n->ffs->pidfd = -1;
	snprintf(why, len, "it exited with %d%s (see nodes/%s/faultfs.log)",
		 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		 WIFEXITED(status) && WEXITSTATUS(status) == 3 ? ": no usable /dev/fuse" : "",
		 n->sn->name);
	return -ENODEV;
}

static int start_one(struct drill_run *r, struct run_node *n)
{
	char events[4300], log[4300], why[200];
	const char *argv[12] = { run_ffs_binary(), "--cache", n->ffs->volatile_cache ? "volatile" : "passthrough",
				 "--control", n->ffs->sock, "--events", events, "--ready-fd", "1" };
	struct lab_cmd cmd = LAB_CMD_INIT;
	_cleanup_close_ int logfd = -1, rd = -1;
	size_t na = 9;
	int p[2], k;

	snprintf(events, sizeof(events), "%s/nodes/%s/faultfs.jsonl", r->run_dir, n->sn->name);
	snprintf(log, sizeof(log), "%s/nodes/%s/faultfs.log", r->run_dir, n->sn->name);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	if (!n->ffs->write_through)
		argv[na++] = "--writeback-cache";
	argv[na] = LAB_DATA_PATH;
	cmd.argv = argv;
	cmd.stdout_fd = p[1];
	cmd.stderr_fd = logfd;
	cmd.cwd = "/";
	cmd.node_mounts = true;
	k = node_exec(n->ln, &cmd, &n->ffs->pid, &n->ffs->pidfd);
	close(p[1]);
	if (k < 0)
		return run_env_error(r, "cannot start the fault file system on %s: %s (%s)", n->sn->name,
				     strerror(-k), lab_last_error());
	k = wait_ready(n, rd, why, sizeof(why));
	if (k >= 0 && (k = failpoint("faultfs.mount", -ENODEV)) < 0)
		snprintf(why, sizeof(why), "%s", strerror(-k));
	if (k < 0)
		return run_env_error(r, "the fault file system on %s did not come up: %s", n->sn->name, why);
	timeline_add(r->tl, run_now(r), TL_NOTE, -1, n->sn->name, 0, "faultfs mounted over the data dir (%s cache, %s)",
		     n->ffs->volatile_cache ? "volatile" : "passthrough",
		     n->ffs->write_through ? "write-through: a fault on writes is planned" : "kernel writeback cache");
	return 0;
}

int run_ffs_prepare(struct drill_run *r)
{
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct drill_fault *df = &r->d->faults[i];
		struct run_node *n;

		if (!fault_disk_uses_faultfs(df->ops))
			continue;
		n = run_node_find(r, df->ops->node(df->state));
		if (!n->ffs && !(n->ffs = calloc(1, sizeof(*n->ffs))))
			return -ENOMEM;
		n->ffs->pidfd = -1;
		n->ffs->volatile_cache |= fault_disk_needs_volatile(df->ops);
		n->ffs->write_through |= fault_disk_fails_writes(df->ops, df->state);
	}
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];
		int k;

		if (!n->ffs)
			continue;
		if (snprintf(n->ffs->sock, sizeof(n->ffs->sock), "%s/nodes/%s/faultfs.sock", r->run_dir,
			     n->sn->name) >= (int)sizeof(n->ffs->sock))
			return run_env_error(r, "the run directory's path is too long for a control socket (%zu bytes at most): use a shorter --out",
					     sizeof(n->ffs->sock) - 30);
		if ((k = start_one(r, n)) < 0)
			return k;
	}
	return 0;
}

/* One command line to the node's faultfs and its one-line answer. */
int run_ffs_command(struct run_node *n, const char *line, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t got = 0;

	if (!n->ffs || n->ffs->pidfd < 0)
		return -ENODEV;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", n->ffs->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (dprintf(fd, "%s\n", line) < 0)
		return -errno;
	while (got + 1 < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, FFS_REPLY_MS) <= 0)
			return -ETIMEDOUT;
		k = read(fd, reply + got, len - got - 1);
		if (k <= 0)
			break;
		got += (size_t)k;
		if (memchr(reply, '\n', got))
			break;
	}
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	return strncmp(reply, "ok", 2) == 0 ? 0 : -EIO;
}

/* SIGTERM: faultfs flushes what it holds and unmounts; SIGKILL if it does not. */
void run_ffs_stop(struct drill_run *r)
{
	for (size_t i = 0; r->nodes && i < r->n_nodes; i++) {
		struct run_ffs *f = r->nodes[i].ffs;

		if (!f || f->pidfd < 0)
			continue;
		sys_pidfd_send_signal(f->pidfd, SIGTERM, NULL, 0);
		if (lab_proc_wait(f->pidfd, 5 * NSEC_PER_SEC, NULL) == -ETIMEDOUT) {
			sys_pidfd_send_signal(f->pidfd, SIGKILL, NULL, 0);
			lab_proc_wait(f->pidfd, 5 * NSEC_PER_SEC, NULL);
		}
		close(f->pidfd);
		f->pidfd = -1;
	}
}

void run_ffs_release(struct run_node *n)
{
	if (!n->ffs)
		return;
	if (n->ffs->pidfd >= 0)
		close(n->ffs->pidfd);
	free(n->ffs);
	n->ffs = NULL;
}
