/* pg-adapter: the PostgreSQL target's workload adapter (`driver: lines`, docs/adapters.md),
 * on libpq in pipeline mode. One process per workload client, one connection each.
 *
 *   pg-adapter [--node ADDR:PORT] [--timeout-ms N] [--user U] [--db D] [--batch N]
 *
 * The node is --node, else $CHAOSDRILL_NODE. `ID set K V` is `insert into kv (k, v) values
 * ($1, $2)`. The sets that arrive together are sent back to back and closed by one
 * PQpipelineSync: in pipeline mode the statements up to a sync point run as one implicit
 * transaction that commits at the sync, so a batch is a group commit. Several batches may be
 * in flight (pipelined). A set is acknowledged only when its batch's PGRES_PIPELINE_SYNC
 * arrived: the COMMIT returned (with synchronous_commit=on, after the WAL flush and, with
 * synchronous_standby_names, after the standby's).
 *   ok       the batch's sync result came and no statement of it failed
 *   fail     PostgreSQL surely did not apply it: a statement of its batch failed with an
 *            SQLSTATE that aborts the transaction before any commit (a standby's 25006
 *            read-only, 42P01 no table, 23505 duplicate, ...): the whole implicit transaction
 *            rolled back; or it was never sent (no connection could be made)
 *   unknown  anything that may have committed: a connection lost with the batch sent, an
 *            error at the sync point itself (the commit), an error of class 08 (connection),
 *            57 (operator intervention: a shutdown may come mid-commit), 58/XX (system,
 *            PANIC), no answer within 80% of --timeout-ms (the late result is dropped)
 * `ID read_all` is `select k, v from kv` (kv lines, then `ok COUNT`, or `fail TEXT`).
 * `ID ping` and `ID connect ADDR:PORT` are answered here: a connect closes the connection
 * (what was in flight on it is unknown) and the next request connects to the new node.
 * At EOF on stdin it finishes what is in flight, then exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "targets/sqlite/lineio.h"

#define EXIT_USAGE 2
/* Stop reading stdin while this much waits to go out to the harness. */
#define OUT_HIGH (8u << 20)
#define NSEC_MS 1000000LL

enum link { LINK_DOWN, LINK_CONNECTING, LINK_UP };

struct batch;

/* A request: queued (waiting for a connection), then sent (in the pipeline) until its
 * batch's sync result settles it. An op answered early (timed out) stays in the pipeline,
 * silent, until its results come or the connection goes. */
struct op {
	struct op *next;      /* in the queue, or in the pipeline */
	char *id, *key, *val; /* owned; key and val NULL for read_all */
	bool read_all, answered, is_sync;
	int64_t arrived_ns;
	struct batch *b; /* the batch it was sent in (borrowed; is_sync: owned) */
};

/* The statements sent between two syncs: one implicit transaction. */
struct batch {
	size_t n_ops;
	bool failed; /* a statement failed */
	bool doubt;  /* ... in a way that may have committed */
	char why[200];
};

struct fifo {
	struct op *head, *tail;
	size_t n;
};

struct adapter {
	char node[64], user[64], db[64];
	int64_t timeout_ns, connect_timeout_ns;
	size_t batch_max;
	enum link link;
	PGconn *conn;
	int64_t connect_deadline;
	PostgresPollingStatusType connect_poll;
	bool want_flush;   /* libpq has output it could not write yet */
	bool want_null;	   /* the cursor's result came: a NULL ends it */
	struct op *cursor; /* the first item of pipe whose result has not come */
	struct lineio_in in;
	struct lineio_out out;
	struct fifo queue, pipe; /* not sent; sent (statements and sync markers) */
	bool eof;
};

static void fifo_add(struct fifo *f, struct op *o)
{
	o->next = NULL;
	if (f->tail)
		f->tail->next = o;
	else
		f->head = o;
	f->tail = o;
	f->n++;
}

static struct op *fifo_pop(struct fifo *f)
{
	struct op *o = f->head;

	if (o) {
		f->head = o->next;
		if (!f->head)
			f->tail = NULL;
		f->n--;
	}
	return o;
}

/* Into the pipeline: sent to libpq. */
static void pipe_add(struct adapter *a, struct op *o)
{
	fifo_add(&a->pipe, o);
	if (!a->cursor)
		a->cursor = o;
}

static void op_free(struct op *o)
{
	if (!o)
		return;
	if (o->is_sync)
		free(o->b);
	free(o->id);
	free(o->key);
	free(o->val);
	free(o);
}

