/* Recovery step kinds and their parsers: see steps.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "faults/fault.h"
#include "harness/drill/steps.h"

#define DEFAULT_WAIT_TIMEOUT (30 * NSEC_PER_SEC)
#define DEFAULT_EXEC_TIMEOUT (60 * NSEC_PER_SEC)

static int argv_of(const struct cfg_node *v, const char ***out, struct cd_error *err)
{
	int r = cfg_expect(v, CFG_SEQ, "argv (a list of strings)", err);
	const char **argv;

	if (r < 0)
		return r;
	if (v->n == 0)
		return cfg_error(v, err, "argv must name a program");
	argv = calloc(v->n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	*out = argv;
	for (size_t i = 0; i < v->n; i++)
		if ((r = cfg_string(v->items[i], &argv[i], err)) < 0)
			return r;
	return 0;
}

/* `kind: n1` or `kind: {node: n1, <extra keys>}`: the node and the map (or NULL). */
static int node_or_map(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		       const char *kind, const char *const *keys, const char **node,
		       const struct cfg_node **map, struct cd_error *err)
{
	int r;

	*map = NULL;
	if (args->type == CFG_SCALAR)
		return fault_parse_node(args, ctx, kind, node, err);
	if ((r = cfg_expect(args, CFG_MAP, kind, err)) < 0 ||
	    (r = cfg_check_keys(args, keys, kind, err)) < 0)
		return r;
	*map = args;
	if (!cfg_get(args, "node"))
		return 0;
	return fault_parse_node(cfg_get(args, "node"), ctx, kind, node, err);
}

static int parse_restart(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			 struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "node", "params", NULL };
	const struct cfg_node *map, *p;
	int r = node_or_map(args, ctx, "restart", keys, &s->node, &map, err);

	if (r >= 0 && !s->node)
		return cfg_error(args, err, "restart needs a node (restart: n1)");
	if (r < 0 || !map || !(p = cfg_get(map, "params")))
		return r;
	if ((r = cfg_expect(p, CFG_MAP, "restart params", err)) < 0)
		return r;
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i]->type != CFG_SCALAR)
			return cfg_error(p->items[i], err,
					 "a param's value is a scalar (params: {sync: never})");
	s->params = p;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },	  { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
};

int step_signal_parse(const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);

	if (*name && !*end)
		return n > 0 && n < NSIG ? (int)n : -EINVAL;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (strcasecmp(signals[i].name, name) == 0)
			return signals[i].sig;
	return -EINVAL;
}

const char *step_signal_name(int sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return "?";
}

static int parse_kill(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		      struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "node", NULL };
	const struct cfg_node *map;
	int r = node_or_map(args, ctx, "kill", keys, &s->node, &map, err);

	if (r >= 0 && !s->node)
		return cfg_error(args, err, "kill needs a node (kill: n1)");
	return r;
}

static int parse_signal(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "node", "signal", NULL };
	const struct cfg_node *map, *v;
	const char *name;
	int r;

	if (args->type == CFG_SCALAR)
		return cfg_error(args, err, "signal needs a map: signal: {node: n1, signal: HUP}");
	if ((r = node_or_map(args, ctx, "signal", keys, &s->node, &map, err)) < 0)
		return r;
	if (!s->node)
		return cfg_error(args, err, "missing required key 'node'");
	if (!(v = cfg_get(map, "signal")))
		return cfg_error(args, err, "missing required key 'signal' (HUP, TERM, USR1, ...)");
	if ((r = cfg_string(v, &name, err)) < 0)
		return r;
	s->signal = step_signal_parse(name);
	if (s->signal < 0)
		return cfg_error(v, err, "unknown signal '%s' (HUP, INT, TERM, USR1, USR2, ...)",
				 name);
	return 0;
}

#define DEFAULT_SHUTDOWN_TIMEOUT (10 * NSEC_PER_SEC)

static int parse_shutdown(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			  struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "node", "timeout", NULL };
	const struct cfg_node *map;
	int r;

	s->timeout_ns = DEFAULT_SHUTDOWN_TIMEOUT;
	if ((r = node_or_map(args, ctx, "shutdown", keys, &s->node, &map, err)) < 0)
		return r;
	if (!s->node)
		return cfg_error(args, err,
				 "shutdown needs a node (shutdown: {node: n1, timeout: 10s})");
	if (map && (r = cfg_get_duration(map, "timeout", false, &s->timeout_ns, err)) < 0)
		return r;
	if (s->timeout_ns <= 0)
		return cfg_error(cfg_get(map, "timeout"), err,
				 "shutdown timeout must be more than 0");
	return 0;
}

