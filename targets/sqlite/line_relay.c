/* line-relay: the example adapter in C for `driver: lines` (docs/adapters.md). It relays
 * the line protocol between the harness (stdin/stdout) and a node that speaks the same
 * protocol over TCP, so it serves any such server, sqlite-node among them.
 *
 *   line-relay [--node ADDR:PORT] [--timeout-ms N]
 *   line-relay --ping [--node ADDR:PORT] [--timeout-ms N]      (readiness probe)
 *
 * The node is --node, else $CHAOSDRILL_NODE. Requests are forwarded as they come
 * (pipelined) and replies passed back in the order the node sends them. What the relay
 * answers itself:
 *   `ID ping`               `ok` at once: the harness asks whether the adapter is alive,
 *                           which it is also while the node is down (--ping asks the node).
 *   `ID connect ADDR:PORT`  drops the connection and talks to ADDR:PORT from now on: `ok`.
 *   connection lost         each request sent on it and not answered: `ID unknown TEXT`;
 *                           the next request reconnects.
 *   not sent                a request that never left (no connection could be made, or it
 *                           was still queued when the connection went): `ID fail TEXT`.
 *   --timeout-ms N          the harness's timeout of an operation ({timeout_ms}): a set
 *                           the node has not answered in 80% of it is `ID unknown
 *                           TEXT` (its late reply is dropped), so that no answer comes too
 *                           late for the harness; read_all is exempt. A connect gives up
 *                           after 80% of it too (else after 1s).
 *   a reply for an id that is not waiting is dropped; a reply the relay cannot parse makes
 *   its id unknown.
 * At EOF on stdin it finishes what is in flight, then exits 0. --ping sends one ping and
 * exits 0 when the node answered ok within --timeout-ms (default 1000), else 1, saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "targets/sqlite/lineio.h"

#define EXIT_USAGE 2
/* Stop reading stdin while this much waits to go out to the node or to the harness. */
#define OUT_HIGH (8u << 20)

enum link { LINK_DOWN, LINK_CONNECTING, LINK_UP };

/* A request: waiting for a connection (queue), or sent and not answered (flight). */
struct req {
	struct req *next, *prev;
	char *id;
	char *line;	    /* the request as received, while it waits for a connection */
	bool read_all;	    /* no deadline */
	int64_t arrived_ns; /* when the harness sent it: the deadline counts from here */
	uint64_t off;	    /* where it starts in the byte stream to the node */
};

struct list {
	struct req *head, *tail;
	size_t n;
};

struct relay {
	struct sockaddr_in node;
	char node_text[64];
	int64_t timeout_ns, connect_timeout_ns;
	enum link link;
	int sock;
	int64_t connect_deadline;
	int connect_err;		      /* the connect failed before it could start: errno */
	uint64_t queued_bytes, written_bytes; /* into sock's stream: given to out / to kernel */
	struct lineio_in in, sock_in;
	struct lineio_out out, sock_out;
	struct list queue, flight;
	bool eof;
};

