/* Whether the kernel may keep its cached pages of a file when the file is opened again
 * (FOPEN_KEEP_CACHE). Dropping them at every open made each open a cold start: every
 * read and every rewrite of a page went through FUSE again. They are kept only when
 * nothing that would hide a fault can have happened since they were read:
 *   - no fault that acts on reads was armed or cleared, no bit rotted and no power cut
 *     happened since (each of those calls ffs_keeps_bump(), which forgets every file);
 *   - the file was last closed since then, through a handle opened since then;
 *   - its backing file is as it was at that close (ctime, size), so a change made
 *     behind the mount (a restore into the backing dir) is seen;
 *   - it has one link: pages belong to the kernel's inode of one name, and a write
 *     through another name of the same file would not reach them.
 * Files open across a bump have their pages dropped by the caller (faultfs_cmd.c), and a
 * file whose reads a fault acts on now never keeps them (faultfs_fuse.c: pages written
 * after the arming would hide it).
 * Not thread-safe: the caller holds its lock.
 *
 * Usage:
 *   struct ffs_keeps *k = ffs_keeps_new();
 *   gen = ffs_keeps_gen(k); keep = ffs_keeps_may_keep(k, key, &st);     // open
 *   ffs_keeps_closed(k, key, gen, &st);                                 // release
 *   ffs_keeps_bump(k);                                                  // a fault armed
 *   ffs_keeps_free(k);
 */
#ifndef CHAOSDRILL_FAULTFS_KEEP_H
#define CHAOSDRILL_FAULTFS_KEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "faults/faultfs/ffs_cache.h"

struct ffs_keeps;

struct ffs_keeps *ffs_keeps_new(void);
void ffs_keeps_free(struct ffs_keeps *k); /* accepts NULL */

/* The generation now: a handle remembers it from its open. */
uint64_t ffs_keeps_gen(const struct ffs_keeps *k);
/* Cached pages of every file are suspect from now on. */
void ffs_keeps_bump(struct ffs_keeps *k);
/* At open: may the kernel keep the file's pages? st: the backing file now. */
bool ffs_keeps_may_keep(const struct ffs_keeps *k, struct ffs_key key, const struct stat *st);
/* At release of a handle opened at generation gen; st: the backing file now. Remembers
 * the file only when no bump happened since gen. 0, or -ENOMEM (then it is forgotten:
 * its pages go at the next open). */
int ffs_keeps_closed(struct ffs_keeps *k, struct ffs_key key, uint64_t gen, const struct stat *st);
/* Files remembered (for tests and status). */
uint64_t ffs_keeps_count(const struct ffs_keeps *k);

#endif
