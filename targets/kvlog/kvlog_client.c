/* kvlog's blocking client: one request, one (or a stream of) answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "targets/kvlog/kvlog_client.h"
#include "targets/kvlog/kvlog_net.h"
#include "targets/kvlog/kvlog_proto.h"

struct kvlog_client {
	int fd;		      /* owned, blocking with timeouts */
	struct kvlog_buf in;  /* owned: received, not yet parsed */
	struct kvlog_buf out; /* owned: request being built */
	char err[256];
};

static int client_new(int fd, struct kvlog_client **out)
{
	struct kvlog_client *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

int kvlog_client_open(const char *addr, int timeout_ms, struct kvlog_client **out)
{
	struct sockaddr_in sa;
	int fd, r = kvlog_net_parse(addr, &sa);

	if (r < 0)
		return r;
	fd = kvlog_net_connect(&sa, timeout_ms);
	return fd < 0 ? fd : client_new(fd, out);
}

int kvlog_client_open_host(const char *host, uint16_t port, int timeout_ms,
			   struct kvlog_client **out)
{
	struct sockaddr_in sa;
	int fd, r = kvlog_net_sockaddr(host, port, &sa);

	if (r < 0)
		return r;
	fd = kvlog_net_connect(&sa, timeout_ms);
	return fd < 0 ? fd : client_new(fd, out);
}

void kvlog_client_free(struct kvlog_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	kvlog_buf_release(&c->in);
	kvlog_buf_release(&c->out);
	free(c);
}

const char *kvlog_client_error(const struct kvlog_client *c)
{
	return c->err;
}

static int send_out(struct kvlog_client *c)
{
	int r = fs_write_full(c->fd, kvlog_buf_data(&c->out), kvlog_buf_size(&c->out));

	kvlog_buf_consume(&c->out, kvlog_buf_size(&c->out));
	return r;
}

/* Waits for the next whole frame; f->body stays valid until the next call. */
static int next_frame(struct kvlog_client *c, struct kvp_frame *f)
{
	for (;;) {
		ssize_t n = kvp_parse(kvlog_buf_data(&c->in), kvlog_buf_size(&c->in), f);
		unsigned char *p;

		if (n < 0)
			return (int)n;
		if (n > 0) {
			/* Consumed now; the bytes stay in place until the next reserve. */
			kvlog_buf_consume(&c->in, (size_t)n);
			return 0;
		}
		p = kvlog_buf_reserve(&c->in, 65536);
		if (!p)
			return -ENOMEM;
		n = recv(c->fd, p, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		c->in.len += (size_t)n;
	}
}

/* Sends the built request and reads one answer; ERR becomes -errno with c->err set. */
static int roundtrip(struct kvlog_client *c, struct kvp_frame *f)
{
	int code, r;

	c->err[0] = '\0';
	r = send_out(c);
	if (r < 0)
		return r;
	r = next_frame(c, f);
	if (r < 0)
		return r;
	if (f->type != KVP_ERR)
		return 0;
	if (kvp_get_err(f, &code, c->err, sizeof(c->err)) < 0)
		return -EPROTO;
	return -code;
}

int kvlog_client_set(struct kvlog_client *c, const char *key, size_t klen, const void *val,
		     size_t vlen, uint64_t *seq)
{
	struct kvp_frame f;
	uint64_t s = 0;
	int r = kvp_put_kv(&c->out, KVP_SET, key, klen, val, vlen);

	if (r < 0)
		return r;
	r = roundtrip(c, &f);
	if (r < 0)
		return r;
	if (f.type != KVP_OK || kvp_get_u64(&f, &s) < 0)
		return -EPROTO;
	if (seq)
		*seq = s;
	return 0;
}

int kvlog_client_get(struct kvlog_client *c, const char *key, size_t klen, void **val, size_t *vlen)
{
	struct kvp_frame f;
	int r = kvp_put(&c->out, KVP_GET, key, klen);

	if (r < 0)
		return r;
	r = roundtrip(c, &f);
	if (r < 0)
		return r;
	if (f.type == KVP_NOTFOUND)
		return -ENOENT;
	if (f.type != KVP_VALUE)
		return -EPROTO;
	*val = malloc(f.len ? f.len : 1);
	if (!*val)
		return -ENOMEM;
	memcpy(*val, f.body, f.len);
	*vlen = f.len;
	return 0;
}

int kvlog_client_dump(struct kvlog_client *c, kvlog_kv_fn cb, void *ud, uint64_t *count)
{
	struct kvp_frame f;
	int r = kvp_put(&c->out, KVP_DUMP, NULL, 0);

	if (r < 0)
		return r;
	for (r = roundtrip(c, &f); r >= 0; r = next_frame(c, &f)) {
		const char *key;
		const void *val;
		size_t klen, vlen;

		if (f.type == KVP_END)
			return count ? kvp_get_u64(&f, count) : 0;
		if (f.type != KVP_KV || kvp_get_kv(&f, &key, &klen, &val, &vlen) < 0)
			return -EPROTO;
		r = cb(ud, key, klen, val, vlen);
		if (r < 0)
			return r;
	}
	return r;
}

int kvlog_client_status(struct kvlog_client *c, char **text)
{
	struct kvp_frame f;
	int r = kvp_put(&c->out, KVP_STATUS, NULL, 0);

	if (r < 0)
		return r;
	r = roundtrip(c, &f);
	if (r < 0)
		return r;
	if (f.type != KVP_STATUS_TEXT)
		return -EPROTO;
	*text = strndup((const char *)f.body, f.len);
	return *text ? 0 : -ENOMEM;
}

int kvlog_client_promote(struct kvlog_client *c, const char *replicas)
{
	struct kvp_frame f;
	int r = kvp_put(&c->out, KVP_PROMOTE, replicas, strlen(replicas));

	if (r < 0)
		return r;
	r = roundtrip(c, &f);
	if (r < 0)
		return r;
	return f.type == KVP_OK ? 0 : -EPROTO;
}
