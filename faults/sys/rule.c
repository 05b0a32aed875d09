/* The parser of the syscall rule language (syntax in rule.h): a located config tree to
 * plain structs. Pure; every error says where and what was expected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/errname.h"
#include "faults/sys/rule.h"

static const char *const rule_keys[] = {
	"calls", "path", "nth",	  "after", "probability", "from", "errno",
	"short", "torn", "crash", "delay", "then",	  NULL,
};
static const char *const when_keys[] = { "nth", "after", "probability", "from", NULL };
static const char *const action_keys[] = { "errno", "short", "torn", "crash", "delay", NULL };

static int parse_call(const struct cfg_node *n, uint32_t *calls, struct cd_error *err)
{
	const char *s;
	int r = cfg_string(n, &s, err), c;
	char list[256] = "";

	if (r < 0)
		return r;
	c = sys_call_from_name(s);
	if (c >= 0) {
		*calls |= 1u << c;
		return 0;
	}
	for (int i = 0; i < SYS_CALL_N; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 sys_call_name((enum sys_call)i));
	return cfg_error(n, err, "unknown call '%s': expected one of %s", s, list);
}

static int parse_calls(const struct cfg_node *n, uint32_t *calls, struct cd_error *err)
{
	int r;

	if (n->type == CFG_SCALAR)
		return parse_call(n, calls, err);
	r = cfg_expect(n, CFG_SEQ, "calls", err);
	if (r < 0)
		return r;
	if (n->n == 0)
		return cfg_error(n, err, "an empty list of calls: name at least one");
	for (size_t i = 0; i < n->n; i++)
		if ((r = parse_call(n->items[i], calls, err)) < 0)
			return r;
	return 0;
}

/* The one key of keys present in map, or NULL; two is an error. */
static int one_of(const struct cfg_node *map, const char *const *keys, const char *what,
		  bool required, const char **found, struct cd_error *err)
{
	*found = NULL;
	for (const char *const *k = keys; *k; k++) {
		if (!cfg_get(map, *k))
			continue;
		if (*found)
			return cfg_error(cfg_get(map, *k), err,
					 "'%s' and '%s' both given: a rule has one %s", *found, *k,
					 what);
		*found = *k;
	}
	if (!*found && required)
		return cfg_error(map, err,
				 "a rule needs %s: one of errno, short, torn, crash, delay", what);
	return 0;
}

static int parse_prob(const struct cfg_node *n, double *p, struct cd_error *err)
{
	const char *s;
	char *end;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	*p = strtod(s, &end);
	if (end == s || *end || !(*p >= 0.0 && *p <= 1.0))
		return cfg_error(n, err, "bad probability '%s': expected a number from 0 to 1", s);
	return 0;
}

static int parse_when(const struct cfg_node *map, struct sys_rule *rule, struct cd_error *err)
{
	const char *k;
	const struct cfg_node *n;
	int r = one_of(map, when_keys, "'when' (nth, after, probability or from)", false, &k, err);

	if (r < 0 || !k)
		return r;
	n = cfg_get(map, k);
	if (strcmp(k, "nth") == 0) {
		rule->when = SYS_WHEN_NTH;
		return cfg_uint(n, 1, UINT64_MAX, &rule->n, err);
	}
	if (strcmp(k, "after") == 0) {
		rule->when = SYS_WHEN_AFTER;
		return cfg_uint(n, 0, UINT64_MAX, &rule->n, err);
	}
	if (strcmp(k, "probability") == 0) {
		rule->when = SYS_WHEN_PROB;
		return parse_prob(n, &rule->p, err);
	}
	rule->when = SYS_WHEN_FROM;
	return cfg_duration(n, &rule->from_ns, err);
}

