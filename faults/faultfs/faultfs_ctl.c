/* The control socket of chaosdrill-faultfs: a unix stream socket, one command line in, one
 * reply line out (ffs_proto.h), served by one thread, one connection at a time. Also the
 * client side (`chaosdrill-faultfs ctl SOCKET COMMAND...`). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "faults/faultfs/faultfs.h"

static int sock_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

#define IDLE_MS 1000 /* the thread wakes this often to give unused cache memory back */

static void idle(struct faultfs *fs)
{
	pthread_mutex_lock(&fs->lock);
	ffs_cache_trim(fs->cache, time_mono_ns());
	pthread_mutex_unlock(&fs->lock);
}

/* Serves one connection until it closes or the thread is told to stop. */
static void serve(struct faultfs *fs, int fd)
{
	char buf[FFS_LINE_MAX], reply[FFS_LINE_MAX];
	size_t have = 0;

	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { fs->ctl_stop[0], POLLIN, 0 } };
		char *nl;
		ssize_t n;
		int k = poll(p, 2, IDLE_MS);

		if (k < 0 && errno != EINTR)
			return;
		if (p[1].revents)
			return;
		if (k == 0)
			idle(fs);
		if (k <= 0 || !p[0].revents)
			continue;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			faultfs_exec(fs, buf, reply, sizeof(reply) - 1);
			strcat(reply, "\n");
			if (fs_write_full(fd, reply, strlen(reply)) < 0)
				return;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1) {
			fs_write_full(fd, "error EINVAL line too long\n", 27);
			return;
		}
	}
}

static void *ctl_main(void *arg)
{
	struct faultfs *fs = arg;

	for (;;) {
		struct pollfd p[2] = { { fs->ctl_fd, POLLIN, 0 }, { fs->ctl_stop[0], POLLIN, 0 } };
		int c, k = poll(p, 2, IDLE_MS);

		if (k < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (k == 0)
			idle(fs);
		if (k <= 0 || !p[0].revents)
			continue;
		c = accept4(fs->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(fs, c);
		close(c);
	}
	return NULL;
}

int faultfs_ctl_start(struct faultfs *fs, const char *sock_path)
{
	struct sockaddr_un sa;
	sigset_t block, old;
	int r = sock_addr(sock_path, &sa);

	if (r < 0)
		return r;
	if (pipe2(fs->ctl_stop, O_CLOEXEC) < 0)
		return -errno;
	fs->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fs->ctl_fd < 0)
		return -errno;
	unlink(sock_path); /* a stale socket of a killed faultfs */
	if (bind(fs->ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fs->ctl_fd, 8) < 0)
		return -errno;
	/* Signals are for the FUSE loop's thread: one taken here would not wake it. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = pthread_create(&fs->ctl_thread, NULL, ctl_main, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	fs->ctl_running = true;
	return 0;
}

void faultfs_ctl_stop(struct faultfs *fs)
{
	if (fs->ctl_running) {
		if (write(fs->ctl_stop[1], "x", 1) != 1)
			pthread_cancel(fs->ctl_thread); /* poll() is a cancellation point */
		pthread_join(fs->ctl_thread, NULL);
		fs->ctl_running = false;
	}
	for (int i = 0; i < 2; i++)
		if (fs->ctl_stop[i] >= 0)
			close(fs->ctl_stop[i]);
	if (fs->ctl_fd >= 0)
		close(fs->ctl_fd);
	fs->ctl_fd = fs->ctl_stop[0] = fs->ctl_stop[1] = -1;
}

int faultfs_ctl_send(const char *sock_path, const char *line)
{
	_cleanup_close_ int fd = -1;
	char reply[FFS_LINE_MAX];
	struct sockaddr_un sa;
	size_t have = 0;
	int r = sock_addr(sock_path, &sa);

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if ((r = fs_write_full(fd, line, strlen(line))) < 0 || (r = fs_write_full(fd, "\n", 1)) < 0)
		return r;
	while (have < sizeof(reply) - 1 && !memchr(reply, '\n', have)) {
		ssize_t n = read(fd, reply + have, sizeof(reply) - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		have += (size_t)n;
	}
	reply[have] = '\0';
	fputs(reply, stdout);
	return ffs_reply_status(reply);
}
