/* The comparison behind `chaosdrill replay --check`: two runs' timelines (timeline.jsonl),
 * event by event. Pure: it parses text and classifies, nothing else.
 *
 * What it compares: the `seeded` events (harness/run/run_seeded.c), paired by fault index
 * and order, word by word: "key=value" the seed or the file decides (must be identical),
 * "key~value" timing decides (shown with both values when they differ), "key^a,b,c" a
 * sequence of draws (identical over the prefix both runs have: packet counts depend on
 * timing); an event one run has and the other lacks differs. Then the `verdict` events
 * (exit code and the expectations missed), and the drill's timing (when it recovered).
 *
 * Usage:
 *   struct replay_cmp c;
 *   r = replay_compare(old_text, old_len, new_text, new_len, &c);   // -EINVAL: bad line
 *   c.seeded_same, c.seeded_differ, c.diffs[i] ..., c.verdict_differs
 *   replay_cmp_release(&c);
 */
#ifndef CHAOSDRILL_HARNESS_REPLAY_COMPARE_H
#define CHAOSDRILL_HARNESS_REPLAY_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

enum replay_class {
	REPLAY_SEEDED, /* the seed decides it: old and new must be identical */
	REPLAY_TIMING, /* timing decides it: a difference is shown, not held against the replay */
};

struct replay_diff {
	enum replay_class cls;
	bool same;
	char *what;		     /* "fault 1 (syscall) kept", "drill recovered_ms"; owned */
	char *old_value, *new_value; /* owned; "(none)" when that run lacks it */
};

/* One seeded event of either run, and whether its counterpart matched. */
struct replay_event_cmp {
	char *label;		       /* "fault 1 schedule", "drill"; owned */
	char *old_detail, *new_detail; /* owned; NULL when that run lacks it */
	bool same;
};

struct replay_cmp {
	struct replay_event_cmp *events; /* owned, in the old run's order, then the new's extra */
	size_t n_events;
	size_t seeded_same, seeded_differ; /* seeded events */
	size_t timing_same, timing_differ; /* timing values */
	size_t draws_compared;		   /* sequence items compared over common prefixes */
	struct replay_diff *diffs;	   /* every compared value, in timeline order; owned */
	size_t n_diffs;
	int old_exit, new_exit;	       /* -1: no verdict event */
	char *old_missed, *new_missed; /* owned: "expect.rpo,expect.integrity" or "-" */
	bool verdict_differs;
};

/* Parses both timelines and compares them. -EINVAL when a line is not a timeline event
 * (its number in *bad_line when not NULL, 1-based; negative for the new timeline). */
int replay_compare(const char *old_tl, size_t old_len, const char *new_tl, size_t new_len,
		   struct replay_cmp *out, long *bad_line);
void replay_cmp_release(struct replay_cmp *c);

/* One timeline line's fields (a flat JSON object as timeline_write_jsonl writes it).
 * Strings are owned; index -1 when absent. -EINVAL: not such a line. */
struct replay_event {
	long long t_ns;
	char *event, *node, *detail;
	int index, status;
};
int replay_parse_event(const char *line, size_t len, struct replay_event *ev);
void replay_event_release(struct replay_event *ev);

#endif