/* N | half | random */
static int parse_keep(const struct cfg_node *n, struct sys_rule *rule, struct cd_error *err)
{
	static const char *const words[] = { "half", "random", NULL };
	size_t idx;

	if (cfg_is_uint(n)) {
		rule->keep = SYS_KEEP_BYTES;
		return cfg_uint(n, 0, UINT64_MAX, &rule->keep_bytes, err);
	}
	if (n->type != CFG_SCALAR)
		return cfg_error(n, err, "expected a byte count, 'half' or 'random', found %s",
				 cfg_type_name(n->type));
	if (cfg_enum(n, words, &idx, err) < 0)
		return cfg_error(n, err,
				 "bad amount '%s': expected a byte count, 'half' or 'random'",
				 n->scalar);
	rule->keep = idx == 0 ? SYS_KEEP_HALF : SYS_KEEP_RANDOM;
	return 0;
}

static int parse_torn(const struct cfg_node *n, struct sys_rule *rule, struct cd_error *err)
{
	static const char *const keys[] = { "keep", "rest", NULL };
	static const char *const rests[] = { "missing", "zeros", NULL };
	const struct cfg_node *keep, *rest;
	size_t idx;
	int r = cfg_expect(n, CFG_MAP, "torn", err);

	if (r < 0 || (r = cfg_check_keys(n, keys, "torn", err)) < 0)
		return r;
	keep = cfg_get(n, "keep");
	if (!keep)
		return cfg_error(n, err, "torn needs 'keep': a byte count, 'half' or 'random'");
	rest = cfg_get(n, "rest"); /* missing: the file ends after the kept bytes */
	if (rest && (r = cfg_enum(rest, rests, &idx, err)) < 0)
		return r;
	rule->zero_rest = rest && idx == 1;
	return parse_keep(keep, rule, err);
}

static int parse_errno(const struct cfg_node *n, struct sys_rule *rule, struct cd_error *err)
{
	const char *s;
	int r = cfg_string(n, &s, err);

	if (r < 0)
		return r;
	if ((r = errname_parse(s)) < 0)
		return cfg_error(n, err,
				 "unknown errno '%s': expected a name like ENOSPC, EIO or EDQUOT",
				 s);
	rule->err = r;
	return 0;
}

static int parse_crash(const struct cfg_node *n, struct sys_rule *rule, struct cd_error *err)
{
	static const char *const words[] = { "before", "after", NULL };
	size_t idx;
	int r = cfg_enum(n, words, &idx, err);

	if (r < 0)
		return r;
	rule->action = idx == 0 ? SYS_ACT_CRASH_BEFORE : SYS_ACT_CRASH_AFTER;
	return 0;
}

static int parse_action(const struct cfg_node *map, struct sys_rule *rule, struct cd_error *err)
{
	const char *k;
	const struct cfg_node *n;
	int r = one_of(map, action_keys, "action", true, &k, err);

	if (r < 0)
		return r;
	n = cfg_get(map, k);
	if (strcmp(k, "errno") == 0) {
		rule->action = SYS_ACT_ERRNO;
		return parse_errno(n, rule, err);
	}
	if (strcmp(k, "short") == 0) {
		rule->action = SYS_ACT_SHORT;
		return parse_keep(n, rule, err);
	}
	if (strcmp(k, "torn") == 0) {
		rule->action = SYS_ACT_TORN;
		return parse_torn(n, rule, err);
	}
	if (strcmp(k, "crash") == 0)
		return parse_crash(n, rule, err);
	rule->action = SYS_ACT_DELAY;
	return cfg_duration(n, &rule->delay_ns, err);
}

/* then: crash; short and torn only; torn must say it (the write is cut because the node
 * dies: a torn write that lives on is a short write). */
static int parse_then(const struct cfg_node *map, struct sys_rule *rule, struct cd_error *err)
{
	static const char *const words[] = { "crash", NULL };
	const struct cfg_node *n = cfg_get(map, "then");
	size_t idx;
	int r;

	if (!n) {
		if (rule->action == SYS_ACT_TORN)
			return cfg_error(
				cfg_get(map, "torn"), err,
				"a torn write ends the node: add 'then: crash' (or use 'short')");
		return 0;
	}
	if (rule->action != SYS_ACT_SHORT && rule->action != SYS_ACT_TORN)
		return cfg_error(n, err, "'then' follows only 'short' or 'torn'");
	r = cfg_enum(n, words, &idx, err);
	if (r < 0)
		return r;
	rule->then_crash = true;
	return 0;
}

