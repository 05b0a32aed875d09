/* kvlog-server replication: a primary ships its log to replicas; a replica applies it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "targets/kvlog/kvlog_net.h"
#include "targets/kvlog/kvlog_proto.h"
#include "targets/kvlog/kvlog_server.h"

#define RETRY_NS (200 * NSEC_PER_MSEC)

static void peer_close(struct srv_peer *p)
{
	if (p->fd >= 0)
		close(p->fd); /* also leaves the epoll set */
	p->fd = -1;
	p->state = PEER_DOWN;
	p->pollout = false;
	kvlog_buf_release(&p->in);
	kvlog_buf_release(&p->out);
}

static void free_array(struct srv_peer *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		peer_close(&v[i]);
	free(v);
}

void srv_peers_free(struct server *s)
{
	free_array(s->peers, s->npeers);
	free_array(s->next_peers, s->next_npeers);
	s->peers = s->next_peers = NULL;
	s->npeers = s->next_npeers = 0;
}

int srv_peers_set(struct server *s, const char *list)
{
	_cleanup_free_ char *copy = strdup(list);
	struct srv_peer *v = NULL;
	size_t n = 0;
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		struct srv_peer *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		v[n] = (struct srv_peer){ .kind = EV_PEER, .fd = -1 };
		if (kvlog_net_parse(a, &v[n].sa) < 0 || strlen(a) >= sizeof(v[n].addr)) {
			free(v);
			return -EINVAL;
		}
		strcpy(v[n].addr, a);
		n++;
	}
	free_array(s->next_peers, s->next_npeers);
	s->next_peers = v;
	s->next_npeers = n;
	s->peers_changed = true;
	return 0;
}

/* Between event batches, so no pending event points at a peer freed here. */
void srv_peers_apply(struct server *s)
{
	if (!s->peers_changed)
		return;
	free_array(s->peers, s->npeers);
	s->peers = s->next_peers;
	s->npeers = s->next_npeers;
	s->next_peers = NULL;
	s->next_npeers = 0;
	s->peers_changed = false;
	s->next_tick_ns = 0; /* connect at the next tick */
}

static void peer_down(struct srv_peer *p, const char *why, int err)
{
	if (p->state == PEER_READY || p->state == PEER_HELLO)
		log_warn("replica %s: %s%s%s", p->addr, why, err ? ": " : "",
			 err ? strerror(err) : "");
	peer_close(p);
	p->next_try_ns = time_mono_ns() + RETRY_NS;
}

static void peer_connect(struct server *s, struct srv_peer *p)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = p };

	p->fd = kvlog_net_connect_start(&p->sa);
	if (p->fd < 0) {
		p->fd = -1;
		peer_down(p, "connect", 0);
		return;
	}
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, p->fd, &ev) < 0) {
		peer_down(p, "epoll", errno);
		return;
	}
	p->state = PEER_CONNECTING;
	p->pollout = true;
}

static void peer_flush(struct server *s, struct srv_peer *p)
{
	int r = kvlog_buf_send(&p->out, p->fd);

	if (r < 0) {
		peer_down(p, "send", -r);
		return;
	}
	srv_set_pollout(s, p->fd, p, &p->pollout, kvlog_buf_size(&p->out) > 0);
}

static int catchup_one(void *ud, const struct kvlog_rec *rec)
{
	struct srv_peer *p = ud;
	int r = kvp_put(&p->out, KVP_REPL_RECORD, rec->raw, rec->raw_len);

	if (r >= 0)
		p->sent = rec->seq;
	return r;
}

/* The replica holds everything up to pos: send it the rest of the log from disk. */
static void on_pos(struct server *s, struct srv_peer *p, uint64_t pos)
{
	uint64_t last = kvlog_last_seq(s->log);
	int r;

	if (pos > last) {
		log_warn("replica %s is ahead of this primary (seq %" PRIu64 " > %" PRIu64
			 "): not shipping to it",
			 p->addr, pos, last);
		peer_down(p, "diverged", 0);
		p->next_try_ns = time_mono_ns() + 50 * RETRY_NS;
		return;
	}
	p->acked = p->sent = pos;
	r = kvlog_write(s->log);
	if (r < 0) {
		srv_fail(s, r, "cannot write the log");
		return;
	}
	r = kvlog_read_after(s->o.data, pos, catchup_one, p);
	if (r < 0) {
		peer_down(p, "catch-up read", -r);
		return;
	}
	p->state = PEER_READY;
	log_info("replica %s connected at seq %" PRIu64 ", sent %" PRIu64 " records to catch up",
		 p->addr, pos, p->sent - pos);
}

