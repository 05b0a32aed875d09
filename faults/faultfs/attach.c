/* The fault file system over a node's data dir: see attach.h. */
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
#include "faults/faultfs/attach.h"
#include "faults/faultfs/kinds.h"

#define READY_MS 10000
#define REPLY_MS 5000
#define STOP_NS (5 * 1000000000LL)

struct ffs_attach {
	struct attach_host host;
	pid_t pid;
	int pidfd;
	bool volatile_cache;
	bool write_through; /* no kernel writeback cache: a fault on writes is planned */
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct ffs_attach *of(struct node_attach *a)
{
	return (struct ffs_attach *)a;
}

const char *ffs_attach_binary(void)
{
	const char *e = getenv("CHAOSDRILL_FAULTFS");

	return e && *e ? e : CHAOSDRILL_FAULTFS_BIN;
}

static int attach_new(const struct attach_host *host, struct node_attach **out)
{
	struct ffs_attach *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->host = *host;
	f->pidfd = -1;
	*out = (struct node_attach *)f;
	return 0;
}

static int want(struct node_attach *a, const void *fault_state, size_t fault)
{
	struct ffs_attach *f = of(a);

	f->volatile_cache |= ffs_kind_needs_volatile(fault_state);
	f->write_through |= ffs_kind_fails_writes(fault_state);
	return 0;
}

static int cannot(struct ffs_attach *f, int err, const char *what, const char *why)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s %s: %s", what, f->host.node, why);
	f->host.ops->cannot(f->host.h, msg);
	return err;
}

/* Waits for "ready" on fd, or for faultfs to exit; -errno and a reason on failure. */
static int wait_ready(struct ffs_attach *f, int fd, char *why, size_t len)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { f->pidfd, POLLIN, 0 } };
	char buf[16] = "";
	int status = 0;

	if (poll(p, 2, READY_MS) <= 0) {
		snprintf(why, len, "no answer in %d s", READY_MS / 1000);
		return -ETIMEDOUT;
	}
	if (p[0].revents & POLLIN && read(fd, buf, sizeof(buf) - 1) > 0 &&
	    !strncmp(buf, "ready", 5))
		return 0;
	f->host.ops->wait(f->host.h, f->pidfd, 1000000000LL, &status);
	close(f->pidfd);
	f->pidfd = -1;
	snprintf(why, len, "it exited with %d%s (see nodes/%s/faultfs.log)",
		 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		 WIFEXITED(status) && WEXITSTATUS(status) == 3 ? ": no usable /dev/fuse" : "",
		 f->host.node);
	return -ENODEV;
}

static int prepare(struct node_attach *a)
{
	struct ffs_attach *f = of(a);
	char events[4300], log[4300], why[200], line[200];
	const char *argv[12] = { ffs_attach_binary(),
				 "--cache",
				 f->volatile_cache ? "volatile" : "passthrough",
				 "--control",
				 f->sock,
				 "--events",
				 events,
				 "--ready-fd",
				 "1" };
	struct attach_spawn sp = { argv, -1, -1 };
	_cleanup_close_ int logfd = -1, rd = -1;
	size_t na = 9;
	int p[2], k;

	if (snprintf(f->sock, sizeof(f->sock), "%s/faultfs.sock", f->host.node_dir) >=
	    (int)sizeof(f->sock)) {
		snprintf(
			why, sizeof(why),
			"the run directory's path is too long for a control socket (%zu bytes at most): use a shorter --out",
			sizeof(f->sock) - 30);
		f->host.ops->cannot(f->host.h, why);
		return -ENAMETOOLONG;
	}
	snprintf(events, sizeof(events), "%s/faultfs.jsonl", f->host.node_dir);
	snprintf(log, sizeof(log), "%s/faultfs.log", f->host.node_dir);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	if (!f->write_through)
		argv[na++] = "--writeback-cache";
	argv[na] = f->host.data_path;
	sp.stdout_fd = p[1];
	sp.stderr_fd = logfd;
	k = f->host.ops->spawn(f->host.h, &sp, &f->pid, &f->pidfd);
	close(p[1]);
	if (k < 0)
		return cannot(f, k, "cannot start the fault file system on", strerror(-k));
	k = wait_ready(f, rd, why, sizeof(why));
	if (k >= 0 && (k = failpoint("faultfs.mount", -ENODEV)) < 0)
		snprintf(why, sizeof(why), "%s", strerror(-k));
	if (k < 0)
		return cannot(f, k, "the fault file system did not come up on", why);
	snprintf(line, sizeof(line), "faultfs mounted over the data dir (%s cache, %s)",
		 f->volatile_cache ? "volatile" : "passthrough",
		 f->write_through ? "write-through: a fault on writes is planned" :
				    "kernel writeback cache");
	f->host.ops->note(f->host.h, f->host.ops->now(f->host.h), -1, line, NULL);
	return 0;
}

int ffs_attach_command(struct node_attach *a, const char *line, char *reply, size_t len)
{
	struct ffs_attach *f = of(a);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t got = 0;

	if (!f || f->pidfd < 0)
		return -ENODEV;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (dprintf(fd, "%s\n", line) < 0)
		return -errno;
	while (got + 1 < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, REPLY_MS) <= 0)
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

/* The node is down: SIGTERM, faultfs flushes what it holds and unmounts; SIGKILL if not. */
static void stop(struct node_attach *a)
{
	struct ffs_attach *f = of(a);

	if (f->pidfd < 0)
		return;
	sys_pidfd_send_signal(f->pidfd, SIGTERM, NULL, 0);
	if (f->host.ops->wait(f->host.h, f->pidfd, STOP_NS, NULL) == -ETIMEDOUT) {
		sys_pidfd_send_signal(f->pidfd, SIGKILL, NULL, 0);
		f->host.ops->wait(f->host.h, f->pidfd, STOP_NS, NULL);
	}
	close(f->pidfd);
	f->pidfd = -1;
}

static void attach_free(struct node_attach *a)
{
	struct ffs_attach *f = of(a);

	if (!f)
		return;
	if (f->pidfd >= 0)
		close(f->pidfd);
	free(f);
}

const struct attach_ops ffs_attach_ops = {
	.name = "faultfs",
	.order = 20, /* over the node's own disk, when it has one */
	.host_path = ffs_attach_binary,
	.new = attach_new,
	.want = want,
	.prepare = prepare,
	.stop = stop,
	.free = attach_free,
};
