/* kvlog-server: the reference target's TCP key-value server (options, replay, event loop).
 *
 * Exit status: 0 stopped by SIGTERM/SIGINT; 1 runtime error (e.g. the log cannot be
 * written: the server stops rather than acknowledge what it cannot log); 2 usage;
 * 3 the log is corrupt in the middle and --skip-corrupt was not given.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "targets/kvlog/kvlog_net.h"
#include "targets/kvlog/kvlog_server.h"

#define EXIT_USAGE 2
#define EXIT_CORRUPT 3
#define TICK_NS (10 * NSEC_PER_MSEC)
#define PERIOD_NS (100 * NSEC_PER_MSEC) /* reconnects, beats */
/* ack-before-write holds acknowledged records until this much is buffered: never on a
 * timer, whose phase a fault at a round time could meet just after a flush (losing
 * nothing, so the unsafe variant would pass its drill by luck). */
#define ABW_FLUSH_BYTES (64 * 1024)
/* The zeroed tail kept ahead of the log's records when it is synced (kvlog_log.h): each
 * fill costs one slower fdatasync, once every ~8,000 100-byte writes. */
#define PREALLOC_BYTES (1 << 20)

static enum srv_kind ev_listen = EV_LISTEN, ev_signal = EV_SIGNAL, ev_timer = EV_TIMER,
		     ev_sync = EV_SYNC, ev_linger = EV_LINGER;

uint64_t srv_durable_seq(const struct server *s)
{
	return s->o.sync == SRV_SYNC_NEVER ? kvlog_written_seq(s->log) : kvlog_synced_seq(s->log);
}

int srv_fail(struct server *s, int r, const char *what)
{
	log_error("%s: %s; stopping", what, strerror(-r));
	s->stop = true;
	s->exit_code = 1;
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kvlog-server --data DIR --listen ADDR:PORT [options]\n"
		"  --sync always|batch|never      fsync each write / each batch / never (always)\n"
		"  --role primary|replica         (primary)\n"
		"  --replicas ADDR:PORT,...        replicas this primary ships to (\"\" = none)\n"
		"  --replication sync|async       ack after every replica made it durable, or at\n"
		"                                 once and ship every --async-delay (sync)\n"
		"  --async-delay DURATION         async shipping period (100ms)\n"
		"  --skip-corrupt                 skip mid-log corruption instead of refusing\n"
		"  --on-corrupt refuse|skip       the same as a value (refuse is the default)\n"
		"  --max-log-size SIZE            rotate txn.log at this size (64MiB)\n"
		"  --unsafe none|ack-before-write|no-crc|no-truncate|eio-as-tail[,...]\n"
		"  --unsafe-ack-before-write --unsafe-no-crc --unsafe-no-truncate\n"
		"                                 self-test variants, each unsafe as named\n");
}

static int parse_unsafe(struct srv_opts *o, const char *list)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (strcmp(w, "ack-before-write") == 0)
			o->ack_before_write = true;
		else if (strcmp(w, "no-crc") == 0)
			o->log.no_crc = true;
		else if (strcmp(w, "no-truncate") == 0)
			o->log.no_truncate = true;
		else if (strcmp(w, "eio-as-tail") == 0)
			o->log.eio_as_tail = true;
		else if (strcmp(w, "none") != 0)
			return -EINVAL;
	}
	return 0;
}

static int pick(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -EINVAL;
}

enum {
	OPT_SYNC = 256,
	OPT_ROLE,
	OPT_REPLICAS,
	OPT_REPLICATION,
	OPT_SKIP,
	OPT_MAXSIZE,
	OPT_UNSAFE,
	OPT_ABW,
	OPT_NOCRC,
	OPT_NOTRUNC,
	OPT_DELAY,
	OPT_ON_CORRUPT
};

