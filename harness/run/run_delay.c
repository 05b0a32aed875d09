/* Delay queues during a drill (faults/net/delay_queue.h): the `delay` fault binds a node's
 * NFQUEUE and hands the engine to the harness, which polls its socket and wakes it when
 * the next held packet is due (absolute timers on the event loop: sub-millisecond). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "faults/net/delay_queue.h"
#include "harness/run/run_internal.h"

static void watch(struct run_node *n);

static void stop(struct run_node *n)
{
	loop_cancel(n->run->loop, n->dq_poll);
	loop_cancel(n->run->loop, n->dq_timer);
	n->dq_poll = n->dq_timer = NULL;
	n->dq = NULL;
}

static void on_queue(struct loop *l, void *ud, int res)
{
	struct run_node *n = ud;
	int k;

	if (res == 0)
		n->dq_timer = NULL; /* the timer fired; a poll fired otherwise */
	else
		n->dq_poll = NULL;
	if (!n->dq)
		return;
	k = net_delay_handle(n->dq);
	if (k < 0) { /* its socket failed: held packets are let go when the fault frees it */
		timeline_add(n->run->tl, run_now(n->run), TL_NOTE, -1, n->sn->name, k,
			     "delay queue failed: %s", strerror(-k));
		stop(n);
		return;
	}
	watch(n);
}

static void watch(struct run_node *n)
{
	struct loop *l = n->run->loop;
	int64_t due = net_delay_next_ns(n->dq);

	if (!n->dq_poll && loop_poll(l, net_delay_fd(n->dq), POLLIN, on_queue, n, &n->dq_poll) < 0)
		n->dq_poll = NULL;
	loop_cancel(l, n->dq_timer); /* the next due time may have moved */
	n->dq_timer = NULL;
	if (due != INT64_MAX && loop_timer_at(l, due, on_queue, n, &n->dq_timer) < 0)
		n->dq_timer = NULL;
}

int run_delay_queue(struct run_node *n, struct net_delay *q)
{
	if (!q) {
		stop(n);
		return 0;
	}
	if (n->dq)
		return -EBUSY; /* one delay per node */
	n->dq = q;
	watch(n);
	return 0;
}
