/* Faults made by the fault file system: `power-cut` (the node dies and every write it did
 * not sync is lost, or a seeded subset of its sectors survives: a torn power-loss state),
 * `bitrot` (bits flipped at rest in the backing file, or on every read) and `bad-sectors`
 * (EIO on reads or writes touching byte ranges). Each builds its faultfs command line at
 * parse time, as plain data; inject sends it through the harness. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/faultfs/attach.h"
#include "faults/faultfs/kinds.h"

struct disk_state {
	const char *node;  /* borrowed from the scenario tree */
	char cmd[512];	   /* faultfs command, without the seed */
	bool seeded;	   /* append seed=S at injection */
	bool kill_first;   /* power-cut: the node dies before the cut */
	bool fails_writes; /* bad-sectors on writes: the error must come at write(2) */
	uint64_t seed;	   /* the seed it was injected with (seeded only) */
	char reply[512];   /* the file system's reply to the injection, "" before */
};

static const char *disk_node(const void *state)
{
	return ((const struct disk_state *)state)->node;
}

static int node_of(const struct cfg_node *args, const struct fault_parse_ctx *ctx, const char *kind,
		   const char *const *keys, struct disk_state *st, struct cd_error *err)
{
	int r = cfg_expect(args, CFG_MAP, kind, err);

	if (r < 0 || (r = cfg_check_keys(args, keys, kind, err)) < 0)
		return r;
	if (!cfg_get(args, "node"))
		return cfg_error(args, err, "%s needs a node (node: n1)", kind);
	return fault_parse_node_arg(cfg_get(args, "node"), ctx, kind, &st->node, err);
}

/* path: a file (or glob) relative to the node's data dir, which is faultfs's root (the
 * command gets it with a leading '/'): no spaces, no "..". */
static int path_of(const struct cfg_node *args, const char **path, struct cd_error *err)
{
	int r = cfg_get_string(args, "path", true, path, err);

	if (r < 0)
		return r;
	if (!**path || **path == '/' || strpbrk(*path, " \t\n=") || strstr(*path, ".."))
		return cfg_error(
			cfg_get(args, "path"), err,
			"path must be relative to the data dir (like txn.log), without spaces, '=' or '..'");
	return 0;
}

static int power_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		       struct cd_error *err)
{
	static const char *const keys[] = { "node", "keep", NULL };
	static const char *const keeps[] = { "none", "random-sectors", NULL };
	struct disk_state *st = calloc(1, sizeof(*st));
	size_t keep = 0;
	int r;

	if (!st)
		return -ENOMEM;
	r = node_of(args, ctx, "power-cut", keys, st, err);
	if (r >= 0 && cfg_get(args, "keep"))
		r = cfg_enum(cfg_get(args, "keep"), keeps, &keep, err);
	if (r < 0) {
		free(st);
		return r;
	}
	snprintf(st->cmd, sizeof(st->cmd), "power-cut keep=%s", keeps[keep]);
	st->seeded = keep == 1;
	st->kill_first = true;
	*state = st;
	return 0;
}

static int range_of(const struct cfg_node *args, uint64_t *off, uint64_t *len, struct cd_error *err)
{
	const struct cfg_node *o = cfg_get(args, "offset"), *l = cfg_get(args, "length");
	int r;

	if (!o || !l)
		return cfg_error(args, err,
				 "needs 'offset' and 'length' (bytes, like 4096 or 4KiB)");
	if ((r = cfg_size(o, off, err)) < 0 || (r = cfg_size(l, len, err)) < 0)
		return r;
	if (*len == 0)
		return cfg_error(l, err, "length must be more than 0");
	return 0;
}

static int bitrot_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			void **state, struct cd_error *err)
{
	static const char *const keys[] = {
		"node", "path", "offset", "length", "bits", "mode", NULL
	};
	static const char *const modes[] = { "rest", "read", NULL };
	struct disk_state *st = calloc(1, sizeof(*st));
	uint64_t off = 0, len = 0, bits = 1;
	size_t mode = 0;
	const char *path = NULL;
	int r;

	if (!st)
		return -ENOMEM;
	r = node_of(args, ctx, "bitrot", keys, st, err);
	if (r >= 0)
		r = path_of(args, &path, err);
	if (r >= 0)
		r = range_of(args, &off, &len, err);
	if (r >= 0)
		r = cfg_get_uint(args, "bits", false, 1, 1 << 20, &bits, err);
	if (r >= 0 && cfg_get(args, "mode"))
		r = cfg_enum(cfg_get(args, "mode"), modes, &mode, err);
	if (r >= 0 && bits > len * 8)
		r = cfg_error(cfg_get(args, "bits"), err,
			      "more bits than the range holds (%" PRIu64 ")", len * 8);
	if (r < 0) {
		free(st);
		return r;
	}
	snprintf(st->cmd, sizeof(st->cmd),
		 "bitrot path=/%s off=%" PRIu64 " len=%" PRIu64 " bits=%" PRIu64 " mode=%s", path,
		 off, len, bits, modes[mode]);
	st->seeded = true;
	*state = st;
	return 0;
}

