/* The `set` workload engine: see workload.h. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/conn.h"
#include "harness/run/workload.h"

#define SWEEP_NS (5 * NSEC_PER_MSEC) /* timeouts are noticed within this */

struct client {
	struct workload *w;
	unsigned idx;
	struct conn *conn; /* owned; NULL between connections */
	struct loop_op *rd, *wr;
};

struct workload {
	struct loop *loop;
	struct workload_config cfg;
	struct ledger *ledger;
	struct client *clients;
	char host[64];
	uint16_t port;
	bool running;
	int64_t start_ns; /* monotonic time of the first operation */
	uint64_t issued;  /* operations issued since start */
	size_t pending;
	size_t sweep_from; /* ledger index below which nothing can still time out */
	struct loop_op *tick;
	char *value; /* scratch, ledger->value_size bytes */
	struct workload_stats stats;
};

static int64_t now_drill(const struct workload *w)
{
	return time_mono_ns() - w->cfg.t0_ns;
}

/* Ends operation id with outcome unless it already ended. */
static void finish(struct workload *w, uint64_t id, enum ledger_outcome outcome)
{
	if (id == 0 || id > w->ledger->n || w->ledger->ops[id - 1].outcome != LEDGER_PENDING)
		return;
	ledger_end(w->ledger, id, now_drill(w), outcome);
	w->pending--;
	w->stats.ok += outcome == LEDGER_OK;
	w->stats.failed += outcome == LEDGER_FAILED;
	w->stats.unknown += outcome == LEDGER_UNKNOWN;
}

/* conn_done_fn: the target's answer, or the connection's end (conn.h says which). */
static void on_done(void *ud, uint64_t tag, const struct target_reply *r)
{
	static const enum ledger_outcome outcomes[] = {
		[TARGET_ACKED] = LEDGER_OK,
		[TARGET_REFUSED] = LEDGER_FAILED,
		[TARGET_UNKNOWN] = LEDGER_UNKNOWN,
	};

	finish(ud, tag, r->kind < TARGET_KV ? outcomes[r->kind] : LEDGER_UNKNOWN);
}

/* Closes a client's connection; conn_free ends what it had in flight. */
static void drop(struct client *c)
{
	if (!c->conn)
		return;
	loop_cancel(c->w->loop, c->rd);
	loop_cancel(c->w->loop, c->wr);
	c->rd = c->wr = NULL;
	if (conn_error(c->conn)[0])
		log_debug("workload client %u: %s", c->idx, conn_error(c->conn));
	conn_free(c->conn);
	c->conn = NULL;
}

static void arm(struct client *c);

static void on_readable(struct loop *l, void *ud, int res)
{
	struct client *c = ud;

	c->rd = NULL;
	if (res < 0 || conn_read(c->conn) < 0) {
		drop(c);
		return;
	}
	arm(c);
}

static void on_writable(struct loop *l, void *ud, int res)
{
	struct client *c = ud;

	c->wr = NULL;
	if (res < 0 || conn_flush(c->conn) < 0) {
		drop(c);
		return;
	}
	arm(c);
}

/* Polls for answers once connected, and for writability while connecting or while
 * output waits. */
static void arm(struct client *c)
{
	struct conn *k = c->conn;

	if (conn_connected(k) && !c->rd &&
	    loop_poll(c->w->loop, conn_rfd(k), POLLIN, on_readable, c, &c->rd) < 0)
		c->rd = NULL;
	if (conn_want_write(k) && !c->wr &&
	    loop_poll(c->w->loop, conn_wfd(k), POLLOUT, on_writable, c, &c->wr) < 0)
		c->wr = NULL;
}

static int client_open(struct client *c)
{
	struct workload *w = c->w;
	int r = conn_open(w->cfg.driver, w->host, w->port, on_done, w, &c->conn);

	if (r < 0) {
		c->conn = NULL;
		return r;
	}
	w->stats.connects++;
	arm(c);
	return 0;
}

