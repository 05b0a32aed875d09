/* The engine's connections to targets, protocol aside: see conn.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "harness/run/conn.h"

#define READ_CHUNK 65536

/* Bytes from off to len are waiting: to be sent (out), or to be decoded (in). */
struct bytes {
	unsigned char *p; /* owned */
	size_t off, len, cap;
};

enum request_kind { REQ_SET, REQ_ALL, REQ_PING, REQ_CONNECT };

/* What a request is, for the driver's encoder. */
struct request {
	enum request_kind kind;
	uint64_t tag;
	const char *key; /* set; connect: the node */
	const void *val;
	size_t vlen;
};

struct conn {
	const struct target_driver *d; /* borrowed */
	int rfd, wfd;		       /* owned; the same fd for a socket */
	bool sock;		       /* a socket (send, recv: no SIGPIPE, no VFS) */
	bool connected;		       /* ever: then what was in flight may have arrived */
	conn_done_fn done;
	void *ud;
	target_kv_fn kv; /* while a read_all is in flight: where its keys go */
	void *kv_ud;
	struct bytes out, in;
	uint64_t *tags; /* owned: in flight, oldest first, tags[first] to tags[first + n - 1] */
	size_t first, n, cap;
	uint64_t expired[16]; /* the last operations ended by conn_expire, a ring */
	size_t n_expired;
	uint64_t kvs;  /* key/values the read_all in flight handed on */
	int err;       /* what killed the connection, 0 while alive */
	char why[160]; /* the same in words */
};

static int fail(struct conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the first thing that killed the connection and returns err. */
static int fail(struct conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->err)
		return err;
	c->err = err;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return err;
}

/* Makes room for n more bytes at b->len, sliding the waiting bytes to the front first. */
static unsigned char *room(struct bytes *b, size_t n)
{
	size_t waiting = b->len - b->off, cap = b->cap ? b->cap : 4096;
	unsigned char *p;

	if (b->len + n <= b->cap)
		return b->p + b->len;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, waiting);
		b->off = 0;
		b->len = waiting;
	}
	if (waiting + n <= b->cap)
		return b->p + b->len;
	while (cap < waiting + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return NULL;
	b->p = p;
	b->cap = cap;
	return p + b->len;
}

