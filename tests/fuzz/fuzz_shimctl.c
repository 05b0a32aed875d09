/* Fuzzes the harness's reader of the preload shim's control block (faults/sys/shimctl.c):
 * the input is laid over a real block (sys_shimctl_create, mapped a second time as the
 * node's shims map it), as a node's processes could leave it; the harness then takes the
 * injections out of its ring (sys_shimctl_next, while the node runs and once it is gone)
 * and turns each into the report's words. The same input is also read as a program by
 * sys_shim_fit (the ELF headers check made before preloading the shim). The shim's own reading
 * of the block (its rules, for each intercepted call) is fuzzed through the pure calls
 * shim.c makes. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "faults/sys/shimctl.h"
#include "faults/sys/supervisor.h"
#include "tests/fuzz/fuzz.h"

static struct sys_shimctl *ctl;
static struct sys_shim_block *blk; /* the same block, as a shim maps it */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir();
	char path[512];
	int fd;

	if (!dir)
		fuzz_fail("no scratch directory: %m");
	snprintf(path, sizeof(path), "%s/n1.shim", dir);
	if (sys_shimctl_create(path, &ctl) < 0 || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		fuzz_fail("%s: %m", path);
	blk = mmap(NULL, sizeof(*blk), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (blk == MAP_FAILED)
		fuzz_fail("mmap %s: %m", path);
	return 0;
}

static void report(const struct sys_shim_event *ev, const struct sys_rules *rs)
{
	struct sys_injection inj;
	struct strbuf sb = STRBUF_INIT;

	sys_shim_event_injection(ev, rs, &inj);
	sys_injection_format(&inj, &sb);
	strbuf_release(&sb);
}

/* The shim's side: what shim.c's decide() reads of the block for an intercepted call, with
 * the same pure calls in the same order (shim.c itself cannot be linked: it wraps libc). */
static void shim_decide(void)
{
	static const struct {
		enum sys_call call;
		const char *full, *full2;
	} calls[] = {
		{ SYS_CALL_PWRITE, "/var/lib/chaosdrill/data/txn.log", "" },
		{ SYS_CALL_FSYNC, "/var/lib/chaosdrill/data/sub/wal", "" },
		{ SYS_CALL_RENAME, "/var/lib/chaosdrill/data/a.tmp", "/var/lib/chaosdrill/data/a" },
		{ SYS_CALL_WRITE, "/etc/passwd", "" },
		{ SYS_CALL_WRITE, "socket:[7]", "" },
	};

	uint32_t n;

	if (!sys_shim_block_usable(blk, &n))
		return;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct sys_call_info info = { .call = calls[i].call,
					      .len = 4096,
					      .now_ns = 1000000 };
		struct sys_decision d;

		info.path = sys_path_for_rules(blk->data_dir, calls[i].full);
		info.path2 = calls[i].full2[0] ? sys_path_for_rules(blk->data_dir, calls[i].full2) :
						 NULL;
		sys_decide(blk->rules, n, blk->counts, blk->seed, &info, &d);
	}
}

/* Every event the harness takes out, as its timer does, then once the node is gone. */
static void drain(const struct sys_rules *rs)
{
	struct sys_shim_event ev;
	unsigned n = 0;

	for (int final = 0; final <= 1; final++)
		while (sys_shimctl_next(ctl, final, &ev) == 1) {
			report(&ev, rs);
			if (++n > 4 * SYS_SHIM_RING)
				fuzz_fail("%u events out of a ring of %d", n, SYS_SHIM_RING);
		}
	sys_shimctl_lost(ctl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sys_rules rs;
	const char *path;
	enum sys_shim_fit fit;

	memset(blk, 0, sizeof(*blk));
	memcpy(blk, data, size < sizeof(*blk) ? size : sizeof(*blk));
	/* the rules the harness armed: those of the block, as far as it holds any */
	rs = (struct sys_rules){ .n = blk->n_rules < SYS_SHIM_MAX_RULES ? blk->n_rules : 0,
				 .v = blk->rules };
	shim_decide();
	drain(&rs);
	if (fuzz_memfd_path(data, size, &path) == 0)
		sys_shim_fit("/proc/self/exe", path, &fit);
	return 0;
}
