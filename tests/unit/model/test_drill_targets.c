/* Unit tests of drills holding nodes of several targets (targets:) at the drill level:
 * each target loaded with its own params, each target's view of the drill, --param for
 * every target that declares a key or for TARGET.KEY, and the errors at their
 * file:line:col. Targets and drills are written to a temporary folder that
 * $CHAOSDRILL_TARGETS names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/units.h"
#include "harness/drill/drill.h"

static char root[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void put_target(const char *name, const char *yaml)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/target.yaml", root, name);
	write_file(path, yaml);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/cd-targets-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	setenv("CHAOSDRILL_TARGETS", root, 1);
	put_target("alpha", "target: alpha\nport: 7700\ndriver: kvlog\n"
			    "params: {sync: {default: always, values: [always, never]}, "
			    "role: {default: primary}}\n"
			    "start: [\"{bin}/a\", \"{sync}\"]\nprobe: {ready: [ready]}\n");
	put_target("beta", "target: beta\nport: 5432\n"
			   "params: {synchronous: {default: full, values: [full, \"off\"]}, "
			   "role: {default: primary}}\n"
			   "start: [\"{bin}/b\"]\nprobe: {ready: [ready]}\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Loads yaml with --param params (NULL-terminated); want NULL: must load (returned),
 * else must fail at line:col (line 0: an error without a place) with want. */
static struct drill *load(const char *yaml, const char *const *params, int line, int col,
			  const char *want)
{
	struct drill_options o = { .params = params, .n_params = 0 };
	struct drill *d = NULL;
	struct cd_error err = { 0 };
	char path[256], buf[1400];
	int r;

	while (params && params[o.n_params])
		o.n_params++;
	snprintf(path, sizeof(path), "%s/d.yaml", root);
	write_file(path, yaml);
	r = drill_load(path, &o, &d, &err);
	cd_error_format(&err, buf, sizeof(buf));
	if (!want) {
		if (r < 0) {
			print_error("unexpected error: %s\n", buf);
			fail();
		}
		return d;
	}
	assert_true(r < 0);
	assert_null(d);
	if (err.line != line || err.col != col || !strstr(err.msg, want)) {
		print_error("got '%s', want %d:%d '%s'\n", buf, line, col, want);
		fail();
	}
	return NULL;
}

#define PAIR                                   \
	"drill: p\n"                           \
	"targets:\n"                           \
	"  - target: alpha\n"                  \
	"    nodes: [db1]\n"                   \
	"    params: {sync: always}\n"         \
	"    workload: {rate: 100/s}\n"        \
	"  - target: beta\n"                   \
	"    nodes: [c1, c2]\n"                \
	"    expect: {rto: 9s}\n"              \
	"faults: [{at: 1s, kill: db1}]\n"      \
	"recovery:\n"                          \
	"  - restart: db1\n"                   \
	"  - wait: {probe: ready, node: c1}\n" \
	"expect: {rto: 2s, rpo: 0}\n"

static void test_views(void **state)
{
	struct drill *d = load(PAIR, NULL, 0, 0, NULL);
	const struct drill *a, *b;

	assert_int_equal(d->n_targets, 2);
	a = d->targets[0].view;
	b = d->targets[1].view;
	assert_ptr_not_equal(a, d);
	assert_string_equal(a->target->name, "alpha");
	assert_string_equal(b->target->name, "beta");
	assert_string_equal(a->sc->target, "alpha");
	assert_non_null(a->driver);
	assert_false(a->no_workload);
	assert_true(b->no_workload); /* beta has no driver */
	assert_false(d->no_workload);
	assert_true(a->sc->workload.rate == 100);
	assert_int_equal(a->sc->expect.rpo_kind, SCENARIO_RPO_COUNT);
	assert_int_equal(a->sc->expect.rto_ns, 2 * NSEC_PER_SEC);
	/* beta: no workload, so the drill's rpo is not its; its own rto */
	assert_int_equal(b->sc->expect.rpo_kind, SCENARIO_RPO_UNSET);
	assert_int_equal(b->sc->expect.rto_ns, 9 * NSEC_PER_SEC);
	/* shared: nodes, faults, steps */
	assert_int_equal(a->sc->n_nodes, 3);
	assert_ptr_equal(a->faults, d->faults);
	assert_ptr_equal(drill_node_view(d, scenario_node(d->sc, "c2")), b);
	assert_ptr_equal(drill_node_view(b, scenario_node(d->sc, "db1")), a);
	assert_string_equal(scenario_param(a->sc, scenario_node(d->sc, "db1"), "sync"), "always");
	drill_free(d);

	/* the single form: the drill is its own one view */
	d = load("drill: s\ntarget: alpha\n", NULL, 0, 0, NULL);
	assert_int_equal(d->n_targets, 1);
	assert_ptr_equal(d->targets[0].view, d);
	assert_ptr_equal(d->target, d->targets[0].target);
	drill_free(d);
}