static const struct option long_opts[] = {
	{ "data", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "sync", required_argument, NULL, OPT_SYNC },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "replicas", required_argument, NULL, OPT_REPLICAS },
	{ "replication", required_argument, NULL, OPT_REPLICATION },
	{ "async-delay", required_argument, NULL, OPT_DELAY },
	{ "skip-corrupt", no_argument, NULL, OPT_SKIP },
	{ "on-corrupt", required_argument, NULL, OPT_ON_CORRUPT },
	{ "max-log-size", required_argument, NULL, OPT_MAXSIZE },
	{ "unsafe", required_argument, NULL, OPT_UNSAFE },
	{ "unsafe-ack-before-write", no_argument, NULL, OPT_ABW },
	{ "unsafe-no-crc", no_argument, NULL, OPT_NOCRC },
	{ "unsafe-no-truncate", no_argument, NULL, OPT_NOTRUNC },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int parse_one(struct srv_opts *o, int c, const char *arg)
{
	static const char *const syncs[] = { "always", "batch", "never" };
	static const char *const roles[] = { "primary", "replica" };
	static const char *const repls[] = { "async", "sync" };
	static const char *const corrupts[] = { "refuse", "skip" };
	int v = 0;

	switch (c) {
	case 'd':
		o->data = arg;
		break;
	case 'l':
		o->listen = arg;
		break;
	case OPT_SYNC:
		v = pick(arg, syncs, 3);
		o->sync = (enum srv_sync)v;
		break;
	case OPT_ROLE:
		v = pick(arg, roles, 2);
		o->role = (enum srv_role)v;
		break;
	case OPT_REPLICAS:
		o->replicas = arg;
		break;
	case OPT_REPLICATION:
		v = pick(arg, repls, 2);
		o->repl_sync = v == 1;
		break;
	case OPT_DELAY:
		v = units_parse_duration(arg, &o->async_delay_ns);
		break;
	case OPT_SKIP:
		o->log.skip_corrupt = true;
		break;
	case OPT_ON_CORRUPT:
		v = pick(arg, corrupts, 2);
		o->log.skip_corrupt = v == 1;
		break;
	case OPT_MAXSIZE:
		v = units_parse_size(arg, &o->log.max_size);
		break;
	case OPT_UNSAFE:
		v = parse_unsafe(o, arg);
		break;
	case OPT_ABW:
		o->ack_before_write = true;
		break;
	case OPT_NOCRC:
		o->log.no_crc = true;
		break;
	case OPT_NOTRUNC:
		o->log.no_truncate = true;
		break;
	default:
		return -EINVAL;
	}
	return v < 0 ? v : 0;
}

static const char *opt_name(int c)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