static int answer(struct adapter *a, struct op *o, const char *what, const char *text)
{
	if (o->answered)
		return 0;
	o->answered = true;
	return lineio_out_printf(&a->out, "%s %s%s%s\n", o->id, what, text && *text ? " " : "",
				 text ? text : "");
}

/* libpq's messages end in a newline and may hold several lines: one line of it. */
static void one_line(char *dst, size_t n, const char *prefix, const char *msg)
{
	size_t i;

	snprintf(dst, n, "%s%s", prefix, msg && *msg ? msg : "(no message)");
	for (i = 0; dst[i]; i++)
		if (dst[i] == '\n' || dst[i] == '\r')
			dst[i] = ' ';
	while (i > 0 && dst[i - 1] == ' ')
		dst[--i] = '\0';
}

/* The connection is gone: what was sent may have committed (unknown), what waited for a
 * connection was never sent (fail). */
static int drop_link(struct adapter *a, const char *why)
{
	char text[300];
	struct op *o;
	int e = 0;

	if (a->conn)
		PQfinish(a->conn);
	a->conn = NULL;
	a->link = LINK_DOWN;
	a->want_flush = a->want_null = false;
	a->cursor = NULL;
	snprintf(text, sizeof(text), "connection to %s %s", a->node, why);
	while ((o = fifo_pop(&a->pipe))) {
		if (!o->is_sync)
			e |= answer(a, o, o->read_all ? "fail" : "unknown", text);
		op_free(o);
	}
	snprintf(text, sizeof(text), "not sent: connection to %s %s", a->node, why);
	while ((o = fifo_pop(&a->queue))) {
		e |= answer(a, o, "fail", text);
		op_free(o);
	}
	return e ? -ENOMEM : 0;
}

static void start_connect(struct adapter *a)
{
	char host[64], *colon, ct[16];
	const char *keys[] = {
		"host", "port", "user", "dbname", "connect_timeout", "application_name", NULL
	};
	const char *vals[7];

	snprintf(host, sizeof(host), "%s", a->node);
	colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	snprintf(ct, sizeof(ct), "%lld", (long long)(a->connect_timeout_ns / 1000000000LL + 1));
	vals[0] = host;
	vals[1] = colon ? colon + 1 : "5432";
	vals[2] = a->user;
	vals[3] = a->db;
	vals[4] = ct;
	vals[5] = "chaosdrill-workload";
	vals[6] = NULL;
	a->conn = PQconnectStartParams(keys, vals, 0);
	a->link = LINK_CONNECTING;
	a->connect_poll = PGRES_POLLING_WRITING;
	a->connect_deadline = time_mono_ns() + a->connect_timeout_ns;
}

/* Closes a batch with its sync marker (which takes ownership of b). */
static int close_batch(struct adapter *a, struct batch *b, bool send)
{
	struct op *s = calloc(1, sizeof(*s));
	char text[300];

	if (!s) {
		free(b);
		return -ENOMEM;
	}
	s->is_sync = true;
	s->b = b;
	pipe_add(a, s);
	if (send && PQpipelineSync(a->conn))
		return 0;
	/* the statements are in libpq's buffer and may have reached the server: the
	 * connection is dropped and they are unknown */
	one_line(text, sizeof(text), "broken: ", PQerrorMessage(a->conn));
	return drop_link(a, text);
}

/* Sends every queued request: statements, then one sync per batch_max of them. */
static int send_queue(struct adapter *a)
{
	struct batch *b = NULL;
	struct op *o;
	char text[300];
	int e;

	while (a->queue.head) {
		const char *params[2];

		if (!b && !(b = calloc(1, sizeof(*b))))
			return -ENOMEM;
		o = fifo_pop(&a->queue);
		params[0] = o->key;
		params[1] = o->val;
		if (!(o->read_all ?
			      PQsendQueryParams(a->conn, "select k, v from kv", 0, NULL, NULL, NULL,
						NULL, 0) :
			      PQsendQueryParams(a->conn, "insert into kv (k, v) values ($1, $2)", 2,
						NULL, params, NULL, NULL, 0))) {
			one_line(text, sizeof(text), "not sent: ", PQerrorMessage(a->conn));
			e = answer(a, o, "fail", text);
			op_free(o);
			if (e < 0) {
				free(b);
				return e;
			}
			return close_batch(a, b, false);
		}
		o->b = b;
		b->n_ops++;
		pipe_add(a, o);
		if (b->n_ops >= a->batch_max || !a->queue.head) {
			if ((e = close_batch(a, TAKE_PTR(b), true)) < 0 || a->link != LINK_UP)
				return e;
		}
	}
	free(b);
	a->want_flush = PQflush(a->conn) == 1;
	return 0;
}

