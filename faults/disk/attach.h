/* A node's own disk (`disk: {size, fs}`) as a node attachment: before the node's first
 * start its data dir gets a size-limited file system of its own, mounted inside the node's
 * mount namespace only, so that `disk-full` fills it for real (the kernel's own ENOSPC) and
 * no write of the node ever touches the host's disk space beyond it.
 *
 * tmpfs: `size=` is the limit. ext4: an image file in the node's run folder (kept, for
 * inspection), mkfs.ext4 -m 0 (no root reserve: nodes run as root) with its tables
 * initialised up front (no lazy-init thread writing behind the drill's back), on a loop
 * device with LO_FLAGS_AUTOCLEAR: the device detaches itself when the mount goes, which
 * happens when the node's mount namespace dies, even if the harness is killed. The mount
 * and the ballast are made by `chaosdrill node-disk` run inside the node's mount namespace.
 *
 * The runner makes it for every node whose drill gives it a disk (want with a struct
 * disk_spec); `disk-full` (disk_full.c) fills and frees it. */
#ifndef CHAOSDRILL_FAULTS_DISK_ATTACH_H
#define CHAOSDRILL_FAULTS_DISK_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults/attach.h"

extern const struct attach_ops disk_attach_ops;

struct disk_spec {
	uint64_t size; /* bytes */
	bool ext4;     /* else tmpfs */
};

/* Fills the disk with a ballast file until free_bytes are left (fill), or deletes the
 * ballast; reply gets one line about it ("ballast 66060288 bytes, 0 bytes free").
 * -ENODEV when the node has no disk. */
int disk_attach_fill(struct node_attach *a, bool fill, uint64_t free_bytes, char *reply,
		     size_t len);

#endif
