/* The event loop on liburing: see loop.h. liburing is confined to this file. */
#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run/loop.h"

#define RING_ENTRIES 256

struct loop_op {
	loop_fn fn;
	void *ud;
	bool cancelled;
	struct __kernel_timespec ts; /* timers: read by the kernel at submission */
	struct loop_op *next, *prev; /* the pending list, for loop_free */
};

struct loop {
	struct io_uring ring;
	struct loop_op *pending;
	unsigned n_pending;
};

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	r = io_uring_queue_init(RING_ENTRIES, &l->ring, 0);
	if (r < 0) {
		free(l);
		return r;
	}
	*out = l;
	return 0;
}

static void unlink_op(struct loop *l, struct loop_op *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		l->pending = op->next;
	if (op->next)
		op->next->prev = op->prev;
	l->n_pending--;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	/* Closing the ring cancels whatever is in flight; nothing calls back after this. */
	io_uring_queue_exit(&l->ring);
	while (l->pending) {
		struct loop_op *op = l->pending;

		unlink_op(l, op);
		free(op);
	}
	free(l);
}

static struct io_uring_sqe *get_sqe(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) { /* the submission queue is full: hand it to the kernel and retry */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static struct loop_op *new_op(struct loop *l, loop_fn fn, void *ud)
{
	struct loop_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->fn = fn;
	op->ud = ud;
	op->next = l->pending;
	if (l->pending)
		l->pending->prev = op;
	l->pending = op;
	l->n_pending++;
	return op;
}

/* A submission entry and the op it will complete, registered as pending; NULL with
 * *err = -EBUSY (ring full) or -ENOMEM. */
static struct io_uring_sqe *prep(struct loop *l, loop_fn fn, void *ud, struct loop_op **op,
				 int *err)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	if (!sqe) {
		*err = -EBUSY;
		return NULL;
	}
	*op = new_op(l, fn, ud);
	if (!*op) { /* the entry is taken: make it harmless */
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		*err = -ENOMEM;
		return NULL;
	}
	return sqe;
}

int loop_poll(struct loop *l, int fd, unsigned events, loop_fn fn, void *ud, struct loop_op **out)
{
	struct loop_op *op = NULL;
	int err = 0;
	struct io_uring_sqe *sqe = prep(l, fn, ud, &op, &err);

	if (!sqe)
		return err;
	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data(sqe, op);
	if (out)
		*out = op;
	return 0;
}

int loop_timer_at(struct loop *l, int64_t at_ns, loop_fn fn, void *ud, struct loop_op **out)
{
	struct loop_op *op = NULL;
	int err = 0;
	struct io_uring_sqe *sqe = prep(l, fn, ud, &op, &err);

	if (!sqe)
		return err;
	if (at_ns < 0)
		at_ns = 0;
	op->ts.tv_sec = at_ns / 1000000000LL;
	op->ts.tv_nsec = at_ns % 1000000000LL;
	io_uring_prep_timeout(sqe, &op->ts, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data(sqe, op);
	io_uring_submit(&l->ring); /* the kernel reads ts now; op stays until completion */
	if (out)
		*out = op;
	return 0;
}

void loop_cancel(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	if (!op || op->cancelled)
		return;
	op->cancelled = true;
	sqe = get_sqe(l);
	if (!sqe)
		return; /* it completes in its own time; the callback stays muted */
	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data(sqe, NULL);
}

/* Runs one completion's callback (unless cancelled) and frees its op. */
static void complete(struct loop *l, struct io_uring_cqe *cqe)
{
	struct loop_op *op = io_uring_cqe_get_data(cqe);
	int res = cqe->res;

	io_uring_cqe_seen(&l->ring, cqe);
	if (!op) /* a cancel request's own completion */
		return;
	unlink_op(l, op);
	if (!op->cancelled)
		op->fn(l, op->ud, res == -ETIME ? 0 : res);
	free(op);
}

int loop_step(struct loop *l, int64_t max_wait_ns)
{
	struct __kernel_timespec ts = { max_wait_ns / 1000000000LL, max_wait_ns % 1000000000LL };
	struct io_uring_cqe *cqe = NULL;
	int r, n = 0;

	r = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, max_wait_ns < 0 ? NULL : &ts, NULL);
	if (r < 0 && r != -ETIME && r != -EINTR)
		return r;
	/* Callbacks may submit more; take what is ready now, then return to the caller. */
	while (io_uring_peek_cqe(&l->ring, &cqe) == 0 && cqe) {
		complete(l, cqe);
		n++;
	}
	return n;
}

unsigned loop_pending(const struct loop *l)
{
	return l->n_pending;
}
