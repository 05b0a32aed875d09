/* Syscall fault rules: one language for the seccomp supervisor and the preload shim.
 * sys_rules_parse turns a located config tree into plain structs (pure, errors carry
 * file:line:col); sys_decide says, for one intercepted call, what to do (pure: the caller
 * supplies the per-rule counters, the seed and the time). Random choices are drawn from a
 * counter-based generator keyed by (seed, rule, nth), so the same seed tears the same
 * matching call at the same byte, whatever other calls happen around it.
 *
 * Syntax (the body of a syscall fault):
 *   mechanism: preload          # optional, read by syscall.c: seccomp (default) or
 *                               # preload (the LD_PRELOAD shim, which wraps fewer calls)
 *   io_uring: enosys            # optional: io_uring_setup fails with ENOSYS (default: allow;
 *                               # seccomp only)
 *   rules:
 *     - calls: [write, pwrite]  # or one name; see sys_call_name()
 *       path: "txn.log"         # fnmatch glob on the path relative to the data dir ('*'
 *                               # crosses '/'); absolute globs match the full path;
 *                               # default "*": any file under the data dir
 *       nth: 3                  # when, at most one of: nth: N (the Nth matching call only),
 *                               # after: N (every call after the Nth), probability: 0.1
 *                               # (seeded), from: 2s (every call from then on); default: every
 *       errno: ENOSPC           # what, exactly one of: errno: NAME, short: N|half|random,
 *                               # torn: {keep: N|half|random, rest: zeros} (needs then: crash),
 *                               # crash: before|after, delay: 50ms
 *       then: crash             # after short/torn: SIGKILL the whole node
 *
 * Usage:
 *   struct sys_rules *rs;  sys_rules_parse(args, &rs, &err);
 *   uint64_t counts[rs->n] = {0};
 *   struct sys_call_info c = { .call = SYS_CALL_WRITE, .path = "txn.log", .len = 100 };
 *   struct sys_decision d;
 *   if (sys_decide(rs->v, rs->n, counts, seed, &c, &d)) ... d.action ...
 *   sys_rules_free(rs);
 */
#ifndef CHAOSDRILL_FAULTS_SYS_RULE_H
#define CHAOSDRILL_FAULTS_SYS_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_node;
struct cd_error;

enum sys_call {
	SYS_CALL_WRITE,
	SYS_CALL_PWRITE,
	SYS_CALL_WRITEV,
	SYS_CALL_PWRITEV,
	SYS_CALL_FSYNC,
	SYS_CALL_FDATASYNC,
	SYS_CALL_SYNC_FILE_RANGE,
	SYS_CALL_RENAME,
	SYS_CALL_OPENAT,
	SYS_CALL_FTRUNCATE,
	SYS_CALL_FALLOCATE,
	SYS_CALL_READ,
	SYS_CALL_PREAD,
	SYS_CALL_READV,
	SYS_CALL_PREADV,
	SYS_CALL_UNLINK,
	SYS_CALL_N,
};
#define SYS_CALL_WRITES                                                               \
	((1u << SYS_CALL_WRITE) | (1u << SYS_CALL_PWRITE) | (1u << SYS_CALL_WRITEV) | \
	 (1u << SYS_CALL_PWRITEV))

enum sys_when {
	SYS_WHEN_EVERY, /* every matching call */
	SYS_WHEN_NTH,	/* only the nth (1-based) */
	SYS_WHEN_AFTER, /* every call after the nth */
	SYS_WHEN_PROB,	/* each with probability p, seeded */
	SYS_WHEN_FROM,	/* every call from time t on (ns since the rules were armed) */
};

enum sys_action {
	SYS_ACT_NONE, /* let the call run */
	SYS_ACT_ERRNO,
	SYS_ACT_SHORT,
	SYS_ACT_TORN,
	SYS_ACT_CRASH_BEFORE,
	SYS_ACT_CRASH_AFTER,
	SYS_ACT_DELAY,
};

enum sys_keep { SYS_KEEP_BYTES, SYS_KEEP_HALF, SYS_KEEP_RANDOM };

#define SYS_GLOB_MAX 256

