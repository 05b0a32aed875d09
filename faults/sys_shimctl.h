/* The preload shim's control block: a file the harness maps and writes at run time and every
 * shimmed process of a node maps shared (path in $CHAOSDRILL_SHIM_CTL, read once by the shim
 * and removed from its environment). The same rules as the seccomp supervisor (sys_rule.h),
 * copied in as plain data; counters and the injection log are shared by the node's processes.
 *
 * Usage (harness):
 *   struct sys_shimctl *ctl;  sys_shimctl_create(run_dir "/n1.shim", &ctl);
 *   node env: LD_PRELOAD=.../libchaosdrill-shim.so CHAOSDRILL_SHIM_CTL=<path>
 *   sys_shimctl_arm(ctl, rules, seed, "/var/lib/chaosdrill/data");   // at the fault's time
 *   n = sys_shimctl_events(ctl, &ev);   // what was injected; ev[i].killed: the shim SIGKILLed
 *                                       // its own process: the harness kills the rest of the node
 *   sys_shimctl_disarm(ctl);  sys_shimctl_free(ctl);
 */
#ifndef CHAOSDRILL_FAULTS_SYS_SHIMCTL_H
#define CHAOSDRILL_FAULTS_SYS_SHIMCTL_H

#include <stddef.h>
#include <stdint.h>

#include "faults/sys_rule.h"

#define SYS_SHIM_ENV "CHAOSDRILL_SHIM_CTL"
#define SYS_SHIM_MAGIC 0x31304d4948534443ULL /* "CDSHIM01" */
#define SYS_SHIM_MAX_RULES 16
#define SYS_SHIM_MAX_EVENTS 64

struct sys_shim_event {
	uint32_t rule, call, action, killed;
	uint64_t nth, requested, kept;
	int64_t offset; /* -1 unknown */
	int32_t err, pid;
	char path[256];
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
	uint32_t n_events; /* may pass SYS_SHIM_MAX_EVENTS: later events are counted, not kept */
	struct sys_shim_event events[SYS_SHIM_MAX_EVENTS];
};
#define SYS_SHIM_VERSION 1

struct sys_shimctl;

/* Creates the block at path (a new file, mode 0644) and maps it. Caller frees. */
int sys_shimctl_create(const char *path, struct sys_shimctl **out);
/* Arms rs (copied; -E2BIG past SYS_SHIM_MAX_RULES) with seed, counts reset. */
int sys_shimctl_arm(struct sys_shimctl *ctl, const struct sys_rules *rs, uint64_t seed,
		    const char *data_dir);
void sys_shimctl_disarm(struct sys_shimctl *ctl);
/* Processes that attached so far. */
uint32_t sys_shimctl_attached(const struct sys_shimctl *ctl);
/* The recorded injections (borrowed, live) and their count. */
size_t sys_shimctl_events(const struct sys_shimctl *ctl, const struct sys_shim_event **ev);
/* Unmaps and removes the file; accepts NULL. */
void sys_shimctl_free(struct sys_shimctl *ctl);

#endif