static int parse_args(int argc, char **argv, struct srv_opts *o)
{
	int c;

	*o = (struct srv_opts){ .replicas = "",
				.repl_sync = true,
				.async_delay_ns = 100 * NSEC_PER_MSEC };
	while ((c = getopt_long(argc, argv, "d:l:h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (parse_one(o, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "kvlog-server: bad value for --%s: '%s'\n",
					opt_name(c), optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (!o->data || !o->listen || optind != argc) {
		fprintf(stderr, "kvlog-server: --data and --listen are required\n");
		return -EINVAL;
	}
	o->log.dir = o->data;
	/* Only fdatasync gains from a zeroed tail: --sync never would just write it. */
	o->log.prealloc = o->sync == SRV_SYNC_NEVER ? 0 : PREALLOC_BYTES;
	return 0;
}

static int replay_apply(void *ud, const struct kvlog_rec *rec)
{
	struct server *s = ud;

	return kvlog_store_set(s->store, rec->key, rec->klen, rec->val, rec->vlen);
}

/* The clocks as this process sees them, once at start: a drill that skews them (the clock
 * fault) reads here that it did. */
static void report_clocks(void)
{
	static const struct {
		clockid_t id;
		const char *name;
	} clocks[] = {
		{ CLOCK_REALTIME, "realtime" },
		{ CLOCK_MONOTONIC, "monotonic" },
		{ CLOCK_BOOTTIME, "boottime" },
	};
	char line[160];
	size_t off = 0;

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct timespec ts;

		clock_gettime(clocks[i].id, &ts);
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s %lld.%03ld",
					i ? ", " : "", clocks[i].name, (long long)ts.tv_sec,
					ts.tv_nsec / 1000000);
	}
	log_info("clocks at start: %s", line);
}

static void report_replay(const struct server *s, const struct kvlog_replay *st)
{
	report_clocks();
	log_info("replay of %s: %" PRIu64 " records, %" PRIu64 " bytes, %u segments, last seq "
		 "%" PRIu64 "; torn tail: %" PRIu64 " bytes, %" PRIu64 " records %s",
		 s->o.data, st->records, st->bytes, st->segments, st->last_seq, st->dropped_bytes,
		 st->dropped_records, st->tail_kept ? "KEPT (unsafe no-truncate)" : "dropped");
	if (st->skipped_bytes)
		log_warn("skipped corrupt data (--skip-corrupt): %" PRIu64 " records, %" PRIu64
			 " bytes",
			 st->skipped_records, st->skipped_bytes);
	if (st->msg[0])
		log_info("%s", st->msg);
	if (s->o.log.no_crc)
		log_warn("UNSAFE: replaying without CRC checks");
	if (s->o.log.eio_as_tail)
		log_warn("UNSAFE: unreadable log bytes are taken for a torn tail and cut");
	if (s->o.ack_before_write)
		log_warn("UNSAFE: acknowledging writes before they are written");
}

/* --sync batch syncs on the log's helper thread; with ack-before-write it stays inline. */
static bool group_commit(const struct server *s)
{
	return s->o.sync == SRV_SYNC_BATCH && !s->o.ack_before_write;
}

static int add_fd(struct server *s, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int setup_group(struct server *s)
{
	int r;

	s->syncfd = kvlog_sync_thread(s->log);
	if (s->syncfd < 0)
		return s->syncfd;
	s->lingerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->lingerfd < 0)
		return -errno;
	r = add_fd(s, s->syncfd, &ev_sync);
	return r < 0 ? r : add_fd(s, s->lingerfd, &ev_linger);
}

static int setup_fds(struct server *s)
{
	struct itimerspec its = { .it_interval = time_ns_to_timespec(TICK_NS),
				  .it_value = time_ns_to_timespec(TICK_NS) };
	struct sockaddr_in sa;
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (kvlog_net_parse(s->o.listen, &sa) < 0)
		return -EINVAL;
	s->lfd = kvlog_net_listen(&sa);
	if (s->lfd < 0)
		return s->lfd;
	s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sigfd < 0 || s->timerfd < 0 || s->epfd < 0 ||
	    timerfd_settime(s->timerfd, 0, &its, NULL) < 0)
		return -errno;
	r = add_fd(s, s->lfd, &ev_listen);
	if (r >= 0)
		r = add_fd(s, s->sigfd, &ev_signal);
	if (r >= 0)
		r = add_fd(s, s->timerfd, &ev_timer);
	if (r >= 0 && group_commit(s))
		r = setup_group(s);
	return r;
}

static void on_timer(struct server *s)
{
	int64_t now = time_mono_ns();
	uint64_t ticks;

	(void)!read(s->timerfd, &ticks, sizeof(ticks));
	if (now >= s->next_ship_ns) {
		s->ship_due = true;
		s->next_ship_ns = now + s->o.async_delay_ns;
	}
	if (now >= s->next_tick_ns) {
		s->next_tick_ns = now + PERIOD_NS;
		if (s->role == SRV_PRIMARY)
			srv_peers_tick(s);
	}
}

static void dispatch(struct server *s, const struct epoll_event *ev)
{
	enum srv_kind kind = *(const enum srv_kind *)ev->data.ptr;
	struct signalfd_siginfo si;
	int r;

	switch (kind) {
	case EV_LISTEN:
		r = srv_accept(s);
		if (r < 0)
			log_warn("accept: %s", strerror(-r));
		break;
	case EV_SIGNAL:
		if (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
			log_info("signal %u: stopping", si.ssi_signo);
			s->stop = true;
		}
		break;
	case EV_TIMER:
		on_timer(s);
		break;
	case EV_SYNC:
		break; /* commit() takes the returned sync */
	case EV_LINGER:
		srv_group_timer(s);
		break;
	case EV_CONN:
		srv_conn_event(s, ev->data.ptr, ev->events);
		break;
	case EV_PEER:
		srv_peer_event(s, ev->data.ptr, ev->events);
		break;
	}
}

/* write(2) the buffered records, then fdatasync per --sync: inline, or (group commit) on
 * the helper thread. */
static int log_commit(struct server *s)
{
	int r;

	if (s->o.ack_before_write && kvlog_pending(s->log) < ABW_FLUSH_BYTES && !s->stop)
		return 0;
	r = kvlog_write(s->log);
	if (r < 0 || s->o.sync == SRV_SYNC_NEVER)
		return r;
	if (!group_commit(s) || s->stop)
		return kvlog_sync(s->log);
	return srv_group_commit(s);
}

