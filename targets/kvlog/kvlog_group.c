/* kvlog-server's group-commit policy: when the next fdatasync starts (see kvlog_group.h). */
#include "targets/kvlog/kvlog_group.h"

enum kvlog_group_step kvlog_group_next(const struct kvlog_group *g, uint64_t waiting,
				       bool in_flight, int64_t now, int64_t *until)
{
	int64_t deadline = g->open_ns + g->linger_ns;

	if (waiting == 0 || in_flight)
		return KVLOG_GROUP_IDLE;
	if (waiting >= g->want)
		return KVLOG_GROUP_INLINE;
	if (now < deadline) {
		*until = deadline;
		return KVLOG_GROUP_WAIT;
	}
	return KVLOG_GROUP_THREAD;
}

void kvlog_group_started(struct kvlog_group *g, int64_t now)
{
	g->start_ns = now;
}

void kvlog_group_synced(struct kvlog_group *g, uint64_t covered, uint64_t waiting, int64_t now)
{
	int64_t took = now - g->start_ns;

	g->want = covered + waiting;
	g->open_ns = now;
	g->linger_ns = took < 0				? 0 :
		       took < KVLOG_GROUP_LINGER_MAX_NS ? took :
							  KVLOG_GROUP_LINGER_MAX_NS;
}
