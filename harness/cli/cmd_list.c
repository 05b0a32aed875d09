/* `chaosdrill list`: the targets, faults, recovery steps and workloads this build knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault.h"
#include "harness/cli/cli.h"
#include "harness/drill/steps.h"
#include "harness/drill/target.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chaosdrill list [-h]\n\n"
		"Lists the targets (from %s), the fault kinds with the kernel features\n"
		"each needs, the recovery step kinds and the workloads.\n",
		target_src_root());
}

static void list_targets(void)
{
	char **names = NULL;
	size_t n = 0;

	printf("Targets (%s):\n", target_src_root());
	if (target_list(&names, &n) < 0)
		printf("  (cannot read the targets folder)\n");
	for (size_t i = 0; i < n; i++) {
		struct target_def *t = NULL;
		struct cd_error err;

		if (target_load(names[i], &t, &err) == 0)
			printf("  %-12s %s\n", names[i], t->description ? t->description : "");
		else
			printf("  %-12s (target.yaml has errors: chaosdrill validate shows them)\n",
			       names[i]);
		target_free(t);
		free(names[i]);
	}
	free(names);
}

int cmd_list(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
			usage(stdout);
			return EXIT_MET;
		}
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	list_targets();
	printf("\nFaults:\n");
	for (size_t i = 0; fault_at(i); i++)
		printf("  %-12s %s\n  %-12s needs: %s\n", fault_at(i)->name, fault_at(i)->summary,
		       "", fault_at(i)->needs);
	printf("\nRecovery steps:\n");
	for (size_t i = 0; step_kind_at(i); i++)
		printf("  %-12s %s\n", step_kind_at(i)->name, step_kind_at(i)->summary);
	printf("\nWorkloads:\n");
	printf("  %-12s unique inserts with checksummed values at a fixed rate (open loop)\n",
	       "set");
	return EXIT_MET;
}