static void peer_frame(struct server *s, struct srv_peer *p, const struct kvp_frame *f)
{
	char msg[256];
	uint64_t v;
	int code;

	if (f->type == KVP_ERR && kvp_get_err(f, &code, msg, sizeof(msg)) == 0) {
		log_warn("replica %s refused replication: %s", p->addr, msg);
		peer_down(p, "refused", 0);
		p->next_try_ns = time_mono_ns() + 5 * RETRY_NS;
	} else if (kvp_get_u64(f, &v) < 0) {
		peer_down(p, "bad answer", EPROTO);
	} else if (f->type == KVP_POS && p->state == PEER_HELLO) {
		on_pos(s, p, v);
	} else if (f->type == KVP_ACK && p->state == PEER_READY) {
		if (v > p->acked)
			p->acked = v;
	} else {
		peer_down(p, "unexpected answer", EPROTO);
	}
}

static void peer_read(struct server *s, struct srv_peer *p)
{
	for (;;) {
		unsigned char *b = kvlog_buf_reserve(&p->in, 4096);
		struct kvp_frame f;
		ssize_t n;

		if (!b)
			return peer_down(p, "read", ENOMEM);
		n = recv(p->fd, b, 4096, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			return peer_down(p, n ? "read" : "closed", n ? errno : 0);
		p->in.len += (size_t)n;
		while (p->fd >= 0 &&
		       (n = kvp_parse(kvlog_buf_data(&p->in), kvlog_buf_size(&p->in), &f)) != 0) {
			if (n < 0)
				return peer_down(p, "bad frame", EPROTO);
			peer_frame(s, p, &f);
			kvlog_buf_consume(&p->in, (size_t)n);
		}
		if (p->fd < 0)
			return;
	}
}

static void peer_connected(struct server *s, struct srv_peer *p)
{
	socklen_t sl = sizeof(int);
	int err = 0;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (err)
		return peer_down(p, "connect", err);
	p->state = PEER_HELLO;
	if (kvp_put_u64(&p->out, KVP_REPL_HELLO, kvlog_last_seq(s->log)) < 0)
		peer_down(p, "hello", ENOMEM);
}

void srv_peer_event(struct server *s, struct srv_peer *p, uint32_t events)
{
	if (p->fd < 0)
		return;
	if (p->state == PEER_CONNECTING)
		peer_connected(s, p);
	if (p->fd >= 0 && (events & EPOLLIN))
		peer_read(s, p);
	if (p->fd >= 0 && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		peer_down(p, "hang-up", 0);
	if (p->fd >= 0)
		peer_flush(s, p);
}

void srv_peers_tick(struct server *s)
{
	int64_t now = time_mono_ns();

	for (size_t i = 0; i < s->npeers; i++) {
		struct srv_peer *p = &s->peers[i];

		if (p->state == PEER_DOWN && now >= p->next_try_ns)
			peer_connect(s, p);
		else if (p->state == PEER_READY &&
			 kvp_put_u64(&p->out, KVP_REPL_BEAT, kvlog_last_seq(s->log)) == 0)
			peer_flush(s, p);
	}
}

int srv_ship_record(struct server *s, const unsigned char *raw, size_t len, uint64_t seq)
{
	if (s->npeers == 0)
		return 0;
	if (kvlog_buf_size(&s->ship) == 0)
		s->ship_first = seq;
	return kvp_put(&s->ship, KVP_REPL_RECORD, raw, len);
}

/* seq of the record in the REPL_RECORD frame at d (n bytes), 0 when there is none. */
static uint64_t frame_seq(const unsigned char *d, size_t n, size_t *flen)
{
	struct kvp_frame f;
	ssize_t len = kvp_parse(d, n, &f);

	if (len <= 0 || f.len < KVLOG_HDR_SIZE)
		return 0;
	*flen = (size_t)len;
	return kvlog_get_u64(f.body + 16);
}

/* Bytes at the head of s->ship holding the records with seq <= upto; *last: the last. */
static size_t ship_prefix(const struct server *s, uint64_t upto, uint64_t *last)
{
	const unsigned char *d = kvlog_buf_data(&s->ship);
	size_t size = kvlog_buf_size(&s->ship), off = 0, n = 0;
	uint64_t seq;

	while (off < size && (seq = frame_seq(d + off, size - off, &n)) && seq <= upto) {
		*last = seq;
		off += n;
	}
	return off;
}

/* Appends the frames of s->ship[0, len) that p lacks to p->out; last: the last seq there. */
static void ship_to(struct server *s, struct srv_peer *p, size_t len, uint64_t last)
{
	const unsigned char *d = kvlog_buf_data(&s->ship);
	size_t off = 0, n = 0;

	if (p->sent + 1 == s->ship_first) {
		if (kvlog_buf_append(&p->out, d, len) < 0)
			return peer_down(p, "ship", ENOMEM);
		p->sent = last;
		return;
	}
	while (off < len) { /* caught up from disk meanwhile: skip what it has */
		uint64_t seq = frame_seq(d + off, len - off, &n);

		if (!seq)
			break;
		if (seq > p->sent) {
			if (kvlog_buf_append(&p->out, d + off, n) < 0)
				return peer_down(p, "ship", ENOMEM);
			p->sent = seq;
		}
		off += n;
	}
}

void srv_ship(struct server *s, uint64_t upto)
{
	uint64_t last = 0;
	size_t len = ship_prefix(s, upto, &last), n = 0;

	if (len == 0)
		return;
	for (size_t i = 0; i < s->npeers; i++) {
		struct srv_peer *p = &s->peers[i];

		if (p->state != PEER_READY)
			continue; /* it catches up from disk when it comes back */
		ship_to(s, p, len, last);
		if (p->fd >= 0)
			peer_flush(s, p);
	}
	kvlog_buf_consume(&s->ship, len);
	if (kvlog_buf_size(&s->ship) > 0)
		s->ship_first = frame_seq(kvlog_buf_data(&s->ship), kvlog_buf_size(&s->ship), &n);
}

uint64_t srv_replicas_acked(const struct server *s)
{
	uint64_t m = UINT64_MAX;

	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i].acked < m)
			m = s->peers[i].acked;
	return m;
}

