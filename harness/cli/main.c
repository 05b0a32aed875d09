/* chaosdrill: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "harness/cli/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* NULL: internal, not listed */
};

static const struct command commands[] = {
	{ "run", cmd_run, "run drills: set up, fault, recover, verify, report" },
	{ "validate", cmd_validate, "check drill files without running them" },
	{ "list", cmd_list, "list the known targets, faults, recovery steps and workloads" },
	{ "replay", cmd_replay, "run a drill again from its run directory; --check compares" },
	{ "gc", cmd_gc, "remove what a killed chaosdrill left behind" },
	{ "junit-merge", cmd_junit_merge, "merge JUnit files (of --shard jobs) into one" },
	{ "trend", cmd_trend, "a history's RTO and step durations over time; flag regressions" },
	{ "shrink", cmd_shrink, "find a smaller fault schedule that still fails" },
	{ "node-disk", cmd_node_disk, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: chaosdrill COMMAND [OPTIONS] [ARGS]\n\n"
		   "Runs recovery runbooks as drills: faults in, recovery steps timed, RTO, RPO\n"
		   "and integrity checked, JUnit XML out.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`chaosdrill COMMAND --help` describes each command.\n"
		   "Options: --help, --version\n\n"
		   "Exit codes: 0 every expectation met; 1 an expectation missed; 2 bad input\n"
		   "(usage, scenario error); 3 the environment could not run the drill.\n");
}

void cli_print_error(const struct cd_error *err)
{
	char buf[1400];

	cd_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

int main(int argc, char **argv)
{
	log_set_prog("chaosdrill");
	if (failpoint_init() < 0) { /* test-only: see common/failpoint.h */
		fprintf(stderr,
			"chaosdrill: bad CHAOSDRILL_FAILPOINT or CHAOSDRILL_FAILPOINT_LOG\n");
		return EXIT_BAD_INPUT;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_MET;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("chaosdrill %s\n", CHAOSDRILL_VERSION);
		return EXIT_MET;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "chaosdrill: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_BAD_INPUT;
}