static void list_add(struct list *l, struct req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static void list_del(struct list *l, struct req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	l->n--;
}

static void req_free(struct req *r)
{
	free(r->id);
	free(r->line);
	free(r);
}

static struct req *find(struct list *l, const char *id)
{
	for (struct req *r = l->head; r; r = r->next)
		if (!strcmp(r->id, id))
			return r;
	return NULL;
}

/* Answers a request the relay settles itself and forgets it. */
static int settle(struct relay *rl, struct list *l, struct req *r, const char *what,
		  const char *text)
{
	int e = lineio_out_printf(&rl->out, "%s %s %s\n", r->id, what, text);

	list_del(l, r);
	req_free(r);
	return e;
}

/* The connection is gone: what may have reached the node is unknown, the rest failed. */
static int drop_link(struct relay *rl, const char *why)
{
	char text[256];
	int e = 0;

	if (rl->sock >= 0)
		close(rl->sock);
	rl->sock = -1;
	rl->link = LINK_DOWN;
	while (rl->flight.head) {
		struct req *r = rl->flight.head;
		bool unsent = r->off >= rl->written_bytes;

		snprintf(text, sizeof(text), "%sconnection to %s %s", unsent ? "not sent: " : "",
			 rl->node_text, why);
		e |= settle(rl, &rl->flight, r, unsent ? "fail" : "unknown", text);
	}
	snprintf(text, sizeof(text), "not sent: connection to %s %s", rl->node_text, why);
	while (rl->queue.head)
		e |= settle(rl, &rl->queue, rl->queue.head, "fail", text);
	lineio_in_free(&rl->sock_in);
	lineio_out_free(&rl->sock_out);
	rl->queued_bytes = rl->written_bytes = 0;
	return e ? -ENOMEM : 0;
}

static int send_req(struct relay *rl, struct req *r, const char *line)
{
	size_t n = strlen(line);
	int e;

	if ((e = lineio_out_append(&rl->sock_out, line, n)) < 0 ||
	    (e = lineio_out_append(&rl->sock_out, "\n", 1)) < 0)
		return e;
	r->off = rl->queued_bytes;
	rl->queued_bytes += n + 1;
	free(r->line);
	r->line = NULL;
	list_add(&rl->flight, r);
	return 0;
}

static void start_connect(struct relay *rl)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	rl->connect_deadline = time_mono_ns() + rl->connect_timeout_ns;
	rl->link = LINK_CONNECTING;
	rl->connect_err = 0;
	if (fd < 0) {
		rl->connect_err = errno;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rl->sock = fd;
	if (connect(fd, (struct sockaddr *)&rl->node, sizeof(rl->node)) < 0 && errno != EINPROGRESS)
		rl->connect_err = errno;
}

/* The connect finished (or failed, or timed out): send what waited, or fail it. */
static int connect_done(struct relay *rl, int err)
{
	char why[160];
	int e;

	if (err) {
		snprintf(why, sizeof(why), "failed: %s", strerror(err));
		return drop_link(rl, why);
	}
	rl->link = LINK_UP;
	while (rl->queue.head) {
		struct req *r = rl->queue.head;

		list_del(&rl->queue, r);
		if ((e = send_req(rl, r, r->line)) < 0) {
			req_free(r);
			return e;
		}
	}
	return 0;
}

static int do_connect_line(struct relay *rl, const char *id, const char *addr)
{
	struct sockaddr_in sa;
	char why[128];
	int e;

	if (lineio_parse_hostport(addr, &sa) < 0)
		return lineio_out_printf(&rl->out, "%s fail bad address '%s': want ADDR:PORT\n", id,
					 addr);
	snprintf(why, sizeof(why), "closed: the client moved to %s", addr);
	if (rl->link != LINK_DOWN && (e = drop_link(rl, why)) < 0)
		return e;
	rl->node = sa;
	snprintf(rl->node_text, sizeof(rl->node_text), "%s", addr);
	return lineio_out_printf(&rl->out, "%s ok\n", id);
}

static int harness_line(struct relay *rl, char *line)
{
	_cleanup_free_ char *copy = strdup(line);
	char *id, *verb, *rest;
	struct req *r;

	if (!copy)
		return -ENOMEM;
	if (!*line)
		return 0;
	if (lineio_split(line, &id, &verb, &rest) < 0) {
		fprintf(stderr, "line-relay: ignoring a request without ID and verb: '%.60s'\n",
			copy);
		return 0;
	}
	if (!strcmp(verb, "connect"))
		return do_connect_line(rl, id, rest);
	if (!strcmp(verb, "ping"))
		return lineio_out_printf(&rl->out, "%s ok\n", id);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->id = strdup(id))) {
		free(r);
		return -ENOMEM;
	}
	r->read_all = !strcmp(verb, "read_all");
	r->arrived_ns = time_mono_ns();
	if (rl->link == LINK_UP)
		return send_req(rl, r, copy) < 0 ? (req_free(r), -ENOMEM) : 0;
	r->line = TAKE_PTR(copy);
	list_add(&rl->queue, r);
	if (rl->link == LINK_DOWN)
		start_connect(rl);
	return 0;
}

/* A line from the node: the reply it names is passed on; kv lines keep it waiting. */
static int node_line(struct relay *rl, char *line)
{
	char *id, *verb, *rest;
	struct req *r;

	if (!*line)
		return 0;
	if (lineio_split(line, &id, &verb, &rest) < 0 || !(r = find(&rl->flight, id))) {
		/* Not ours to pass on: an answer to a request already settled (timed out), or
		 * noise. */
		return 0;
	}
	if (!strcmp(verb, "kv"))
		return lineio_out_printf(&rl->out, "%s kv %s\n", id, rest);
	if (!strcmp(verb, "ok") || !strcmp(verb, "fail") || !strcmp(verb, "unknown")) {
		int e = lineio_out_printf(&rl->out, "%s %s%s%s\n", id, verb, *rest ? " " : "",
					  rest);
		list_del(&rl->flight, r);
		req_free(r);
		return e;
	}
	return settle(rl, &rl->flight, r, "unknown", "the node answered something unparsable");
}

static int read_harness(struct relay *rl)
{
	char *line;
	int n = lineio_in_fill(&rl->in, STDIN_FILENO), e;

	if (n == -EAGAIN)
		return 0;
	if (n == -E2BIG) {
		fprintf(stderr, "line-relay: a request line longer than %d bytes; stopping\n",
			LINEIO_MAX_LINE);
		return n;
	}
	while ((line = lineio_in_next(&rl->in)))
		if ((e = harness_line(rl, line)) < 0)
			return e;
	if (n <= 0) {
		rl->eof = true;
		if ((line = lineio_in_rest(&rl->in)) && (e = harness_line(rl, line)) < 0)
			return e;
	}
	return 0;
}

