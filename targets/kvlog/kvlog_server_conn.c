/* kvlog-server: client connections, requests, and answers held until their write commits. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "targets/kvlog/kvlog_proto.h"
#include "targets/kvlog/kvlog_server.h"

void srv_set_pollout(struct server *s, int fd, void *ptr, bool *state, bool want)
{
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = ptr };

	if (*state == want)
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		*state = want;
}

int srv_accept(struct server *s)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct srv_conn *c;

		if (fd < 0)
			return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? 0 :
											    -errno;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		ev.data.ptr = c;
		if (!c || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(c);
			close(fd);
			return -ENOMEM;
		}
		c->kind = EV_CONN;
		c->fd = fd;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
	}
}

/* Marks c dead; the loop frees it after the current batch of events. */
void srv_conn_close(struct server *s, struct srv_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (s->upstream == c)
		s->upstream = NULL;
}

/* Where an answer gated at gate goes: out when nothing is held and it is committed. */
static struct kvlog_buf *reply_start(struct server *s, struct srv_conn *c, uint64_t *gate,
				     size_t *before)
{
	struct kvlog_buf *b;

	if (*gate < c->last_gate)
		*gate = c->last_gate;
	c->last_gate = *gate;
	b = c->nholds == 0 && *gate <= s->commit_seq ? &c->out : &c->held;
	*before = kvlog_buf_size(b);
	return b;
}

static int reply_finish(struct srv_conn *c, struct kvlog_buf *b, uint64_t gate, size_t before)
{
	if (b != &c->held)
		return 0;
	if (c->hold_head + c->nholds == c->hold_cap) {
		size_t cap = c->hold_cap ? c->hold_cap * 2 : 64;
		struct srv_hold *h;

		if (c->hold_head > 0) {
			memmove(c->holds, c->holds + c->hold_head, c->nholds * sizeof(*h));
			c->hold_head = 0;
		} else {
			h = realloc(c->holds, cap * sizeof(*h));
			if (!h)
				return -ENOMEM;
			c->holds = h;
			c->hold_cap = cap;
		}
	}
	c->held_total += kvlog_buf_size(b) - before;
	c->holds[c->hold_head + c->nholds++] = (struct srv_hold){ gate, c->held_total };
	return 0;
}

static int reply_u64(struct server *s, struct srv_conn *c, uint64_t gate, uint8_t type, uint64_t v)
{
	size_t before;
	struct kvlog_buf *b = reply_start(s, c, &gate, &before);
	int r = kvp_put_u64(b, type, v);

	return r < 0 ? r : reply_finish(c, b, gate, before);
}

static int reply(struct server *s, struct srv_conn *c, uint8_t type, const void *p, size_t n)
{
	uint64_t gate = 0;
	size_t before;
	struct kvlog_buf *b = reply_start(s, c, &gate, &before);
	int r = kvp_put(b, type, p, n);

	return r < 0 ? r : reply_finish(c, b, gate, before);
}

static int reply_err(struct server *s, struct srv_conn *c, int code, const char *msg)
{
	uint64_t gate = 0;
	size_t before;
	struct kvlog_buf *b = reply_start(s, c, &gate, &before);
	int r = kvp_put_err(b, code, msg);

	return r < 0 ? r : reply_finish(c, b, gate, before);
}

static void release(struct server *s, struct srv_conn *c)
{
	while (c->nholds && c->holds[c->hold_head].gate <= s->commit_seq) {
		size_t n = (size_t)(c->holds[c->hold_head].end - c->held_released);

		if (kvlog_buf_append(&c->out, kvlog_buf_data(&c->held), n) < 0) {
			srv_conn_close(s, c);
			return;
		}
		kvlog_buf_consume(&c->held, n);
		c->held_released += n;
		c->hold_head++;
		c->nholds--;
	}
	if (c->nholds == 0)
		c->hold_head = 0;
}

int srv_conn_flush(struct server *s, struct srv_conn *c)
{
	int r = kvlog_buf_send(&c->out, c->fd);

	if (r < 0) {
		srv_conn_close(s, c);
		return r;
	}
	srv_set_pollout(s, c->fd, c, &c->pollout, kvlog_buf_size(&c->out) > 0);
	return 0;
}

