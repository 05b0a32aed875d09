/* The fault file system's node attachment: chaosdrill-faultfs mounted over the node's data
 * dir, inside the node's own mount namespace, before its first start (with the volatile
 * cache if a power cut is planned; the kernel's writeback cache unless bad sectors on
 * writes are, which must fail write(2) itself); driven over its control socket in the run
 * directory; stopped (flushing) at the end. faultfs runs outside the node's pid
 * namespace: killing the node leaves it.
 *
 * Usage (faults/faultfs/kinds.c):
 *   a = env->attachment(env->harness, node, &ffs_attach_ops);
 *   ffs_attach_command(a, "arm-bad-range path=/txn.log off=0 len=512 ...", reply, len);
 */
#ifndef CHAOSDRILL_FAULTS_FAULTFS_ATTACH_H
#define CHAOSDRILL_FAULTS_FAULTFS_ATTACH_H

#include <stddef.h>

#include "faults/attach.h"

extern const struct attach_ops ffs_attach_ops;

/* One command line to the node's faultfs and its one-line answer ("ok ..." or "error
 * ENAME message"). -EIO when it answered with an error; -ENODEV without faultfs. */
int ffs_attach_command(struct node_attach *a, const char *line, char *reply, size_t len);
/* chaosdrill-faultfs: $CHAOSDRILL_FAULTFS, else the one built with the harness. */
const char *ffs_attach_binary(void);

#endif
