/* The static registry of fault kinds (no dlsym discovery), and helpers kinds share. */
#include <string.h>

#include "common/cleanup.h"
#include "faults/fault.h"

extern const struct fault_ops fault_kill_ops;
extern const struct fault_ops fault_stop_ops;
extern const struct fault_ops fault_cont_ops;
extern const struct fault_ops fault_partition_ops;
extern const struct fault_ops fault_isolate_ops;
extern const struct fault_ops fault_loss_ops;
extern const struct fault_ops fault_delay_ops;
extern const struct fault_ops fault_bandwidth_ops;
extern const struct fault_ops fault_syscall_ops;
extern const struct fault_ops fault_power_cut_ops;
extern const struct fault_ops fault_bitrot_ops;
extern const struct fault_ops fault_bad_sectors_ops;
extern const struct fault_ops fault_disk_full_ops;
extern const struct fault_ops fault_clock_ops;

static const struct fault_ops *const registry[] = {
	&fault_kill_ops,      &fault_stop_ops,	    &fault_cont_ops,   &fault_partition_ops,
	&fault_isolate_ops,   &fault_loss_ops,	    &fault_delay_ops,  &fault_bandwidth_ops,
	&fault_syscall_ops,   &fault_power_cut_ops, &fault_bitrot_ops, &fault_bad_sectors_ops,
	&fault_disk_full_ops, &fault_clock_ops,
};

const struct fault_ops *fault_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(registry); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct fault_ops *fault_at(size_t i)
{
	return i < ARRAY_SIZE(registry) ? registry[i] : NULL;
}

void fault_names(const char **names, size_t max)
{
	size_t n = 0;

	for (; n < ARRAY_SIZE(registry) && n + 1 < max; n++)
		names[n] = registry[n]->name;
	names[n] = NULL;
}

int fault_parse_node(const struct cfg_node *v, const struct fault_parse_ctx *ctx, const char *kind,
		     const char **node, struct cd_error *err)
{
	const char *name;
	int r = cfg_string(v, &name, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_nodes; i++) {
		if (strcmp(ctx->nodes[i], name) == 0) {
			*node = ctx->nodes[i];
			return 0;
		}
	}
	return cfg_error(v, err, "%s: no node named '%s' in this drill", kind, name);
}

int fault_parse_node_arg(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			 const char *kind, const char **node, struct cd_error *err)
{
	static const char *const keys[] = { "node", NULL };
	const struct cfg_node *v = args;
	int r;

	if (args->type == CFG_MAP) {
		if ((r = cfg_check_keys(args, keys, kind, err)) < 0)
			return r;
		if (!(v = cfg_get(args, "node")))
			return cfg_error(args, err, "%s needs a node (%s: n1)", kind, kind);
	}
	return fault_parse_node(v, ctx, kind, node, err);
}
