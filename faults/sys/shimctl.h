/* The preload shim's control block: a file the harness maps and writes at run time and every
 * shimmed process of a node maps shared (path in $CHAOSDRILL_SHIM_CTL, read once by the shim
 * and removed from its environment). The same rules as the seccomp supervisor (rule.h),
 * copied in as plain data; counters and the injection log are shared by the node's processes.
 * The log is a ring: the shims claim slots, the harness takes events out in order; when the
 * harness falls a whole ring behind, further injections still happen and are only counted.
 *
 * Usage (harness):
 *   sys_shim_fit(shim_so, program, &fit);  // SYS_SHIM_FITS: a dynamically linked ELF program
 *   struct sys_shimctl *ctl;  sys_shimctl_create(run_dir "/n1.shim", &ctl);
 *   node env: LD_PRELOAD=.../libchaosdrill-shim.so CHAOSDRILL_SHIM_CTL=<path>
 *   sys_shimctl_arm(ctl, rules, seed, "/var/lib/chaosdrill/data");   // at the fault's time
 *   while (sys_shimctl_next(ctl, false, &ev) == 1)   // from a timer: what was injected;
 *           sys_shim_event_injection(&ev, rules, &inj);  // ev.killed: the shim SIGKILLed
 *                                   // its own process: the harness kills the rest of the node
 *   sys_shimctl_disarm(ctl);  sys_shimctl_free(ctl);
 */
#ifndef CHAOSDRILL_FAULTS_SYS_SHIMCTL_H
#define CHAOSDRILL_FAULTS_SYS_SHIMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults/sys/rule.h"

struct sys_injection;

#define SYS_SHIM_ENV "CHAOSDRILL_SHIM_CTL"
#define SYS_SHIM_MAGIC 0x31304d4948534443ULL /* "CDSHIM01" */
#define SYS_SHIM_MAX_RULES 16
#define SYS_SHIM_RING 64 /* events in the log */

/* The calls shim.c wraps (the libc functions of the same names, and pwrite64, pread64,
 * open, open64, renameat): a rule naming any other call cannot act through the shim. */
#define SYS_SHIM_CALLS                                                                   \
	((1u << SYS_CALL_WRITE) | (1u << SYS_CALL_PWRITE) | (1u << SYS_CALL_WRITEV) |    \
	 (1u << SYS_CALL_FSYNC) | (1u << SYS_CALL_FDATASYNC) | (1u << SYS_CALL_RENAME) | \
	 (1u << SYS_CALL_OPENAT) | (1u << SYS_CALL_FTRUNCATE) | (1u << SYS_CALL_READ) |  \
	 (1u << SYS_CALL_PREAD) | (1u << SYS_CALL_UNLINK))

struct sys_shim_event {
	uint32_t seq; /* the slot's claim number + 1 once written (release); 0: never written */
	uint32_t rule, call, action, killed;
	int32_t fd, err, pid; /* fd: -1 for path calls; pid: as the node's pid namespace sees it */
	uint64_t nth, requested, kept, zeroed;
	int64_t offset; /* -1 unknown */
	int64_t at_ns;	/* CLOCK_MONOTONIC */
	char path[256], path2[256];
};

/* The shared layout; version bumps on any change. */
struct sys_shim_block {
	uint64_t magic;
	uint32_t version, size;
	uint32_t armed;	   /* 0: no rule armed (the shim's fast path); written last */
	uint32_t attached; /* processes that mapped the block (the shim did load) */
	uint32_t calls;	   /* union of the armed rules' calls */
	uint32_t n_rules;
	uint64_t seed;
	int64_t t0_ns; /* CLOCK_MONOTONIC at arm: `from:` counts from here */
	char data_dir[256];
	struct sys_rule rules[SYS_SHIM_MAX_RULES];
	uint64_t counts[SYS_SHIM_MAX_RULES];
	uint32_t claimed; /* events claimed by shims: slot claimed % SYS_SHIM_RING */
	uint32_t taken;	  /* events the harness took out; claimed - taken <= SYS_SHIM_RING */
	uint32_t dropped; /* injections made while the ring was full: counted, not logged */
	struct sys_shim_event events[SYS_SHIM_RING];
};
#define SYS_SHIM_VERSION 2

struct sys_shimctl;

/* Creates the block at path (a new file, mode 0644) and maps it. Caller frees. */
int sys_shimctl_create(const char *path, struct sys_shimctl **out);
/* Arms rs (copied; -E2BIG past SYS_SHIM_MAX_RULES) with seed, counts and log reset. */
int sys_shimctl_arm(struct sys_shimctl *ctl, const struct sys_rules *rs, uint64_t seed,
		    const char *data_dir);
void sys_shimctl_disarm(struct sys_shimctl *ctl);
/* Processes that attached so far. */
uint32_t sys_shimctl_attached(const struct sys_shimctl *ctl);
/* Takes the oldest logged injection out of the ring into *ev: 1, or 0 when none is ready.
 * final: every process of the node is gone, so a slot claimed but never written (its
 * process died recording it) is skipped and counted as lost. */
int sys_shimctl_next(struct sys_shimctl *ctl, bool final, struct sys_shim_event *ev);
/* Injections that happened but are not in the log: the ring was full, or lost as above. */
uint32_t sys_shimctl_lost(const struct sys_shimctl *ctl);
/* Unmaps and removes the file; accepts NULL. */
void sys_shimctl_free(struct sys_shimctl *ctl);

/* The injection ev describes, as the seccomp supervisor describes its own (supervisor.h:
 * for sys_injection_format); rs: the rules it was armed with (where each was written). */
void sys_shim_event_injection(const struct sys_shim_event *ev, const struct sys_rules *rs,
			      struct sys_injection *inj);

/* Whether the shim may decide from b as it finds it: at most SYS_SHIM_MAX_RULES rules, each
 * glob and the data dir ending within its array, each rule's enums and bools in range. The block is mapped in the node's
 * processes, where a stray write can leave anything; the shim then injects nothing rather
 * than read past its rules. *n_rules: the count checked (read once). Pure (match.c, linked
 * into the shim). */
bool sys_shim_block_usable(const struct sys_shim_block *b, uint32_t *n_rules);

/* Whether a program can be run with the shim preloaded. */
enum sys_shim_fit {
	SYS_SHIM_FITS,	  /* an ELF program with a dynamic loader (PT_INTERP) */
	SYS_SHIM_STATIC,  /* an ELF program without one: statically linked (static-pie too) */
	SYS_SHIM_FOREIGN, /* an ELF file of another class or machine than the shim */
	SYS_SHIM_NOT_ELF, /* a script or other file: the shim would load into an interpreter,
			     * whose children do not inherit the control block */
};
/* Reads the ELF headers of program and of the shim (shim_so). -errno if either cannot be
 * read (the shim must be an ELF file: -ENOEXEC otherwise). */
int sys_shim_fit(const char *shim_so, const char *program, enum sys_shim_fit *fit);
/* "statically linked", ...; for messages. */
const char *sys_shim_fit_name(enum sys_shim_fit fit);

#endif