static int parse_path(const struct cfg_node *map, struct sys_rule *rule, struct cd_error *err)
{
	const struct cfg_node *n = cfg_get(map, "path");
	const char *s = "*";
	int r;

	if (n && (r = cfg_string(n, &s, err)) < 0)
		return r;
	if (!*s || strlen(s) >= sizeof(rule->glob))
		return cfg_error(n, err, "path glob must be 1 to %zu characters",
				 sizeof(rule->glob) - 1);
	snprintf(rule->glob, sizeof(rule->glob), "%s", s);
	return 0;
}

/* short and torn cut the buffer of a write: other calls have none. */
static int check_cut(const struct cfg_node *map, const struct sys_rule *rule, struct cd_error *err)
{
	const char *k = rule->action == SYS_ACT_SHORT ? "short" : "torn";

	if (rule->action != SYS_ACT_SHORT && rule->action != SYS_ACT_TORN)
		return 0;
	if (rule->calls & ~SYS_CALL_WRITES)
		return cfg_error(
			cfg_get(map, k), err,
			"'%s' cuts a write: calls must be write, pwrite, writev or pwritev", k);
	return 0;
}

int sys_rule_parse(const struct cfg_node *map, struct sys_rule *rule, struct cd_error *err)
{
	const struct cfg_node *calls;
	int r;

	*rule = (struct sys_rule){ .when = SYS_WHEN_EVERY, .line = map->line, .col = map->col };
	if ((r = cfg_expect(map, CFG_MAP, "a syscall rule", err)) < 0 ||
	    (r = cfg_check_keys(map, rule_keys, "a syscall rule", err)) < 0)
		return r;
	calls = cfg_get(map, "calls");
	if (!calls)
		return cfg_error(map, err,
				 "a rule needs 'calls': which syscalls (write, fsync, ...)");
	if ((r = parse_calls(calls, &rule->calls, err)) < 0 ||
	    (r = parse_path(map, rule, err)) < 0 || (r = parse_when(map, rule, err)) < 0 ||
	    (r = parse_action(map, rule, err)) < 0 || (r = parse_then(map, rule, err)) < 0)
		return r;
	return check_cut(map, rule, err);
}

void sys_rules_free(struct sys_rules *rs)
{
	if (!rs)
		return;
	free(rs->v);
	free(rs);
}

static int parse_list(const struct cfg_node *list, struct sys_rules *rs, struct cd_error *err)
{
	int r = cfg_expect(list, CFG_SEQ, "rules", err);

	if (r < 0)
		return r;
	if (list->n == 0)
		return cfg_error(list, err, "no rules: a syscall fault needs at least one");
	rs->v = calloc(list->n, sizeof(*rs->v));
	if (!rs->v)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++, rs->n++)
		if ((r = sys_rule_parse(list->items[i], &rs->v[i], err)) < 0)
			return r;
	return 0;
}

int sys_rules_parse(const struct cfg_node *args, struct sys_rules **out, struct cd_error *err)
{
	/* node, mechanism: read by the fault kind (syscall.c): whose calls these are,
	 * and how the rules reach them */
	static const char *const keys[] = { "node", "mechanism", "rules", "io_uring", NULL };
	static const char *const uring[] = { "allow", "enosys", NULL };
	struct sys_rules *rs;
	const struct cfg_node *n;
	size_t idx;
	int r;

	if ((r = cfg_expect(args, CFG_MAP, "a syscall fault", err)) < 0 ||
	    (r = cfg_check_keys(args, keys, "a syscall fault", err)) < 0)
		return r;
	n = cfg_get(args, "rules");
	if (!n)
		return cfg_error(args, err, "a syscall fault needs 'rules': a list of rules");
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	r = parse_list(n, rs, err);
	n = cfg_get(args, "io_uring");
	if (r >= 0 && n && (r = cfg_enum(n, uring, &idx, err)) >= 0)
		rs->io_uring_enosys = idx == 1;
	if (r < 0) {
		sys_rules_free(rs);
		return r;
	}
	*out = rs;
	return 0;
}