/* An error of a statement: does it leave the transaction surely uncommitted? */
static bool error_is_sure(PGconn *conn, const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (PQstatus(conn) != CONNECTION_OK || !st || strlen(st) != 5)
		return false;
	return strncmp(st, "08", 2) && strncmp(st, "57", 2) && strncmp(st, "58", 2) &&
	       strncmp(st, "XX", 2);
}

static int read_result(struct adapter *a, struct op *o, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	char text[300];
	int e = 0;

	if (o->read_all) {
		if (st != PGRES_TUPLES_OK) {
			one_line(text, sizeof(text), "", PQresultErrorMessage(res));
			return answer(a, o, "fail", text);
		}
		if (!o->answered) {
			int n = PQntuples(res);

			for (int i = 0; i < n && !e; i++)
				e = lineio_out_printf(&a->out, "%s kv %s %s\n", o->id,
						      PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
			if (!e)
				e = lineio_out_printf(&a->out, "%s ok %d\n", o->id, n);
			o->answered = true;
		}
		return e;
	}
	if (st == PGRES_COMMAND_OK || st == PGRES_PIPELINE_ABORTED)
		return 0;
	if (!o->b->failed) {
		o->b->failed = true;
		o->b->doubt = !error_is_sure(a->conn, res);
		one_line(o->b->why, sizeof(o->b->why), "", PQresultErrorMessage(res));
	}
	return 0;
}

/* The sync result: the implicit transaction of the batch ended. Its statements are settled
 * as the sync marker leaves the pipeline (they left before it). */
static void settle_sync(struct adapter *a, struct op *s, PGresult *res)
{
	if (PQresultStatus(res) != PGRES_PIPELINE_SYNC && !s->b->failed) {
		s->b->failed = s->b->doubt = true; /* an error at the commit itself */
		one_line(s->b->why, sizeof(s->b->why), "at commit: ", PQresultErrorMessage(res));
	}
}

/* The sync marker s came: the batch's statements, all before it at the pipeline's head,
 * are settled and leave with it. */
static int finish_batch(struct adapter *a, struct op *s)
{
	struct op *o;
	int e = 0;

	while ((o = fifo_pop(&a->pipe))) {
		if (o == s)
			break;
		if (!o->read_all) {
			if (!s->b->failed)
				e |= answer(a, o, "ok", NULL);
			else
				e |= answer(a, o, s->b->doubt ? "unknown" : "fail", s->b->why);
		}
		op_free(o);
	}
	op_free(s);
	return e ? -ENOMEM : 0;
}

/* Takes every result libpq has without blocking. a->cursor is the first item of the
 * pipeline whose result has not come: results come in the order things were sent. */
static int read_results(struct adapter *a)
{
	int e;

	while (a->cursor && !PQisBusy(a->conn)) {
		struct op *h = a->cursor;
		PGresult *res = PQgetResult(a->conn);

		if (a->want_null) {
			if (!res) {
				a->want_null = false;
				a->cursor = h->next;
				continue;
			}
			/* a second result of one statement: errors count, the rest not */
			if (!h->read_all && PQresultStatus(res) == PGRES_FATAL_ERROR)
				read_result(a, h, res);
			PQclear(res);
			continue;
		}
		if (!res)
			break;
		if (h->is_sync) {
			settle_sync(a, h, res);
			PQclear(res);
			a->cursor = h->next;
			if ((e = finish_batch(a, h)) < 0)
				return e;
			continue;
		}
		e = read_result(a, h, res);
		PQclear(res);
		if (e < 0)
			return e;
		a->want_null = true;
	}
	return 0;
}

static int on_socket(struct adapter *a, short revents)
{
	char text[300];

	if (a->link == LINK_CONNECTING) {
		a->connect_poll = PQconnectPoll(a->conn);
		if (a->connect_poll == PGRES_POLLING_FAILED) {
			one_line(text, sizeof(text), "failed: ", PQerrorMessage(a->conn));
			return drop_link(a, text);
		}
		if (a->connect_poll != PGRES_POLLING_OK)
			return 0;
		if (PQsetnonblocking(a->conn, 1) < 0 || !PQenterPipelineMode(a->conn)) {
			one_line(text, sizeof(text), "unusable: ", PQerrorMessage(a->conn));
			return drop_link(a, text);
		}
		a->link = LINK_UP;
		return send_queue(a);
	}
	if ((revents & POLLOUT) && a->want_flush) {
		int f = PQflush(a->conn);

		if (f < 0) {
			one_line(text, sizeof(text), "lost: ", PQerrorMessage(a->conn));
			return drop_link(a, text);
		}
		a->want_flush = f == 1;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !PQconsumeInput(a->conn)) {
		int e = read_results(a); /* what arrived before the loss still counts */

		one_line(text, sizeof(text), "lost: ", PQerrorMessage(a->conn));
		return e < 0 ? e : drop_link(a, text);
	}
	return read_results(a);
}

/* Sets unanswered until their deadline (80% of --timeout-ms): unknown; a connect that
 * takes longer than its deadline fails what waited for it. */
static int expire(struct adapter *a, int64_t now, int64_t *next)
{
	char text[160];
	int e = 0;

	snprintf(text, sizeof(text), "no answer from %s within %lld ms", a->node,
		 (long long)(a->timeout_ns / NSEC_MS));
	for (struct op *o = a->pipe.head; o; o = o->next) {
		int64_t d = o->arrived_ns + a->timeout_ns;

		if (o->is_sync || o->read_all || o->answered)
			continue;
		if (now >= d)
			e |= answer(a, o, "unknown", text);
		else if (!*next || d < *next)
			*next = d;
	}
	if (a->link == LINK_CONNECTING) {
		if (now >= a->connect_deadline)
			return drop_link(a, "failed: connect timed out");
		if (!*next || a->connect_deadline < *next)
			*next = a->connect_deadline;
	}
	return e ? -ENOMEM : 0;
}

static int do_connect_line(struct adapter *a, const char *id, const char *addr)
{
	char why[128];
	int e;

	if (!strchr(addr, ':') || strlen(addr) >= sizeof(a->node))
		return lineio_out_printf(&a->out, "%s fail bad address '%s': want ADDR:PORT\n", id,
					 addr);
	snprintf(why, sizeof(why), "closed: the client moved to %s", addr);
	if (a->link != LINK_DOWN && (e = drop_link(a, why)) < 0)
		return e;
	snprintf(a->node, sizeof(a->node), "%s", addr);
	return lineio_out_printf(&a->out, "%s ok\n", id);
}

static int harness_line(struct adapter *a, char *line)
{
	char *id, *verb, *rest, *sp;
	struct op *o;

	if (!*line)
		return 0;
	if (lineio_split(line, &id, &verb, &rest) < 0) {
		fprintf(stderr, "pg-adapter: ignoring a request without ID and verb: '%.60s'\n",
			line);
		return 0;
	}
	if (!strcmp(verb, "connect"))
		return do_connect_line(a, id, rest);
	if (!strcmp(verb, "ping"))
		return lineio_out_printf(&a->out, "%s ok\n", id);
	if (strcmp(verb, "set") && strcmp(verb, "read_all"))
		return lineio_out_printf(&a->out, "%s fail unknown request '%s'\n", id, verb);
	if (!(o = calloc(1, sizeof(*o))) || !(o->id = strdup(id))) {
		free(o);
		return -ENOMEM;
	}
	o->arrived_ns = time_mono_ns();
	o->read_all = !strcmp(verb, "read_all");
	if (!o->read_all) {
		if (!(sp = strchr(rest, ' ')) || sp == rest || !sp[1]) {
			int e = lineio_out_printf(&a->out, "%s fail want: set KEY VALUE\n", id);

			op_free(o);
			return e;
		}
		*sp = '\0';
		if (!(o->key = strdup(rest)) || !(o->val = strdup(sp + 1))) {
			op_free(o);
			return -ENOMEM;
		}
	}
	fifo_add(&a->queue, o);
	if (a->link == LINK_DOWN)
		start_connect(a);
	return 0;
}

static int read_harness(struct adapter *a)
{
	char *line;
	int n = lineio_in_fill(&a->in, STDIN_FILENO), e;

	if (n == -EAGAIN)
		return 0;
	if (n == -E2BIG) {
		fprintf(stderr, "pg-adapter: a request line longer than %d bytes; stopping\n",
			LINEIO_MAX_LINE);
		return n;
	}
	while ((line = lineio_in_next(&a->in)))
		if ((e = harness_line(a, line)) < 0)
			return e;
	if (n <= 0) {
		a->eof = true;
		if ((line = lineio_in_rest(&a->in)) && (e = harness_line(a, line)) < 0)
			return e;
	}
	return 0;
}

static int poll_timeout(int64_t next, int64_t now)
{
	if (!next)
		return -1;
	return next <= now ? 0 : (int)((next - now + NSEC_MS - 1) / NSEC_MS);
}

static bool busy(const struct adapter *a)
{
	if (lineio_out_pending(&a->out) || a->queue.n)
		return true;
	for (struct op *o = a->pipe.head; o; o = o->next)
		if (!o->is_sync && !o->answered)
			return true;
	return false;
}

static int step(struct adapter *a)
{
	struct pollfd p[3] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
	int64_t now = time_mono_ns(), next = 0;
	int e, sock;

	if ((e = expire(a, now, &next)) < 0)
		return e;
	if (a->link == LINK_CONNECTING && (!a->conn || PQstatus(a->conn) == CONNECTION_BAD)) {
		char text[300];

		one_line(text, sizeof(text),
			 "failed: ", a->conn ? PQerrorMessage(a->conn) : "out of memory");
		return drop_link(a, text);
	}
	sock = a->conn ? PQsocket(a->conn) : -1;
	if (!a->eof && lineio_out_pending(&a->out) < OUT_HIGH)
		p[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	if (lineio_out_pending(&a->out))
		p[1] = (struct pollfd){ .fd = STDOUT_FILENO, .events = POLLOUT };
	if (sock >= 0 && a->link == LINK_CONNECTING)
		p[2] = (struct pollfd){ .fd = sock,
					.events = a->connect_poll == PGRES_POLLING_READING ?
							  POLLIN :
							  POLLOUT };
	else if (sock >= 0 && a->link == LINK_UP)
		p[2] = (struct pollfd){ .fd = sock,
					.events = POLLIN | (a->want_flush ? POLLOUT : 0) };
	if (poll(p, 3, poll_timeout(next, now)) < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[2].revents && (e = on_socket(a, p[2].revents)) < 0)
		return e;
	if (p[0].revents && (e = read_harness(a)) < 0)
		return e;
	/* requests that arrived go out at once, one batch per turn of the loop */
	if (a->link == LINK_UP && a->queue.head && (e = send_queue(a)) < 0)
		return e;
	e = lineio_out_flush(&a->out, STDOUT_FILENO);
	return e == -EAGAIN ? 0 : e;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pg-adapter [--node ADDR:PORT] [--timeout-ms N] [--user U] [--db D] "
		   "[--batch N]\n"
		   "The node defaults to $CHAOSDRILL_NODE. See docs/adapters.md and "
		   "targets/postgres/README.md.\n");
}

static int parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end || *v == 0 || *v > max ? -EINVAL : 0;
}