static void done_with(struct bytes *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

static int push_tag(struct conn *c, uint64_t tag)
{
	if (c->first + c->n == c->cap && c->first > 0) {
		memmove(c->tags, c->tags + c->first, c->n * sizeof(*c->tags));
		c->first = 0;
	} else if (c->first + c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		uint64_t *t = realloc(c->tags, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		c->tags = t;
		c->cap = cap;
	}
	c->tags[c->first + c->n++] = tag;
	return 0;
}

/* The position in flight of the operation r answers, or -1. */
static ssize_t find_tag(const struct conn *c, const struct target_reply *r)
{
	if (r->oldest)
		return c->n > 0 ? 0 : -1;
	for (size_t i = 0; i < c->n; i++)
		if (c->tags[c->first + i] == r->tag)
			return (ssize_t)i;
	return -1;
}

/* Takes the i-th operation in flight out of the queue; the older ones move up. */
static uint64_t take_tag(struct conn *c, size_t i)
{
	uint64_t tag = c->tags[c->first + i];

	memmove(c->tags + c->first + 1, c->tags + c->first, i * sizeof(*c->tags));
	c->first++;
	if (--c->n == 0)
		c->first = 0;
	return tag;
}

static struct conn *conn_new(const struct target_driver *d, conn_done_fn done, void *ud)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	*c = (struct conn){ .d = d, .rfd = -1, .wfd = -1, .done = done, .ud = ud };
	return c;
}

int conn_open(const struct target_driver *d, const char *host, uint16_t port, conn_done_fn done,
	      void *ud, struct conn **out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	_cleanup_close_ int fd = -1;
	struct conn *c;
	int one = 1;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		return -errno;
	c = conn_new(d, done, ud);
	if (!c)
		return -ENOMEM;
	c->rfd = c->wfd = TAKE_FD(fd);
	c->sock = true;
	*out = c;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int conn_adopt(const struct target_driver *d, int rfd, int wfd, conn_done_fn done, void *ud,
	       struct conn **out)
{
	struct conn *c = conn_new(d, done, ud);
	int type, r;
	socklen_t len = sizeof(type);

	if (!c) {
		close(rfd);
		if (wfd != rfd)
			close(wfd);
		return -ENOMEM;
	}
	c->rfd = rfd;
	c->wfd = wfd;
	c->connected = true;
	c->sock = getsockopt(wfd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
	r = set_nonblock(rfd);
	if (r >= 0)
		r = set_nonblock(wfd);
	if (r < 0) {
		conn_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void conn_free(struct conn *c)
{
	struct target_reply r;

	if (!c)
		return;
	r = (struct target_reply){ .kind = c->connected ? TARGET_UNKNOWN : TARGET_REFUSED,
				   .err = -c->err };
	if (!c->err)
		snprintf(c->why, sizeof(c->why), "%s",
			 c->connected ? "closed with it in flight" : "never sent: not connected");
	r.reason = c->why;
	r.reason_len = strlen(c->why);
	while (c->n > 0)
		c->done(c->ud, take_tag(c, 0), &r);
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	free(c->out.p);
	free(c->in.p);
	free(c->tags);
	free(c);
}

int conn_rfd(const struct conn *c)
{
	return c->rfd;
}

int conn_wfd(const struct conn *c)
{
	return c->wfd;
}

bool conn_connected(const struct conn *c)
{
	return c->connected;
}

bool conn_want_write(const struct conn *c)
{
	return !c->connected || c->out.off < c->out.len;
}

size_t conn_in_flight(const struct conn *c)
{
	return c->n;
}

int conn_err(const struct conn *c)
{
	return c->err;
}

const char *conn_error(const struct conn *c)
{
	return c->err ? c->why : "";
}

static ssize_t encode(const struct conn *c, const struct request *q, void *buf, size_t cap)
{
	switch (q->kind) {
	case REQ_ALL:
		return c->d->encode_read_all(buf, cap, q->tag);
	case REQ_PING:
		return c->d->encode_ping ? c->d->encode_ping(buf, cap, q->tag) : -EOPNOTSUPP;
	case REQ_CONNECT:
		return c->d->encode_connect ? c->d->encode_connect(buf, cap, q->tag, q->key) :
					      -EOPNOTSUPP;
	default:
		return c->d->encode_set(buf, cap, q->tag, q->key, q->val, q->vlen);
	}
}

/* Encodes q after what is queued (growing the queue if the driver needs more room). */
static int submit(struct conn *c, const struct request *q)
{
	size_t spare = c->out.cap - c->out.len;
	ssize_t n = encode(c, q, spare ? c->out.p + c->out.len : NULL, spare);
	int r;

	if (n >= 0 && (size_t)n > spare) {
		size_t need = (size_t)n;
		unsigned char *p = room(&c->out, need);

		n = p ? encode(c, q, p, need) : -ENOMEM;
		if (n >= 0 && (size_t)n != need)
			return -EPROTO; /* the driver changed its mind about the length */
	}
	if (n < 0)
		return (int)n;
	r = push_tag(c, q->tag);
	if (r < 0)
		return r;
	c->out.len += (size_t)n;
	return 0;
}

int conn_submit_set(struct conn *c, uint64_t tag, const char *key, const void *val, size_t vlen)
{
	return submit(c, &(struct request){ .tag = tag, .key = key, .val = val, .vlen = vlen });
}

int conn_submit_ping(struct conn *c, uint64_t tag)
{
	return submit(c, &(struct request){ .kind = REQ_PING, .tag = tag });
}

int conn_submit_connect(struct conn *c, uint64_t tag, const char *node)
{
	return submit(c, &(struct request){ .kind = REQ_CONNECT, .tag = tag, .key = node });
}

int conn_expire(struct conn *c, uint64_t tag)
{
	struct target_reply r = { .kind = TARGET_UNKNOWN, .err = ETIMEDOUT };
	static const char why[] = "no reply in time";

	for (size_t i = 0; i < c->n; i++) {
		if (c->tags[c->first + i] != tag)
			continue;
		c->expired[c->n_expired++ % ARRAY_SIZE(c->expired)] = tag;
		r.reason = why;
		r.reason_len = sizeof(why) - 1;
		c->done(c->ud, take_tag(c, i), &r);
		return 0;
	}
	return -ENOENT;
}

static bool expired(const struct conn *c, uint64_t tag)
{
	size_t n = c->n_expired < ARRAY_SIZE(c->expired) ? c->n_expired : ARRAY_SIZE(c->expired);

	for (size_t i = 0; i < n; i++)
		if (c->expired[i] == tag)
			return true;
	return false;
}

/* 1 connected, 0 still connecting, -errno if the connect failed. */
static int finish_connect(struct conn *c)
{
	struct pollfd p = { .fd = c->wfd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (c->connected)
		return 1;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(c->wfd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return fail(c, -err, "connect: %s", strerror(err));
	c->connected = true;
	return 1;
}

int conn_flush(struct conn *c)
{
	int r = finish_connect(c);

	if (r <= 0)
		return r;
	while (c->out.off < c->out.len) {
		const void *p = c->out.p + c->out.off;
		size_t len = c->out.len - c->out.off;
		ssize_t n = c->sock ? send(c->wfd, p, len, MSG_NOSIGNAL) : write(c->wfd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return fail(c, -errno, "send: %s", strerror(errno));
		done_with(&c->out, (size_t)n);
	}
	return 0;
}

/* Hands one decoded reply on: a key/value to the read_all's reader, the rest to done. */
static int dispatch(struct conn *c, const struct target_reply *r)
{
	ssize_t i;

	if (r->kind == TARGET_KV && !c->kv)
		return fail(c, -EPROTO, "a key/value where a reply to a set was due");
	i = find_tag(c, r);
	if (i < 0 && r->oldest)
		return fail(c, -EPROTO, "a reply with nothing in flight");
	if (i < 0 && expired(c, r->tag))
		return fail(c, -EPROTO, "a reply to %llu after its timeout",
			    (unsigned long long)r->tag);
	if (i < 0)
		return fail(c, -EPROTO, "a reply to %llu, which is not in flight",
			    (unsigned long long)r->tag);
	if (r->kind == TARGET_KV) {
		c->kvs++;
		return c->kv(c->kv_ud, r->key, r->klen, r->val, r->vlen);
	}
	if (c->kv && r->kind == TARGET_ACKED && r->has_count && r->count != c->kvs)
		return fail(c, -EPROTO, "the read ended with %llu keys, but %llu came",
			    (unsigned long long)r->count, (unsigned long long)c->kvs);
	c->done(c->ud, take_tag(c, (size_t)i), r);
	return 0;
}

/* Kills the connection over bytes the driver cannot decode, quoting the first of them
 * (printable ASCII as is, the rest as \xNN) up to a newline. */
static int undecodable(struct conn *c, const unsigned char *p, size_t len, int err)
{
	char q[64];
	size_t n = 0;

	for (size_t i = 0; i < len && p[i] != '\n' && n + 5 < sizeof(q); i++)
		n += (size_t)snprintf(q + n, sizeof(q) - n,
				      p[i] >= ' ' && p[i] <= '~' ? "%c" : "\\x%02x", p[i]);
	q[n] = '\0';
	return fail(c, err, "'%s%s' is not a reply (%s driver: %s)", q,
		    n + 5 >= sizeof(q) ? "..." : "", c->d->name, strerror(-err));
}

/* Decodes and dispatches every whole reply received. */
static int decode(struct conn *c)
{
	/* Once a read_all has ended, what follows is not ours to read. */
	while (c->in.off < c->in.len && !(c->kv && c->n == 0)) {
		const void *p = c->in.p + c->in.off;
		size_t len = c->in.len - c->in.off;
		struct target_reply r;
		ssize_t n = c->kv ? c->d->decode_read_all(p, len, &r) :
				    c->d->decode_reply(p, len, &r);
		int k;

		if (n == 0)
			return 0;
		if (n < 0 || (size_t)n > len)
			return undecodable(c, p, len, n < 0 ? (int)n : -EPROTO);
		k = dispatch(c, &r);
		done_with(&c->in, (size_t)n);
		if (k < 0)
			return k;
	}
	return 0;
}

int conn_read(struct conn *c)
{
	for (;;) {
		unsigned char *p = room(&c->in, READ_CHUNK);
		ssize_t n;
		int r;

		if (!p)
			return fail(c, -ENOMEM, "out of memory");
		n = c->sock ? recv(c->rfd, p, READ_CHUNK, 0) : read(c->rfd, p, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return fail(c, -errno, "read: %s", strerror(errno));
		if (n == 0)
			return fail(c, -ECONNRESET, "the target closed the connection");
		c->in.len += (size_t)n;
		r = decode(c);
		if (r < 0 || n < READ_CHUNK)
			return r;
	}
}

struct read_end {
	bool ended;
	int err;
	char reason[160]; /* the target's words when it refused the read or could not tell */
};

static void on_read_end(void *ud, uint64_t tag, const struct target_reply *r)
{
	struct read_end *e = ud;

	e->ended = true;
	e->err = r->kind == TARGET_ACKED ? 0 : -(r->err > 0 ? r->err : EIO);
	if (e->err)
		snprintf(e->reason, sizeof(e->reason), "%s: %.*s",
			 r->kind == TARGET_REFUSED ? "refused" : "unknown",
			 r->reason_len > 120 ? 120 : (int)r->reason_len,
			 r->reason ? r->reason : "");
}

/* Waits up to timeout_ms for c's fds, then sends or reads what they are ready for. */
static int wait_once(struct conn *c, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = c->wfd, .events = conn_want_write(c) ? POLLOUT : 0 },
		{ .fd = c->rfd, .events = c->connected ? POLLIN : 0 },
	};
	int n = poll(p, 2, timeout_ms), r = 0;

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return fail(c, -ETIMEDOUT, "nothing in %d ms", timeout_ms);
	if (p[0].revents)
		r = conn_flush(c);
	if (r >= 0 && p[1].revents && c->connected)
		r = conn_read(c);
	return r;
}

/* Asks c for every key and waits for the end of the answer; frees c. */
static int read_all(struct conn *c, struct read_end *e, int timeout_ms, target_kv_fn kv, void *ud,
		    char *why, size_t why_len)
{
	int r;

	c->kv = kv;
	c->kv_ud = ud;
	r = submit(c, &(struct request){ .kind = REQ_ALL });
	while (r >= 0 && !e->ended)
		r = wait_once(c, timeout_ms);
	if (r >= 0)
		r = e->err;
	if (r < 0 && why)
		snprintf(why, why_len, "%s", conn_error(c)[0] ? conn_error(c) : e->reason);
	conn_free(c);
	return r;
}

int conn_read_all(const struct target_driver *d, const char *host, uint16_t port, int timeout_ms,
		  target_kv_fn kv, void *ud)
{
	struct read_end e = { 0 };
	struct conn *c;
	int r = conn_open(d, host, port, on_read_end, &e, &c);

	if (r < 0)
		return r;
	return read_all(c, &e, timeout_ms, kv, ud, NULL, 0);
}

int conn_read_all_adopt(const struct target_driver *d, int rfd, int wfd, int timeout_ms,
			target_kv_fn kv, void *ud, char *why, size_t why_len)
{
	struct read_end e = { 0 };
	struct conn *c;
	int r = conn_adopt(d, rfd, wfd, on_read_end, &e, &c);

	if (r < 0)
		return r;
	return read_all(c, &e, timeout_ms, kv, ud, why, why_len);
}
