/* The syscall family's node attachments: the seccomp filter and its supervisor
 * (seccomp_attach.c) and the preload shim (preload_attach.c). Either carries one `syscall`
 * fault's rules on its node for the whole drill; the fault arms them at its time and
 * disarms them at its heal, and reads back what they injected.
 *
 * Usage (faults/sys/syscall.c):
 *   ops->attach(state)                          // &sys_seccomp_attach_ops or &sys_preload_attach_ops
 *   a = env->attachment(env->harness, node, ops);
 *   sys_attach_arm(a, true);                    // -ESRCH: no incarnation that can take them
 *   sys_attach_effects(a, &effects);            // count, first strike, one line each
 */
#ifndef CHAOSDRILL_FAULTS_SYS_ATTACH_H
#define CHAOSDRILL_FAULTS_SYS_ATTACH_H

#include <stdbool.h>

#include "faults/attach.h"
#include "faults/fault.h"

extern const struct attach_ops sys_seccomp_attach_ops;
extern const struct attach_ops sys_preload_attach_ops;

/* Arms (or disarms) the rules. Arming needs a running incarnation that took the filter or
 * the shim (-ESRCH otherwise: the fault would have no effect); disarming works with the
 * node down too, and for good: later incarnations run clean. */
int sys_attach_arm(struct node_attach *a, bool armed);
/* What it injected so far (strings borrowed until the attachment is freed). */
void sys_attach_effects(const struct node_attach *a, struct fault_effects *out);
/* What the seed decided at each injection (fault_ops.seeded lines), appended to out. */
void sys_attach_seeded(const struct node_attach *a, struct strbuf *out);
/* The shim's absolute path: $CHAOSDRILL_SHIM, else the one built with the harness. */
const char *sys_shim_library(void);

#endif
