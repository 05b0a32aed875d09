/* faults/clock/: clock faults. A node's clocks as its processes see them, skewed from its
 * next start: CLOCK_REALTIME through libfaketime (Debian's libfaketime, preloaded: for
 * dynamically linked programs), CLOCK_MONOTONIC and CLOCK_BOOTTIME through a time
 * namespace of the incarnation's own (Linux 5.6; entered at exec since 5.17). The fault
 * (clock.c) arms and disarms the skew; the node attachment (attach.c) applies it to each
 * incarnation started while it is armed.
 *
 * Usage (clock.c):
 *   a = env->attachment(env->harness, node, &clock_attach_ops);
 *   clock_attach_arm(a, true);     // the next incarnation starts skewed
 */
#ifndef CHAOSDRILL_FAULTS_CLOCK_ATTACH_H
#define CHAOSDRILL_FAULTS_CLOCK_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "faults/attach.h"
#include "faults/fault.h"

extern const struct attach_ops clock_attach_ops;

/* What a clock fault asks of its node (the fault's state starts with it). */
struct clock_skew {
	const char *node; /* borrowed from the scenario tree */
	bool realtime, monotonic;
	int64_t realtime_ns;  /* added to CLOCK_REALTIME */
	int64_t monotonic_ns; /* added to CLOCK_MONOTONIC and CLOCK_BOOTTIME */
};

/* Incarnations started from now on are skewed (armed) or not. */
int clock_attach_arm(struct node_attach *a, bool armed);
/* How many incarnations started skewed, and when the first did (drill time, -1 none). */
void clock_attach_effects(const struct node_attach *a, struct fault_effects *out);
/* libfaketime: $CHAOSDRILL_FAKETIME, else Debian's. */
const char *clock_faketime_library(void);

#endif