struct sys_rule {
	uint32_t calls;		 /* bit (1 << enum sys_call) per call */
	char glob[SYS_GLOB_MAX]; /* fnmatch pattern, see above */
	enum sys_when when;
	uint64_t n;	 /* NTH, AFTER */
	double p;	 /* PROB */
	int64_t from_ns; /* FROM */
	enum sys_action action;
	int err;	     /* ERRNO: positive errno */
	enum sys_keep keep;  /* SHORT, TORN */
	uint64_t keep_bytes; /* SYS_KEEP_BYTES */
	bool zero_rest;	     /* TORN, rest: zeros: the rest of the write lands as zero bytes
				   * (sectors that were allocated but never written), so the file
				   * has its full length and only a checksum can tell; seccomp only */
	bool then_crash;     /* SHORT, TORN (always for TORN) */
	int64_t delay_ns;    /* DELAY */
	int line, col;	     /* where the rule was written, for reports */
};

struct sys_rules {
	size_t n;
	struct sys_rule *v;   /* owned */
	bool io_uring_enosys; /* answer io_uring_setup with ENOSYS */
};

/* What an intercepted call is: path (relative to the data dir, or absolute when outside it;
 * NULL when the fd is no file, e.g. a socket) and, for rename, path2 (the new name). */
struct sys_call_info {
	enum sys_call call;
	const char *path;
	const char *path2;
	uint64_t len;	/* bytes the call asks to write or read (writes: the whole iovec) */
	int64_t now_ns; /* since the rules were armed */
};

struct sys_decision {
	enum sys_action action;
	size_t rule;	  /* index of the rule that fired */
	uint64_t nth;	  /* the rule's count of matching calls, this one included */
	int err;	  /* ERRNO */
	uint64_t keep;	  /* SHORT, TORN: bytes to write (<= len) */
	bool zero_rest;	  /* TORN: then len - keep zero bytes after them */
	bool crash;	  /* kill the node after acting (TORN, CRASH_*, then: crash) */
	int64_t delay_ns; /* DELAY */
};

/* Parses the body described above. *out: caller frees with sys_rules_free. */
int sys_rules_parse(const struct cfg_node *args, struct sys_rules **out, struct cd_error *err);
/* Parses one rule mapping into *rule. */
int sys_rule_parse(const struct cfg_node *map, struct sys_rule *rule, struct cd_error *err);
void sys_rules_free(struct sys_rules *rs);

/* "write", "pwrite", ...; NULL out of range. */
const char *sys_call_name(enum sys_call c);
/* -1 if unknown. */
int sys_call_from_name(const char *name);
/* "errno", "short", "torn", "crash-before", "crash-after", "delay", "none". */
const char *sys_action_name(enum sys_action a);

/* Does the rule's call set and glob match the call (not counting, not deciding)? */
bool sys_rule_matches(const struct sys_rule *r, const struct sys_call_info *c);
/* Counts the call for every rule it matches (counts[i], one per rule of v[0..n)) and
 * returns true with *d filled when the first matching rule, in order, fires. False: let the
 * call run. Counts are incremented atomically, so they may live in memory shared between
 * the processes of a node (the shim's control block). */
bool sys_decide(const struct sys_rule *v, size_t n, uint64_t *counts, uint64_t seed,
		const struct sys_call_info *c, struct sys_decision *d);
/* The counter-based generator: a 64-bit value from (seed, rule, nth, salt). */
uint64_t sys_rand(uint64_t seed, uint64_t rule, uint64_t nth, uint64_t salt);
/* Bytes a SHORT/TORN rule keeps of a len-byte write at its nth call. random: 1..len-1 when
 * len >= 2 (so the write really is cut), 0 otherwise. */
uint64_t sys_keep_bytes(const struct sys_rule *r, size_t rule, uint64_t nth, uint64_t seed,
			uint64_t len);

/* Drops empty and "." components of an absolute path and applies "..", in place (the kernel
 * resolves the same file unless a symlink intervenes: good enough to match a glob). */
void sys_path_normalize(char *path);
/* The path rules see for an absolute path as a process sees it (full, borrowed): relative to
 * data_dir when under it ("." for data_dir itself), full otherwise; NULL when full is no path
 * ("socket:[12]", "pipe:[3]"). */
const char *sys_path_for_rules(const char *data_dir, const char *full);

#endif
