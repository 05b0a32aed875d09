/* --shard I/N: which drills of a call one CI job runs, the same choice on every job.
 *
 * The drills are put in order of their names (bytewise, as strcmp), and the k-th of that
 * order (from 0) goes to shard k mod N + 1: every drill is in exactly one shard, the
 * shards differ by one drill at most, and the choice does not depend on the order the
 * files were given in (a shell's glob, a CI file list).
 *
 * Usage:
 *   struct shard s;
 *   shard_parse("2/3", &s);                         // -EINVAL: a clear error, exit 2
 *   size_t kept = shard_select(names, n, &s, keep);  // keep[i]: drill i is in this shard
 */
#ifndef CHAOSDRILL_HARNESS_SHARD_H
#define CHAOSDRILL_HARNESS_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#define SHARD_MAX 10000u

struct shard {
	unsigned index; /* 1..count */
	unsigned count; /* 1..SHARD_MAX */
};

/* "I/N" with 1 <= I <= N <= SHARD_MAX; -EINVAL otherwise. */
int shard_parse(const char *s, struct shard *out);
/* Sets keep[i] for the names (borrowed, n of them) in shard s; returns how many. -ENOMEM
 * leaves keep as it was. */
int shard_select(const char *const *names, size_t n, const struct shard *s, bool *keep);

#endif
