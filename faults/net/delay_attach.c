/* The delay queue on the runner's event loop: see delay_attach.h. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/net/delay_attach.h"
#include "faults/net/delay_queue.h"

struct delay_attach {
	struct attach_host host;
	struct net_delay *q; /* borrowed from the fault while it runs */
	struct attach_op *poll, *timer;
};

static struct delay_attach *of(struct node_attach *a)
{
	return (struct delay_attach *)a;
}

static int attach_new(const struct attach_host *host, struct node_attach **out)
{
	struct delay_attach *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->host = *host;
	*out = (struct node_attach *)d;
	return 0;
}

static int want(struct node_attach *a, const void *fault_state, size_t fault)
{
	return 0;
}

static void stop(struct delay_attach *d)
{
	d->host.ops->cancel(d->host.h, d->poll);
	d->host.ops->cancel(d->host.h, d->timer);
	d->poll = d->timer = NULL;
	d->q = NULL;
}

static void watch(struct delay_attach *d);

static void on_queue(void *ud, int res)
{
	struct delay_attach *d = ud;
	char line[120];
	int k;

	if (res == 0)
		d->timer = NULL; /* the timer fired; a poll fired otherwise */
	else
		d->poll = NULL;
	if (!d->q)
		return;
	k = net_delay_handle(d->q);
	if (k < 0) { /* its socket failed: held packets are let go when the fault frees it */
		snprintf(line, sizeof(line), "delay queue failed: %s", strerror(-k));
		d->host.ops->note(d->host.h, d->host.ops->now(d->host.h), -1, line, NULL);
		stop(d);
		return;
	}
	watch(d);
}

static void watch(struct delay_attach *d)
{
	const struct attach_host *h = &d->host;
	int64_t due = net_delay_next_ns(d->q);

	if (!d->poll && h->ops->poll(h->h, net_delay_fd(d->q), POLLIN, on_queue, d, &d->poll) < 0)
		d->poll = NULL;
	h->ops->cancel(h->h, d->timer); /* the next due time may have moved */
	d->timer = NULL;
	if (due != INT64_MAX && h->ops->timer_at(h->h, due, on_queue, d, &d->timer) < 0)
		d->timer = NULL;
}

int net_delay_attach_run(struct node_attach *a, struct net_delay *q)
{
	struct delay_attach *d = of(a);

	if (!d)
		return -ENODEV;
	if (!q) {
		stop(d);
		return 0;
	}
	if (d->q)
		return -EBUSY; /* one delay per node */
	d->q = q;
	watch(d);
	return 0;
}

static void attach_free(struct node_attach *a)
{
	struct delay_attach *d = of(a);

	if (!d)
		return;
	stop(d);
	free(d);
}

const struct attach_ops net_delay_attach_ops = {
	.name = "delay-queue",
	.order = 30,
	.new = attach_new,
	.want = want,
	.free = attach_free,
};
