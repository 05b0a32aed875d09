/* faults/sys/: syscall faults. One rule language (rule.h, match.c) says which calls of a
 * node fail, tear, crash or wait; two mechanisms carry it out: a seccomp user-notification
 * filter (filter.c, the family's libseccomp file) answered by a supervisor (supervisor.c),
 * for any program; and the LD_PRELOAD shim (shim.c, driven through shimctl.h), for
 * dynamically linked ones.
 *
 * The `syscall` fault kind's state, as the harness needs it: the node, the mechanism and
 * the rules. With seccomp (the default) the harness installs the node's filter when the
 * node starts (a filter can only be installed by the process itself, before exec) and runs
 * its supervisor; with preload it starts the node with the shim (faults/sys/shimctl.h).
 * Either way the fault arms the rules at its time and disarms them at its heal. */
#ifndef CHAOSDRILL_FAULTS_FAULT_SYSCALL_H
#define CHAOSDRILL_FAULTS_FAULT_SYSCALL_H

#include "faults/fault.h"
#include "faults/sys/rule.h"

extern const struct fault_ops fault_syscall_ops;

/* How the rules reach the node's calls. */
enum fault_syscall_mechanism {
	FAULT_SYSCALL_SECCOMP, /* seccomp user notification: any program, static and Go too */
	FAULT_SYSCALL_PRELOAD, /* the LD_PRELOAD shim: dynamically linked programs through libc */
};

/* Borrowed from the fault's state (the drill owns it). */
const char *fault_syscall_node(const void *state);
const struct sys_rules *fault_syscall_rules(const void *state);
enum fault_syscall_mechanism fault_syscall_mechanism(const void *state);
/* "seccomp", "preload": the scenario's words. */
const char *fault_syscall_mechanism_name(enum fault_syscall_mechanism m);

#endif
