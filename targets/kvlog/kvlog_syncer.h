/* A helper thread that runs fdatasync(2) for kvlog's group commit, so that the thread
 * owning the log keeps reading requests and writing records while a sync is in flight.
 *
 * Usage (every call from the one thread that owns the log):
 *   struct kvlog_syncer *sy;  kvlog_syncer_new(&sy);
 *   efd = kvlog_syncer_fd(sy);           // readable once a sync has returned
 *   write(2) records up to seq;  kvlog_syncer_request(sy, fd, seq);
 *   ... efd readable ...
 *   r = kvlog_syncer_reap(sy, &seq);     // 1: *seq is durable; 0: nothing new; -errno
 *   kvlog_syncer_wait(sy, &seq);         // blocks until every request is synced
 *   kvlog_syncer_free(sy);               // waits for the sync in flight, joins the thread
 *
 * Requests raise a target; they do not queue. The thread syncs back to back while the
 * target is ahead of what it covered: when a sync returns it starts the next at once,
 * covering every request made meanwhile (the group). seq is the caller's label for "what
 * was written before the request"; a reap hands back the highest seq whose covering
 * fdatasync was called after that request and has returned success, never more.
 *
 * The fd is borrowed and must stay open until the requests on it are synced
 * (kvlog_syncer_wait before closing it).
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_SYNCER_H
#define CHAOSDRILL_TARGETS_KVLOG_SYNCER_H

#include <stdbool.h>
#include <stdint.h>

struct kvlog_syncer;

/* *out: caller frees with kvlog_syncer_free(). The thread blocks every signal. */
int kvlog_syncer_new(struct kvlog_syncer **out);
void kvlog_syncer_free(struct kvlog_syncer *sy); /* accepts NULL */

int kvlog_syncer_fd(const struct kvlog_syncer *sy); /* eventfd, owned by sy */
/* Asks for everything written to fd so far to be synced, labelled seq (ascending). */
void kvlog_syncer_request(struct kvlog_syncer *sy, int fd, uint64_t seq);
/* Requested and not yet reaped as synced. */
bool kvlog_syncer_busy(const struct kvlog_syncer *sy);
/* 1 and *seq = the highest seq synced since the last reap; 0 when none; -errno when an
 * fdatasync failed (sticky: the log can no longer be trusted to be durable). Never blocks. */
int kvlog_syncer_reap(struct kvlog_syncer *sy, uint64_t *seq);
/* Like reap, after blocking until every request so far is synced (or one failed). */
int kvlog_syncer_wait(struct kvlog_syncer *sy, uint64_t *seq);

#endif
