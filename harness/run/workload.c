/* The `set` workload engine: see workload.h. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/adapter.h"
#include "harness/run/conn.h"
#include "harness/run/workload.h"
#include "targets/lines/lines.h"

#define SWEEP_NS (5 * NSEC_PER_MSEC) /* timeouts are noticed within this */
#define EXIT_GRACE_MS 200	     /* an adapter that closed its stdout, to exit by itself */

/* Tags of the engine's own requests to adapters (ping, connect): never a ledger id. */
#define CTRL_TAG (1ULL << 63)
enum ctrl { CTRL_PING = 1, CTRL_CONNECT = 2 };

struct client {
	struct workload *w;
	unsigned idx;
	struct conn *conn; /* owned; NULL between connections */
	struct loop_op *rd, *wr;
	char host[64]; /* the node it writes to */
	uint16_t port;
	struct adapter *adapter; /* owned, with conn: driver lines */
	bool alive;		 /* the adapter answered ping */
	bool closing;		 /* conn_free is ending what it had in flight */
	int64_t ping_deadline;	 /* monotonic */
};

struct workload {
	struct loop *loop;
	struct workload_config cfg;
	struct ledger *ledger;
	struct client *clients;
	bool running;
	bool fatal;	  /* an adapter could not start or answer ping */
	bool issuing;	  /* the adapters answered ping (always, without): operations go out */
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

static void say(struct workload *w, struct client *c, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Tells the runner what client c's adapter did; a fatal thing stops the workload. */
static void say(struct workload *w, struct client *c, bool fatal, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;

	if (w->fatal)
		return; /* the first fatal thing is the story */
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (fatal) {
		w->fatal = true;
		w->running = false;
	}
	if (w->cfg.adapters->note)
		w->cfg.adapters->note(w->cfg.adapters->ud, c->idx, fatal,
				      text ? text : "out of memory");
	free(text);
}

static uint64_t ctrl_tag(const struct client *c, enum ctrl what)
{
	return CTRL_TAG | (uint64_t)c->idx << 8 | what;
}

/* The reply to a ping or connect of the engine's own. */
static void ctrl_done(struct workload *w, uint64_t tag, const struct target_reply *r)
{
	struct client *c = &w->clients[((tag & ~CTRL_TAG) >> 8) % w->cfg.clients];
	int len = (int)r->reason_len;

	if (c->closing)
		return; /* drop tells the story */
	if ((tag & 0xff) == CTRL_PING && r->kind == TARGET_ACKED)
		c->alive = true;
	else if ((tag & 0xff) == CTRL_PING)
		say(w, c, true, "adapter client %u (pid %d) answered ping with '%s %.*s'", c->idx,
		    (int)adapter_pid(c->adapter), r->kind == TARGET_REFUSED ? "fail" : "unknown",
		    len, r->reason);
	else if (r->kind != TARGET_ACKED)
		say(w, c, false, "adapter client %u (pid %d): connect %s:%u answered '%s %.*s'",
		    c->idx, (int)adapter_pid(c->adapter), c->host, c->port,
		    r->kind == TARGET_REFUSED ? "fail" : "unknown", len, r->reason);
}

/* conn_done_fn: the target's answer, or the connection's end (conn.h says which). */
static void on_done(void *ud, uint64_t tag, const struct target_reply *r)
{
	static const enum ledger_outcome outcomes[] = {
		[TARGET_ACKED] = LEDGER_OK,
		[TARGET_REFUSED] = LEDGER_FAILED,
		[TARGET_UNKNOWN] = LEDGER_UNKNOWN,
	};

	if (tag & CTRL_TAG)
		ctrl_done(ud, tag, r);
	else
		finish(ud, tag, r->kind < TARGET_KV ? outcomes[r->kind] : LEDGER_UNKNOWN);
}

static int client_open(struct client *c);

/* Client c's adapter has been stopped (pid, how it ended) and its connection freed: if it
 * misbehaved (what), says so and restarts it, or, if it never answered ping, fatal. */
static void adapter_gone(struct client *c, const char *what, pid_t pid, const char *how,
			 uint64_t unknown)
{
	struct workload *w = c->w;
	char path[4200], tail[512];

	if (!what)
		return;
	if (!c->alive) {
		snprintf(path, sizeof(path), "%s/c%u.stderr", w->cfg.adapters->stderr_dir, c->idx);
		say(w, c, true,
		    "adapter client %u (pid %d) did not answer ping: %s; %s; stderr: %s", c->idx,
		    (int)pid, what, how, adapter_stderr_tail(path, tail, sizeof(tail)));
		return;
	}
	c->alive = false;
	say(w, c, false, "adapter client %u (pid %d): %s; %s; %" PRIu64 " operation%s unknown; %s",
	    c->idx, (int)pid, what, how, unknown, unknown == 1 ? "" : "s",
	    w->running ? "restarted" : "not restarted: the workload has stopped");
	if (w->running)
		client_open(c);
}

/* Ends client c's adapter before its pipes close (closing its stdin could make it exit,
 * and then how it ended would be ours, not its own); one whose stdout closed first is
 * given a moment to exit by itself. Returns its pid; how says how it ended. */
static pid_t adapter_end(struct client *c, bool misbehaved, bool exited, char *how, size_t len)
{
	pid_t pid = adapter_pid(c->adapter);

	adapter_stop(c->adapter, misbehaved && exited ? EXIT_GRACE_MS : 0, how, len);
	return pid;
}

/* Closes a client's connection; conn_free ends what it had in flight. why: it misbehaved
 * (NULL: a connection's own error, if any, says so; else an ordinary close). */
static void drop_why(struct client *c, const char *why, uint64_t unknown)
{
	struct workload *w = c->w;
	char what[256], how[64] = "";
	uint64_t before;
	pid_t pid = 0;
	bool exited;

	if (!c->conn)
		return;
	loop_cancel(w->loop, c->rd);
	loop_cancel(w->loop, c->wr);
	c->rd = c->wr = NULL;
	if (conn_error(c->conn)[0])
		log_debug("workload client %u: %s", c->idx, conn_error(c->conn));
	exited = !why && (conn_err(c->conn) == -ECONNRESET || conn_err(c->conn) == -EPIPE);
	snprintf(what, sizeof(what), "%s",
		 why	? why :
		 exited ? "EOF on its stdout" :
			  conn_error(c->conn));
	if (c->adapter)
		pid = adapter_end(c, what[0], exited, how, sizeof(how));
	before = w->stats.unknown;
	c->closing = true;
	conn_free(c->conn);
	c->closing = false;
	c->conn = NULL;
	unknown += w->stats.unknown - before;
	if (c->adapter) {
		adapter_free(c->adapter);
		c->adapter = NULL;
		adapter_gone(c, what[0] ? what : NULL, pid, how, unknown);
	}
}

static void drop(struct client *c)
{
	drop_why(c, NULL, 0);
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

/* Starts client c's adapter and queues its ping. */
static int adapter_open(struct client *c)
{
	struct workload *w = c->w;
	const struct workload_adapters *a = w->cfg.adapters;
	char *const *argv = a->argv(a->ud, c->host, c->port);
	char node[96], path[4200];
	struct adapter_spec spec = { .argv = argv, .node = node, .stderr_path = path };
	int r;

	if (!argv) {
		say(w, c, true, "adapter client %u: its command line cannot be made", c->idx);
		return -EINVAL;
	}
	snprintf(node, sizeof(node), "%s:%u", c->host, c->port);
	snprintf(path, sizeof(path), "%s/c%u.stderr", a->stderr_dir, c->idx);
	r = adapter_start(&spec, &c->adapter);
	if (r < 0) {
		c->adapter = NULL;
		say(w, c, true, "adapter client %u cannot start %s: %s", c->idx, argv[0],
		    strerror(-r));
		return r;
	}
	r = conn_adopt(&lines_driver, adapter_take_rfd(c->adapter), adapter_take_wfd(c->adapter),
		       on_done, w, &c->conn);
	if (r >= 0)
		r = conn_submit_ping(c->conn, ctrl_tag(c, CTRL_PING));
	if (r < 0) {
		conn_free(c->conn);
		c->conn = NULL;
		adapter_free(TAKE_PTR(c->adapter));
		say(w, c, true, "adapter client %u cannot be spoken to: %s", c->idx, strerror(-r));
		return r;
	}
	c->alive = false;
	c->ping_deadline = time_mono_ns() + a->ping_timeout_ns;
	return 0;
}

static int client_open(struct client *c)
{
	struct workload *w = c->w;
	int r;

	if (w->fatal)
		return -ECANCELED;
	if (w->cfg.adapters)
		r = adapter_open(c);
	else
		r = conn_open(w->cfg.driver, c->host, c->port, on_done, w, &c->conn);
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

/* Operation id is past its timeout: unknown. Its connection is closed so the next
 * operation starts afresh (a stuck connection would only pile up more); an adapter is
 * restarted, unless it has not answered ping yet (its own deadline is longer: a program
 * may take a while to start). */
static void time_out(struct workload *w, struct client *c, uint64_t id)
{
	char why[96];

	if (!c->adapter || !c->conn || !c->alive) {
		finish(w, id, LEDGER_UNKNOWN);
		if (!c->adapter)
			drop(c);
		return;
	}
	snprintf(why, sizeof(why), "no reply to operation %" PRIu64 " within %lld ms", id,
		 (long long)(w->cfg.timeout_ns / NSEC_PER_MSEC));
	conn_expire(c->conn, id);
	finish(w, id, LEDGER_UNKNOWN); /* done by conn_expire, unless it was not in flight */
	drop_why(c, why, 1);
}

/* Operations past their timeout become unknown (time_out), and adapters that have not
 * answered ping by their deadline are given up on. */
static void sweep(struct workload *w, int64_t now)
{
	struct ledger *l = w->ledger;

	while (w->sweep_from < l->n && l->ops[w->sweep_from].start_ns + w->cfg.timeout_ns <= now) {
		struct ledger_op *op = &l->ops[w->sweep_from];

		if (op->outcome == LEDGER_PENDING)
			time_out(w, &w->clients[op->client], w->sweep_from + 1);
		w->sweep_from++;
	}
	for (unsigned i = 0; w->cfg.adapters && i < w->cfg.clients; i++) {
		struct client *c = &w->clients[i];

		if (c->conn && !c->alive && time_mono_ns() > c->ping_deadline)
			drop_why(c, "no answer to ping in time", 0);
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
	if (w->running && !w->issuing && workload_ready(w)) {
		/* adapters have answered ping: the first operation now, so that none waits
		 * for a program to start (its latency would be the program's start-up) */
		w->issuing = true;
		w->start_ns = now;
		w->issued = 0;
	}
	while (w->running && w->issuing && !w->fatal && due(w, w->issued) <= now)
		issue(w);
	sweep(w, now - w->cfg.t0_ns);
	if (w->running && w->issuing && due(w, w->issued) < next)
		next = due(w, w->issued);
	if ((w->running || w->pending) && loop_timer_at(l, next, on_tick, w, &w->tick) < 0)
		w->tick = NULL;
}

int workload_new(struct loop *l, const struct workload_config *c, struct ledger *ledger,
		 struct workload **out)
{
	struct workload *w;

	if (c->rate <= 0 || c->clients == 0 || c->timeout_ns <= 0 ||
	    (c->adapters && (c->adapters->ping_timeout_ns <= 0 || !c->adapters->argv)) ||
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

static int set_target(struct client *c, const char *host, uint16_t port)
{
	if (strlen(host) >= sizeof(c->host))
		return -EINVAL;
	strcpy(c->host, host);
	c->port = port;
	return 0;
}

int workload_start(struct workload *w, const char *host, uint16_t port)
{
	return workload_start_nodes(w, &host, &port, 1);
}

int workload_start_nodes(struct workload *w, const char *const *hosts, const uint16_t *ports,
			 size_t n)
{
	int r = n ? 0 : -EINVAL;

	for (unsigned i = 0; r >= 0 && i < w->cfg.clients; i++)
		r = set_target(&w->clients[i], hosts[i % n], ports[i % n]);
	if (r < 0)
		return r;
	/* adapters start now, all of them, so that workload_ready can say they answered */
	for (unsigned i = 0; w->cfg.adapters && i < w->cfg.clients; i++)
		if (!w->clients[i].conn && (r = client_open(&w->clients[i])) < 0)
			return r;
	w->running = true;
	w->start_ns = time_mono_ns();
	w->issued = 0;
	loop_cancel(w->loop, w->tick);
	return loop_timer_at(w->loop, w->start_ns, on_tick, w, &w->tick);
}

/* Tells client c's live adapter to talk to its node from now on (or drops it). */
static void reconnect(struct client *c)
{
	char node[96];

	snprintf(node, sizeof(node), "%s:%u", c->host, c->port);
	if (conn_submit_connect(c->conn, ctrl_tag(c, CTRL_CONNECT), node) < 0 ||
	    conn_flush(c->conn) < 0) {
		drop(c);
		return;
	}
	arm(c);
}

int workload_retarget(struct workload *w, const char *host, uint16_t port)
{
	int r = 0;

	for (unsigned i = 0; i < w->cfg.clients; i++) {
		struct client *c = &w->clients[i];

		if ((r = set_target(c, host, port)) < 0)
			return r;
		if (c->adapter && c->conn)
			reconnect(c);
		else
			drop(c);
	}
	return 0;
}

void workload_stop(struct workload *w)
{
	w->running = false;
}

bool workload_ready(const struct workload *w)
{
	for (unsigned i = 0; w->cfg.adapters && i < w->cfg.clients; i++)
		if (!w->clients[i].alive)
			return false;
	return true;
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