int srv_upstream_hello(struct server *s, struct srv_conn *c, uint64_t primary_seq)
{
	if (s->upstream && s->upstream != c)
		srv_conn_close(s, s->upstream);
	s->upstream = c;
	c->upstream = true;
	s->primary_seq = primary_seq;
	s->upstream_acked = 0;
	log_info("primary connected (its seq %" PRIu64 ", ours %" PRIu64 ")", primary_seq,
		 kvlog_last_seq(s->log));
	return kvp_put_u64(&c->out, KVP_POS, kvlog_last_seq(s->log));
}

int srv_upstream_record(struct server *s, const unsigned char *raw, size_t len)
{
	struct kvlog_rec rec;
	int r;

	if (kvlog_rec_decode(raw, len, true, &rec) != KVLOG_BAD_NONE || rec.raw_len != len)
		return -EPROTO;
	if (rec.seq <= kvlog_last_seq(s->log))
		return 0; /* already have it */
	r = kvlog_append_raw(s->log, &rec);
	if (r >= 0)
		r = kvlog_store_set(s->store, rec.key, rec.klen, rec.val, rec.vlen);
	if (r >= 0 && rec.seq > s->primary_seq)
		s->primary_seq = rec.seq;
	return r < 0 ? srv_fail(s, r, "cannot apply a replicated record") : 0;
}

void srv_upstream_ack(struct server *s)
{
	uint64_t d = srv_durable_seq(s);

	if (!s->upstream || d <= s->upstream_acked)
		return;
	if (kvp_put_u64(&s->upstream->out, KVP_ACK, d) == 0)
		s->upstream_acked = d;
}
