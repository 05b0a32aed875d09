/* Shrinking a failing fault schedule (`chaosdrill shrink`): the pure half. A schedule is
 * the drill's faults as explicit items; the search proposes smaller candidates one at a
 * time and is told whether each still fails the same way: first fewer faults (delta
 * debugging: drop halves, then quarters, ... then single faults, the last ones first), then each fault earlier
 * (halfway to the previous fault on the way, while that saves at least 100 ms), then each
 * heal sooner (half the duration, down to 100 ms). A candidate that fails becomes the
 * schedule the search goes on from. The emitter writes a schedule back as a drill file
 * with explicit faults: and the seed pinned. No process is run here (harness/cli/).
 *
 * Usage:
 *   shrink_init(&s, faults, n);                  // from shrink_faults_of(d, ...)
 *   while (shrink_next(&s, &cand, &k) > 0) {     // cand borrowed until the next call
 *           ... run it ...; shrink_result(&s, still_fails);
 *   }
 *   ... s.cur[0 .. s.n) is the smallest failing schedule ...
 *   shrink_release(&s);
 */
#ifndef CHAOSDRILL_HARNESS_SHRINK_H
#define CHAOSDRILL_HARNESS_SHRINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/strbuf.h"

struct drill;

#define SHRINK_MIN_STEP_NS (100 * 1000000LL)

struct shrink_fault {
	const char *kind, *name, *node;	 /* borrowed from the drill */
	const struct cfg_node *args;	 /* the kind's body, borrowed */
	const struct cfg_node *recovery; /* its own steps, or NULL; borrowed */
	int64_t at_ns;
	bool has_heal;
	int64_t heal_at_ns; /* absolute (heal: {after: D} is at + D) */
};

enum shrink_phase { SHRINK_DROP, SHRINK_EARLIER, SHRINK_SHORTER, SHRINK_DONE };

struct shrink {
	struct shrink_fault *cur; /* the smallest failing schedule so far, owned, time order */
	size_t n;
	struct shrink_fault *cand; /* the candidate proposed last, owned */
	size_t n_cand;
	enum shrink_phase phase;
	size_t chunk, pos; /* DROP: the chunk before the last pos faults (shrink_drop_range);
			    * EARLIER and SHORTER: fault pos */
	bool dropped;	   /* DROP: a chunk went in this pass (single faults: one more pass) */
};

/* The drill's faults (written and the nemesis's) as a schedule in time order; *out caller
 * frees. */
int shrink_faults_of(const struct drill *d, struct shrink_fault **out, size_t *n);
/* Copies faults (n >= 1). */
int shrink_init(struct shrink *s, const struct shrink_fault *faults, size_t n);
/* 1 with *cand and *n set: a candidate to try; 0: the search is over; -ENOMEM. */
int shrink_next(struct shrink *s, const struct shrink_fault **cand, size_t *n);
/* Whether the last candidate failed the same way (then it becomes the schedule). */
void shrink_result(struct shrink *s, bool fails);
void shrink_release(struct shrink *s);
/* DROP: the faults [*start, *end) of cur that the candidate leaves out. */
void shrink_drop_range(const struct shrink *s, size_t *start, size_t *end);

/* The drill file of src (its text, whose top-level keys are tree's) with the faults
 * replaced by faults[0 .. n) written out, nemesis: removed, seed: pinned, and params
 * (KEY=VALUE, the run's --param) put into its params: (one target) so it fails alone. */
int shrink_write_drill(const char *src, const struct cfg_node *tree, const struct shrink_fault *f,
		       size_t n, uint64_t seed, const char *const *params, size_t n_params,
		       struct strbuf *out);
/* v as block YAML at indent (pure; for the drill file and its tests). */
void shrink_emit_yaml(struct strbuf *sb, const struct cfg_node *v, int indent);

/* ---- what a run directory says ---- */

/* The seed and --param lines of a run directory's scenario.yaml header ("# resolved by
 * chaosdrill V: seed N", "# --param K=V"); *params (caller frees each and the array). -EINVAL
 * without a seed line. */
int shrink_read_header(const char *text, uint64_t *seed, char ***params, size_t *n_params);
/* The testcases of a JUnit file that failed, as "CLASSNAME/NAME" (XML-escaped as written);
 * with expect_only, only those whose classname ends in ".expect". Caller frees each and the
 * array. */
int shrink_junit_failures(const char *xml, bool expect_only, char ***out, size_t *n);

#endif