static int read_node(struct relay *rl)
{
	char *line, why[160];
	int n = lineio_in_fill(&rl->sock_in, rl->sock), e;

	if (n == -EAGAIN)
		return 0;
	while ((line = lineio_in_next(&rl->sock_in)))
		if ((e = node_line(rl, line)) < 0)
			return e;
	if (n > 0)
		return 0;
	snprintf(why, sizeof(why), "lost: %s", n == 0 ? "closed by the node" : strerror(-n));
	return drop_link(rl, why);
}

static int write_node(struct relay *rl)
{
	size_t before = lineio_out_pending(&rl->sock_out);
	int e = lineio_out_flush(&rl->sock_out, rl->sock);
	char why[160];

	rl->written_bytes += before - lineio_out_pending(&rl->sock_out);
	if (e >= 0 || e == -EAGAIN)
		return 0;
	snprintf(why, sizeof(why), "lost: %s", strerror(-e));
	return drop_link(rl, why);
}

/* Sets the node left unanswered until their deadline (80% of --timeout-ms). */
static int expire(struct relay *rl, int64_t now, int64_t *next)
{
	char text[96], d[32];
	struct req *r, *nx;
	int e;

	units_format_duration(rl->timeout_ns, d, sizeof(d));
	snprintf(text, sizeof(text), "no answer from %s within %s", rl->node_text, d);
	for (r = rl->flight.head; r; r = nx) {
		nx = r->next;
		if (r->read_all)
			continue;
		if (now >= r->arrived_ns + rl->timeout_ns) {
			if ((e = settle(rl, &rl->flight, r, "unknown", text)) < 0)
				return e;
		} else if (!*next || r->arrived_ns + rl->timeout_ns < *next) {
			*next = r->arrived_ns + rl->timeout_ns;
		}
	}
	return 0;
}

