/* Fault kinds of the fault file system (faults/faultfs/, chaosdrill-faultfs): a node that
 * any of them names gets its data dir behind faultfs from its first start; power-cut needs
 * the volatile cache (writes reach the disk only when synced). */
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

#endif
