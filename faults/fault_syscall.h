/* The `syscall` fault kind's state, as the harness needs it: the node and the rules. The
 * harness installs the node's seccomp filter when the node starts (a filter can only be
 * installed by the process itself, before exec) and runs its supervisor; the fault arms
 * the rules at its time and disarms them at its heal. */
#ifndef CHAOSDRILL_FAULTS_FAULT_SYSCALL_H
#define CHAOSDRILL_FAULTS_FAULT_SYSCALL_H

#include "faults/fault.h"
#include "faults/sys_rule.h"

extern const struct fault_ops fault_syscall_ops;

/* Borrowed from the fault's state (the drill owns it). */
const char *fault_syscall_node(const void *state);
const struct sys_rules *fault_syscall_rules(const void *state);

#endif
