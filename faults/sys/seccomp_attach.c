/* The seccomp attachment of syscall faults: the node's filter is built before its first
 * start, installed by every incarnation started while the fault may still act (in the
 * child, right before exec, handing its listener back over a socket), and answered by a
 * supervisor on the runner's event loop until the incarnation ends. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/failpoint.h"
#include "common/timeutil.h"
#include "faults/sys/attach.h"
#include "faults/sys/attach_common.h"
#include "faults/sys/filter.h"
#include "faults/sys/supervisor.h"

struct seccomp_attach {
	struct sys_attach s;	    /* first: see attach_common.h */
	struct sys_filter *filter;  /* owned */
	struct sys_supervisor *sup; /* the current incarnation's, owned */
	struct attach_op *poll, *timer;
	int sock[2]; /* listener handover during a start */
};

static struct seccomp_attach *of(struct node_attach *a)
{
	return (struct seccomp_attach *)a;
}

static int arm(struct sys_attach *s, bool armed);

static int attach_new(const struct attach_host *host, struct node_attach **out)
{
	struct seccomp_attach *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	sys_attach_init(&c->s, host, "seccomp", "", arm);
	c->sock[0] = c->sock[1] = -1;
	*out = (struct node_attach *)c;
	return 0;
}

static int want(struct node_attach *a, const void *fault_state, size_t fault)
{
	return sys_attach_want(&of(a)->s, fault_state, fault);
}

static int prepare(struct node_attach *a)
{
	struct seccomp_attach *c = of(a);
	struct cd_error err = { 0 };
	char why[sizeof(err.msg) + 100];
	int k = sys_filter_build(c->s.rules, &c->filter, &err);

	if (k >= 0 && (k = failpoint("seccomp.build", -EINVAL)) < 0)
		snprintf(err.msg, sizeof(err.msg), "libseccomp cannot build the filter: %s",
			 strerror(-k));
	if (k < 0) {
		snprintf(why, sizeof(why), "syscall fault on %s: %s", c->s.host.node,
			 err.msg[0] ? err.msg : strerror(-k));
		c->s.host.ops->cannot(c->s.host.h, why);
	}
	return k;
}

/* In the node's child, right before exec: install the filter, hand the listener over. */
static int install(void *ud)
{
	struct seccomp_attach *c = ud;
	int fd = failpoint("seccomp.install", -EBUSY), k;

	if (fd >= 0)
		fd = sys_filter_install(c->filter);
	if (fd < 0)
		return fd;
	k = sys_fd_send(c->sock[1], fd);
	close(fd);
	return k;
}

static int before_start(struct node_attach *a, struct attach_start *st)
{
	struct seccomp_attach *c = of(a);

	if (c->s.spent)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sock) < 0)
		return -errno;
	return attach_start_pre_exec(st, install, c);
}

static void on_notify(void *ud, int res);

static void watch(struct seccomp_attach *c)
{
	const struct attach_host *h = &c->s.host;
	int ms = sys_supervisor_timeout_ms(c->sup);

	if (!c->poll &&
	    h->ops->poll(h->h, sys_supervisor_fd(c->sup), POLLIN, on_notify, c, &c->poll) < 0)
		c->poll = NULL;
	if (ms >= 0 && !c->timer &&
	    h->ops->timer_at(h->h, time_mono_ns() + (int64_t)ms * 1000000, on_notify, c,
			     &c->timer) < 0)
		c->timer = NULL;
}

/* A notification (or a delayed call coming due): answer it, then watch again. */
static void on_notify(void *ud, int res)
{
	struct seccomp_attach *c = ud;
	struct sys_injection inj;

	if (!c->sup)
		return;
	/* whichever fired (poll or timer) is done; the other one stays armed */
	if (res == 0)
		c->timer = NULL;
	else
		c->poll = NULL;
	if (sys_supervisor_handle(c->sup, &inj) == 1)
		sys_attach_record(&c->s, &inj);
	if (res > 0 && (res & (POLLHUP | POLLERR)))
		return; /* every process of the node is gone */
	watch(c);
}

static void close_pair(struct seccomp_attach *c)
{
	for (int i = 0; i < 2; i++)
		if (c->sock[i] >= 0)
			close(c->sock[i]);
	c->sock[0] = c->sock[1] = -1;
}

static int after_start(struct node_attach *a, int spawn_result, int pidfd)
{
	struct seccomp_attach *c = of(a);
	int listener, k;

	if (c->sock[0] < 0) /* spent: this incarnation runs without the filter */
		return 0;
	close(c->sock[1]);
	c->sock[1] = -1;
	listener = spawn_result < 0 ? -EIO : sys_fd_recv(c->sock[0]);
	close_pair(c);
	if (listener >= 0 && (k = failpoint("seccomp.listener", -EPROTO)) < 0) {
		close(listener);
		listener = k;
	}
	if (spawn_result < 0)
		return 0; /* the runner reports the start's own failure */
	if (listener < 0)
		return listener;
	k = sys_supervisor_new(listener, pidfd, c->s.rules, c->s.host.seed, c->s.host.data_path,
			       &c->sup);
	if (k >= 0 && (k = failpoint("seccomp.supervisor", -ENOMEM)) < 0) {
		sys_supervisor_free(c->sup);
		c->sup = NULL;
	}
	if (k < 0)
		return k;
	sys_supervisor_arm(c->sup, c->s.armed);
	watch(c);
	return 0;
}

static void exited(struct node_attach *a, bool gone)
{
	struct seccomp_attach *c = of(a);
	const struct attach_host *h = &c->s.host;

	if (!c->sup)
		return;
	h->ops->cancel(h->h, c->poll);
	h->ops->cancel(h->h, c->timer);
	c->poll = c->timer = NULL;
	sys_supervisor_free(c->sup);
	c->sup = NULL;
}

static int arm(struct sys_attach *s, bool armed)
{
	struct seccomp_attach *c = (struct seccomp_attach *)s;

	if (armed && !c->sup)
		return -ESRCH;
	s->armed = armed;
	if (!armed)
		s->spent = true;
	if (c->sup)
		sys_supervisor_arm(c->sup, armed);
	return 0;
}

static void attach_free(struct node_attach *a)
{
	struct seccomp_attach *c = of(a);

	if (!c)
		return;
	exited(a, true);
	close_pair(c);
	sys_filter_free(c->filter);
	sys_attach_release(&c->s);
	free(c);
}

const struct attach_ops sys_seccomp_attach_ops = {
	.name = "seccomp",
	.order = 90, /* last before exec: the filter would trap what the others do */
	.new = attach_new,
	.want = want,
	.prepare = prepare,
	.before_start = before_start,
	.after_start = after_start,
	.exited = exited,
	.free = attach_free,
};
