/* The harness side of the preload shim's control block (shimctl.h): create, arm,
 * disarm, take out what was injected; and whether a program can take the shim at all. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/timeutil.h"
#include "faults/sys/shimctl.h"
#include "faults/sys/supervisor.h"

struct sys_shimctl {
	struct sys_shim_block *b;
	char *path;
	uint32_t lost; /* slots skipped by a final sys_shimctl_next */
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
	memset(b->events, 0, sizeof(b->events));
	b->claimed = b->taken = b->dropped = 0;
	ctl->lost = 0;
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

int sys_shimctl_next(struct sys_shimctl *ctl, bool final, struct sys_shim_event *ev)
{
	struct sys_shim_block *b = ctl->b;
	uint32_t taken = b->taken, claimed; /* only the harness writes taken */

	while (taken != (claimed = __atomic_load_n(&b->claimed, __ATOMIC_ACQUIRE))) {
		const struct sys_shim_event *e;
		bool ready;

		/* The shims never claim more than a ring ahead: a block that says so was written
		 * over (it is mapped in the node's processes). What lies past a ring is lost,
		 * rather than walking up to 2^32 slots to skip it (found by tests/fuzz). */
		if (claimed - taken > SYS_SHIM_RING) {
			ctl->lost += claimed - taken - SYS_SHIM_RING;
			taken = claimed - SYS_SHIM_RING;
			__atomic_store_n(&b->taken, taken, __ATOMIC_RELEASE);
		}
		e = &b->events[taken % SYS_SHIM_RING];
		ready = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) == taken + 1;
		if (!ready && !final)
			return 0; /* still being written */
		if (ready)
			*ev = *e;
		else
			ctl->lost++;
		/* The copy is made before the slot is handed back to the shims. */
		__atomic_store_n(&b->taken, ++taken, __ATOMIC_RELEASE);
		if (ready)
			return 1;
	}
	return 0;
}

uint32_t sys_shimctl_lost(const struct sys_shimctl *ctl)
{
	return __atomic_load_n(&ctl->b->dropped, __ATOMIC_ACQUIRE) + ctl->lost;
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

void sys_shim_event_injection(const struct sys_shim_event *ev, const struct sys_rules *rs,
			      struct sys_injection *inj)
{
	const struct sys_rule *r = ev->rule < rs->n ? &rs->v[ev->rule] : NULL;

	*inj = (struct sys_injection){
		.action = (enum sys_action)ev->action,
		.rule = ev->rule,
		.rule_line = r ? r->line : 0,
		.rule_col = r ? r->col : 0,
		.nth = ev->nth,
		.pid = ev->pid,
		.call = (enum sys_call)ev->call,
		.fd = ev->fd,
		.offset = ev->offset,
		.requested = ev->requested,
		.kept = ev->kept,
		.zeroed = ev->zeroed,
		.err = ev->err,
		.delay_ns = r && r->action == SYS_ACT_DELAY ? r->delay_ns : 0,
		.killed = ev->killed,
		.at_ns = ev->at_ns,
	};
	inj->syscall = sys_call_name(inj->call);
	if (!inj->syscall)
		inj->syscall = "?";
	/* bounded: the shim always ends them, but the block lives in the node's processes */
	snprintf(inj->path, sizeof(inj->path), "%.*s", (int)sizeof(ev->path), ev->path);
	snprintf(inj->path2, sizeof(inj->path2), "%.*s", (int)sizeof(ev->path2), ev->path2);
}

/* What the start of an ELF file says. */
struct elf_id {
	unsigned char cls, data;
	uint16_t machine;
	bool interp; /* a PT_INTERP program header */
};

/* Whether the program headers have a PT_INTERP (an unreadable table has none). */
static bool phdrs_interp(int fd, const unsigned char *h, unsigned char cls)
{
	uint64_t off;
	size_t size, n;

	if (cls == ELFCLASS64) {
		const Elf64_Ehdr *e = (const Elf64_Ehdr *)h;

		off = e->e_phoff, size = e->e_phentsize, n = e->e_phnum;
	} else {
		const Elf32_Ehdr *e = (const Elf32_Ehdr *)h;

		off = e->e_phoff, size = e->e_phentsize, n = e->e_phnum;
	}
	if (size < (cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint32_t type; /* p_type is the first field in both classes */

		if (pread(fd, &type, sizeof(type), (off_t)(off + i * size)) !=
		    (ssize_t)sizeof(type))
			return false;
		if (type == PT_INTERP)
			return true;
	}
	return false;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELFDATA_NATIVE ELFDATA2LSB
#else
#define ELFDATA_NATIVE ELFDATA2MSB
#endif

/* -ENOEXEC: not an ELF file (or a truncated one). Program headers are read only in the
 * byte order of this machine (another one is foreign anyway). */
static int elf_read(const char *path, struct elf_id *id)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char h[sizeof(Elf64_Ehdr)] = { 0 };
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, h, sizeof(h), 0);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(h, ELFMAG, SELFMAG) != 0 ||
	    (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64) ||
	    (h[EI_CLASS] == ELFCLASS64 && n < (ssize_t)sizeof(Elf64_Ehdr)))
		return -ENOEXEC;
	*id = (struct elf_id){ .cls = h[EI_CLASS], .data = h[EI_DATA] };
	/* e_machine sits at the same offset in both classes */
	memcpy(&id->machine, h + offsetof(Elf64_Ehdr, e_machine), sizeof(id->machine));
	id->interp = id->data == ELFDATA_NATIVE && phdrs_interp(fd, h, id->cls);
	return 0;
}

int sys_shim_fit(const char *shim_so, const char *program, enum sys_shim_fit *fit)
{
	struct elf_id shim, prog;
	int r = elf_read(shim_so, &shim);

	if (r < 0)
		return r;
	r = elf_read(program, &prog);
	if (r < 0 && r != -ENOEXEC)
		return r;
	if (r == -ENOEXEC)
		*fit = SYS_SHIM_NOT_ELF;
	else if (prog.cls != shim.cls || prog.data != shim.data || prog.machine != shim.machine)
		*fit = SYS_SHIM_FOREIGN;
	else
		*fit = prog.interp ? SYS_SHIM_FITS : SYS_SHIM_STATIC;
	return 0;
}

const char *sys_shim_fit_name(enum sys_shim_fit fit)
{
	static const char *const names[] = {
		[SYS_SHIM_FITS] = "dynamically linked",
		[SYS_SHIM_STATIC] =
			"statically linked (no dynamic loader to preload the shim into)",
		[SYS_SHIM_FOREIGN] = "built for another machine or word size than the shim",
		[SYS_SHIM_NOT_ELF] =
			"not an ELF program (a script? the shim would load into its interpreter, whose children do not inherit it)",
	};

	return (unsigned)fit <= SYS_SHIM_NOT_ELF ? names[fit] : "?";
}
