/* kvlog-server group commit (--sync batch): starts each group's fdatasync when
 * kvlog_group.c says so, inline or on the log's helper thread, and arms the linger timer
 * while a group waits for its writers.
 *
 * Answers are released only by srv_durable_seq(), i.e. after the fdatasync covering their
 * records has returned; this file only decides when syncs start.
 */
#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "targets/kvlog/kvlog_server.h"

/* Written and not yet durable, or in the sync in flight. */
static uint64_t waiting(const struct server *s)
{
	return kvlog_last_seq(s->log) - kvlog_synced_seq(s->log);
}

/* Takes the helper's returned sync, if any, and sizes the next group after it. */
static int reap(struct server *s, int64_t now)
{
	uint64_t before = kvlog_synced_seq(s->log);
	int r = kvlog_sync_end(s->log);

	if (r > 0)
		kvlog_group_synced(&s->group, kvlog_synced_seq(s->log) - before, waiting(s), now);
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

static int sync_inline(struct server *s, int64_t now)
{
	uint64_t before = kvlog_synced_seq(s->log);
	int r;

	kvlog_group_started(&s->group, now);
	r = kvlog_sync(s->log);
	if (r < 0)
		return r;
	kvlog_group_synced(&s->group, kvlog_synced_seq(s->log) - before, waiting(s),
			   time_mono_ns());
	return 0;
}

static int sync_thread(struct server *s, int64_t now)
{
	kvlog_group_started(&s->group, now);
	return kvlog_sync_begin(s->log);
}

/* Once per loop iteration, after the records read were written: starts the next sync if
 * it is due. */
int srv_group_commit(struct server *s)
{
	int64_t now = time_mono_ns(), until = 0;
	int r = reap(s, now);

	if (r < 0)
		return r;
	switch (kvlog_group_next(&s->group, waiting(s), kvlog_sync_in_flight(s->log), now,
				 &until)) {
	case KVLOG_GROUP_WAIT:
		return arm(s, until);
	case KVLOG_GROUP_INLINE:
		return sync_inline(s, now);
	case KVLOG_GROUP_THREAD:
		return sync_thread(s, now);
	default:
		return 0;
	}
}

/* The linger timer fired: the loop's commit() then starts the group. */
void srv_group_timer(struct server *s)
{
	uint64_t ticks;

	(void)!read(s->lingerfd, &ticks, sizeof(ticks));
	s->linger_armed_ns = 0;
}
