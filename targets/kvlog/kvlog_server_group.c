/* kvlog-server group commit (--sync batch): when to hand the log's helper thread the next
 * fdatasync, so that one sync covers as many waiting writes as it usefully can.
 *
 * One group is in flight at a time; the loop goes on reading requests and writing their
 * records meanwhile. When it returns, its writers get their answers and most send their
 * next write at once. Starting the next sync right then would cover only the writes that
 * arrived during the last one, and the writers just answered would wait a whole sync for
 * the one after: with one write in flight per client they split into two halves that
 * take turns, each sync covering half of them. So the next group waits until it holds as
 * many records as the group just synced plus those already waiting, or for half a sync
 * time at most (a writer that does not come back delays the others by that much, once).
 * A lone writer never waits: its group is complete when its record arrives.
 *
 * Answers are released only by srv_durable_seq(), i.e. after the fdatasync covering their
 * records has returned; this file only decides when syncs start.
 */
#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/units.h"
#include "targets/kvlog/kvlog_server.h"

#define LINGER_MAX_NS (2 * NSEC_PER_MSEC)

static uint64_t unsynced(const struct server *s)
{
	return kvlog_written_seq(s->log) - kvlog_synced_seq(s->log);
}

/* Takes a returned sync, if any, and sizes the next group after it. */
static int reap(struct server *s, int64_t now)
{
	uint64_t before = kvlog_synced_seq(s->log);
	int64_t took;
	int r = kvlog_sync_end(s->log);

	if (r <= 0)
		return r;
	took = now - s->group_start_ns;
	s->group_want = kvlog_synced_seq(s->log) - before + unsynced(s);
	s->group_open_ns = now;
	s->linger_ns = took / 2 < LINGER_MAX_NS ? took / 2 : LINGER_MAX_NS;
	return r;
}

static int arm(struct server *s, int64_t at)
{
	struct itimerspec its = { .it_value = time_ns_to_timespec(at) };

	if (s->linger_armed_ns == at)
		return 0;
	if (timerfd_settime(s->lingerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	s->linger_armed_ns = at;
	return 0;
}

/* After the loop wrote the records it gathered: start the next sync if it is due. */
int srv_group_commit(struct server *s)
{
	int64_t now = time_mono_ns(), until;
	int r = reap(s, now);

	if (r < 0 || kvlog_sync_in_flight(s->log) || unsynced(s) == 0)
		return r;
	until = s->group_open_ns + s->linger_ns;
	if (unsynced(s) < s->group_want && now < until)
		return arm(s, until);
	s->group_start_ns = now;
	return kvlog_sync_begin(s->log);
}

/* The linger timer fired: the loop's commit() then starts the group. */
void srv_group_timer(struct server *s)
{
	uint64_t ticks;

	(void)!read(s->lingerfd, &ticks, sizeof(ticks));
	s->linger_armed_ns = 0;
}