static void issue(struct workload *w)
{
	struct client *c = &w->clients[w->issued % w->cfg.clients];
	uint64_t id = ledger_begin(w->ledger, now_drill(w), c->idx);
	char key[LEDGER_KEY_MAX];

	w->issued++;
	if (id == 0)
		return;
	w->pending++;
	w->stats.issued++;
	if (!c->conn && client_open(c) < 0) {
		finish(w, id, LEDGER_FAILED); /* never sent */
		return;
	}
	ledger_key(id, key);
	ledger_value(w->ledger->seed, id, w->ledger->value_size, w->value);
	if (conn_submit_set(c->conn, id, key, w->value, w->ledger->value_size) < 0) {
		finish(w, id, LEDGER_FAILED);
		return;
	}
	if (conn_connected(c->conn) && conn_flush(c->conn) < 0) {
		drop(c);
		return;
	}
	arm(c);
}

/* Operations past their timeout become unknown; their connections are closed so the
 * next operation starts afresh (a stuck connection would only pile up more). */
static void sweep(struct workload *w, int64_t now)
{
	struct ledger *l = w->ledger;

	while (w->sweep_from < l->n && l->ops[w->sweep_from].start_ns + w->cfg.timeout_ns <= now) {
		struct ledger_op *op = &l->ops[w->sweep_from];

		if (op->outcome == LEDGER_PENDING) {
			finish(w, w->sweep_from + 1, LEDGER_UNKNOWN);
			drop(&w->clients[op->client]);
		}
		w->sweep_from++;
	}
}

static int64_t due(const struct workload *w, uint64_t k)
{
	return w->start_ns + (int64_t)((double)k * 1e9 / w->cfg.rate);
}

static void on_tick(struct loop *l, void *ud, int res)
{
	struct workload *w = ud;
	int64_t now = time_mono_ns(), next = now + SWEEP_NS;

	w->tick = NULL;
	while (w->running && due(w, w->issued) <= now)
		issue(w);
	sweep(w, now - w->cfg.t0_ns);
	if (w->running && due(w, w->issued) < next)
		next = due(w, w->issued);
	if ((w->running || w->pending) && loop_timer_at(l, next, on_tick, w, &w->tick) < 0)
		w->tick = NULL;
}

int workload_new(struct loop *l, const struct workload_config *c, struct ledger *ledger,
		 struct workload **out)
{
	struct workload *w;

	if (c->rate <= 0 || c->clients == 0 || c->timeout_ns <= 0 ||
	    ledger->value_size < LEDGER_VALUE_MIN)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->loop = l;
	w->cfg = *c;
	w->ledger = ledger;
	w->clients = calloc(c->clients, sizeof(*w->clients));
	w->value = malloc(ledger->value_size);
	if (!w->clients || !w->value) {
		workload_free(w);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->clients; i++)
		w->clients[i] = (struct client){ .w = w, .idx = i };
	*out = w;
	return 0;
}

static int set_target(struct workload *w, const char *host, uint16_t port)
{
	if (strlen(host) >= sizeof(w->host))
		return -EINVAL;
	strcpy(w->host, host);
	w->port = port;
	return 0;
}

int workload_start(struct workload *w, const char *host, uint16_t port)
{
	int r = set_target(w, host, port);

	if (r < 0)
		return r;
	w->running = true;
	w->start_ns = time_mono_ns();
	w->issued = 0;
	loop_cancel(w->loop, w->tick);
	return loop_timer_at(w->loop, w->start_ns, on_tick, w, &w->tick);
}

int workload_retarget(struct workload *w, const char *host, uint16_t port)
{
	for (unsigned i = 0; i < w->cfg.clients; i++)
		drop(&w->clients[i]);
	return set_target(w, host, port);
}

void workload_stop(struct workload *w)
{
	w->running = false;
}

size_t workload_pending(const struct workload *w)
{
	return w->pending;
}

void workload_abandon(struct workload *w)
{
	w->running = false;
	for (unsigned i = 0; i < w->cfg.clients; i++)
		drop(&w->clients[i]);
	for (size_t i = w->sweep_from; i < w->ledger->n; i++)
		finish(w, i + 1, LEDGER_UNKNOWN);
	loop_cancel(w->loop, w->tick);
	w->tick = NULL;
}

struct workload_stats workload_stats(const struct workload *w)
{
	return w->stats;
}

void workload_free(struct workload *w)
{
	if (!w)
		return;
	if (w->clients)
		workload_abandon(w);
	free(w->clients);
	free(w->value);
	free(w);
}