void srv_release_all(struct server *s)
{
	for (struct srv_conn *c = s->conns; c; c = c->next) {
		if (c->dead)
			continue;
		release(s, c);
		if (!c->dead && kvlog_buf_size(&c->out) > 0)
			srv_conn_flush(s, c);
	}
}

static int on_set(struct server *s, struct srv_conn *c, const struct kvp_frame *f)
{
	struct kvlog_buf *rec = &s->scratch;
	const char *key;
	const void *val;
	size_t klen, vlen;
	uint64_t seq;
	int r;

	if (kvp_get_kv(f, &key, &klen, &val, &vlen) < 0 || klen == 0 || klen > KVLOG_MAX_KEY)
		return reply_err(s, c, EINVAL, "bad key length");
	if (vlen > KVLOG_MAX_VALUE)
		return reply_err(s, c, E2BIG, "value too large");
	if (s->role == SRV_REPLICA)
		return reply_err(s, c, EROFS, "read-only replica: writes go to the primary");
	seq = kvlog_last_seq(s->log) + 1;
	kvlog_buf_consume(rec, kvlog_buf_size(rec));
	if (!kvlog_buf_reserve(rec, kvlog_rec_size(klen, vlen)))
		return -ENOMEM;
	kvlog_rec_encode(rec->data, seq, time_real_ns(), key, klen, val, vlen);
	rec->len = kvlog_rec_size(klen, vlen);
	r = kvlog_append_raw(
		s->log, &(struct kvlog_rec){ .seq = seq, .raw = rec->data, .raw_len = rec->len });
	if (r >= 0)
		r = kvlog_store_set(s->store, key, klen, val, vlen);
	if (r >= 0)
		r = srv_ship_record(s, rec->data, rec->len, seq);
	if (r >= 0 && s->o.sync == SRV_SYNC_ALWAYS && !s->o.ack_before_write) {
		r = kvlog_write(s->log);
		if (r >= 0)
			r = kvlog_sync(s->log);
	}
	if (r < 0)
		return srv_fail(s, r, "cannot append to the log");
	return reply_u64(s, c, s->o.ack_before_write ? 0 : seq, KVP_OK, seq);
}

static int on_get(struct server *s, struct srv_conn *c, const struct kvp_frame *f)
{
	const void *val;
	size_t vlen;

	if (kvlog_store_get(s->store, (const char *)f->body, f->len, &val, &vlen) < 0)
		return reply(s, c, KVP_NOTFOUND, NULL, 0);
	return reply(s, c, KVP_VALUE, val, vlen);
}

struct dump {
	struct server *s;
	struct srv_conn *c;
	struct kvlog_buf *b;
};

static int dump_one(void *ud, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct dump *d = ud;

	return kvp_put_kv(d->b, KVP_KV, key, klen, val, vlen);
}

static int on_dump(struct server *s, struct srv_conn *c)
{
	uint64_t gate = 0;
	size_t before;
	struct dump d = { s, c, reply_start(s, c, &gate, &before) };
	int r = kvlog_store_each(s->store, dump_one, &d);

	if (r >= 0)
		r = kvp_put_u64(d.b, KVP_END, kvlog_store_count(s->store));
	return r < 0 ? r : reply_finish(c, d.b, gate, before);
}

static void status_peers(const struct server *s, struct strbuf *sb, uint64_t *lag)
{
	static const char *const states[] = { "down", "connecting", "hello", "up" };
	uint64_t last = kvlog_last_seq(s->log);

	for (size_t i = 0; i < s->npeers; i++) {
		const struct srv_peer *p = &s->peers[i];

		if (last - p->acked > *lag)
			*lag = last - p->acked;
		strbuf_appendf(sb, "replica %s %s acked %" PRIu64 "\n", p->addr, states[p->state],
			       p->acked);
	}
}

