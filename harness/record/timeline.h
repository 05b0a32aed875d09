/* The timeline: everything that happened in a drill, on one clock (monotonic nanoseconds
 * since the drill started). RTO, the report's bands and the JUnit timings come from it.
 *
 * Usage:
 *   struct timeline *tl = timeline_new();
 *   timeline_add(tl, t, TL_FAULT_INJECTED, 0, "n1", 0, "SIGKILL to pid %d", pid);
 *   const struct tl_event *e = timeline_find(tl, TL_FAULT_INJECTED, 0);
 *   timeline_write_jsonl(tl, "run/timeline.jsonl");
 *   timeline_free(tl);
 */
#ifndef CHAOSDRILL_HARNESS_TIMELINE_H
#define CHAOSDRILL_HARNESS_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

enum tl_kind {
	TL_DRILL_START,
	TL_NODE_STARTED, /* status: incarnation number */
	TL_NODE_EXITED,	 /* status: wait status */
	TL_PROBE_OK,
	TL_PROBE_FAILED,
	TL_STEADY,	   /* workload reached steady state: time 0 of the fault schedule */
	TL_FAULT_INJECTED, /* index: fault */
	TL_FAULT_FAILED,   /* index: fault; status: -errno */
	TL_FAULT_HEALED,   /* index: fault */
	TL_STEP_STARTED,   /* index: step */
	TL_STEP_ENDED,	   /* index: step; status: 0 ok, else failed */
	TL_RECOVERED,	   /* all steps done */
	TL_WORKLOAD_STOPPED,
	TL_FINAL_READ,
	TL_CHECK, /* target checker on a node; status: exit code */
	TL_INTERRUPTED,
	TL_NOTE,
	TL_ADAPTER, /* a client adapter misbehaved or was restarted; index: client */
	TL_SEEDED,  /* what the seed decided (fault_ops.seeded); index: fault */
	TL_VERDICT, /* the drill's exit code (status) and its missed expectations */
};

struct tl_event {
	int64_t t_ns;
	enum tl_kind kind;
	int index; /* fault or step index, else -1 */
	int status;
	char *node;   /* owned, may be NULL */
	char *detail; /* owned, may be NULL */
};

struct timeline {
	struct tl_event *ev;
	size_t n, cap;
};

struct timeline *timeline_new(void);
void timeline_free(struct timeline *tl);
/* Appends an event (t_ns must not go backwards: the loop's clock is monotonic). */
int timeline_add(struct timeline *tl, int64_t t_ns, enum tl_kind kind, int index, const char *node,
		 int status, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* First event of that kind and index (index -1 matches any), or NULL. */
const struct tl_event *timeline_find(const struct timeline *tl, enum tl_kind kind, int index);
const char *timeline_kind_name(enum tl_kind k);
int timeline_write_jsonl(const struct timeline *tl, const char *path);

#endif
