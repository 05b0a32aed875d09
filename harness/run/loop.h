/* The harness's one event loop, on io_uring: one-shot fd polls and absolute timers on the
 * monotonic clock, each with a callback. Everything a drill waits for (node pidfds, the
 * workload's sockets, helper pipes, the signalfd, scheduled faults) goes through it: no
 * polling sleeps.
 *
 * Usage:
 *   struct loop *l; loop_new(&l);
 *   struct loop_op *t; loop_timer_at(l, time_mono_ns() + 1000000, on_tick, ud, &t);
 *   loop_poll(l, pidfd, POLLIN, on_exit, ud, NULL);
 *   while (!done) loop_step(l, -1);       // runs callbacks as completions arrive
 *   loop_cancel(l, t);                    // the callback will not be called
 *   loop_free(l);
 */
#ifndef CHAOSDRILL_HARNESS_LOOP_H
#define CHAOSDRILL_HARNESS_LOOP_H

#include <stdint.h>

struct loop;
struct loop_op;

/* res: a poll's revents (> 0), a timer's 0, or -errno if the operation failed. */
typedef void (*loop_fn)(struct loop *l, void *ud, int res);

int loop_new(struct loop **out);
/* Cancels what is pending (without calling back) and frees. Accepts NULL. */
void loop_free(struct loop *l);
/* One-shot poll of fd for events (POLLIN, POLLOUT...). *op (may be NULL) is valid until
 * the callback runs or loop_cancel. */
int loop_poll(struct loop *l, int fd, unsigned events, loop_fn fn, void *ud, struct loop_op **op);
/* Calls fn at the absolute CLOCK_MONOTONIC time at_ns (at once if it has passed). */
int loop_timer_at(struct loop *l, int64_t at_ns, loop_fn fn, void *ud, struct loop_op **op);
/* The callback of op will not run. Accepts NULL. */
void loop_cancel(struct loop *l, struct loop_op *op);
/* Waits up to max_wait_ns (< 0: until something completes) and runs the callbacks of what
 * completed. Returns the number run, or -errno. */
int loop_step(struct loop *l, int64_t max_wait_ns);
/* Operations pending (for tests and teardown). */
unsigned loop_pending(const struct loop *l);

#endif
