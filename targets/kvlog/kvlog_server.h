/* kvlog-server internals shared by its files: the server state, client connections
 * (kvlog_server_conn.c), replication (kvlog_server_repl.c) and the loop (kvlog_server.c).
 *
 * One epoll loop. Each iteration reads every ready socket and handles the complete
 * requests, then commits once: write(2) the buffered log records, fdatasync per --sync,
 * ship the durable records to replicas, and release the answers whose records are now
 * committed (durable here and, for --replication sync, on every replica).
 *
 * --sync batch is a group commit: one fdatasync covers the records of a group, on the
 * loop's thread when every writer expected is in the group, else on the log's helper
 * thread (kvlog_sync_begin) while the loop goes on reading requests; when that
 * returns (EV_SYNC) the answers it covered are released. kvlog_group.c says when a group
 * starts and where. An answer is never released before the fdatasync covering its record
 * has returned.
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_SERVER_H
#define CHAOSDRILL_TARGETS_KVLOG_SERVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "targets/kvlog/kvlog_buf.h"
#include "targets/kvlog/kvlog_group.h"
#include "targets/kvlog/kvlog_log.h"
#include "targets/kvlog/kvlog_store.h"

enum srv_sync { SRV_SYNC_ALWAYS, SRV_SYNC_BATCH, SRV_SYNC_NEVER };
enum srv_role { SRV_PRIMARY, SRV_REPLICA };
enum srv_kind { EV_LISTEN, EV_SIGNAL, EV_TIMER, EV_SYNC, EV_LINGER, EV_CONN, EV_PEER };

struct srv_opts {
	const char *data;     /* borrowed from argv */
	const char *listen;   /* "addr:port" */
	const char *replicas; /* "a:p,b:q" or "" */
	enum srv_sync sync;
	enum srv_role role;
	bool repl_sync;
	bool ack_before_write; /* UNSAFE */
	int64_t async_delay_ns;
	struct kvlog_opts log;
};

/* An answer held until the record at gate is committed. */
struct srv_hold {
	uint64_t gate;
	uint64_t end; /* held_total after this answer */
};

/* An accepted connection: a client, or (on a replica) the primary's stream. */
struct srv_conn {
	enum srv_kind kind;		/* EV_CONN; first member: epoll data points here */
	int fd;				/* owned */
	struct kvlog_buf in, out, held; /* owned */
	struct srv_hold *holds;		/* owned array: [hold_head, nholds) in use */
	size_t hold_head, nholds, hold_cap;
	uint64_t held_total, held_released, last_gate;
	bool upstream; /* the primary's replication stream */
	bool pollout;
	bool dead;
	struct srv_conn *next, *prev;
};

enum srv_peer_state { PEER_DOWN, PEER_CONNECTING, PEER_HELLO, PEER_READY };

/* A replica this primary ships its log to (outbound connection). */
struct srv_peer {
	enum srv_kind kind; /* EV_PEER */
	char addr[64];
	struct sockaddr_in sa;
	int fd; /* owned, -1 when down */
	enum srv_peer_state state;
	uint64_t sent;		  /* last seq queued to it */
	uint64_t acked;		  /* last seq it reported durable */
	struct kvlog_buf in, out; /* owned */
	bool pollout;
	int64_t next_try_ns;
};

struct server {
	struct srv_opts o;
	enum srv_role role;
	int epfd, lfd, sigfd, timerfd; /* owned */
	/* Group commit (--sync batch, kvlog_server_group.c): */
	int syncfd;		   /* borrowed from log: a sync returned; -1 without */
	int lingerfd;		   /* owned: the next group stops waiting; -1 without */
	struct kvlog_group group;  /* when the next sync starts */
	int64_t linger_armed_ns;   /* lingerfd's deadline, 0 when idle */
	struct kvlog *log;	   /* owned */
	struct kvlog_store *store; /* owned */
	struct srv_conn *conns;	   /* owned list */
	struct srv_peer *peers;	   /* owned array */
	size_t npeers;
	struct srv_peer *next_peers; /* owned: set by promote, applied after the batch */
	size_t next_npeers;
	bool peers_changed;
	struct kvlog_buf scratch; /* owned: one framed record being appended */
	struct kvlog_buf ship;	  /* owned: REPL_RECORD frames not yet shipped */
	uint64_t ship_first;	  /* seq of the first frame in ship */
	uint64_t commit_seq;	  /* answers gated at or below this are released */
	uint64_t primary_seq;	  /* replica: the primary's last seq (beats) */
	uint64_t upstream_acked;
	struct srv_conn *upstream; /* borrowed from conns */
	int64_t next_ship_ns, next_flush_ns, next_tick_ns;
	bool ship_due;
	bool stop;
	int exit_code;
};

/* kvlog_server_conn.c */
int srv_accept(struct server *s);
void srv_conn_event(struct server *s, struct srv_conn *c, uint32_t events);
void srv_conn_close(struct server *s, struct srv_conn *c);
void srv_release_all(struct server *s);
int srv_conn_flush(struct server *s, struct srv_conn *c);
void srv_set_pollout(struct server *s, int fd, void *ptr, bool *state, bool want);

/* kvlog_server_repl.c */
/* Parses list ("a:p,b:q" or "") into the next replica set; applied by srv_peers_apply(). */
int srv_peers_set(struct server *s, const char *list);
void srv_peers_apply(struct server *s);
void srv_peers_free(struct server *s);
void srv_peer_event(struct server *s, struct srv_peer *p, uint32_t events);
void srv_peers_tick(struct server *s);
int srv_ship_record(struct server *s, const unsigned char *raw, size_t len, uint64_t seq);
/* Ships the queued records with seq <= upto to the ready replicas; keeps the rest. */
void srv_ship(struct server *s, uint64_t upto);
uint64_t srv_replicas_acked(const struct server *s);
int srv_upstream_hello(struct server *s, struct srv_conn *c, uint64_t primary_seq);
int srv_upstream_record(struct server *s, const unsigned char *raw, size_t len);
void srv_upstream_ack(struct server *s);

/* kvlog_server_group.c */
int srv_group_commit(struct server *s);
void srv_group_timer(struct server *s);

/* kvlog_server.c */
uint64_t srv_durable_seq(const struct server *s);
int srv_fail(struct server *s, int r, const char *what);

#endif
