/* faults/faultfs/: the FUSE fault file system. chaosdrill-faultfs (faultfs_*.c, libfuse3
 * in faultfs_fuse.c only) is mounted over a node's data dir and fails, rots or forgets
 * (power cut) what the node reads and writes, driven over a control socket (ffs_proto.h);
 * the ffs_*.c files are its pure parts. This header is the fault kinds that use it.
 *
 * Fault kinds of the fault file system (faults/faultfs/, chaosdrill-faultfs): a node that
 * any of them names gets its data dir behind faultfs from its first start; power-cut needs
 * the volatile cache (writes reach the disk only when synced), and bad sectors on writes
 * need every write(2) to reach faultfs (no kernel writeback cache). */
#ifndef CHAOSDRILL_FAULTS_FAULT_DISK_H
#define CHAOSDRILL_FAULTS_FAULT_DISK_H

#include <stdbool.h>

#include "faults/fault.h"

extern const struct fault_ops fault_power_cut_ops;
extern const struct fault_ops fault_bitrot_ops;
extern const struct fault_ops fault_bad_sectors_ops;

/* Whether a fault kind works through faultfs, and whether it needs the volatile cache. */
bool fault_disk_uses_faultfs(const struct fault_ops *ops);
bool fault_disk_needs_volatile(const struct fault_ops *ops);
/* Whether a parsed fault (state from ops->parse) fails writes: with the kernel's writeback
 * cache its errors would come at writeback (fsync, close) instead of at write(2). */
bool fault_disk_fails_writes(const struct fault_ops *ops, const void *state);

#endif
