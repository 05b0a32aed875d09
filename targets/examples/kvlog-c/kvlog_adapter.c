/* kvlog-c-adapter: an example adapter in C, driving a kvlog node for chaosdrill through
 * the line protocol (`driver: lines`, docs/adapters.md). What a user writes for a system of
 * their own: libc only, none of chaosdrill's code.
 *
 *   kvlog-c-adapter [--timeout-ms MS] [--connect-timeout MS] [ADDR:PORT]
 *
 * The node is ADDR:PORT, else $CHAOSDRILL_NODE; a `connect` line moves the adapter to
 * another. Lines in on stdin, replies out on stdout, one a line, each headed by the id of
 * the request it answers:
 *   ID ping            -> ID ok                       (the adapter is alive)
 *   ID set KEY VALUE   -> ID ok | ID fail TEXT | ID unknown TEXT
 *   ID read_all        -> ID kv KEY VALUE ... then ID ok COUNT (or fail / unknown)
 *   ID connect A:P     -> ID ok                       (after every reply of the old node)
 *
 * How it keeps its word on outcomes:
 * - Requests are pipelined on one TCP connection; kvlog answers in request order, so the
 *   ids in flight are a FIFO, and each reply belongs to the oldest.
 * - OK is ok; kvlog's ERR is fail (kvlog did not apply it: a replica's EROFS, a bad key).
 * - When the connection is lost (closed, reset, a reply that cannot be decoded) or left
 *   (`connect`), a request of which any byte was sent is unknown: it may have been applied;
 *   one that was never sent, not even in part, is fail. Nothing is retried: the next request
 *   connects again, and if that connect fails, it is fail (it was never sent).
 * - With --timeout-ms (the workload's write timeout, target.yaml's {timeout_ms}), a request
 *   not answered within 80% of it is unknown, answered before the harness gives up on it
 *   (a late reply would be the adapter's fault), and the connection is dropped with it
 *   (the replies behind it would be late too); a read_all is unknown when 80% of it
 *   passes without a key. A connect not made within that time (default 1 s;
 *   --connect-timeout) fails what waited for it.
 * - A key or value of read_all that is not a printable token (bytes other than 0x21-0x7e)
 *   is printed with those bytes as '?', so that a line stays one line; it then differs
 *   from what the workload wrote, as the data it stands for does.
 *
 * Output is buffered and written when stdout can take it; input is not read while more
 * than OUT_HIGH bytes of replies wait. On EOF of stdin it answers what is in flight (for at
 * most DRAIN_MS) and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvlog_wire.h"

#define ID_MAX 64		       /* longest id, with its NUL */
#define OUT_HIGH (1 << 20)	       /* stop reading while this many reply bytes wait */
#define MAX_LINE (KVW_MAX_FRAME + 256) /* longest request line */
#define DRAIN_MS 2000

/* Bytes p[off, len) not yet used. */
struct buf {
	char *p;
	size_t off, len, cap;
};

enum op_kind { OP_SET, OP_DUMP };

struct op {
	char id[ID_MAX];
	enum op_kind kind;
	uint64_t start;	     /* where its request begins in the connection's byte stream */
	uint64_t count;	     /* DUMP: keys so far */
	int64_t deadline_ms; /* unknown if not answered by then; 0: no deadline */
};

/* The operations in flight, oldest first: a ring. */
struct fifo {
	struct op *v;
	size_t head, n, cap;
};

struct node {
	char name[64]; /* ADDR:PORT, "" when there is none */
	struct sockaddr_in sa;
	int fd;		       /* -1: no connection */
	bool up;	       /* connected; while fd >= 0 and not up, connecting */
	int64_t deadline_ms;   /* of the connect in progress */
	struct buf out, in;    /* requests not yet sent; replies not yet decoded */
	uint64_t queued, sent; /* request bytes queued / sent on this connection */
	struct fifo ops;
};

struct adapter {
	struct node node;
	int connect_timeout_ms, op_timeout_ms; /* op_timeout_ms 0: none */
	struct buf lin, lout;		       /* stdin not yet parsed; stdout not yet written */
	bool eof, skipping; /* stdin ended; discarding a line longer than MAX_LINE */
	int64_t drain_until_ms;
};

