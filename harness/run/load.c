/* A closed-loop, pipelined load generator over the engine's connections (see load.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/adapter.h"
#include "harness/run/conn.h"
#include "harness/run/load.h"
#include "targets/lines/lines.h"

#define PING_TAG UINT64_MAX /* an adapter's ping: never a set's tag */

struct lclient {
	const struct load_opts *o;
	struct load_result *res;
	struct conn *conn;	 /* owned; NULL once dead */
	struct adapter *adapter; /* owned, with conn: o->adapter */
	int id;
	uint64_t next, done; /* sets submitted / ended */
	int64_t *start;	     /* owned ring of submit times, window entries */
	char *val;	     /* owned scratch */
};

size_t load_value(const char *key, size_t size, char *out, size_t cap)
{
	size_t klen = strlen(key), n = size < klen + 2 ? klen + 2 : size;

	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		out[i] = i < 2 ? "v:"[i] : key[(i - 2) % klen];
	return n;
}

static void key_of(const struct lclient *c, uint64_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%d-%" PRIu64, c->o->prefix ? c->o->prefix : "k", c->id, n);
}

static void note_error(struct load_result *res, const char *what, const struct target_reply *r)
{
	if (!res->error[0])
		snprintf(res->error, sizeof(res->error), "%s: %s%s%.*s", what,
			 r->err > 0 ? strerror(r->err) : "",
			 r->err > 0 && r->reason_len ? ": " : "", (int)r->reason_len,
			 r->reason ? r->reason : "");
}

static void note_latency(struct lclient *c, uint64_t tag)
{
	struct load_result *res = c->res;

	if (res->nlat == res->lat_cap) {
		size_t cap = res->lat_cap ? res->lat_cap * 2 : 65536;
		uint64_t *l = realloc(res->lat_ns, cap * sizeof(*l));

		if (!l)
			return;
		res->lat_ns = l;
		res->lat_cap = cap;
	}
	res->lat_ns[res->nlat++] =
		(uint64_t)(time_mono_ns() - c->start[tag % (uint64_t)c->o->window]);
}

/* conn_done_fn */
static void on_done(void *ud, uint64_t tag, const struct target_reply *r)
{
	struct lclient *c = ud;
	char key[96];

	if (tag == PING_TAG) {
		if (r->kind != TARGET_ACKED)
			note_error(c->res, "ping", r);
		return;
	}
	c->done++;
	if (r->kind == TARGET_REFUSED) {
		c->res->refused++;
		note_error(c->res, "refused", r);
		return;
	}
	if (r->kind != TARGET_ACKED) {
		c->res->unknown++;
		note_error(c->res, "unknown", r);
		return;
	}
	c->res->acked++;
	if (c->o->acked) {
		key_of(c, tag, key, sizeof(key));
		fprintf(c->o->acked, "%s\n", key);
	}
	if (c->o->latencies)
		note_latency(c, tag);
}

/* The connection is gone: conn_free ends what it had in flight. */
static void client_dead(struct lclient *c)
{
	conn_free(c->conn);
	c->conn = NULL;
}

static void refill(struct lclient *c, bool submitting)
{
	char key[96];

	while (c->conn && submitting && c->next - c->done < (uint64_t)c->o->window &&
	       (!c->o->max_ops || c->next < c->o->max_ops)) {
		size_t vlen;

		key_of(c, c->next, key, sizeof(key));
		vlen = load_value(key, c->o->value_size, c->val, c->o->value_size + 128);
		c->start[c->next % (uint64_t)c->o->window] = time_mono_ns();
		if (conn_submit_set(c->conn, c->next, key, c->val, vlen) < 0) {
			client_dead(c);
			return;
		}
		c->next++;
	}
}

/* Client c as an adapter: started, spoken to over its pipes, pinged. */
static int adapter_open(struct lclient *c)
{
	char node[96];
	struct adapter_spec s = { .argv = c->o->adapter,
				  .node = node,
				  .stderr_path = c->o->adapter_stderr };
	int r;

	snprintf(node, sizeof(node), "%s:%u", c->o->host, c->o->port);
	if ((r = adapter_start(&s, &c->adapter)) < 0)
		return r;
	r = conn_adopt(&lines_driver, adapter_take_rfd(c->adapter), adapter_take_wfd(c->adapter),
		       on_done, c, &c->conn);
	if (r < 0)
		return r;
	return conn_submit_ping(c->conn, PING_TAG);
}

