/* sqlite-node: a key-value server on libsqlite3 that speaks the line protocol of adapters
 * (docs/adapters.md) over TCP, so that line-relay can drive it; chaosdrill's SQLite target.
 *
 *   sqlite-node --data DIR --listen ADDR:PORT [--synchronous full|normal|off]
 *               [--journal wal|delete|off] [--batch N]
 *
 * Requests, one per line: `ID ping`, `ID set KEY VALUE`, `ID read_all`; replies `ID ok`,
 * `ID fail TEXT` (not applied), `ID unknown TEXT` (a commit whose outcome SQLite could not
 * tell), and for read_all `ID kv KEY VALUE` lines closed by `ID ok COUNT`. The table is
 * kv(k TEXT PRIMARY KEY, v TEXT) in DIR/kv.db. One thread, one poll loop: the sets that
 * arrived in one round (up to --batch) are committed in one transaction (group commit),
 * and each is acknowledged only after COMMIT returned.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 the database could not be opened or the socket
 * failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "targets/sqlite/lineio.h"
#include "targets/sqlite/sqlite_store.h"

#define EXIT_USAGE 2
#define MAX_CONNS 256
/* A connection whose replies pile up beyond this is not read until they drain. */
#define OUT_HIGH (8u << 20)

struct conn {
	int fd;
	struct lineio_in in;
	struct lineio_out out;
	bool dead;	/* peer gone or I/O failed: freed once no set of it is pending */
	size_t pending; /* its sets in the open batch */
};

/* A set waiting for the batch's COMMIT: "ID\0KEY\0VALUE" in one allocation. */
struct pending {
	struct conn *c;
	char *id, *key, *val;
};

struct node {
	struct sqlite_store *store;
	enum sqlite_store_journal journal;
	int lfd, sfd;
	struct conn *conns[MAX_CONNS];
	size_t nconns;
	struct pending *pend;
	size_t npend, batch;
	bool stop;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sqlite-node --data DIR --listen ADDR:PORT [options]\n"
		   "  --synchronous full|normal|off   PRAGMA synchronous (full)\n"
		   "  --journal wal|delete|off        PRAGMA journal_mode (wal)\n"
		   "  --batch N                       most sets in one transaction (256)\n");
}

/* Reply text is one line: no newline of SQLite's message may break the stream. */
static int reply(struct conn *c, const char *id, const char *what, const char *text)
{
	_cleanup_free_ char *t = text ? strdup(text) : NULL;

	if (text && !t)
		return -ENOMEM;
	for (char *p = t; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return t ? lineio_out_printf(&c->out, "%s %s %s\n", id, what, t) :
		   lineio_out_printf(&c->out, "%s %s\n", id, what);
}

static void conn_fail(struct conn *c, int r)
{
	if (!c->dead)
		log_debug("connection %d: %s", c->fd, strerror(-r));
	c->dead = true;
}

/* Commits the open batch and answers each of its sets. */
static void commit_batch(struct node *n)
{
	const char **keys, **vals;
	enum sqlite_store_stage stage;
	const char *what = "ok", *text = NULL;
	int r = -ENOMEM;

	if (n->npend == 0)
		return;
	keys = calloc(n->npend, sizeof(*keys));
	vals = calloc(n->npend, sizeof(*vals));
	stage = STORE_STAGE_BEFORE_COMMIT;
	if (keys && vals) {
		for (size_t i = 0; i < n->npend; i++) {
			keys[i] = n->pend[i].key;
			vals[i] = n->pend[i].val;
		}
		r = sqlite_store_commit(n->store, keys, vals, n->npend, &stage);
	}
	free(keys);
	free(vals);
	if (r < 0) {
		text = r == -ENOMEM ? strerror(ENOMEM) : sqlite_store_errmsg(n->store);
		/* Before COMMIT a rollback journal or WAL undoes everything; without a journal,
		 * pages the cache spilled may be in the file already. */
		what = stage == STORE_STAGE_BEFORE_COMMIT && n->journal != STORE_JOURNAL_OFF ?
			       "fail" :
			       "unknown";
		log_error("commit of %zu sets: %s (%s)", n->npend, text, what);
	}
	for (size_t i = 0; i < n->npend; i++) {
		struct pending *p = &n->pend[i];

		if (!p->c->dead) {
			int e = reply(p->c, p->id, what, text);
			if (e < 0)
				conn_fail(p->c, e);
		}
		p->c->pending--;
		free(p->id);
	}
	n->npend = 0;
}

static int add_set(struct node *n, struct conn *c, const char *id, char *rest)
{
	char *sp = strchr(rest, ' ');
	size_t li = strlen(id) + 1, lk, lv;
	struct pending *p;
	char *buf;

	if (!sp || sp == rest || !sp[1])
		return reply(c, id, "fail", "bad request: set needs KEY VALUE");
	*sp = '\0';
	lk = strlen(rest) + 1;
	lv = strlen(sp + 1) + 1;
	buf = malloc(li + lk + lv);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, id, li);
	memcpy(buf + li, rest, lk);
	memcpy(buf + li + lk, sp + 1, lv);
	p = &n->pend[n->npend++];
	*p = (struct pending){ .c = c, .id = buf, .key = buf + li, .val = buf + li + lk };
	c->pending++;
	if (n->npend == n->batch)
		commit_batch(n);
	return 0;
}