static int parse_wait(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		      struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "probe", "tcp", "command", "node", "timeout", NULL };
	static const char *const probes[] = { "ready", NULL };
	const struct cfg_node *map, *v;
	uint64_t port;
	size_t idx, forms = 0;
	int r;

	s->timeout_ns = DEFAULT_WAIT_TIMEOUT;
	if ((r = node_or_map(args, ctx, "wait", keys, &s->node, &map, err)) < 0)
		return r;
	if (!map) /* wait: n1  ==  wait for n1's readiness probe */
		return 0;
	if ((r = cfg_get_duration(map, "timeout", false, &s->timeout_ns, err)) < 0)
		return r;
	if ((v = cfg_get(map, "probe")) && ++forms && (r = cfg_enum(v, probes, &idx, err)) < 0)
		return r;
	s->probe = "ready";
	if ((v = cfg_get(map, "tcp")) && ++forms) {
		if ((r = cfg_uint(v, 1, 65535, &port, err)) < 0)
			return r;
		s->wait = STEP_WAIT_TCP;
		s->port = (uint16_t)port;
	}
	if ((v = cfg_get(map, "command")) && ++forms) {
		s->wait = STEP_WAIT_COMMAND;
		if ((r = argv_of(v, &s->argv, err)) < 0)
			return r;
	}
	if (forms > 1)
		return cfg_error(map, err, "wait takes one of probe:, tcp: or command:");
	return 0;
}

static int parse_exec(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		      struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "node", "argv", "timeout", "exit", NULL };
	const struct cfg_node *map;
	uint64_t code = 0;
	int r;

	s->timeout_ns = DEFAULT_EXEC_TIMEOUT;
	if (args->type == CFG_SEQ) /* exec: [argv...]  runs in the lab */
		return argv_of(args, &s->argv, err);
	if ((r = node_or_map(args, ctx, "exec", keys, &s->node, &map, err)) < 0)
		return r;
	if (!map)
		return cfg_error(args, err, "exec needs argv: exec: {node: n1, argv: [prog, arg]}");
	if (!cfg_get(map, "argv"))
		return cfg_error(map, err, "missing required key 'argv'");
	if ((r = argv_of(cfg_get(map, "argv"), &s->argv, err)) < 0 ||
	    (r = cfg_get_duration(map, "timeout", false, &s->timeout_ns, err)) < 0 ||
	    (r = cfg_get_uint(map, "exit", false, 0, 255, &code, err)) < 0)
		return r;
	s->exit_code = (int)code;
	return 0;
}

static int parse_sleep(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
		       struct step_spec *s, struct cd_error *err)
{
	return cfg_duration(args, &s->duration_ns, err);
}

static int parse_workload(const struct cfg_node *args, const struct fault_parse_ctx *ctx,
			  struct step_spec *s, struct cd_error *err)
{
	static const char *const keys[] = { "node", NULL };
	const struct cfg_node *map;
	int r = node_or_map(args, ctx, "workload", keys, &s->node, &map, err);

	if (r >= 0 && !s->node)
		return cfg_error(args, err, "workload needs a node (workload: {node: n2})");
	return r;
}

#define KIND(k, n, sum, fn) [k] = { .name = n, .summary = sum, .parse = fn }
static const struct step_kind_def kinds[] = {
	KIND(STEP_RESTART, "restart",
	     "start a new incarnation of a node (new pid namespace, same network and data)",
	     parse_restart),
	KIND(STEP_WAIT, "wait",
	     "wait for the readiness probe, a TCP connect or a command, with a timeout",
	     parse_wait),
	KIND(STEP_EXEC, "exec",
	     "run a command inside a node's namespaces or in the lab; exit code checked",
	     parse_exec),
	KIND(STEP_SLEEP, "sleep", "wait a fixed time", parse_sleep),
	KIND(STEP_WORKLOAD, "workload", "point the workload at another node (after a promotion)",
	     parse_workload),
	KIND(STEP_KILL, "kill", "SIGKILL to a node now; ends when it is down", parse_kill),
	KIND(STEP_SIGNAL, "signal", "send a signal (HUP, TERM, USR1, ...) to a node's server",
	     parse_signal),
	KIND(STEP_SHUTDOWN, "shutdown",
	     "SIGTERM to a node, SIGKILL after the timeout; says how it ended", parse_shutdown),
};

const struct step_kind_def *step_kind_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const struct step_kind_def *step_kind_at(size_t i)
{
	return i < ARRAY_SIZE(kinds) ? &kinds[i] : NULL;
}

void step_kind_names(const char **names, size_t max)
{
	size_t n = 0;

	for (; n < ARRAY_SIZE(kinds) && n + 1 < max; n++)
		names[n] = kinds[n].name;
	names[n] = NULL;
}

void step_spec_release(struct step_spec *s)
{
	free(s->argv);
	s->argv = NULL;
}
