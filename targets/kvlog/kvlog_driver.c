/* kvlog's workload driver for the harness (targets/driver.h): pipelined non-blocking SETs. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "targets/driver.h"
#include "targets/kvlog/kvlog_client.h"
#include "targets/kvlog/kvlog_net.h"
#include "targets/kvlog/kvlog_proto.h"

struct target_conn {
	int fd; /* owned */
	bool connecting;
	struct kvlog_buf out; /* owned: requests not yet sent */
	struct kvlog_buf in;  /* owned: answers not yet parsed */
	uint64_t *tags;	      /* owned ring: submitted, not completed */
	size_t head, count, cap;
};

static void conn_free(struct target_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	kvlog_buf_release(&c->out);
	kvlog_buf_release(&c->in);
	free(c->tags);
	free(c);
}

static int conn_open(const char *host, uint16_t port, struct target_conn **out)
{
	struct target_conn *c;
	struct sockaddr_in sa;
	int r = kvlog_net_sockaddr(host, port, &sa);

	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = kvlog_net_connect_start(&sa);
	if (c->fd < 0) {
		r = c->fd;
		free(c);
		return r;
	}
	c->connecting = true;
	*out = c;
	return 0;
}

static int conn_fd(const struct target_conn *c)
{
	return c->fd;
}

static int push_tag(struct target_conn *c, uint64_t tag)
{
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		uint64_t *t = malloc(cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < c->count; i++)
			t[i] = c->tags[(c->head + i) % c->cap];
		free(c->tags);
		c->tags = t;
		c->cap = cap;
		c->head = 0;
	}
	c->tags[(c->head + c->count) % c->cap] = tag;
	c->count++;
	return 0;
}

static int conn_submit_set(struct target_conn *c, uint64_t tag, const char *key,
			   const void *val, size_t vlen)
{
	size_t klen = strlen(key), before = c->out.len;
	int r;

	if (klen == 0 || klen > KVLOG_MAX_KEY || vlen > KVLOG_MAX_VALUE)
		return -EINVAL;
	r = kvp_put_kv(&c->out, KVP_SET, key, klen, val, vlen);
	if (r < 0)
		return r;
	r = push_tag(c, tag);
	if (r < 0)
		c->out.len = before; /* withdraw the frame */
	return r;
}

static bool conn_want_write(const struct target_conn *c)
{
	return c->connecting || kvlog_buf_size(&c->out) > 0;
}

/* 1 connected, 0 still connecting, -errno failed. */
static int check_connected(struct target_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	socklen_t sl = sizeof(int);
	int err = 0;

	if (!c->connecting)
		return 1;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		return -errno;
	if (err)
		return -err;
	c->connecting = false;
	return 1;
}

static int conn_flush(struct target_conn *c)
{
	int r = check_connected(c);

	if (r <= 0)
		return r;
	while (kvlog_buf_size(&c->out) > 0) {
		ssize_t n = send(c->fd, kvlog_buf_data(&c->out), kvlog_buf_size(&c->out),
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		kvlog_buf_consume(&c->out, (size_t)n);
	}
	return 0;
}

/* Completes the head tag with the answer f. */
static int complete(struct target_conn *c, const struct kvp_frame *f, target_done_fn done,
		    void *ud)
{
	uint64_t tag;
	char msg[256];
	int code;

	if (c->count == 0)
		return -EPROTO; /* an answer nobody asked for */
	tag = c->tags[c->head];
	c->head = (c->head + 1) % c->cap;
	c->count--;
	if (f->type == KVP_OK) {
		done(ud, tag, 0, NULL);
		return 0;
	}
	if (f->type != KVP_ERR || kvp_get_err(f, &code, msg, sizeof(msg)) < 0)
		return -EPROTO;
	done(ud, tag, -code, msg);
	return 0;
}

static int parse_answers(struct target_conn *c, target_done_fn done, void *ud)
{
	for (;;) {
		struct kvp_frame f;
		ssize_t n = kvp_parse(kvlog_buf_data(&c->in), kvlog_buf_size(&c->in), &f);
		int r;

		if (n <= 0)
			return (int)n;
		r = complete(c, &f, done, ud);
		kvlog_buf_consume(&c->in, (size_t)n);
		if (r < 0)
			return r;
	}
}

static int conn_read(struct target_conn *c, target_done_fn done, void *ud)
{
	for (;;) {
		unsigned char *p = kvlog_buf_reserve(&c->in, 65536);
		ssize_t n;
		int r;

		if (!p)
			return -ENOMEM;
		n = recv(c->fd, p, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0)
			return -ECONNRESET;
		c->in.len += (size_t)n;
		r = parse_answers(c, done, ud);
		if (r < 0)
			return r;
		if (n < 65536)
			return 0;
	}
}

static size_t conn_pending(const struct target_conn *c, uint64_t *tags, size_t max)
{
	size_t n = c->count < max ? c->count : max;

	for (size_t i = 0; i < n; i++)
		tags[i] = c->tags[(c->head + i) % c->cap];
	return n;
}

static int read_all(const char *host, uint16_t port, int timeout_ms, target_kv_fn cb, void *ud)
{
	struct kvlog_client *cl = NULL;
	int r = kvlog_client_open_host(host, port, timeout_ms, &cl);

	if (r < 0)
		return r;
	r = kvlog_client_dump(cl, cb, ud, NULL);
	kvlog_client_free(cl);
	return r;
}

const struct target_driver kvlog_driver = {
	.name = "kvlog",
	.conn_open = conn_open,
	.conn_fd = conn_fd,
	.conn_submit_set = conn_submit_set,
	.conn_want_write = conn_want_write,
	.conn_flush = conn_flush,
	.conn_read = conn_read,
	.conn_pending = conn_pending,
	.conn_free = conn_free,
	.read_all = read_all,
};
