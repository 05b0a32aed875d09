/* The harness side of the preload shim's control block (sys_shimctl.h): create, arm,
 * disarm and read back what was injected. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "faults/sys_shimctl.h"

struct sys_shimctl {
	struct sys_shim_block *b;
	char *path;
};

int sys_shimctl_create(const char *path, struct sys_shimctl **out)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	struct sys_shimctl *ctl;
	void *m;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(struct sys_shim_block)) < 0 ||
	    (m = mmap(NULL, sizeof(struct sys_shim_block), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0)) == MAP_FAILED) {
		int r = -errno;

		unlink(path);
		return r;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl || !(ctl->path = strdup(path))) {
		free(ctl);
		munmap(m, sizeof(struct sys_shim_block));
		unlink(path);
		return -ENOMEM;
	}
	ctl->b = m;
	ctl->b->magic = SYS_SHIM_MAGIC;
	ctl->b->version = SYS_SHIM_VERSION;
	ctl->b->size = sizeof(struct sys_shim_block);
	*out = ctl;
	return 0;
}

int sys_shimctl_arm(struct sys_shimctl *ctl, const struct sys_rules *rs, uint64_t seed,
		    const char *data_dir)
{
	struct sys_shim_block *b = ctl->b;

	if (rs->n > SYS_SHIM_MAX_RULES)
		return -E2BIG;
	for (size_t i = 0; i < rs->n; i++) /* the shim does not write zeros behind a tear */
		if (rs->v[i].zero_rest)
			return -EOPNOTSUPP;
	if (strlen(data_dir) >= sizeof(b->data_dir))
		return -ENAMETOOLONG;
	sys_shimctl_disarm(ctl);
	b->calls = 0;
	for (size_t i = 0; i < rs->n; i++) {
		b->rules[i] = rs->v[i];
		b->counts[i] = 0;
		b->calls |= rs->v[i].calls;
	}
	b->n_rules = (uint32_t)rs->n;
	b->seed = seed;
	b->t0_ns = time_mono_ns();
	snprintf(b->data_dir, sizeof(b->data_dir), "%s", data_dir);
	__atomic_store_n(&b->n_events, 0, __ATOMIC_RELAXED);
	/* Everything above is visible before a shim sees armed. */
	__atomic_store_n(&b->armed, 1, __ATOMIC_RELEASE);
	return 0;
}

void sys_shimctl_disarm(struct sys_shimctl *ctl)
{
	__atomic_store_n(&ctl->b->armed, 0, __ATOMIC_RELEASE);
}

uint32_t sys_shimctl_attached(const struct sys_shimctl *ctl)
{
	return __atomic_load_n(&ctl->b->attached, __ATOMIC_ACQUIRE);
}

size_t sys_shimctl_events(const struct sys_shimctl *ctl, const struct sys_shim_event **ev)
{
	uint32_t n = __atomic_load_n(&ctl->b->n_events, __ATOMIC_ACQUIRE);

	*ev = ctl->b->events;
	return n < SYS_SHIM_MAX_EVENTS ? n : SYS_SHIM_MAX_EVENTS;
}

void sys_shimctl_free(struct sys_shimctl *ctl)
{
	if (!ctl)
		return;
	munmap(ctl->b, sizeof(*ctl->b));
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
