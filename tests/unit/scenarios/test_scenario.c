/* Unit tests of the YAML loader and the scenario parser: every field, and the error
 * paths with their exact file:line:col and message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/units.h"
#include "scenarios/parser/scenario.h"
#include "scenarios/parser/yaml_load.h"

static const char *const fault_kinds[] = { "kill", "stop", "torn-write", NULL };
static const char *const step_kinds[] = { "restart", "wait", "exec", "sleep", NULL };
static const struct scenario_kinds kinds = { fault_kinds, step_kinds };

static int parse(const char *yaml, struct scenario **sc, struct cd_error *err)
{
	struct cfg_node *tree;
	int r;

	memset(err, 0, sizeof(*err));
	r = yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, err);
	if (r < 0)
		return r;
	return scenario_from_tree(tree, &kinds, sc, err);
}

/* Parses yaml, which must fail at line:col with a message containing want. */
static void expect_error(const char *yaml, int line, int col, const char *want)
{
	struct scenario *sc = NULL;
	struct cd_error err;
	char buf[1400];

	assert_true(parse(yaml, &sc, &err) < 0);
	assert_null(sc);
	cd_error_format(&err, buf, sizeof(buf));
	if (err.line != line || err.col != col || !strstr(err.msg, want)) {
		print_error("got '%s', want %d:%d '%s'\n", buf, line, col, want);
		fail();
	}
	assert_string_equal(err.file, "t.yaml");
}

static const char full[] =
	"drill: kvlog-torn-write\n"
	"description: Crash mid-append.\n"
	"runbook: docs/runbooks/kvlog.md#crash\n"
	"seed: 42\n"
	"target: kvlog\n"
	"nodes:\n"
	"  - n1\n"
	"  - {name: r2, params: {role: replica}}\n"
	"params: {sync: always}\n"
	"workload: {kind: set, rate: 2000/s, clients: 4, timeout: 500ms, tail: 3s, value-size: 1KiB, node: n1}\n"
	"faults:\n"
	"  - at: 2s\n"
	"    torn-write: {node: n1, path: txn.log, keep: half}\n"
	"  - at: 5s\n"
	"    name: freeze replica\n"
	"    stop: r2\n"
	"    heal: {after: 1500ms}\n"
	"recovery:\n"
	"  - restart: n1\n"
	"  - wait: {probe: ready, timeout: 10s}\n"
	"expect:\n"
	"  rto: 2s\n"
	"  rpo: 0\n"
	"  integrity: true\n";

