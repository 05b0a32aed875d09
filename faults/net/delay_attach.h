/* The delay queue's node attachment: while a `delay` or `bandwidth` fault is in force, the
 * node's delay queue (delay_queue.h) runs on the runner's event loop: its socket polled,
 * its held packets released at their due times (absolute timers: sub-millisecond). One
 * queue per node. */
#ifndef CHAOSDRILL_FAULTS_NET_DELAY_ATTACH_H
#define CHAOSDRILL_FAULTS_NET_DELAY_ATTACH_H

#include "faults/attach.h"

struct net_delay;

extern const struct attach_ops net_delay_attach_ops;

/* Runs q (borrowed: the fault owns it) on the event loop; q == NULL stops running it
 * (before the fault frees it). -EBUSY if the node's queue already runs. */
int net_delay_attach_run(struct node_attach *a, struct net_delay *q);

#endif