static void test_params(void **state)
{
	const char *const every[] = { "role=replica", NULL };
	const char *const one[] = { "alpha.sync=never", NULL };
	const char *const some[] = { "synchronous=off", NULL };
	const char *const none[] = { "nosuch=1", NULL };
	const char *const wrong_target[] = { "beta.sync=never", NULL };
	const char *const bad_value[] = { "synchronous=maybe", NULL };
	struct drill *d;

	d = load(PAIR, every, 0, 0, NULL);
	assert_string_equal(scenario_param(d->sc, scenario_node(d->sc, "db1"), "role"), "replica");
	assert_string_equal(scenario_param(d->sc, scenario_node(d->sc, "c1"), "role"), "replica");
	drill_free(d);
	d = load(PAIR, one, 0, 0, NULL);
	assert_string_equal(scenario_param(d->sc, scenario_node(d->sc, "db1"), "sync"), "never");
	assert_null(scenario_param(d->sc, scenario_node(d->sc, "c1"), "sync"));
	drill_free(d);
	d = load(PAIR, some, 0, 0, NULL); /* beta only declares it: fine */
	assert_string_equal(scenario_param(d->sc, scenario_node(d->sc, "c1"), "synchronous"),
			    "off");
	drill_free(d);
	load(PAIR, none, 0, 0,
	     "--param nosuch=1: no target of the drill (alpha, beta) has a param 'nosuch'");
	load(PAIR, wrong_target, 0, 0, "--param beta.sync=never: target beta has no param 'sync'");
	load(PAIR, bad_value, 0, 0, "param synchronous: 'maybe' is not one of: full off");
}

static void test_errors(void **state)
{
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n  - {target: gamma, nodes: [b]}\n",
	     NULL, 4, 14, "unknown target 'gamma'; known targets:");
	/* a target's params are checked against that target */
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n"
	     "  - {target: beta, nodes: [b], params: {sync: never}}\n",
	     NULL, 4, 41, "target beta has no param 'sync'");
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n"
	     "  - {target: beta, nodes: [{name: b, params: {sync: never}}]}\n",
	     NULL, 4, 47, "target beta has no param 'sync'");
	/* restart params: those of the restarted node's target */
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n  - {target: beta, nodes: [b]}\n"
	     "recovery: [{restart: {node: b, params: {sync: never}}}]\n",
	     NULL, 5, 41, "target beta has no param 'sync'");
	/* which node's readiness? */
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n  - {target: beta, nodes: [b]}\n"
	     "recovery: [{wait: {probe: ready}}]\n",
	     NULL, 5, 13, "with several targets, a wait for a probe or a port names its node");
	/* faults name the nodes of any target */
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n  - {target: beta, nodes: [b]}\n"
	     "faults: [{at: 1s, kill: zz}]\n",
	     NULL, 5, 25, "zz");
	/* no workload on beta: its own rpo is an error, the drill's a default it ignores */
	load("drill: p\ntargets:\n  - {target: alpha, nodes: [a]}\n"
	     "  - {target: beta, nodes: [b], expect: {rpo: 0}}\n",
	     NULL, 4, 41, "expect rpo needs a workload");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