struct scan_ctx {
	struct conn *c;
	const char *id;
};

static int scan_row(void *ctx, const char *key, const char *val)
{
	struct scan_ctx *s = ctx;

	return lineio_out_printf(&s->c->out, "%s kv %s %s\n", s->id, key, val);
}

static int read_all(struct node *n, struct conn *c, const char *id)
{
	struct scan_ctx s = { .c = c, .id = id };
	uint64_t count = 0;
	int r;

	/* Sets that came before it on the connections are answered first: a read sees them. */
	commit_batch(n);
	r = sqlite_store_read_all(n->store, scan_row, &s, &count);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return reply(c, id, "fail", sqlite_store_errmsg(n->store));
	return lineio_out_printf(&c->out, "%s ok %" PRIu64 "\n", id, count);
}

static int request(struct node *n, struct conn *c, char *line)
{
	char *id, *verb, *rest;

	if (!*line)
		return 0;
	if (lineio_split(line, &id, &verb, &rest) < 0) {
		/* Nothing to answer to: the line has no id. */
		log_error("connection %d: ignoring a line without ID and request", c->fd);
		return 0;
	}
	if (!strcmp(verb, "ping"))
		return reply(c, id, "ok", NULL);
	if (!strcmp(verb, "set"))
		return add_set(n, c, id, rest);
	if (!strcmp(verb, "read_all"))
		return read_all(n, c, id);
	if (!strcmp(verb, "connect"))
		return reply(c, id, "fail", "connect is the adapter's to handle, not the node's");
	return reply(c, id, "fail", "unknown request");
}

static void conn_read(struct node *n, struct conn *c)
{
	char *line;
	int r;

	r = lineio_in_fill(&c->in, c->fd);
	if (r == -EAGAIN)
		return;
	if (r <= 0) {
		conn_fail(c, r == 0 ? -ECONNRESET : r);
		return;
	}
	while ((line = lineio_in_next(&c->in)))
		if ((r = request(n, c, line)) < 0) {
			conn_fail(c, r);
			return;
		}
}

static void conn_free(struct conn *c)
{
	close(c->fd);
	lineio_in_free(&c->in);
	lineio_out_free(&c->out);
	free(c);
}