static void test_full(void **state)
{
	struct scenario *sc;
	struct cd_error err;

	assert_int_equal(parse(full, &sc, &err), 0);
	assert_string_equal(sc->drill, "kvlog-torn-write");
	assert_string_equal(sc->description, "Crash mid-append.");
	assert_true(sc->has_seed);
	assert_int_equal(sc->seed, 42);
	assert_int_equal(sc->n_nodes, 2);
	assert_string_equal(sc->nodes[1].name, "r2");
	assert_string_equal(scenario_param(sc, &sc->nodes[1], "role"), "replica");
	assert_null(scenario_param(sc, &sc->nodes[0], "role"));
	assert_string_equal(scenario_param(sc, &sc->nodes[0], "sync"), "always");
	assert_true(sc->workload.rate == 2000.0);
	assert_int_equal(sc->workload.clients, 4);
	assert_int_equal(sc->workload.timeout_ns, 500 * NSEC_PER_MSEC);
	assert_int_equal(sc->workload.tail_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(sc->workload.value_size, 1024);
	assert_int_equal(sc->n_faults, 2);
	assert_string_equal(sc->faults[0].kind, "torn-write");
	assert_int_equal(sc->faults[0].at_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(sc->faults[0].args->type, CFG_MAP);
	assert_int_equal(sc->faults[0].pos.line, 13);
	assert_false(sc->faults[0].has_heal);
	assert_string_equal(sc->faults[1].name, "freeze replica");
	assert_true(sc->faults[1].has_heal && sc->faults[1].heal_is_after);
	assert_int_equal(sc->faults[1].heal_ns, 1500 * NSEC_PER_MSEC);
	assert_int_equal(sc->n_steps, 2);
	assert_string_equal(sc->steps[0].kind, "restart");
	assert_string_equal(sc->steps[0].args->scalar, "n1");
	assert_true(sc->expect.has_rto);
	assert_int_equal(sc->expect.rto_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(sc->expect.rpo_kind, SCENARIO_RPO_COUNT);
	assert_int_equal(sc->expect.rpo_count, 0);
	assert_true(sc->expect.has_integrity && sc->expect.integrity);
	assert_int_equal(sc->expect.rto_ops, 3);
	assert_int_equal(sc->expect.slow_ns, 0); /* unset: derived from the steady state */
	/* --param wins over node and scenario params */
	assert_int_equal(scenario_override_param(sc, "role", "primary"), 0);
	assert_string_equal(scenario_param(sc, &sc->nodes[1], "role"), "primary");
	scenario_free(sc);
}

static void test_defaults(void **state)
{
	struct scenario *sc;
	struct cd_error err;

	assert_int_equal(parse("drill: d\n", &sc, &err), 0);
	assert_string_equal(sc->target, "kvlog");
	assert_int_equal(sc->n_nodes, 1);
	assert_string_equal(sc->nodes[0].name, "n1");
	assert_string_equal(sc->workload.node, "n1");
	assert_false(sc->has_seed);
	assert_int_equal(sc->expect.rpo_kind, SCENARIO_RPO_UNSET);
	scenario_free(sc);
	assert_int_equal(parse("drill: d\nnodes: 3\nexpect: {rpo: 5s}\n", &sc, &err), 0);
	assert_int_equal(sc->n_nodes, 3);
	assert_string_equal(sc->nodes[2].name, "n3");
	assert_int_equal(sc->expect.rpo_kind, SCENARIO_RPO_WINDOW);
	assert_int_equal(sc->expect.rpo_window_ns, 5 * NSEC_PER_SEC);
	assert_int_equal(sc->expect.slow_ns, 0);
	scenario_free(sc);
	assert_int_equal(parse("drill: d\nexpect: {rto: 2s, slow: 100ms}\n", &sc, &err), 0);
	assert_int_equal(sc->expect.slow_ns, 100 * NSEC_PER_MSEC);
	scenario_free(sc);
	assert_int_equal(parse("drill: d\nrecovery: {at: 4s, steps: [{sleep: 1s}]}\n", &sc, &err),
			 0);
	assert_true(sc->has_recovery_at);
	assert_int_equal(sc->recovery_at_ns, 4 * NSEC_PER_SEC);
	assert_int_equal(sc->n_steps, 1);
	scenario_free(sc);
}

static void test_fault_recovery(void **state)
{
	struct scenario *sc;
	struct cd_error err;

	assert_int_equal(parse("drill: d\n"
			       "faults:\n"
			       "  - at: 1s\n"
			       "    kill: n1\n"
			       "    recovery: [{restart: n1}, {wait: n1}]\n"
			       "  - {at: 3s, kill: n1}\n"
			       "recovery:\n"
			       "  - restart: n1\n",
			       &sc, &err),
			 0);
	assert_int_equal(sc->n_steps, 3);
	assert_int_equal(sc->steps[0].fault, 0);
	assert_string_equal(sc->steps[1].kind, "wait");
	assert_int_equal(sc->steps[1].fault, 0);
	assert_int_equal(sc->steps[2].fault, -1);
	scenario_free(sc);
	expect_error("drill: d\nfaults:\n  - {at: 1s, kill: n1, recovery: [{reboot: n1}]}\n", 3, 36,
		     "unknown recovery step kind 'reboot'");
}

static void test_errors_keys(void **state)
{
	expect_error("drill: d\ntargt: kvlog\n", 2, 1,
		     "unknown key 'targt' in a drill; did you mean 'target'?");
	expect_error("drill: d\nzzzzzz: 1\n", 2, 1,
		     "unknown key 'zzzzzz' in a drill; expected one of: drill, description");
	expect_error("target: kvlog\n", 1, 1, "missing required key 'drill'");
	expect_error("drill: d\nworkload: {rat: 10/s}\n", 2, 12, "did you mean 'rate'?");
	expect_error("drill: d\ndrill: e\n", 2, 1, "duplicate key 'drill' (first at line 1)");
	expect_error("drill: d\nexpect: {rto: 1s, rpo: 0, integrity: true, rto_ops: 3}\n", 2, 44,
		     "did you mean 'rto-ops'?");
}

static void test_errors_types(void **state)
{
	expect_error("drill: d\nnodes: {a: 1}\n", 2, 8,
		     "nodes (a count or a list of names) must be a list, found a mapping");
	expect_error("drill: [a]\n", 1, 8, "expected a single value, found a list");
	expect_error("drill: d\nfaults: {at: 1s}\n", 2, 9, "faults must be a list");
	expect_error("drill: d\nexpect: {integrity: yes}\n", 2, 21,
		     "expected true or false, found 'yes'");
	expect_error("drill: d\nnodes: 0\n", 2, 8, "0 is out of range: expected 1 to 256");
	expect_error("drill: d\nnodes: three\n", 2, 8, "expected a whole number, found 'three'");
	expect_error("drill: d\nseed: -1\n", 2, 7, "expected a whole number");
	expect_error("drill: d\nworkload: {clients: 2.5}\n", 2, 21, "expected a whole number");
}

static void test_errors_units(void **state)
{
	expect_error("drill: d\nfaults:\n  - at: 2x\n    kill: n1\n", 3, 9, "bad duration '2x'");
	expect_error("drill: d\nfaults:\n  - at: 2\n    kill: n1\n", 3, 9, "bad duration '2'");
	expect_error("drill: d\nworkload: {rate: 2000}\n", 2, 18, "bad rate '2000'");
	expect_error("drill: d\nworkload: {value-size: 12Q}\n", 2, 24, "bad size '12Q'");
	expect_error("drill: d\nworkload: {value-size: 1MiB}\n", 2, 24,
		     "value-size must be 32 bytes to 64KiB");
	expect_error("drill: d\nexpect: {rpo: lots}\n", 2, 15, "rpo must be a count");
	expect_error("drill: d\nexpect: {slow: fast}\n", 2, 16, "bad duration 'fast'");
	expect_error("drill: d\nexpect: {rto: 1s, slow: 0ms}\n", 2, 25, "slow must be more than 0");
	expect_error("drill: d\nworkload: {timeout: 0}\n", 2, 21, "timeout must be more than 0");
}

static void test_errors_faults_steps(void **state)
{
	expect_error("drill: d\nfaults:\n  - at: 1s\n    kil: n1\n", 4, 5,
		     "unknown fault kind 'kil'; did you mean 'kill'?");
	expect_error("drill: d\nfaults:\n  - at: 1s\n    explode: n1\n", 4, 5,
		     "unknown fault kind 'explode'");
	expect_error("drill: d\nfaults:\n  - at: 1s\n    kill: n1\n    stop: n1\n", 5, 5,
		     "found both 'kill' and 'stop'");
	expect_error("drill: d\nfaults:\n  - at: 1s\n", 3, 5, "this fault names no kind");
	expect_error("drill: d\nfaults:\n  - kill: n1\n", 3, 5, "missing required key 'at'");
	expect_error("drill: d\nfaults:\n  - {at: 3s, stop: n1, heal: {at: 1s}}\n", 3, 35,
		     "heal at 1s comes before the fault");
	expect_error("drill: d\nfaults:\n  - {at: 3s, stop: n1, heal: {at: 4s, after: 1s}}\n", 3,
		     30, "heal takes one of");
	expect_error("drill: d\nrecovery:\n  - restrat: n1\n", 3, 5,
		     "unknown recovery step kind 'restrat'; did you mean 'restart'?");
	expect_error("drill: d\nrecovery:\n  - reboot: n1\n", 3, 5,
		     "unknown recovery step kind 'reboot' (`chaosdrill list`");
	expect_error("drill: d\nrecovery: {steps: 1}\n", 2, 19, "recovery steps must be a list");
	expect_error("drill: d\nrecovery: {at: 1s}\n", 2, 11, "missing required key 'steps'");
}

/* node: [list]: client i writes to the i mod n-th; node is the first (the final read's). */
static void test_workload_nodes(void **state)
{
	struct scenario *sc = NULL;
	struct cd_error err;

	assert_int_equal(parse("drill: d\nnodes: 3\nworkload: {node: [n2, n3]}\n", &sc, &err), 0);
	assert_int_equal(sc->workload.n_nodes, 2);
	assert_string_equal(sc->workload.nodes[0], "n2");
	assert_string_equal(sc->workload.nodes[1], "n3");
	assert_string_equal(sc->workload.node, "n2");
	scenario_free(sc);
	assert_int_equal(parse("drill: d\nnodes: 3\n", &sc, &err), 0);
	assert_int_equal(sc->workload.n_nodes, 1);
	assert_string_equal(sc->workload.nodes[0], "n1");
	scenario_free(sc);
}

static void test_errors_nodes(void **state)
{
	expect_error("drill: d\nnodes: [n1, n1]\n", 2, 13, "duplicate node name 'n1'");
	expect_error("drill: d\nnodes: [\"a b\"]\n", 2, 9, "bad node name 'a b'");
	expect_error("drill: d\nnodes: [-x]\n", 2, 9, "bad node name '-x'");
	expect_error("drill: d\nnodes: [{params: {a: b}}]\n", 2, 9, "missing required key 'name'");
	expect_error("drill: d\nworkload: {node: n7}\n", 2, 18,
		     "workload node 'n7' is not one of the drill's nodes");
	expect_error("drill: d\nnodes: 2\nworkload: {node: [n1, n9]}\n", 3, 23,
		     "workload node 'n9' is not one of the drill's nodes");
	expect_error("drill: d\nworkload: {node: []}\n", 2, 18, "a list of 1 to 64 nodes");
	expect_error("drill: d\nworkload: {node: {a: b}}\n", 2, 18,
		     "a node's name or a list of them");
	expect_error("drill: d\nparams: {sync: [a]}\n", 2, 16,
		     "expected a single value, found a list");
}

static void test_errors_yaml(void **state)
{
	expect_error("", 1, 1, "the file is empty");
	expect_error("# only a comment\n", 1, 1, "the file is empty");
	expect_error("---\n", 2, 1, "the file holds no drill");
	expect_error("just some words\n", 1, 1,
		     "a drill file must be a mapping (key: value), found a single value");
	expect_error("drill: [unclosed\n", 2, 1, "not valid YAML");
	expect_error("drill: d\n\tbad: tab\n", 2, 1, "not valid YAML");
	expect_error("a: &x 1\ndrill: *x\n", 2, 8, "YAML aliases (*x) are not supported");
	expect_error("drill: d\n---\ndrill: e\n", 2, 1, "found a second");
	expect_error("drill: d\n[a]: 1\n", 2, 1, "mapping keys must be plain names");
	expect_error("drill: \"a\\0b\"\n", 1, 8, "NUL");
}

static void test_load_file_errors(void **state)
{
	struct cfg_node *tree = NULL;
	struct cd_error err;

	assert_int_equal(yaml_load_file("/nonexistent/drill.yaml", &tree, &err), -ENOENT);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.file, "/nonexistent/drill.yaml");
	assert_non_null(strstr(err.msg, "cannot read: No such file or directory"));
	assert_true(yaml_load_file("/", &tree, &err) < 0);
	assert_non_null(strstr(err.msg, "cannot read"));
}

/* disk: on the drill for every node, on a node for that node only; bad ones located. */
static void test_disk(void **state)
{
	static const char yaml[] = "drill: d\n"
				   "disk: {size: 64MiB, fs: ext4}\n"
				   "nodes:\n"
				   "  - n1\n"
				   "  - {name: n2, disk: {size: 8MiB}}\n";
	struct scenario *sc = NULL;
	struct cd_error err;
	const struct scenario_disk *d;

	(void)state;
	assert_int_equal(parse(yaml, &sc, &err), 0);
	d = scenario_node_disk(sc, scenario_node(sc, "n1"));
	assert_int_equal(d->fs, SCENARIO_DISK_EXT4);
	assert_int_equal(d->size, 64u << 20);
	d = scenario_node_disk(sc, scenario_node(sc, "n2"));
	assert_int_equal(d->fs, SCENARIO_DISK_TMPFS); /* fs defaults to tmpfs */
	assert_int_equal(d->size, 8u << 20);
	scenario_free(sc);
	assert_int_equal(parse("drill: d\nnodes: 2\n", &sc, &err), 0);
	assert_int_equal(scenario_node_disk(sc, scenario_node(sc, "n2"))->fs, SCENARIO_DISK_NONE);
	scenario_free(sc);

	expect_error("drill: d\ndisk: {fs: tmpfs}\n", 2, 7, "disk needs a size");
	expect_error("drill: d\ndisk: {size: 4MiB, fs: ext4}\n", 2, 14,
		     "between 8MiB (ext4) and 1TiB");
	expect_error("drill: d\ndisk: {size: 1MiB, fs: zfs}\n", 2, 24, "unknown value 'zfs'");
	expect_error("drill: d\ndisk: {size: 1MiB, quota: 2}\n", 2, 20, "unknown key 'quota'");
	expect_error("drill: d\ndisk: 64MiB\n", 2, 7, "disk must be a mapping");
}

static void test_node_names(void **state)
{
	assert_true(scenario_valid_node_name("n1"));
	assert_true(scenario_valid_node_name("primary_2-b"));
	assert_false(scenario_valid_node_name(""));
	assert_false(scenario_valid_node_name("_x"));
	assert_false(scenario_valid_node_name("a.b"));
	assert_false(scenario_valid_node_name("abcdefghijabcdefghijabcdefghijab"));
}

/* targets: a drill holding nodes of several targets, each with its own params, workload
 * and expect (the drill's expect: the defaults, overridden key by key). */
static const char multi[] = "drill: platform\n"
			    "targets:\n"
			    "  - target: kvlog\n"
			    "    nodes: [db1, {name: db2, params: {role: replica}}]\n"
			    "    params: {sync: always}\n"
			    "    workload: {rate: 500/s, clients: 2, node: db2}\n"
			    "    expect: {rpo: 0}\n"
			    "  - target: sqlite\n"
			    "    nodes: [cache1]\n"
			    "    disk: {size: 16MiB}\n"
			    "    params: {synchronous: full}\n"
			    "    workload: none\n"
			    "    expect: {rto: 5s}\n"
			    "faults:\n"
			    "  - at: 2s\n"
			    "    kill: db1\n"
			    "expect: {rto: 30s, integrity: true}\n";

static void test_targets(void **state)
{
	struct scenario *sc = NULL;
	struct cd_error err;
	const struct scenario_target *t;

	assert_int_equal(parse(multi, &sc, &err), 0);
	assert_true(sc->multi);
	assert_int_equal(sc->n_targets, 2);
	assert_string_equal(sc->target, "kvlog, sqlite");
	assert_int_equal(sc->n_nodes, 3);
	t = &sc->targets[0];
	assert_string_equal(t->name, "kvlog");
	assert_int_equal(t->pos.line, 3);
	assert_int_equal(t->first_node, 0);
	assert_int_equal(t->n_nodes, 2);
	assert_int_equal(t->workload.clients, 2);
	assert_true(t->workload.rate == 500);
	assert_string_equal(t->workload.node, "db2");
	assert_int_equal(t->workload.timeout_ns, 500 * NSEC_PER_MSEC); /* default */
	assert_int_equal(t->expect.rpo_kind, SCENARIO_RPO_COUNT);
	assert_true(t->expect.has_rto); /* the drill's rto */
	assert_int_equal(t->expect.rto_ns, 30 * NSEC_PER_SEC);
	assert_true(t->expect.has_integrity && t->expect.integrity);
	t = &sc->targets[1];
	assert_string_equal(t->name, "sqlite");
	assert_int_equal(t->first_node, 2);
	assert_int_equal(t->n_nodes, 1);
	assert_int_equal(t->workload.kind, SCENARIO_WORKLOAD_NONE);
	assert_int_equal(t->expect.rto_ns, 5 * NSEC_PER_SEC); /* its own */
	assert_int_equal(t->expect.rpo_kind, SCENARIO_RPO_UNSET);
	assert_string_equal(scenario_node_target(sc, scenario_node(sc, "cache1"))->name, "sqlite");
	assert_ptr_equal(scenario_target(sc, "kvlog"), &sc->targets[0]);
	assert_null(scenario_target(sc, "etcd"));
	/* params: the node's, else its target's; another target's never */
	assert_string_equal(scenario_param(sc, scenario_node(sc, "db2"), "role"), "replica");
	assert_string_equal(scenario_param(sc, scenario_node(sc, "db1"), "sync"), "always");
	assert_null(scenario_param(sc, scenario_node(sc, "cache1"), "sync"));
	assert_string_equal(scenario_param(sc, scenario_node(sc, "cache1"), "synchronous"), "full");
	/* disk: the node's target's */
	assert_int_equal(scenario_node_disk(sc, scenario_node(sc, "cache1"))->fs,
			 SCENARIO_DISK_TMPFS);
	assert_int_equal(scenario_node_disk(sc, scenario_node(sc, "db1"))->fs, SCENARIO_DISK_NONE);
	/* --param KEY=VALUE for every node, --param TARGET.KEY=VALUE for that target's */
	assert_int_equal(scenario_override_param(sc, "kvlog.sync", "never"), 0);
	assert_int_equal(scenario_override_param(sc, "synchronous", "off"), 0);
	assert_string_equal(scenario_param(sc, scenario_node(sc, "db1"), "sync"), "never");
	assert_null(scenario_param(sc, scenario_node(sc, "cache1"), "sync"));
	assert_string_equal(scenario_param(sc, scenario_node(sc, "cache1"), "synchronous"), "off");
	assert_string_equal(sc->overrides[0].target, "kvlog");
	assert_string_equal(sc->overrides[0].key, "sync");
	assert_null(sc->overrides[1].target);
	scenario_free(sc);

	/* one entry: as the single form, a count of nodes allowed */
	assert_int_equal(parse("drill: d\ntargets:\n  - target: kvlog\n    nodes: 2\n", &sc, &err),
			 0);
	assert_int_equal(sc->n_targets, 1);
	assert_int_equal(sc->n_nodes, 2);
	assert_string_equal(sc->targets[0].workload.node, "n1");
	scenario_free(sc);
	assert_int_equal(parse("drill: d\ntargets: [{target: kvlog}]\n", &sc, &err), 0);
	assert_string_equal(sc->nodes[0].name, "n1");
	scenario_free(sc);

	/* the single form is a one-entry list with the top-level fields */
	assert_int_equal(parse(full, &sc, &err), 0);
	assert_false(sc->multi);
	assert_int_equal(sc->n_targets, 1);
	assert_string_equal(sc->targets[0].name, "kvlog");
	assert_int_equal(sc->targets[0].n_nodes, 2);
	assert_int_equal(sc->targets[0].workload.clients, 4);
	assert_int_equal(sc->targets[0].expect.rto_ns, 2 * NSEC_PER_SEC);
	/* a TARGET. prefix works with one target too */
	assert_int_equal(scenario_override_param(sc, "kvlog.sync", "never"), 0);
	assert_string_equal(scenario_param(sc, &sc->nodes[0], "sync"), "never");
	scenario_free(sc);
}

#define TWO "drill: d\ntargets:\n  - {target: kvlog, nodes: [a]}\n"

static void test_targets_errors(void **state)
{
	expect_error("drill: d\ntarget: kvlog\ntargets: [{target: kvlog}]\n", 2, 1,
		     "'target' and 'targets' do not go together");
	expect_error("drill: d\ntargets: [{target: kvlog}]\nnodes: 2\n", 3, 1,
		     "'nodes' and 'targets' do not go together");
	expect_error("drill: d\nworkload: {rate: 5/s}\ntargets: [{target: kvlog}]\n", 2, 1,
		     "'workload' and 'targets' do not go together");
	expect_error("drill: d\ntargets: []\n", 2, 10,
		     "targets: expected 1 to 16 targets, found 0");
	expect_error("drill: d\ntargets: kvlog\n", 2, 10, "must be a list");
	expect_error(TWO "  - {target: sqlite, nodes: [b, a]}\n", 4, 33, "duplicate node name 'a'");
	expect_error(TWO "  - {target: sqlite, nodes: 2}\n", 4, 29,
		     "a drill of several targets names its nodes");
	expect_error(TWO "  - {target: sqlite}\n", 4, 5, "missing required key 'nodes'");
	expect_error(TWO "  - {nodes: [b]}\n", 4, 5, "missing required key 'target'");
	expect_error(TWO "  - {target: kvlog, nodes: [b]}\n", 4, 14,
		     "target kvlog is in the list twice");
	expect_error(TWO "  - {target: sqlite, nodes: [b], workload: {node: a}}\n", 4, 51,
		     "workload node 'a' is a node of target kvlog, not of sqlite");
	expect_error(TWO "  - {target: sqlite, nodes: [b], workload: {node: c}}\n", 4, 51,
		     "workload node 'c' is not one of the drill's nodes");
	expect_error(TWO "  - {target: sqlite, nodes: [b], faults: []}\n", 4, 34,
		     "unknown key 'faults'");
	expect_error(TWO "  - {target: sqlite, nodes: [b], expect: {rpo: x}}\n", 4, 48,
		     "rpo must be a count");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fault_recovery),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_types),
		cmocka_unit_test(test_errors_units),
		cmocka_unit_test(test_errors_faults_steps),
		cmocka_unit_test(test_errors_nodes),
		cmocka_unit_test(test_workload_nodes),
		cmocka_unit_test(test_errors_yaml),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_node_names),
		cmocka_unit_test(test_disk),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_targets_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