static void die_oom(void)
{
	fputs("kvlog-c-adapter: out of memory\n", stderr);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t buf_avail(const struct buf *b)
{
	return b->len - b->off;
}

/* Room for n more bytes at b->p + b->len (the caller adds what it wrote to len). */
static char *buf_room(struct buf *b, size_t n)
{
	if (b->cap - b->len < n && b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			die_oom();
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

static void buf_eat(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

static struct op *fifo_head(struct fifo *f)
{
	return &f->v[f->head];
}

static void fifo_pop(struct fifo *f)
{
	f->head = (f->head + 1) & (f->cap - 1);
	f->n--;
}

static struct op *fifo_push(struct fifo *f)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct op *v = malloc(cap * sizeof(*v));

		if (!v)
			die_oom();
		for (size_t i = 0; i < f->n; i++)
			v[i] = f->v[(f->head + i) & (f->cap - 1)];
		free(f->v);
		f->v = v;
		f->head = 0;
		f->cap = cap;
	}
	return &f->v[(f->head + f->n++) & (f->cap - 1)];
}

/* "ID " + the formatted text + "\n" onto stdout's buffer. */
__attribute__((format(printf, 3, 4))) static void reply(struct adapter *a, const char *id,
							const char *fmt, ...)
{
	size_t idlen = strlen(id), room = 128;
	va_list ap;
	int n;

	for (;;) {
		char *p = buf_room(&a->lout, idlen + 1 + room + 1);

		memcpy(p, id, idlen);
		p[idlen] = ' ';
		va_start(ap, fmt);
		n = vsnprintf(p + idlen + 1, room + 1, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n <= room) {
			p[idlen + 1 + n] = '\n';
			a->lout.len += idlen + 1 + (size_t)n + 1;
			return;
		}
		room = (size_t)n;
	}
}

static char *put_token(char *p, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		*p++ = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	return p;
}

/* "ID kv KEY VALUE\n". */
static void reply_kv(struct adapter *a, const char *id, const char *key, size_t klen,
		     const char *val, size_t vlen)
{
	size_t idlen = strlen(id);
	char *p = buf_room(&a->lout, idlen + 4 + klen + 1 + vlen + 1), *s = p;

	memcpy(p, id, idlen);
	memcpy(p + idlen, " kv ", 4);
	p = put_token(p + idlen + 4, key, klen);
	*p++ = ' ';
	p = put_token(p, val, vlen);
	*p++ = '\n';
	a->lout.len += (size_t)(p - s);
}

/* Ends the connection: what was in flight is unknown if any of it was sent, else fail. */
static void node_drop(struct adapter *a, const char *why)
{
	struct node *n = &a->node;

	for (; n->ops.n; fifo_pop(&n->ops)) {
		struct op *o = fifo_head(&n->ops);

		if (o->start < n->sent)
			reply(a, o->id, "unknown %s", why);
		else
			reply(a, o->id, "fail not sent: %s", why);
	}
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->up = false;
	n->out.off = n->out.len = n->in.off = n->in.len = 0;
	n->queued = n->sent = 0;
}

static void node_dropf(struct adapter *a, const char *what, int err)
{
	char why[160];

	snprintf(why, sizeof(why), "%s %s%s%s", what, a->node.name, err ? ": " : "",
		 err ? strerror(err) : "");
	node_drop(a, why);
}

/* Starts a non-blocking connect to the node: 0 or -errno. */
static int node_start(struct adapter *a)
{
	struct node *n = &a->node;
	int one = 1, r;

	if (!n->name[0])
		return -EDESTADDRREQ;
	n->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		return -errno;
	setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(n->fd, (struct sockaddr *)&n->sa, sizeof(n->sa)) == 0) {
		n->up = true;
		return 0;
	}
	if (errno == EINPROGRESS) {
		n->deadline_ms = now_ms() + a->connect_timeout_ms;
		return 0;
	}
	r = -errno;
	close(n->fd);
	n->fd = -1;
	return r;
}

/* The connect in progress ended (or timed out, timed_out). */
static void node_connect_done(struct adapter *a, bool timed_out)
{
	struct node *n = &a->node;
	socklen_t len = sizeof(int);
	int err = 0;

	if (timed_out)
		err = ETIMEDOUT;
	else if (getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		node_dropf(a, "connect to", err);
		return;
	}
	n->up = true;
}

/* Sends what it can of the queued requests. */
static void node_flush(struct adapter *a)
{
	struct node *n = &a->node;

	while (n->up && buf_avail(&n->out)) {
		ssize_t k = send(n->fd, n->out.p + n->out.off, buf_avail(&n->out),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k > 0) {
			buf_eat(&n->out, (size_t)k);
			n->sent += (uint64_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			node_dropf(a, "send to", errno);
			return;
		}
	}
}

/* Queues a request and its op; fail at once when no connection can be started. */
static void request(struct adapter *a, const char *id, enum op_kind kind, const char *key,
		    size_t klen, const char *val, size_t vlen)
{
	struct node *n = &a->node;
	size_t size = kind == OP_SET ? kvw_set_size(klen, vlen) : KVW_HDR;
	struct op *o;
	char *p;
	int r;

	if (n->fd < 0 && (r = node_start(a)) < 0) {
		reply(a, id, "fail not sent: connect to %s: %s", n->name[0] ? n->name : "(no node)",
		      strerror(-r));
		return;
	}
	p = buf_room(&n->out, size);
	if (kind == OP_SET)
		kvw_put_set((unsigned char *)p, key, klen, val, vlen);
	else
		kvw_put_dump((unsigned char *)p);
	n->out.len += size;
	o = fifo_push(&n->ops);
	snprintf(o->id, sizeof(o->id), "%s", id);
	o->kind = kind;
	o->start = n->queued;
	o->count = 0;
	o->deadline_ms = a->op_timeout_ms ? now_ms() + a->op_timeout_ms : 0;
	n->queued += size;
}

/* kvlog's ERR as "fail TEXT". */
static int reply_err(struct adapter *a, const struct op *o, const struct kvw_frame *f)
{
	const char *text;
	size_t len;
	int code;

	if (kvw_get_err(f, &code, &text, &len) < 0)
		return -EBADMSG;
	reply(a, o->id, "fail %s: %.*s", strerror(code ? code : EIO), (int)len, text);
	return 1;
}

/* One frame for the oldest op: 1 when that op is answered, 0 when more is to come, -errno
 * when the frame cannot be an answer to it. */
static int on_frame(struct adapter *a, struct op *o, const struct kvw_frame *f)
{
	const char *key, *val;
	size_t klen, vlen;
	uint64_t count;

	if (f->type == KVW_ERR)
		return reply_err(a, o, f);
	if (o->kind == OP_SET) {
		if (f->type != KVW_OK)
			return -EPROTO;
		reply(a, o->id, "ok");
		return 1;
	}
	if (f->type == KVW_KV) {
		if (kvw_get_kv(f, &key, &klen, &val, &vlen) < 0)
			return -EBADMSG;
		reply_kv(a, o->id, key, klen, val, vlen);
		o->count++;
		if (o->deadline_ms)
			o->deadline_ms = now_ms() + a->op_timeout_ms; /* it progresses */
		return 0;
	}
	if (f->type != KVW_END || kvw_get_u64(f, &count) < 0)
		return -EPROTO;
	if (count != o->count)
		fprintf(stderr, "kvlog-c-adapter: %s: END says %llu keys, %llu came\n", o->id,
			(unsigned long long)count, (unsigned long long)o->count);
	reply(a, o->id, "ok %llu", (unsigned long long)o->count);
	return 1;
}

/* Reads replies and answers the ops they are for. */
static void node_read(struct adapter *a)
{
	struct node *n = &a->node;
	struct kvw_frame f;
	ssize_t k = recv(n->fd, buf_room(&n->in, 65536), 65536, MSG_DONTWAIT);

	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
		node_dropf(a, k == 0 ? "connection closed by" : "recv from", k == 0 ? 0 : errno);
		return;
	}
	if (k < 0)
		return;
	n->in.len += (size_t)k;
	while ((k = kvw_parse((unsigned char *)n->in.p + n->in.off, buf_avail(&n->in), &f)) > 0) {
		int r = n->ops.n ? on_frame(a, fifo_head(&n->ops), &f) : -EPROTO;

		if (r < 0) {
			node_dropf(a,
				   n->ops.n ? "a reply it cannot decode from" :
					      "a reply to nothing from",
				   0);
			return;
		}
		if (r == 1)
			fifo_pop(&n->ops);
		buf_eat(&n->in, (size_t)k);
	}
	if (k < 0)
		node_dropf(a, "a frame of impossible length from", 0);
}

/* "A.B.C.D:PORT" into sa: 0 or -EINVAL. */
static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[32];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Makes ADDR:PORT the node; what the old one had in flight is answered first. */
static int node_set(struct adapter *a, const char *addr)
{
	struct node *n = &a->node;
	struct sockaddr_in sa;
	char why[128];

	if (strlen(addr) >= sizeof(n->name) || parse_addr(addr, &sa) < 0)
		return -EINVAL;
	if (strcmp(addr, n->name) == 0)
		return 0;
	snprintf(why, sizeof(why), "the client moved from %s to %s", n->name, addr);
	node_drop(a, why);
	snprintf(n->name, sizeof(n->name), "%s", addr);
	n->sa = sa; /* connected to on the next request (docs/adapters.md: not before) */
	return 0;
}

static void do_set(struct adapter *a, const char *id, const char *args)
{
	const char *sp = strchr(args, ' ');
	size_t klen = sp ? (size_t)(sp - args) : 0, vlen = sp ? strlen(sp + 1) : 0;

	if (klen == 0 || klen > KVW_MAX_KEY || vlen > KVW_MAX_VALUE)
		reply(a, id, "fail set needs KEY VALUE (a key of 1-%d bytes, a value up to %d)",
		      KVW_MAX_KEY, KVW_MAX_VALUE);
	else
		request(a, id, OP_SET, args, klen, sp + 1, vlen);
}

/* One request line, NUL-terminated, without its newline. */
static void handle_line(struct adapter *a, char *line)
{
	char *id = line, *verb = strchr(line, ' '), *args;

	if (!verb || verb == id || verb - id >= ID_MAX) {
		fprintf(stderr, "kvlog-c-adapter: ignoring a line without an id: %.80s\n", line);
		return;
	}
	*verb++ = '\0';
	args = strchr(verb, ' ');
	if (args)
		*args++ = '\0';
	else
		args = verb + strlen(verb); /* "" */
	if (strcmp(verb, "set") == 0)
		do_set(a, id, args);
	else if (strcmp(verb, "ping") == 0)
		reply(a, id, "ok");
	else if (strcmp(verb, "read_all") == 0)
		request(a, id, OP_DUMP, NULL, 0, NULL, 0);
	else if (strcmp(verb, "connect") == 0 && node_set(a, args) < 0)
		reply(a, id, "fail connect needs ADDR:PORT (IPv4), not '%.64s'", args);
	else if (strcmp(verb, "connect") == 0)
		reply(a, id, "ok");
	else
		reply(a, id, "fail unknown request '%.32s'", verb);
}

/* Reads stdin and handles every whole line in it. */
static void read_stdin(struct adapter *a)
{
	struct buf *b = &a->lin;
	ssize_t k = read(STDIN_FILENO, buf_room(b, 65536), 65536);
	char *nl;

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		a->eof = true;
		a->drain_until_ms = now_ms() + DRAIN_MS;
		return;
	}
	b->len += (size_t)k;
	while ((nl = memchr(b->p + b->off, '\n', buf_avail(b)))) {
		size_t len = (size_t)(nl - (b->p + b->off));

		*nl = '\0';
		if (!a->skipping)
			handle_line(a, b->p + b->off);
		a->skipping = false;
		buf_eat(b, len + 1);
	}
	if (buf_avail(b) > MAX_LINE) {
		fprintf(stderr, "kvlog-c-adapter: ignoring a line longer than %d bytes\n",
			MAX_LINE);
		a->skipping = true;
		buf_eat(b, buf_avail(b));
	}
}