static void accept_all(struct node *n)
{
	for (;;) {
		int one = 1, fd = accept4(n->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_error("accept: %s", strerror(errno));
			return;
		}
		if (n->nconns == MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			log_error("refusing a connection: %s",
				  n->nconns == MAX_CONNS ? "too many" : strerror(ENOMEM));
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		n->conns[n->nconns++] = c;
	}
}

/* One round: poll, accept, read every readable connection (committing full batches on
 * the way), commit the rest, write replies, drop dead connections. */
static int round_once(struct node *n)
{
	struct pollfd pfd[MAX_CONNS + 2];
	size_t nc = n->nconns;

	pfd[0] = (struct pollfd){ .fd = n->lfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = n->sfd, .events = POLLIN };
	for (size_t i = 0; i < nc; i++) {
		struct conn *c = n->conns[i];

		pfd[i + 2] = (struct pollfd){ .fd = c->fd };
		if (lineio_out_pending(&c->out) < OUT_HIGH)
			pfd[i + 2].events |= POLLIN;
		if (lineio_out_pending(&c->out))
			pfd[i + 2].events |= POLLOUT;
	}
	if (poll(pfd, nc + 2, -1) < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd[1].revents) {
		n->stop = true;
		return 0;
	}
	for (size_t i = 0; i < nc; i++)
		if (pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(n, n->conns[i]);
	commit_batch(n);
	for (size_t i = 0; i < n->nconns;) {
		struct conn *c = n->conns[i];
		int r = c->dead ? 0 : lineio_out_flush(&c->out, c->fd);

		if (r < 0 && r != -EAGAIN)
			conn_fail(c, r);
		if (c->dead && c->pending == 0) {
			conn_free(c);
			n->conns[i] = n->conns[--n->nconns];
			continue;
		}
		i++;
	}
	if (pfd[0].revents & POLLIN)
		accept_all(n);
	return 0;
}

static int listen_on(const char *hostport)
{
	struct sockaddr_in sa;
	int one = 1, fd;

	if (lineio_parse_hostport(hostport, &sa) < 0)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int signals(void)
{
	sigset_t set;
	int r;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	r = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return r < 0 ? -errno : r;
}

struct args {
	const char *data, *listen;
	struct sqlite_store_opts opts;
	size_t batch;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "synchronous", required_argument, NULL, 's' },
		{ "journal", required_argument, NULL, 'j' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *end;

		switch (o) {
		case 'd':
			a->data = optarg;
			break;
		case 'l':
			a->listen = optarg;
			break;
		case 's':
			if (sqlite_store_parse_sync(optarg, &a->opts.sync) < 0)
				return -EINVAL;
			break;
		case 'j':
			if (sqlite_store_parse_journal(optarg, &a->opts.journal) < 0)
				return -EINVAL;
			break;
		case 'b':
			a->batch = strtoul(optarg, &end, 10);
			if (*end || a->batch == 0 || a->batch > 65536)
				return -EINVAL;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	return a->data && a->listen && optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct args a = { .opts = { STORE_SYNC_FULL, STORE_JOURNAL_WAL }, .batch = 256 };
	struct node n = { .lfd = -1, .sfd = -1 };
	int r;

	log_set_prog("sqlite-node");
	r = parse_args(argc, argv, &a);
	if (r != 0) {
		usage(r > 0 ? stdout : stderr);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	n.batch = a.batch;
	n.journal = a.opts.journal;
	n.pend = calloc(n.batch, sizeof(*n.pend));
	if (!n.pend)
		return 1;
	r = sqlite_store_open(a.data, &a.opts, &n.store);
	if (r < 0) {
		log_error("%s/%s: %s", a.data, SQLITE_STORE_FILE,
			  n.store ? sqlite_store_errmsg(n.store) : strerror(-r));
		sqlite_store_free(n.store);
		free(n.pend);
		return 1;
	}
	n.lfd = listen_on(a.listen);
	n.sfd = signals();
	if (n.lfd < 0 || n.sfd < 0) {
		log_error("listen on %s: %s", a.listen,
			  strerror(n.lfd < 0 ? (n.lfd == -EINVAL ? EINVAL : -n.lfd) : -n.sfd));
		r = -EIO;
	}
	if (r >= 0)
		fprintf(stderr, "sqlite-node: serving %s/%s on %s\n", a.data, SQLITE_STORE_FILE,
			a.listen);
	while (r >= 0 && !n.stop)
		r = round_once(&n);
	if (r < 0 && r != -EIO)
		log_error("poll: %s", strerror(-r));
	for (size_t i = 0; i < n.nconns; i++)
		conn_free(n.conns[i]);
	if (n.lfd >= 0)
		close(n.lfd);
	if (n.sfd >= 0)
		close(n.sfd);
	sqlite_store_free(n.store);
	free(n.pend);
	return r < 0 ? 1 : 0;
}
