/* A node's own disk (`disk: {size, fs}`): before its first start the node's data dir gets a
 * size-limited file system of its own, mounted inside the node's mount namespace only, so
 * that `disk-full` can fill it for real (the kernel's own ENOSPC) and no write of the node
 * ever touches the host's disk space beyond it.
 *
 * tmpfs: `size=` is the limit. ext4: an image file in the node's run folder (kept, for
 * inspection), mkfs.ext4 -m 0 (no root reserve: nodes run as root) with its tables
 * initialised up front (no lazy-init thread writing behind the drill's back), on a loop device with
 * LO_FLAGS_AUTOCLEAR: the device detaches itself when the mount goes, which happens when the
 * node's mount namespace dies, even if the harness is killed. The mount and the ballast
 * are made by `chaosdrill node-disk` run inside the node's mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

#define DISK_HELPER_NS (30 * NSEC_PER_SEC)

static const char *self_exe(void)
{
	static char path[4096];

	if (!path[0] && !realpath("/proc/self/exe", path))
		return NULL;
	return path;
}

/* Runs argv in node n's mount namespace (or in the lab when n is NULL); its one-line
 * output goes to out (may be NULL). -errno, or -EIO with the output kept when it failed. */
static int helper(struct drill_run *r, struct run_node *n, const char *const *argv,
		  char *out, size_t len)
{
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int k;

	cmd.argv = argv;
	cmd.cwd = "/";
	cmd.node_mounts = n != NULL;
	k = lab_run(r->lab, n ? n->ln : NULL, &cmd, DISK_HELPER_NS, &res);
	if (k < 0)
		return k;
	if (out) {
		snprintf(out, len, "%s", res.output);
		out[strcspn(out, "\n")] = '\0';
	}
	k = res.timed_out ? -ETIMEDOUT : WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 ? 0 : -EIO;
	if (k == -EIO && out && !*out)
		snprintf(out, len, "exit status 0x%x", res.status);
	free(res.output);
	return k;
}

/* A free loop device bound to image (O_RDWR), autoclear; *dev gets its path. Returns the
 * device's fd (the caller closes it once the file system is mounted) or -errno. */
static int loop_attach(const char *image, char *dev, size_t len)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int img = open(image, O_RDWR | O_CLOEXEC);
	struct loop_config cfg = { 0 };

	if (ctl < 0 || img < 0)
		return -errno;
	cfg.fd = (uint32_t)img;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "chaosdrill");
	for (int tries = 0; tries < 16; tries++) { /* another process may take the free one */
		int num = ioctl(ctl, LOOP_CTL_GET_FREE), fd;

		if (num < 0)
			return -errno;
		snprintf(dev, len, "/dev/loop%d", num);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			return fd;
		if (errno == EINVAL || errno == ENOTTY) { /* before Linux 5.8 */
			if (ioctl(fd, LOOP_SET_FD, img) == 0) {
				if (ioctl(fd, LOOP_SET_STATUS64, &cfg.info) == 0)
					return fd;
				ioctl(fd, LOOP_CLR_FD, 0);
			}
		}
		close(fd);
		if (errno != EBUSY)
			return -errno;
	}
	return -EBUSY;
}