/* Writes what it can of the replies: 0, or -errno when stdout is gone. */
static int write_stdout(struct adapter *a)
{
	while (buf_avail(&a->lout)) {
		ssize_t k = write(STDOUT_FILENO, a->lout.p + a->lout.off, buf_avail(&a->lout));

		if (k > 0)
			buf_eat(&a->lout, (size_t)k);
		else if (k < 0 && errno == EINTR)
			continue;
		else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return k < 0 ? -errno : -EIO;
	}
	return 0;
}

/* The earliest deadline of what is in flight, INT64_MAX if none. Deadlines grow in
 * request order, but for the oldest request's, which a read_all's progress moves on. */
static int64_t overdue_at(const struct node *n)
{
	int64_t t = INT64_MAX;

	for (size_t i = 0; i < n->ops.n && i < 2; i++) {
		const struct op *o = &n->ops.v[(n->ops.head + i) & (n->ops.cap - 1)];

		if (o->deadline_ms && o->deadline_ms < t)
			t = o->deadline_ms;
	}
	return t;
}

/* How long poll may wait: until a connect or a request times out, or the drain after EOF
 * ends. */
static int poll_timeout(const struct adapter *a)
{
	int64_t until = overdue_at(&a->node), now = now_ms();

	if (a->node.fd >= 0 && !a->node.up && a->node.deadline_ms < until)
		until = a->node.deadline_ms;
	if (a->eof && a->drain_until_ms < until)
		until = a->drain_until_ms;
	if (until == INT64_MAX)
		return -1;
	return until <= now ? 0 : (int)(until - now);
}

