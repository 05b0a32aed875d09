/* What the seed decided at a syscall fault's injections, per rule, for `replay --check`
 * (fault_ops.seeded words, harness/record/replay_compare.h). A rule that strikes at every
 * call strikes as often as the node calls, which timing decides; so each rule is one line:
 * its action, errno and the first call and file it hit (the file decides them), the
 * sequence of its matching calls that it struck (`nth^500` or `nth^3,7,12` with
 * probability: seeded, compared over the prefix both runs have) and the bytes each torn or
 * short write kept, and how many times it struck (timing). Pure.
 *
 * Usage:
 *   struct sys_seen *v = NULL;
 *   sys_seen_add(&v, &injection);      // at each injection
 *   sys_seen_format(v, &sb);           // at the end: one line per rule that struck
 *   sys_seen_free(v);
 */
#ifndef CHAOSDRILL_FAULTS_SYS_SEEN_H
#define CHAOSDRILL_FAULTS_SYS_SEEN_H

#include "common/strbuf.h"
#include "faults/sys/supervisor.h"

/* Rules tracked (later ones are counted in the last), and draws kept per rule. */
#define SYS_SEEN_RULES 32
#define SYS_SEEN_DRAWS 24

struct sys_seen;

/* Records one injection (*v allocated on the first). -ENOMEM. */
int sys_seen_add(struct sys_seen **v, const struct sys_injection *inj);
/* Appends one line per rule that struck, in rule order. v may be NULL (nothing struck). */
void sys_seen_format(const struct sys_seen *v, struct strbuf *out);
void sys_seen_free(struct sys_seen *v);

#endif