static int on_status(struct server *s, struct srv_conn *c)
{
	static const char *const syncs[] = { "always", "batch", "never" };
	struct strbuf sb = STRBUF_INIT;
	uint64_t last = kvlog_last_seq(s->log), lag = 0;
	int r;

	strbuf_appendf(&sb,
		       "role %s\nseq %" PRIu64 "\nbytes %" PRIu64 "\ndurable %" PRIu64
		       "\ncommit %" PRIu64 "\nkeys %zu\nsync %s\nreplication %s\n",
		       s->role == SRV_PRIMARY ? "primary" : "replica", last,
		       kvlog_bytes(s->log) + kvlog_pending(s->log), srv_durable_seq(s),
		       s->commit_seq, kvlog_store_count(s->store), syncs[s->o.sync],
		       s->o.repl_sync ? "sync" : "async");
	if (s->role == SRV_PRIMARY) {
		status_peers(s, &sb, &lag);
	} else {
		lag = s->primary_seq > last ? s->primary_seq - last : 0;
		strbuf_appendf(&sb, "upstream %s\nprimary_seq %" PRIu64 "\n",
			       s->upstream ? "connected" : "disconnected", s->primary_seq);
	}
	strbuf_appendf(&sb, "lag %" PRIu64 "\n", lag);
	r = strbuf_failed(&sb) ? -ENOMEM : reply(s, c, KVP_STATUS_TEXT, sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

static int on_promote(struct server *s, struct srv_conn *c, const struct kvp_frame *f)
{
	_cleanup_free_ char *list = strndup((const char *)f->body, f->len);
	bool was_replica = s->role == SRV_REPLICA;
	int r;

	if (!list)
		return -ENOMEM;
	if (*list) {
		r = srv_peers_set(s, list);
		if (r < 0)
			return reply_err(s, c, EINVAL, "bad replica list (want addr:port,...)");
	}
	if (was_replica) {
		if (s->upstream)
			srv_conn_close(s, s->upstream);
		s->role = SRV_PRIMARY;
		log_info("promoted to primary at seq %" PRIu64 ", replicas \"%s\"",
			 kvlog_last_seq(s->log), list);
	}
	return reply_u64(s, c, 0, KVP_OK, kvlog_last_seq(s->log));
}

static int on_repl(struct server *s, struct srv_conn *c, const struct kvp_frame *f)
{
	uint64_t v;

	if (f->type == KVP_REPL_HELLO) {
		if (kvp_get_u64(f, &v) < 0)
			return -EPROTO;
		if (s->role == SRV_PRIMARY)
			return reply_err(s, c, EBUSY, "this node is a primary");
		return srv_upstream_hello(s, c, v);
	}
	if (!c->upstream)
		return -EPROTO;
	if (f->type == KVP_REPL_RECORD)
		return srv_upstream_record(s, f->body, f->len);
	if (kvp_get_u64(f, &v) < 0)
		return -EPROTO;
	s->primary_seq = v;
	return 0;
}

static int handle(struct server *s, struct srv_conn *c, const struct kvp_frame *f)
{
	switch (f->type) {
	case KVP_SET:
		return on_set(s, c, f);
	case KVP_GET:
		return on_get(s, c, f);
	case KVP_DUMP:
		return on_dump(s, c);
	case KVP_STATUS:
		return on_status(s, c);
	case KVP_PROMOTE:
		return on_promote(s, c, f);
	case KVP_REPL_HELLO:
	case KVP_REPL_RECORD:
	case KVP_REPL_BEAT:
		return on_repl(s, c, f);
	default:
		return reply_err(s, c, EPROTO, "unknown request");
	}
}

static void process(struct server *s, struct srv_conn *c)
{
	while (!c->dead && !s->stop) {
		struct kvp_frame f;
		ssize_t n = kvp_parse(kvlog_buf_data(&c->in), kvlog_buf_size(&c->in), &f);

		if (n == 0)
			return;
		if (n < 0 || handle(s, c, &f) < 0) {
			srv_conn_close(s, c);
			return;
		}
		kvlog_buf_consume(&c->in, (size_t)n);
	}
}

static void conn_read(struct server *s, struct srv_conn *c)
{
	for (int i = 0; i < 16 && !c->dead; i++) {
		unsigned char *p = kvlog_buf_reserve(&c->in, 65536);
		ssize_t n;

		if (!p) {
			srv_conn_close(s, c);
			return;
		}
		n = recv(c->fd, p, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				srv_conn_close(s, c);
			return;
		}
		c->in.len += (size_t)n;
		process(s, c);
		if (n < 65536)
			return;
	}
}

void srv_conn_event(struct server *s, struct srv_conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if (events & EPOLLIN)
		conn_read(s, c);
	else if (events & (EPOLLHUP | EPOLLERR))
		srv_conn_close(s, c);
	if (!c->dead && (events & EPOLLOUT))
		srv_conn_flush(s, c);
}