/* One round: poll, then each side that is ready. 1 to go on, 0 when done, -errno. */
static int step(struct adapter *a)
{
	struct node *n = &a->node;
	bool room = buf_avail(&a->lout) < OUT_HIGH;
	struct pollfd p[3] = {
		{ .fd = !a->eof && room ? STDIN_FILENO : -1, .events = POLLIN },
		{ .fd = buf_avail(&a->lout) ? STDOUT_FILENO : -1, .events = POLLOUT },
		{ .fd = n->fd,
		  .events = (short)((!n->up || buf_avail(&n->out) ? POLLOUT : 0) |
				    (n->up && room ? POLLIN : 0)) },
	};

	if (a->eof && !n->ops.n && !buf_avail(&a->lout))
		return 0;
	if (poll(p, 3, poll_timeout(a)) < 0 && errno != EINTR)
		return -errno;
	if (n->fd >= 0 && !n->up && (p[2].revents || now_ms() >= n->deadline_ms))
		node_connect_done(a, !p[2].revents);
	else if (n->up && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
		node_read(a);
	if (p[0].revents)
		read_stdin(a);
	node_flush(a);
	if (n->fd >= 0 && now_ms() >= overdue_at(n))
		node_dropf(a, "no reply in time from", 0);
	if (a->eof && n->ops.n && now_ms() >= a->drain_until_ms)
		node_drop(a, "stdin closed before the node answered");
	return write_stdout(a) < 0 ? -EPIPE : 1;
}

static int parse_args(int argc, char **argv, struct adapter *a)
{
	const char *node = getenv("CHAOSDRILL_NODE");
	int i = 1, timeout = 0, connect_timeout = 0;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--timeout-ms") == 0)
			timeout = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--connect-timeout") == 0)
			connect_timeout = atoi(argv[i + 1]);
		else
			return -EINVAL;
	}
	if (i < argc)
		node = argv[i++];
	if (i < argc || timeout < 0 || connect_timeout < 0)
		return -EINVAL;
	a->op_timeout_ms = timeout * 4 / 5;
	a->connect_timeout_ms = 1000;
	if (connect_timeout)
		a->connect_timeout_ms = connect_timeout;
	else if (a->op_timeout_ms)
		a->connect_timeout_ms = a->op_timeout_ms;
	if (a->connect_timeout_ms <= 0 || (timeout && a->op_timeout_ms <= 0))
		return -EINVAL;
	if (node && *node && node_set(a, node) < 0) {
		fprintf(stderr, "kvlog-c-adapter: bad node address '%s' (want A.B.C.D:PORT)\n",
			node);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct adapter a = { .node = { .fd = -1 } };
	int r;

	if (parse_args(argc, argv, &a) < 0) {
		fprintf(stderr, "usage: kvlog-c-adapter [--timeout-ms MS] [--connect-timeout MS] "
				"[ADDR:PORT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
	while ((r = step(&a)) > 0)
		;
	if (r < 0)
		fprintf(stderr, "kvlog-c-adapter: %s\n", strerror(-r));
	node_drop(&a, "the adapter exits");
	free(a.node.out.p);
	free(a.node.in.p);
	free(a.node.ops.v);
	free(a.lin.p);
	free(a.lout.p);
	return r < 0 ? 1 : 0;
}