static int poll_timeout(int64_t next, int64_t now)
{
	if (!next)
		return -1;
	return next <= now ? 0 : (int)((next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

static bool busy(const struct relay *rl)
{
	return rl->flight.n || rl->queue.n || lineio_out_pending(&rl->out);
}

static int step(struct relay *rl)
{
	struct pollfd p[3] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
	int64_t now = time_mono_ns(), next = 0;
	bool full = lineio_out_pending(&rl->out) > OUT_HIGH ||
		    lineio_out_pending(&rl->sock_out) > OUT_HIGH;
	int e;

	if (rl->timeout_ns && (e = expire(rl, now, &next)) < 0)
		return e;
	if (rl->link == LINK_CONNECTING) {
		if (rl->connect_err || now >= rl->connect_deadline)
			return connect_done(rl, rl->connect_err ? rl->connect_err : ETIMEDOUT);
		if (!next || rl->connect_deadline < next)
			next = rl->connect_deadline;
	}
	if (!rl->eof && !full)
		p[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	if (lineio_out_pending(&rl->out))
		p[1] = (struct pollfd){ .fd = STDOUT_FILENO, .events = POLLOUT };
	if (rl->sock >= 0)
		p[2] = (struct pollfd){ .fd = rl->sock,
					.events = rl->link == LINK_CONNECTING ? POLLOUT : POLLIN };
	if (rl->link == LINK_UP && lineio_out_pending(&rl->sock_out))
		p[2].events |= POLLOUT;
	if (poll(p, 3, poll_timeout(next, now)) < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[2].revents && rl->link == LINK_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(rl->sock, SOL_SOCKET, SO_ERROR, &err, &len);
		if ((e = connect_done(rl, err)) < 0)
			return e;
	} else if (p[2].revents && rl->link == LINK_UP) {
		if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) && (e = read_node(rl)) < 0)
			return e;
		if (rl->link == LINK_UP && (p[2].revents & POLLOUT) && (e = write_node(rl)) < 0)
			return e;
	}
	if (p[0].revents && (e = read_harness(rl)) < 0)
		return e;
	/* Requests that arrived go out at once rather than after the next poll. */
	if (rl->link == LINK_UP && lineio_out_pending(&rl->sock_out) && (e = write_node(rl)) < 0)
		return e;
	e = lineio_out_flush(&rl->out, STDOUT_FILENO);
	return e == -EAGAIN ? 0 : e;
}

/* --ping: one request, one answer, blocking, within the timeout. */
static int ping_once(struct relay *rl)
{
	int64_t end = time_mono_ns() + rl->timeout_ns;
	char *line;
	int e;

	start_connect(rl);
	while (rl->link != LINK_UP) {
		struct pollfd p = { .fd = rl->sock, .events = POLLOUT };
		int64_t now = time_mono_ns();
		int err = 0;
		socklen_t len = sizeof(err);

		if (rl->connect_err || now >= end) {
			fprintf(stderr, "line-relay: %s: %s\n", rl->node_text,
				rl->connect_err ? strerror(rl->connect_err) : "connect timed out");
			return 1;
		}
		if (poll(&p, 1, poll_timeout(end, now)) > 0) {
			getsockopt(rl->sock, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				fprintf(stderr, "line-relay: %s: %s\n", rl->node_text,
					strerror(err));
				return 1;
			}
			rl->link = LINK_UP;
		}
	}
	if (send(rl->sock, "1 ping\n", 7, MSG_NOSIGNAL) != 7) {
		fprintf(stderr, "line-relay: %s: send: %s\n", rl->node_text, strerror(errno));
		return 1;
	}
	for (;;) {
		struct pollfd p = { .fd = rl->sock, .events = POLLIN };
		int64_t now = time_mono_ns();

		if (now >= end || poll(&p, 1, poll_timeout(end, now)) == 0) {
			fprintf(stderr, "line-relay: %s: no answer to ping\n", rl->node_text);
			return 1;
		}
		e = lineio_in_fill(&rl->sock_in, rl->sock);
		if (e == -EAGAIN)
			continue;
		if ((line = lineio_in_next(&rl->sock_in))) {
			if (!strcmp(line, "1 ok"))
				return 0;
			fprintf(stderr, "line-relay: %s answered '%.100s'\n", rl->node_text, line);
			return 1;
		}
		if (e <= 0) {
			fprintf(stderr, "line-relay: %s: %s\n", rl->node_text,
				e == 0 ? "connection closed" : strerror(-e));
			return 1;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: line-relay [--node ADDR:PORT] [--timeout-ms N]\n"
		   "       line-relay --ping [--node ADDR:PORT] [--timeout-ms N]\n"
		   "The node defaults to $CHAOSDRILL_NODE. See docs/adapters.md.\n");
}

static int parse_args(int argc, char **argv, struct relay *rl, bool *ping)
{
	static const struct option lo[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "ping", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *node = getenv("CHAOSDRILL_NODE");
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'n':
			node = optarg;
			break;
		case 't': {
			char *end;
			unsigned long ms;

			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || ms == 0 || ms > 3600 * 1000)
				return -EINVAL;
			rl->timeout_ns = (int64_t)ms * NSEC_PER_MSEC;
			break;
		}
		case 'p':
			*ping = true;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !node || lineio_parse_hostport(node, &rl->node) < 0) {
		fprintf(stderr, "line-relay: %s\n",
			!node ? "no node: give --node ADDR:PORT or set CHAOSDRILL_NODE" :
				"bad node address: want numeric IPv4 ADDR:PORT");
		return -EINVAL;
	}
	snprintf(rl->node_text, sizeof(rl->node_text), "%s", node);
	return 0;
}

int main(int argc, char **argv)
{
	struct relay rl = { .sock = -1, .connect_timeout_ns = NSEC_PER_SEC };
	bool ping = false;
	int e;

	e = parse_args(argc, argv, &rl, &ping);
	if (e != 0) {
		usage(e > 0 ? stdout : stderr);
		return e > 0 ? 0 : EXIT_USAGE;
	}
	if (ping) {
		if (!rl.timeout_ns)
			rl.timeout_ns = NSEC_PER_SEC;
		e = ping_once(&rl);
		if (rl.sock >= 0)
			close(rl.sock);
		lineio_in_free(&rl.sock_in);
		return e;
	}
	/* Answer before the harness gives up: 80% of its timeout, as the Python example does.
	 * A connect never waits longer than an answer may. */
	rl.timeout_ns = rl.timeout_ns / 5 * 4;
	if (rl.timeout_ns && rl.timeout_ns < rl.connect_timeout_ns)
		rl.connect_timeout_ns = rl.timeout_ns;
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK) < 0) {
		fprintf(stderr, "line-relay: stdin/stdout: %s\n", strerror(errno));
		return 1;
	}
	while (!rl.eof || busy(&rl))
		if ((e = step(&rl)) < 0)
			break;
	if (e < 0 && e != -EPIPE)
		fprintf(stderr, "line-relay: %s\n", strerror(-e));
	drop_link(&rl, "closed: the relay is exiting");
	lineio_out_flush(&rl.out, STDOUT_FILENO);
	lineio_in_free(&rl.in);
	lineio_out_free(&rl.out);
	return e < 0 && e != -EPIPE ? 1 : 0;
}
