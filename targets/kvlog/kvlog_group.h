/* kvlog-server's group-commit policy (--sync batch): when the next fdatasync starts, and on
 * which thread. Pure bookkeeping: the caller passes the time and the counts, so unit tests
 * drive it without a clock or a disk.
 *
 * Usage (the event loop, each iteration, after it appended what it read):
 *   struct kvlog_group g = {0};
 *   switch (kvlog_group_next(&g, waiting, in_flight, now, &until)) {
 *   case KVLOG_GROUP_WAIT:   come back at until (a timer), or when more records arrive
 *   case KVLOG_GROUP_INLINE: kvlog_group_started(&g, now); fdatasync here; then synced()
 *   case KVLOG_GROUP_THREAD: kvlog_group_started(&g, now); hand it to the helper thread
 *   }
 *   when a sync has returned: kvlog_group_synced(&g, covered, waiting, now);
 * waiting: records appended and not yet durable (written or not, in flight or not).
 *
 * When: one group is synced at a time. When it returns its writers get their answers and
 * most send their next write at once. Starting the next sync right then would cover only
 * the writes that arrived during the last one, and the writers just answered would wait a
 * whole sync for the one after: with one write in flight per client they split into
 * groups that take turns, each sync covering a fraction of them. So, as PostgreSQL's
 * commit_delay does, the next group waits until it holds as many records as were active
 * when the last sync returned (the records it covered plus those already waiting), but
 * for no longer than that sync took: a writer that misses the group waits one more sync,
 * and making every other writer wait longer than that for it never pays. A lone writer
 * never waits: its group is complete as soon as its record arrives.
 *
 * Where: a complete group is synced on the loop's own thread. Nobody else is expected
 * before it returns, and the helper thread would only add two thread wake-ups to every
 * writer's latency (tens of us each on a VM: one to start the helper, one to wake the
 * loop when it is done). A group whose wait ran out goes to the helper thread, so that
 * the loop keeps reading the stragglers (and serving reads) during the sync.
 */
#ifndef CHAOSDRILL_TARGETS_KVLOG_GROUP_H
#define CHAOSDRILL_TARGETS_KVLOG_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/units.h"

/* The longest a group waits for its writers, however slow the last sync was. */
#define KVLOG_GROUP_LINGER_MAX_NS (2 * NSEC_PER_MSEC)

enum kvlog_group_step {
	KVLOG_GROUP_IDLE,   /* nothing to start: nothing waiting, or a sync in flight */
	KVLOG_GROUP_WAIT,   /* hold the waiting records until *until, or until more arrive */
	KVLOG_GROUP_INLINE, /* sync now on the calling thread: the group is complete */
	KVLOG_GROUP_THREAD, /* sync now on the helper thread: the wait ran out */
};

struct kvlog_group {
	uint64_t want;	   /* records the next group waits for; 0 = no history, start at once */
	int64_t open_ns;   /* when the last sync returned */
	int64_t linger_ns; /* how long after open_ns the next group may wait */
	int64_t start_ns;  /* when the last sync started */
};

/* What to do now with waiting records; *until is set for KVLOG_GROUP_WAIT only. */
enum kvlog_group_step kvlog_group_next(const struct kvlog_group *g, uint64_t waiting,
				       bool in_flight, int64_t now, int64_t *until);
/* A sync (inline or on the helper thread) starts at now. */
void kvlog_group_started(struct kvlog_group *g, int64_t now);
/* The sync started last returned at now having made covered records durable; waiting
 * records arrived meanwhile. Sizes the next group. */
void kvlog_group_synced(struct kvlog_group *g, uint64_t covered, uint64_t waiting, int64_t now);

#endif