static int clients_open(const struct load_opts *o, struct load_result *res, struct lclient *cl)
{
	for (int i = 0; i < o->clients; i++) {
		struct lclient *c = &cl[i];
		int r;

		*c = (struct lclient){ .o = o, .res = res, .id = i };
		c->start = calloc((size_t)o->window, sizeof(*c->start));
		c->val = malloc(o->value_size + 128);
		if (!c->start || !c->val)
			return -ENOMEM;
		r = o->adapter ? adapter_open(c) :
				 conn_open(o->driver, o->host, o->port, on_done, c, &c->conn);
		if (r < 0)
			return r;
	}
	return 0;
}

static void clients_free(struct lclient *cl, int n)
{
	for (int i = 0; i < n; i++) {
		conn_free(cl[i].conn);
		adapter_free(cl[i].adapter);
		free(cl[i].start);
		free(cl[i].val);
	}
	free(cl);
}

/* Where client i polls: its socket for both directions, or (pipes) two fds. */
static void poll_entries(struct conn *k, struct pollfd *pfd)
{
	short wev = conn_want_write(k) ? POLLOUT : 0, rev = conn_connected(k) ? POLLIN : 0;

	if (conn_rfd(k) == conn_wfd(k)) {
		pfd[0] = (struct pollfd){ .fd = conn_wfd(k), .events = wev | rev };
		return;
	}
	pfd[0] = (struct pollfd){ .fd = conn_wfd(k), .events = wev };
	pfd[1] = (struct pollfd){ .fd = conn_rfd(k), .events = rev };
}

static void client_io(struct lclient *c, const struct pollfd *pfd)
{
	short wrev = pfd[0].revents, rrev = pfd[1].fd >= 0 ? pfd[1].revents : pfd[0].revents;
	int r = 0;

	if (wrev & (POLLOUT | POLLERR | POLLHUP))
		r = conn_flush(c->conn);
	if (r >= 0 && conn_connected(c->conn) && (rrev & (POLLIN | POLLERR | POLLHUP)))
		r = conn_read(c->conn);
	if (r < 0)
		client_dead(c);
}

/* One poll round over the live clients (up to two entries each); returns how many are
 * still busy. */
static int poll_round(struct lclient *cl, int n, struct pollfd *pfd, bool submitting)
{
	int live = 0;

	for (int i = 0; i < n; i++) {
		struct lclient *c = &cl[i];

		refill(c, submitting);
		pfd[2 * i] = pfd[2 * i + 1] = (struct pollfd){ .fd = -1 };
		if (!c->conn || (!submitting && c->next == c->done))
			continue;
		poll_entries(c->conn, &pfd[2 * i]);
		live++;
	}
	if (live == 0 || poll(pfd, (nfds_t)(2 * n), 100) <= 0)
		return live;
	for (int i = 0; i < n; i++)
		if (pfd[2 * i].revents || pfd[2 * i + 1].revents)
			client_io(&cl[i], &pfd[2 * i]);
	return live;
}

int load_run(const struct load_opts *o, struct load_result *res)
{
	struct lclient *cl = calloc((size_t)o->clients, sizeof(*cl));
	_cleanup_free_ struct pollfd *pfd = calloc(2 * (size_t)o->clients, sizeof(*pfd));
	int64_t t0 = time_mono_ns(), drain_until = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (!cl || !pfd) {
		free(cl);
		return -ENOMEM;
	}
	r = clients_open(o, res, cl);
	for (bool submitting = true; r >= 0;) {
		int64_t now = time_mono_ns();

		if (submitting && (now - t0 >= o->duration_ns || (o->stop && *o->stop))) {
			submitting = false;
			drain_until = now + 5 * NSEC_PER_SEC;
		}
		if (poll_round(cl, o->clients, pfd, submitting) == 0)
			break; /* all done, or every connection lost */
		if (!submitting && now > drain_until)
			break;
	}
	res->elapsed_ns = time_mono_ns() - t0;
	clients_free(cl, o->clients); /* what is still in flight ends unknown */
	return r;
}

void load_result_free(struct load_result *res)
{
	free(res->lat_ns);
	res->lat_ns = NULL;
	res->nlat = res->lat_cap = 0;
}
