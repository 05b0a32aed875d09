/* `chaosdrill node-disk`: the harness's own helper for a node's `disk:`, run by the harness
 * inside the node's mount namespace (node_exec with node_mounts), never by hand:
 *
 *   chaosdrill node-disk mount tmpfs BYTES    a size-limited tmpfs over the data dir
 *   chaosdrill node-disk mount ext4 DEVICE    an ext4 (on the harness's loop device) there
 *   chaosdrill node-disk fill FREE            a ballast file until FREE bytes are left
 *   chaosdrill node-disk unfill               delete the ballast
 *
 * Prints one line of what it did; exit 0, or 1 with the reason on stderr. It does its work
 * in a helper process of its own because the data dir's file system is visible only
 * inside the node's mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "harness/cli/cli.h"
#include "harness/lab/lab.h"

#define BALLAST LAB_DATA_PATH "/.chaosdrill-ballast"

static int fail(const char *what, int err)
{
	fprintf(stderr, "chaosdrill node-disk: %s: %s\n", what, strerror(err));
	return 1;
}

/* Free bytes of the data dir's file system; UINT64_MAX when statvfs fails. */
static uint64_t free_bytes(void)
{
	struct statvfs sv;

	return statvfs(LAB_DATA_PATH, &sv) < 0 ? UINT64_MAX : (uint64_t)sv.f_bavail * sv.f_frsize;
}

static int do_mount(const char *fs, const char *arg)
{
	char opts[64];
	uint64_t size;

	if (strcmp(fs, "tmpfs") == 0) {
		if (units_parse_size(arg, &size) < 0)
			return fail("bad size", EINVAL);
		snprintf(opts, sizeof(opts), "size=%" PRIu64 ",mode=0755", size);
		if (mount("tmpfs", LAB_DATA_PATH, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			return fail("mount tmpfs", errno);
	} else if (strcmp(fs, "ext4") == 0) {
		if (mount(arg, LAB_DATA_PATH, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
			return fail("mount ext4", errno);
	} else {
		return fail(fs, EINVAL);
	}
	printf("%s mounted over the data dir, %" PRIu64 " bytes free\n", fs, free_bytes());
	return 0;
}

/* Grows the ballast by fallocate until at most `want` bytes are free: one call for the
 * bulk, then smaller ones for what metadata left over (ext4 gives back less than it
 * reports), down to a block. */
static int fill(uint64_t want)
{
	_cleanup_close_ int fd = open(BALLAST, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	struct stat sb;
	uint64_t have, step, f;

	if (fd < 0 || fstat(fd, &sb) < 0)
		return fail("create the ballast", errno);
	if (free_bytes() == UINT64_MAX)
		return fail("statvfs the data dir", errno);
	have = (uint64_t)sb.st_size;
	/* The node may write meanwhile: free space is read once a round, and what the node
	 * takes only makes the ballast's next step smaller. */
	for (int round = 0; round < 64 && (f = free_bytes()) > want; round++) {
		step = f - want;
		while (fallocate(fd, 0, (off_t)have, (off_t)step) < 0) {
			if (errno != ENOSPC)
				return fail("fallocate the ballast", errno);
			if (step <= 4096)
				goto full; /* what is left is metadata's, or less than a block */
			step /= 2;
		}
		have += step;
	}
full:
	if (fsync(fd) < 0 || fstat(fd, &sb) < 0)
		return fail("fsync the ballast", errno);
	f = free_bytes();
	/* st_blocks, not `have`: a fallocate that failed with ENOSPC may keep what it got */
	printf("ballast %" PRIu64 " bytes, %" PRIu64 " bytes free\n", (uint64_t)sb.st_blocks * 512,
	       f);
	if (f == UINT64_MAX || f > want + 64 * 1024) {
		fprintf(stderr,
			"chaosdrill node-disk: the disk still has %" PRIu64
			" bytes free, not %" PRIu64 "\n",
			f == UINT64_MAX ? 0 : f, want);
		return 1;
	}
	return 0;
}

static int unfill(void)
{
	struct stat sb;
	uint64_t had = stat(BALLAST, &sb) == 0 ? (uint64_t)sb.st_size : 0;

	if (unlink(BALLAST) < 0 && errno != ENOENT)
		return fail("delete the ballast", errno);
	printf("deleted the %" PRIu64 "-byte ballast, %" PRIu64 " bytes free\n", had, free_bytes());
	return 0;
}

int cmd_node_disk(int argc, char **argv)
{
	uint64_t want;

	if (argc == 4 && strcmp(argv[1], "mount") == 0)
		return do_mount(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "fill") == 0) {
		if (units_parse_size(argv[2], &want) < 0)
			return fail("bad free size", EINVAL);
		return fill(want);
	}
	if (argc == 2 && strcmp(argv[1], "unfill") == 0)
		return unfill();
	fprintf(stderr,
		"chaosdrill node-disk is run by the harness inside a node's mount namespace:\n"
		"  node-disk mount tmpfs BYTES | mount ext4 DEVICE | fill FREE | unfill\n");
	return EXIT_BAD_INPUT;
}
