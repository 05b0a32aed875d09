/* chaosdrill-faultfs internals shared by its files: the state one mount has, the event
 * log, and what the control socket and the FUSE operations do with it. Only
 * faultfs_fuse.c includes libfuse.
 *
 * Usage (faultfs_main.c):
 *   fs = faultfs_new(&opts);                        // opens the backing dir, empties trash
 *   faultfs_ctl_start(fs, sock_path);               // the control socket's thread
 *   faultfs_fuse_run(fs, mountpoint, ready_fd);     // mounts, serves until SIGINT/TERM
 *   faultfs_ctl_stop(fs); faultfs_shutdown(fs); faultfs_free(fs);
 */
#ifndef CHAOSDRILL_FAULTFS_H
#define CHAOSDRILL_FAULTFS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "faults/faultfs/ffs_cache.h"
#include "faults/faultfs/ffs_journal.h"
#include "faults/faultfs/ffs_keep.h"
#include "faults/faultfs/ffs_proto.h"
#include "faults/faultfs/ffs_rules.h"

/* Removed entries wait here, in the backing root, hidden from the mount. */
#define FAULTFS_TRASH ".chaosdrill-faultfs"

struct faultfs_opts {
	const char *backing; /* the backing directory (may be the mount point itself) */
	bool volatile_cache; /* --cache volatile */
	bool direct_io;	     /* --direct-io: every read and write reaches us */
	bool writeback;	     /* --writeback-cache: the kernel buffers writes */
	bool drop_on_exit;   /* --on-exit drop: a clean stop is a power cut (keep none) */
	FILE *events;	     /* borrowed; JSON lines; may be NULL */
};

struct faultfs_stats {
	uint64_t reads, writes, fsyncs, read_errors, write_errors, rot_reads, rot_bits;
	uint64_t fsync_errors, lost_sectors, delays, power_cuts, sectors_dropped, sectors_kept;
	uint64_t ns_undone, ns_committed;
};

struct faultfs {
	struct faultfs_opts opts;
	int backing_fd, trash_fd; /* owned, O_DIRECTORY */
	pthread_mutex_t lock;	  /* everything below */
	struct ffs_cache *cache;
	struct ffs_journal *journal;
	struct ffs_keeps *keeps; /* whose pages the kernel may keep at open */
	struct ffs_rules rules;
	uint64_t trash_seq;
	struct faultfs_stats stats;
	uint64_t capped_events;
	void *fuse;    /* struct fuse *, set while mounted (kernel cache invalidation) */
	void *handles; /* faultfs_fuse.c's open files and dirs, freed if never released */
	int ctl_fd, ctl_stop[2];
	pthread_t ctl_thread;
	bool ctl_running;
};

int faultfs_new(const struct faultfs_opts *opts, struct faultfs **out);
void faultfs_free(struct faultfs *fs);
/* A clean stop: flush (or drop) the cache, make the namespace durable, empty the trash. */
int faultfs_shutdown(struct faultfs *fs);

/* One event as a JSON line: {"mono_ns":..,"event":name,"path":path,<fields>}. fields is a
 * printf format of further "key":value pairs (may be NULL). Caller holds the lock. */
void faultfs_event(struct faultfs *fs, const char *name, const char *path, const char *fields, ...)
	__attribute__((format(printf, 4, 5)));
/* Like faultfs_event for per-operation events (failed reads, rotted reads): at most 1000
 * of them are written; stats keep counting. */
void faultfs_event_capped(struct faultfs *fs, const char *name, const char *path,
			  const char *fields, ...) __attribute__((format(printf, 4, 5)));

/* Runs one control command; reply gets one line without its newline. */
void faultfs_exec(struct faultfs *fs, const char *line, char *reply, size_t len);
/* The path of the mount, relative for *at() calls: "/" -> ".", "/a" -> "a". */
const char *faultfs_rel(const char *path);
/* True for the trash directory and what it holds. */
bool faultfs_hidden(const char *path);

/* Namespace changes in volatile mode, recorded in the journal (caller holds the lock). */
int faultfs_ns_remove(struct faultfs *fs, const char *path, bool dir);
int faultfs_ns_rename(struct faultfs *fs, const char *from, const char *to, unsigned flags);
int faultfs_ns_fsyncdir(struct faultfs *fs, const char *path);
/* The namespace half of a power cut: undoes every change not yet durable. */
int faultfs_ns_cut(struct faultfs *fs, uint64_t *undone);

int faultfs_ctl_start(struct faultfs *fs, const char *sock_path);
void faultfs_ctl_stop(struct faultfs *fs);
/* Client side: sends one command line, prints the reply to stdout. 0, or -errno. */
int faultfs_ctl_send(const char *sock_path, const char *line);

/* Mounts at mountpoint, writes "ready\n" to ready_fd (if >= 0), serves until SIGINT,
 * SIGTERM or SIGHUP, unmounts. 0 or -errno. */
int faultfs_fuse_run(struct faultfs *fs, const char *mountpoint, int ready_fd);
/* Drops the kernel's cached pages and attributes of path (a literal path). With the
 * writeback cache, its dirty pages are written to us first. Never under the lock: the
 * kernel may call back into the FUSE operations meanwhile. */
void faultfs_fuse_invalidate(struct faultfs *fs, const char *path);
/* The same for every open file whose path matches glob (NULL: every open file); files not
 * open need nothing once fs->keeps was bumped, as their next open drops the kernel's
 * pages. A file renamed since its open is
 * looked up under its old path, an unlinked one not at all. Takes the lock itself.
 * -ENOMEM when some could not be dropped (out of memory). */
int faultfs_fuse_invalidate_open(struct faultfs *fs, const char *glob);
/* Makes the kernel forget its entries and inodes under the mount (those of files still
 * open stay): with the writeback cache it trusts its own file sizes and times over ours
 * while it holds an inode, and they would survive a power cut. Not under the lock. */
void faultfs_fuse_forget(struct faultfs *fs);

#endif
