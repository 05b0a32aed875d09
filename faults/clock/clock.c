/* Fault `clock`: the node's clocks skewed from its next start (attach.h).
 *
 *   clock: {node: n1, offset: 30s}       CLOCK_REALTIME 30 s ahead (offset: -2m behind),
 *                                        through libfaketime: dynamically linked programs
 *   clock: {node: n1, monotonic: 10s}    CLOCK_MONOTONIC and CLOCK_BOOTTIME 10 s ahead, in a
 *                                        time namespace of the incarnation's own
 *
 * Both may be given. Injection arms the skew, the heal disarms it: the incarnations started
 * in between run skewed (a recovery step restarts the node). One that none did had no
 * effect, an error of the drill. RTO counts from the first skewed start. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "faults/clock/attach.h"
#include "faults/fault.h"

/* "30s", "-2m", "1.5s": a signed duration. */
static int signed_duration(const struct cfg_node *v, int64_t *ns, struct cd_error *err)
{
	const char *s;
	int r = cfg_string(v, &s, err);

	if (r < 0)
		return r;
	if (units_parse_duration(s[0] == '-' || s[0] == '+' ? s + 1 : s, ns) < 0)
		return cfg_error(
			v, err,
			"bad offset '%s': expected a duration with a sign if behind, like 30s, -2m or 1.5s",
			s);
	if (s[0] == '-')
		*ns = -*ns;
	return 0;
}

static int parse(const struct cfg_node *args, const struct fault_parse_ctx *ctx, void **state,
		 struct cd_error *err)
{
	static const char *const keys[] = { "node", "offset", "monotonic", NULL };
	struct clock_skew *st = calloc(1, sizeof(*st));
	const struct cfg_node *off, *mono;
	int r;

	if (!st)
		return -ENOMEM;
	r = cfg_expect(args, CFG_MAP, "clock", err);
	if (r >= 0)
		r = cfg_check_keys(args, keys, "clock", err);
	if (r >= 0 && !cfg_get(args, "node"))
		r = cfg_error(args, err, "clock needs a node (node: n1)");
	if (r >= 0)
		r = fault_parse_node_arg(cfg_get(args, "node"), ctx, "clock", &st->node, err);
	off = cfg_get(args, "offset");
	mono = cfg_get(args, "monotonic");
	if (r >= 0 && !off && !mono)
		r = cfg_error(
			args, err,
			"clock needs offset: (the realtime clock) or monotonic: (CLOCK_MONOTONIC and CLOCK_BOOTTIME), or both");
	if (r >= 0 && off && (r = signed_duration(off, &st->realtime_ns, err)) >= 0)
		st->realtime = true;
	if (r >= 0 && mono && (r = signed_duration(mono, &st->monotonic_ns, err)) >= 0)
		st->monotonic = true;
	if (r < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static const char *node_of(const void *state)
{
	return ((const struct clock_skew *)state)->node;
}

static const struct attach_ops *attach_of(const void *state)
{
	return &clock_attach_ops;
}

static struct node_attach *attachment(const struct clock_skew *st, const struct fault_env *env)
{
	return env->attachment(env->harness, st->node, &clock_attach_ops);
}

static int arm(void *state, const struct fault_env *env, bool armed, struct strbuf *what)
{
	const struct clock_skew *st = state;
	char b[32];
	int r = clock_attach_arm(attachment(st, env), armed);

	if (r < 0)
		return r;
	strbuf_appendf(what, "%s: %s's incarnations started from now on run with",
		       armed ? "armed" : "disarmed", st->node);
	if (!armed) {
		strbuf_append(what, " its true clocks");
		return 0;
	}
	if (st->realtime) {
		units_format_duration(st->realtime_ns < 0 ? -st->realtime_ns : st->realtime_ns, b,
				      sizeof(b));
		strbuf_appendf(what, " CLOCK_REALTIME %s %s (libfaketime)", b,
			       st->realtime_ns < 0 ? "behind" : "ahead");
	}
	if (st->monotonic) {
		units_format_duration(st->monotonic_ns < 0 ? -st->monotonic_ns : st->monotonic_ns,
				      b, sizeof(b));
		strbuf_appendf(what,
			       "%s CLOCK_MONOTONIC and CLOCK_BOOTTIME %s %s (a time namespace)",
			       st->realtime ? "," : "", b,
			       st->monotonic_ns < 0 ? "behind" : "ahead");
	}
	return 0;
}

static int inject(void *state, const struct fault_env *env, struct strbuf *what)
{
	return arm(state, env, true, what);
}

static int heal(void *state, const struct fault_env *env, struct strbuf *what)
{
	return arm(state, env, false, what);
}

static void effects(const void *state, const struct fault_env *env, struct fault_effects *out)
{
	clock_attach_effects(attachment(state, env), out);
}

const struct fault_ops fault_clock_ops = {
	.name = "clock",
	.summary =
		"skew a node's realtime (libfaketime) or monotonic clock (time namespace) from its next start",
	.needs =
		"offset: libfaketime (Debian package libfaketime) and a dynamically linked target; "
		"monotonic: time namespaces (Linux 5.6, entered at exec since 5.17) and a target run as root",
	.heals = true,
	.parse = parse,
	.node = node_of,
	.inject = inject,
	.heal = heal,
	.free = free,
	.attach = attach_of,
	.effects = effects,
};
