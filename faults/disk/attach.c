/* A node's own disk: see attach.h. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "common/units.h"
#include "faults/disk/attach.h"

#define HELPER_NS (30 * NSEC_PER_SEC)

struct disk_attach {
	struct attach_host host;
	struct disk_spec spec;
	bool mounted;
};

static struct disk_attach *of(struct node_attach *a)
{
	return (struct disk_attach *)a;
}

static int attach_new(const struct attach_host *host, struct node_attach **out)
{
	struct disk_attach *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->host = *host;
	*out = (struct node_attach *)d;
	return 0;
}

static int want(struct node_attach *a, const void *arg, size_t fault)
{
	of(a)->spec = *(const struct disk_spec *)arg;
	return 0;
}

static int cannot(struct disk_attach *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cannot(struct disk_attach *d, int err, const char *fmt, ...)
{
	char what[600], why[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, sizeof(why), "disk of %s: %s", d->host.node, what);
	d->host.ops->cannot(d->host.h, why);
	return err;
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

static int setup_ext4(struct disk_attach *d, char *what, size_t len)
{
	const struct attach_host *h = &d->host;
	char image[4200], dev[32], out[256];
	const char *mkfs[] = { "mkfs.ext4",
			       "-q",
			       "-F",
			       "-m",
			       "0",
			       "-E",
			       "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
			       image,
			       NULL };
	const char *mnt[] = { h->chaosdrill, "node-disk", "mount", "ext4", dev, NULL };
	_cleanup_close_ int fd = -1;
	int k;

	snprintf(image, sizeof(image), "%s/disk.img", h->node_dir);
	fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)d->spec.size) < 0)
		return cannot(d, -errno, "cannot create %s: %s", image, strerror(errno));
	close(TAKE_FD(fd));
	k = h->ops->run(h->h, false, mkfs, HELPER_NS, out, sizeof(out));
	if (k >= 0)
		k = failpoint("disk.mkfs", -ENOENT);
	if (k < 0)
		return cannot(d, k, "mkfs.ext4 failed: %s",
			      k == -ENOENT ? "not installed (Debian: e2fsprogs)" :
			      k == -EIO	   ? out :
					     strerror(-k));
	fd = loop_attach(image, dev, sizeof(dev));
	if (fd >= 0 && (k = failpoint("disk.loop", -ENXIO)) < 0) {
		close(fd);
		fd = k;
	}
	if (fd < 0)
		return cannot(
			d, fd,
			"no loop device (%s): fs: ext4 needs /dev/loop-control; fs: tmpfs does not",
			strerror(-fd));
	k = h->ops->run(h->h, true, mnt, HELPER_NS, out, sizeof(out));
	if (k >= 0)
		k = failpoint("disk.mount", -EPERM);
	if (k < 0)
		return cannot(d, k, "cannot mount ext4 from %s: %s", dev,
			      k == -EIO ? out : strerror(-k));
	snprintf(what, len, "ext4 on %s (image nodes/%s/disk.img): %s", dev, h->node, out);
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

static int setup_tmpfs(struct disk_attach *d, char *what, size_t len)
{
	const struct attach_host *h = &d->host;
	char size[32], out[256];
	const char *mnt[] = { h->chaosdrill, "node-disk", "mount", "tmpfs", size, NULL };
	uint64_t avail = mem_available();
	int k;

	/* a full tmpfs is that much RAM in use: never more than half of what is free */
	if (avail && d->spec.size > avail / 2) {
		units_format_size(d->spec.size, size, sizeof(size));
		return cannot(
			d, -ENOMEM,
			"a %s tmpfs would take more than half the memory available (%llu MiB): use fs: ext4, or a smaller size",
			size, (unsigned long long)(avail >> 20));
	}
	snprintf(size, sizeof(size), "%" PRIu64, d->spec.size);
	k = h->ops->run(h->h, true, mnt, HELPER_NS, out, sizeof(out));
	if (k >= 0)
		k = failpoint("disk.mount", -EPERM);
	if (k < 0)
		return cannot(d, k, "cannot mount a tmpfs: %s", k == -EIO ? out : strerror(-k));
	snprintf(what, len, "%s", out);
	return 0;
}

static int prepare(struct node_attach *a)
{
	struct disk_attach *d = of(a);
	const struct attach_host *h = &d->host;
	char what[512], line[600], size[32];
	int k;

	if (!h->chaosdrill)
		return cannot(d, -ENOENT, "cannot find the chaosdrill binary (/proc/self/exe)");
	k = d->spec.ext4 ? setup_ext4(d, what, sizeof(what)) : setup_tmpfs(d, what, sizeof(what));
	if (k < 0)
		return k;
	d->mounted = true;
	units_format_size(d->spec.size, size, sizeof(size));
	snprintf(line, sizeof(line), "data dir on its own %s disk: %s", size, what);
	h->ops->note(h->h, h->ops->now(h->h), -1, line, NULL);
	return 0;
}

int disk_attach_fill(struct node_attach *a, bool fill, uint64_t free_bytes, char *reply, size_t len)
{
	struct disk_attach *d = of(a);
	char arg[32];
	const char *fill_argv[] = { d ? d->host.chaosdrill : NULL, "node-disk", "fill", arg, NULL };
	const char *unfill_argv[] = { d ? d->host.chaosdrill : NULL, "node-disk", "unfill", NULL };

	if (!d || !d->mounted)
		return -ENODEV;
	snprintf(arg, sizeof(arg), "%" PRIu64, free_bytes);
	return d->host.ops->run(d->host.h, true, fill ? fill_argv : unfill_argv, HELPER_NS, reply,
				len);
}

static void attach_free(struct node_attach *a)
{
	free(a);
}

const struct attach_ops disk_attach_ops = {
	.name = "disk",
	.order = 10, /* first: the fault file system mounts over it */
	.new = attach_new,
	.want = want,
	.prepare = prepare,
	.free = attach_free,
};