static int setup_ext4(struct drill_run *r, struct run_node *n, const struct scenario_disk *d,
		      char *what, size_t len)
{
	char image[4200], dev[32], out[256];
	const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-m", "0", "-E",
			       "nodiscard,lazy_itable_init=0,lazy_journal_init=0", image, NULL };
	const char *mnt[] = { self_exe(), "node-disk", "mount", "ext4", dev, NULL };
	_cleanup_close_ int fd = -1;
	int k;

	snprintf(image, sizeof(image), "%s/nodes/%s/disk.img", r->run_dir, n->sn->name);
	fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)d->size) < 0)
		return run_env_error(r, "cannot create %s: %s", image, strerror(errno));
	close(TAKE_FD(fd));
	k = helper(r, NULL, mkfs, out, sizeof(out));
	if (k >= 0)
		k = failpoint("disk.mkfs", -ENOENT);
	if (k < 0)
		return run_env_error(r, "disk of %s: mkfs.ext4 failed: %s", n->sn->name,
				     k == -ENOENT ? "not installed (Debian: e2fsprogs)"
				     : k == -EIO  ? out
						  : strerror(-k));
	fd = loop_attach(image, dev, sizeof(dev));
	if (fd >= 0 && (k = failpoint("disk.loop", -ENXIO)) < 0) {
		close(fd);
		fd = k;
	}
	if (fd < 0)
		return run_env_error(r, "disk of %s: no loop device (%s): fs: ext4 needs /dev/loop-control; fs: tmpfs does not",
				     n->sn->name, strerror(-fd));
	k = helper(r, n, mnt, out, sizeof(out));
	if (k >= 0)
		k = failpoint("disk.mount", -EPERM);
	if (k < 0)
		return run_env_error(r, "disk of %s: cannot mount ext4 from %s: %s", n->sn->name, dev,
				     k == -EIO ? out : strerror(-k));
	snprintf(what, len, "ext4 on %s (image nodes/%s/disk.img): %s", dev, n->sn->name, out);
	return 0;
}

/* MemAvailable in bytes, or 0 when unknown. */
static uint64_t mem_available(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kib;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			return (uint64_t)kib * 1024;
	return 0;
}

static int setup_tmpfs(struct drill_run *r, struct run_node *n, const struct scenario_disk *d,
		       char *what, size_t len)
{
	char size[32], out[256];
	const char *mnt[] = { self_exe(), "node-disk", "mount", "tmpfs", size, NULL };
	uint64_t avail = mem_available();
	int k;

	/* a full tmpfs is that much RAM in use: never more than half of what is free */
	if (avail && d->size > avail / 2) {
		units_format_size(d->size, size, sizeof(size));
		return run_env_error(r, "disk of %s: a %s tmpfs would take more than half the memory "
				     "available (%llu MiB): use fs: ext4, or a smaller size",
				     n->sn->name, size, (unsigned long long)(avail >> 20));
	}
	snprintf(size, sizeof(size), "%" PRIu64, d->size);
	k = helper(r, n, mnt, out, sizeof(out));
	if (k >= 0)
		k = failpoint("disk.mount", -EPERM);
	if (k < 0)
		return run_env_error(r, "disk of %s: cannot mount a tmpfs: %s", n->sn->name,
				     k == -EIO ? out : strerror(-k));
	snprintf(what, len, "%s", out);
	return 0;
}

int run_disk_prepare(struct drill_run *r)
{
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];
		const struct scenario_disk *d = scenario_node_disk(r->sc, n->sn);
		char what[512], size[32];
		int k;

		if (d->fs == SCENARIO_DISK_NONE)
			continue;
		if (!self_exe())
			return run_env_error(r, "cannot find the chaosdrill binary (/proc/self/exe)");
		k = d->fs == SCENARIO_DISK_EXT4 ? setup_ext4(r, n, d, what, sizeof(what))
						: setup_tmpfs(r, n, d, what, sizeof(what));
		if (k < 0)
			return k;
		n->has_disk = true;
		units_format_size(d->size, size, sizeof(size));
		timeline_add(r->tl, run_now(r), TL_NOTE, -1, n->sn->name, 0, "data dir on its own %s disk: %s",
			     size, what);
	}
	return 0;
}

int run_disk_command(struct run_node *n, bool fill, uint64_t free_bytes, char *reply, size_t len)
{
	char arg[32];
	const char *fill_argv[] = { self_exe(), "node-disk", "fill", arg, NULL };
	const char *unfill_argv[] = { self_exe(), "node-disk", "unfill", NULL };

	if (!n->has_disk)
		return -ENODEV;
	snprintf(arg, sizeof(arg), "%" PRIu64, free_bytes);
	return helper(n->run, n, fill ? fill_argv : unfill_argv, reply, len);
}
