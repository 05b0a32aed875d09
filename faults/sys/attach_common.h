/* What both syscall attachments share (faults/sys/attach.h): the rules they carry, whether
 * they are armed or spent, and the record of what they injected. Internal to faults/sys/. */
#ifndef CHAOSDRILL_FAULTS_SYS_ATTACH_COMMON_H
#define CHAOSDRILL_FAULTS_SYS_ATTACH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "faults/attach.h"
#include "faults/sys/rule.h"
#include "faults/sys/seen.h"
#include "faults/sys/supervisor.h"

/* The first member of either attachment's state. */
struct sys_attach {
	struct attach_host host;
	const char *mech; /* "seccomp", "preload": the scenario's words */
	const char *hint; /* why rules may never match although armed, or "" */
	int (*arm)(struct sys_attach *s, bool armed);
	size_t fault;		       /* the fault's index in the drill */
	const struct sys_rules *rules; /* borrowed from the fault; NULL until want */
	bool armed, spent;	       /* spent: it killed the node, or was healed */
	unsigned injections;
	int64_t first_ns;   /* drill time of the first injection, -1 before */
	struct strbuf what; /* one line per injection */
	struct sys_seen *seen; /* what the seed decided at its injections (replay) */
};

void sys_attach_init(struct sys_attach *s, const struct attach_host *host, const char *mech,
		     const char *hint, int (*arm)(struct sys_attach *, bool));
/* Takes the rules of one syscall fault: a node has one syscall fault (with several rules). */
int sys_attach_want(struct sys_attach *s, const void *fault_state, size_t fault);
/* Records an injection (timeline, output, report), at CLOCK_MONOTONIC inj->at_ns (0: now). */
void sys_attach_record(struct sys_attach *s, const struct sys_injection *inj);
/* Records a line that is not an injection of its own (the shim's lost entries). */
void sys_attach_note(struct sys_attach *s, int64_t at_ns, const char *line);
void sys_attach_release(struct sys_attach *s);


#endif