static int bad_parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		     struct cd_error *err)
{
	static const char *const keys[] = { "node", "path",	   "offset", "length",
					    "ops",  "granularity", NULL };
	static const char *const ops[] = { "read", "write", "rw", NULL };
	struct disk_state *st = calloc(1, sizeof(*st));
	uint64_t off = 0, len = 0, gran = 4096;
	size_t op = 0;
	const char *path = NULL;
	int r;

	if (!st)
		return -ENOMEM;
	r = node_of(args, ctx, "bad-sectors", keys, st, err);
	if (r >= 0)
		r = path_of(args, &path, err);
	if (r >= 0)
		r = range_of(args, &off, &len, err);
	if (r >= 0 && cfg_get(args, "ops"))
		r = cfg_enum(cfg_get(args, "ops"), ops, &op, err);
	if (r >= 0 && (r = cfg_get_uint(args, "granularity", false, 512, 4096, &gran, err)) > 0 &&
	    gran != 512 && gran != 4096)
		r = cfg_error(cfg_get(args, "granularity"), err, "granularity is 512 or 4096");
	if (r < 0) {
		free(st);
		return r;
	}
	snprintf(st->cmd, sizeof(st->cmd),
		 "arm-bad-range path=/%s off=%" PRIu64 " len=%" PRIu64 " gran=%" PRIu64 " ops=%s",
		 path, off, len, gran, ops[op]);
	st->fails_writes = op != 0;
	*state = st;
	return 0;
}

static int disk_inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct disk_state *st = state;
	char line[600], reply[512];
	int r;

	st->reply[0] = '\0'; /* a drill run again (--repeat) says only what this run did */
	if (st->kill_first) {
		r = env->node_kill_wait(env->harness, st->node);
		if (r < 0)
			return r; /* the node was not running: a power cut of nothing */
	}
	if (st->seeded)
		snprintf(line, sizeof(line), "%s seed=%" PRIu64, st->cmd, env->seed);
	else
		snprintf(line, sizeof(line), "%s", st->cmd);
	r = ffs_attach_command(env->attachment(env->harness, st->node, &ffs_attach_ops), line,
			       reply, sizeof(reply));
	if (r < 0)
		return r;
	st->seed = env->seed;
	snprintf(st->reply, sizeof(st->reply), "%s", reply);
	strbuf_appendf(what, "%s%s on %s: %s", st->kill_first ? "killed the node, then " : "", line,
		       st->node, reply);
	return 0;
}

static int disk_heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	struct disk_state *st = state;
	char reply[512];
	int r = ffs_attach_command(env->attachment(env->harness, st->node, &ffs_attach_ops),
				   "clear", reply, sizeof(reply));

	if (r < 0)
		return r;
	strbuf_appendf(what, "cleared the faults of %s's file system: %s", st->node, reply);
	return 0;
}

static const struct attach_ops *disk_attach(const void *state)
{
	return &ffs_attach_ops;
}

/* The command is what the file and the seed decided ("verb k=v ... seed=S"); the reply's
 * figures ("ok dropped=N kept=N ...") depend on what was unsynced when it struck, which
 * timing decides: "k~v". */
static void disk_seeded(const void *state, const struct fault_env *env, struct strbuf *out)
{
	const struct disk_state *st = state;
	const char *w, *p;

	if (!st->reply[0])
		return;
	strbuf_appendf(out, "what=%s", st->cmd);
	if (st->seeded)
		strbuf_appendf(out, " seed=%" PRIu64, st->seed);
	for (w = st->reply; *w; w = *p ? p + 1 : p) {
		size_t n = strcspn(w, " ");
		const char *eq = memchr(w, '=', n);

		p = w + n;
		if (eq && eq > w)
			strbuf_appendf(out, " %.*s~%.*s", (int)(eq - w), w, (int)(p - eq - 1),
				       eq + 1);
	}
	strbuf_append(out, "\n");
}

static const char needs[] = "FUSE (/dev/fuse) and chaosdrill-faultfs over the node's data dir";

const struct fault_ops fault_power_cut_ops = {
	.name = "power-cut",
	.summary =
		"kill the node and drop every write it did not sync (or keep seeded random sectors)",
	.needs = needs,
	.heals = false,
	.parse = power_parse,
	.node = disk_node,
	.inject = disk_inject,
	.free = free,
	.attach = disk_attach,
	.seeded = disk_seeded,
};

const struct fault_ops fault_bitrot_ops = {
	.name = "bitrot",
	.summary =
		"flip bits in a byte range of a file, at rest or on every read (heal: reads clean)",
	.needs = needs,
	.heals = true,
	.parse = bitrot_parse,
	.node = disk_node,
	.inject = disk_inject,
	.heal = disk_heal,
	.free = free,
	.attach = disk_attach,
	.seeded = disk_seeded,
};

const struct fault_ops fault_bad_sectors_ops = {
	.name = "bad-sectors",
	.summary = "EIO on reads (or writes) touching a byte range of a file",
	.needs = needs,
	.heals = true,
	.parse = bad_parse,
	.node = disk_node,
	.inject = disk_inject,
	.heal = disk_heal,
	.free = free,
	.attach = disk_attach,
	.seeded = disk_seeded,
};

bool ffs_kind_needs_volatile(const void *state)
{
	return ((const struct disk_state *)state)->kill_first; /* a power cut */
}

bool ffs_kind_fails_writes(const void *state)
{
	return ((const struct disk_state *)state)->fails_writes;
}
