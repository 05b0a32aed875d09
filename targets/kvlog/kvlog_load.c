/* A closed-loop, pipelined load generator over kvlog's driver (see kvlog_load.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "targets/driver.h"
#include "targets/kvlog/kvlog_load.h"

extern const struct target_driver kvlog_driver;

struct lclient {
	const struct kvlog_load_opts *o;
	struct kvlog_load_result *res;
	struct target_conn *conn; /* owned; NULL once dead */
	int id;
	uint64_t next, done;	 /* SETs submitted / completed */
	int64_t *start;		 /* owned ring of submit times, window entries */
	char *val;		 /* owned scratch */
};

size_t kvlog_load_value(const char *key, size_t size, char *out, size_t cap)
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

static void note_error(struct kvlog_load_result *res, const char *what, int err,
		       const char *msg)
{
	if (!res->error[0])
		snprintf(res->error, sizeof(res->error), "%s: %s%s%s", what, strerror(err),
			 msg ? ": " : "", msg ? msg : "");
}

static void on_done(void *ud, uint64_t tag, int status, const char *msg)
{
	struct lclient *c = ud;
	char key[96];

	c->done++;
	if (status < 0) {
		c->res->refused++;
		note_error(c->res, "refused", -status, msg);
		return;
	}
	c->res->acked++;
	if (c->o->acked) {
		key_of(c, tag, key, sizeof(key));
		fprintf(c->o->acked, "%s\n", key);
	}
	if (c->o->latencies) {
		struct kvlog_load_result *res = c->res;

		if (res->nlat == res->lat_cap) {
			size_t cap = res->lat_cap ? res->lat_cap * 2 : 65536;
			uint64_t *l = realloc(res->lat_ns, cap * sizeof(*l));

			if (!l)
				return;
			res->lat_ns = l;
			res->lat_cap = cap;
		}
		res->lat_ns[res->nlat++] = (uint64_t)(time_mono_ns() - c->start[tag % (uint64_t)c->o->window]);
	}
}

static void client_dead(struct lclient *c, int err)
{
	note_error(c->res, "connection", -err, NULL);
	c->res->unknown += c->next - c->done;
	c->done = c->next;
	kvlog_driver.conn_free(c->conn);
	c->conn = NULL;
}

static void refill(struct lclient *c, bool submitting)
{
	char key[96];

	while (c->conn && submitting && c->next - c->done < (uint64_t)c->o->window &&
	       (!c->o->max_ops || c->next < c->o->max_ops)) {
		size_t vlen;
		int r;

		key_of(c, c->next, key, sizeof(key));
		vlen = kvlog_load_value(key, c->o->value_size, c->val, c->o->value_size + 128);
		c->start[c->next % (uint64_t)c->o->window] = time_mono_ns();
		r = kvlog_driver.conn_submit_set(c->conn, c->next, key, c->val, vlen);
		if (r < 0)
			return client_dead(c, r);
		c->next++;
	}
}

static void client_io(struct lclient *c, short revents)
{
	int r = 0;

	if (revents & (POLLOUT | POLLERR | POLLHUP))
		r = kvlog_driver.conn_flush(c->conn);
	if (r >= 0 && (revents & (POLLIN | POLLERR | POLLHUP)))
		r = kvlog_driver.conn_read(c->conn, on_done, c);
	if (r < 0)
		client_dead(c, r);
}

static int clients_open(const struct kvlog_load_opts *o, struct kvlog_load_result *res,
			struct lclient *cl)
{
	for (int i = 0; i < o->clients; i++) {
		struct lclient *c = &cl[i];
		int r;

		*c = (struct lclient){ .o = o, .res = res, .id = i };
		c->start = calloc((size_t)o->window, sizeof(*c->start));
		c->val = malloc(o->value_size + 128);
		if (!c->start || !c->val)
			return -ENOMEM;
		r = kvlog_driver.conn_open(o->host, o->port, &c->conn);
		if (r < 0)
			return r;
	}
	return 0;
}

static void clients_free(struct lclient *cl, int n)
{
	for (int i = 0; i < n; i++) {
		kvlog_driver.conn_free(cl[i].conn);
		free(cl[i].start);
		free(cl[i].val);
	}
	free(cl);
}

/* One poll round over the live clients; returns how many are still busy. */
static int poll_round(struct lclient *cl, int n, struct pollfd *pfd, bool submitting)
{
	int live = 0;

	for (int i = 0; i < n; i++) {
		struct lclient *c = &cl[i];

		refill(c, submitting);
		pfd[i] = (struct pollfd){ .fd = -1 };
		if (!c->conn || (!submitting && c->next == c->done))
			continue;
		pfd[i].fd = kvlog_driver.conn_fd(c->conn);
		pfd[i].events = POLLIN | (kvlog_driver.conn_want_write(c->conn) ? POLLOUT : 0);
		live++;
	}
	if (live == 0 || poll(pfd, (nfds_t)n, 100) <= 0)
		return live;
	for (int i = 0; i < n; i++)
		if (pfd[i].fd >= 0 && pfd[i].revents)
			client_io(&cl[i], pfd[i].revents);
	return live;
}

int kvlog_load_run(const struct kvlog_load_opts *o, struct kvlog_load_result *res)
{
	struct lclient *cl = calloc((size_t)o->clients, sizeof(*cl));
	_cleanup_free_ struct pollfd *pfd = calloc((size_t)o->clients, sizeof(*pfd));
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
	for (int i = 0; i < o->clients; i++)
		res->unknown += cl[i].next - cl[i].done;
	clients_free(cl, o->clients);
	return r;
}

void kvlog_load_result_free(struct kvlog_load_result *res)
{
	free(res->lat_ns);
	res->lat_ns = NULL;
	res->nlat = res->lat_cap = 0;
}
