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

/* What a parsed fault (state from their ops->parse) needs of the node's faultfs: the
 * volatile cache (a power cut), and write(2) itself to fail (bad sectors on writes, whose
 * errors would come at writeback, at fsync or close, with the kernel's writeback cache). */
bool ffs_kind_needs_volatile(const void *state);
bool ffs_kind_fails_writes(const void *state);

#endif
