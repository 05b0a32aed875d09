/* Network-namespace switching for the calling thread: see lab_ns.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "harness/lab/lab_ns.h"

int ns_net_enter(int netns_fd, int *saved)
{
	_cleanup_close_ int old = -1;

	*saved = -1;
	if (netns_fd < 0)
		return 0;
	old = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (old < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	*saved = TAKE_FD(old);
	return 0;
}

int ns_net_leave(int saved)
{
	int r = 0;

	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWNET) < 0)
		r = -errno;
	close(saved);
	return r;
}

int ns_socket(int netns_fd, int domain, int type, int protocol)
{
	int saved, fd, r;

	r = ns_net_enter(netns_fd, &saved);
	if (r < 0)
		return r;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		r = -errno;
	if (ns_net_leave(saved) < 0) {
		/* The thread is stuck in the wrong namespace: nothing sane can follow. */
		if (fd >= 0)
			close(fd);
		return -ENOTRECOVERABLE;
	}
	return fd >= 0 ? fd : r;
}