/* Once per loop iteration: write, sync, ship, then release what is now committed. */
static void commit(struct server *s)
{
	uint64_t c;
	int r;

	r = log_commit(s);
	if (r < 0) {
		srv_fail(s, r, "cannot write the log");
		return;
	}
	if (s->role == SRV_PRIMARY) {
		if (s->o.repl_sync || s->ship_due) {
			/* Only what is durable here, as before group commit (ack-before-write
			 * ships what it has, written or not). */
			srv_ship(s, s->o.ack_before_write ? UINT64_MAX : srv_durable_seq(s));
			s->ship_due = false;
		}
		c = srv_durable_seq(s);
		if (s->o.repl_sync && srv_replicas_acked(s) < c)
			c = srv_replicas_acked(s);
	} else {
		srv_upstream_ack(s);
		c = srv_durable_seq(s);
	}
	if (c > s->commit_seq)
		s->commit_seq = c;
	srv_release_all(s);
}

static void conn_free(struct srv_conn *c)
{
	close(c->fd);
	kvlog_buf_release(&c->in);
	kvlog_buf_release(&c->out);
	kvlog_buf_release(&c->held);
	free(c->holds);
	free(c);
}

static void sweep(struct server *s, bool all)
{
	for (struct srv_conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (!c->dead && !all)
			continue;
		if (c->prev)
			c->prev->next = c->next;
		else
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		if (s->upstream == c)
			s->upstream = NULL;
		conn_free(c);
	}
}

static int run(struct server *s)
{
	struct epoll_event evs[64];

	while (!s->stop) {
		int n = epoll_wait(s->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return srv_fail(s, -errno, "epoll_wait");
		for (int i = 0; i < n && !s->stop; i++)
			dispatch(s, &evs[i]);
		srv_peers_apply(s);
		commit(s);
		sweep(s, false);
	}
	return 0;
}

static void server_fini(struct server *s)
{
	int *fds[] = { &s->epfd, &s->lfd, &s->sigfd, &s->timerfd, &s->lingerfd };

	sweep(s, true);
	srv_peers_free(s);
	kvlog_free(s->log);
	kvlog_store_free(s->store);
	kvlog_buf_release(&s->ship);
	kvlog_buf_release(&s->scratch);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static int start(struct server *s)
{
	struct kvlog_replay st;
	int r;

	s->store = kvlog_store_new();
	if (!s->store)
		return -ENOMEM;
	r = kvlog_open(&s->o.log, replay_apply, s, &st, &s->log);
	if (r == -EBADMSG) {
		log_error("%s", st.msg);
		s->exit_code = EXIT_CORRUPT;
		return r;
	}
	if (r < 0) {
		log_error("cannot open the log in %s: %s", s->o.data, strerror(-r));
		return r;
	}
	report_replay(s, &st);
	s->commit_seq = st.last_seq;
	r = setup_fds(s);
	if (r < 0) {
		log_error("cannot listen on %s: %s", s->o.listen, strerror(-r));
		return r;
	}
	r = srv_peers_set(s, s->o.replicas);
	if (r < 0) {
		log_error("bad --replicas '%s'", s->o.replicas);
		return r;
	}
	srv_peers_apply(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const syncs[] = { "always", "batch", "never" };
	struct server s = { .epfd = -1,
			    .lfd = -1,
			    .sigfd = -1,
			    .timerfd = -1,
			    .syncfd = -1,
			    .lingerfd = -1,
			    .exit_code = 1 };

	log_set_prog("kvlog-server");
	if (parse_args(argc, argv, &s.o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	s.role = s.o.role;
	if (start(&s) < 0) {
		server_fini(&s);
		return s.exit_code;
	}
	log_info("listening on %s as %s, sync %s, replication %s, replicas \"%s\"", s.o.listen,
		 s.role == SRV_PRIMARY ? "primary" : "replica", syncs[s.o.sync],
		 s.o.repl_sync ? "sync" : "async", s.o.replicas);
	s.exit_code = 0;
	run(&s);
	if (kvlog_write(s.log) < 0 || kvlog_sync(s.log) < 0)
		s.exit_code = 1;
	server_fini(&s);
	return s.exit_code;
}
