/* Fuzzes the drill parser (scenarios/parser/): YAML from a buffer into a located tree, the
 * tree into a struct scenario with the real fault and step kinds, its accessors; and, for
 * inputs that parse, the whole of `chaosdrill validate` (drill_load: target, every fault
 * kind's and recovery step's own argument parser), which only takes a path (a memfd). */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "faults/fault.h"
#include "harness/drill/drill.h"
#include "harness/drill/steps.h"
#include "scenarios/parser/scenario.h"
#include "scenarios/parser/yaml_load.h"
#include "tests/fuzz/fuzz.h"

static const char *faults[64], *steps[64];
static const struct scenario_kinds kinds = { faults, steps };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fault_names(faults, ARRAY_SIZE(faults));
	step_kind_names(steps, ARRAY_SIZE(steps));
	return 0;
}

/* What the engine asks of a parsed scenario. */
static void walk(struct scenario *sc)
{
	for (size_t i = 0; i < sc->n_nodes; i++) {
		const struct scenario_node *n = &sc->nodes[i];

		if (scenario_node(sc, n->name) == NULL)
			fuzz_fail("node '%s' not found by name", n->name);
		if (!scenario_valid_node_name(n->name))
			fuzz_fail("node '%s' parsed with an invalid name", n->name);
		scenario_node_disk(sc, n);
		for (size_t j = 0; j < sc->n_params; j++)
			if (!scenario_param(sc, n, sc->params[j].key))
				fuzz_fail("param '%s' has no value", sc->params[j].key);
	}
	if (scenario_override_param(sc, "fuzz", "1") == 0 &&
	    strcmp(scenario_param(sc, NULL, "fuzz"), "1") != 0)
		fuzz_fail("--param fuzz=1 not seen");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_node *tree;
	struct scenario *sc;
	struct drill *d;
	struct cd_error err = { 0 };
	const char *path;

	if (yaml_load_string("fuzz.yaml", (const char *)data, size, &tree, &err) < 0 ||
	    scenario_from_tree(tree, &kinds, &sc, &err) < 0) {
		if (!err.msg[0])
			fuzz_fail("a parse error without a message");
		return 0;
	}
	walk(sc);
	scenario_free(sc);
	if (fuzz_memfd_path(data, size, &path) < 0)
		return 0;
	if (drill_load(path, &(struct drill_options){ .has_seed = true, .seed = 1 }, &d, &err) >= 0)
		drill_free(d);
	return 0;
}
