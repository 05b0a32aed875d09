/* `disk-full`: the node's own file system (its `disk:`, tmpfs or ext4 on a loop device)
 * is filled with a ballast file until `free` bytes are left, for real: every write the
 * node makes past that fails with ENOSPC from the kernel, whatever API it uses. The heal
 * deletes the ballast, as an operator freeing space would.
 *
 *   disk-full: {node: n1, free: 0}        free defaults to 0
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "faults/disk/attach.h"
#include "faults/fault.h"

struct diskfull {
	const char *node; /* borrowed from the scenario tree */
	uint64_t free;
};

static int parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		 struct cd_error *err)
{
	static const char *const keys[] = { "node", "free", NULL };
	struct diskfull *st;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	r = cfg_expect(args, CFG_MAP, "disk-full", err);
	if (r >= 0)
		r = cfg_check_keys(args, keys, "disk-full", err);
	if (r >= 0 && !cfg_get(args, "node"))
		r = cfg_error(args, err, "disk-full needs a node (node: n1)");
	if (r >= 0)
		r = fault_parse_node_arg(cfg_get(args, "node"), ctx, "disk-full", &st->node, err);
	if (r >= 0 && cfg_get(args, "free"))
		r = cfg_size(cfg_get(args, "free"), &st->free, err);
	if (r < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static const char *node_of(const void *state)
{
	return ((const struct diskfull *)state)->node;
}

static int run(void *state, const struct fault_env *env, bool fill, struct strbuf *what)
{
	struct diskfull *st = state;
	char reply[256] = "";
	int r = disk_attach_fill(env->attachment(env->harness, st->node, &disk_attach_ops), fill,
				 st->free, reply, sizeof(reply));

	if (r < 0) {
		if (r == -EIO && reply[0]) /* the helper said why */
			strbuf_appendf(what, "%s %s's disk: %s", fill ? "filling" : "freeing",
				       st->node, reply);
		return r;
	}
	strbuf_appendf(what, "%s %s's disk: %s", fill ? "filled" : "freed", st->node, reply);
	return 0;
}

static int inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	return run(state, env, true, what);
}

static int heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	return run(state, env, false, what);
}

const struct fault_ops fault_disk_full_ops = {
	.name = "disk-full",
	.summary = "fill the node's own file system (disk:) with a ballast file; heal deletes it",
	.needs = "the node's data dir on its own file system: `disk: {size, fs: tmpfs}` (mount "
		 "namespaces) or `fs: ext4` (loop devices, mkfs.ext4)",
	.heals = true,
	.needs_disk = true,
	.parse = parse,
	.node = node_of,
	.inject = inject,
	.heal = heal,
	.free = free,
};