static int parse_args(int argc, char **argv, struct adapter *a)
{
	static const struct option lo[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "db", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *node = getenv("CHAOSDRILL_NODE");
	unsigned long v;
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'n':
			node = optarg;
			break;
		case 't':
			if (parse_num(optarg, 3600 * 1000, &v) < 0)
				return -EINVAL;
			a->timeout_ns = (int64_t)v * NSEC_MS;
			break;
		case 'u':
			snprintf(a->user, sizeof(a->user), "%s", optarg);
			break;
		case 'd':
			snprintf(a->db, sizeof(a->db), "%s", optarg);
			break;
		case 'b':
			if (parse_num(optarg, 100000, &v) < 0)
				return -EINVAL;
			a->batch_max = v;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !node || !strchr(node, ':') || strlen(node) >= sizeof(a->node)) {
		fprintf(stderr, "pg-adapter: %s\n",
			!node ? "no node: give --node ADDR:PORT or set CHAOSDRILL_NODE" :
				"bad node address: want ADDR:PORT");
		return -EINVAL;
	}
	snprintf(a->node, sizeof(a->node), "%s", node);
	return 0;
}

int main(int argc, char **argv)
{
	struct adapter a = {
		.timeout_ns = 1000 * NSEC_MS, .batch_max = 256, .user = "eriop", .db = "eriop"
	};
	int e;

	e = parse_args(argc, argv, &a);
	if (e != 0) {
		usage(e > 0 ? stdout : stderr);
		return e > 0 ? 0 : EXIT_USAGE;
	}
	/* Answer before the harness gives up: 80% of its timeout, as the other adapters do;
	 * a connect never waits longer than an answer may. */
	a.timeout_ns = a.timeout_ns / 5 * 4;
	a.connect_timeout_ns = a.timeout_ns < 1000 * NSEC_MS ? a.timeout_ns : 1000 * NSEC_MS;
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK) < 0) {
		fprintf(stderr, "pg-adapter: stdin/stdout: %s\n", strerror(errno));
		return 1;
	}
	while (!a.eof || busy(&a))
		if ((e = step(&a)) < 0)
			break;
	if (e < 0 && e != -EPIPE)
		fprintf(stderr, "pg-adapter: %s\n", strerror(-e));
	drop_link(&a, "closed: the adapter is exiting");
	lineio_out_flush(&a.out, STDOUT_FILENO);
	lineio_in_free(&a.in);
	lineio_out_free(&a.out);
	return e < 0 && e != -EPIPE ? 1 : 0;
}
