/* `chaosdrill validate FILE...`: parse and check drill files without running them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "harness/cli/cli.h"
#include "harness/cli/cmd_common.h"
#include "harness/drill/drill.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: chaosdrill validate [OPTIONS] FILE...\n\n"
		   "Checks each drill file (YAML shape, keys, units, target, params, node names,\n"
		   "fault and recovery-step arguments) without setting anything up. Errors are\n"
		   "printed as FILE:LINE:COLUMN: message.\n\n"
		   "Options:\n"
		   "  --param KEY=VALUE  check as if this target param were set (repeatable)\n"
		   "  -q, --quiet        print errors only\n"
		   "  -h, --help         this help\n\n"
		   "Exit codes: 0 every file is valid; 2 some file is not (or bad usage).\n");
}

static void describe(const char *path, const struct drill *d)
{
	const struct scenario *sc = d->sc;

	printf("%s: ok: drill %s, target%s %s, %zu node%s, %zu fault%s, %zu recovery step%s\n",
	       path, sc->drill, sc->multi ? "s" : "", sc->target, sc->n_nodes,
	       sc->n_nodes == 1 ? "" : "s", sc->n_faults, sc->n_faults == 1 ? "" : "s", sc->n_steps,
	       sc->n_steps == 1 ? "" : "s");
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "param", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_params params = { 0 };
	struct drill_names seen = { 0 };
	bool quiet = false;
	int c, rc = EXIT_MET;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (cli_params_add(&params, optarg) < 0)
				return EXIT_BAD_INPUT;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_MET;
		default:
			usage(stderr);
			cli_params_release(&params);
			return EXIT_BAD_INPUT;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "chaosdrill validate: no drill file given\n\n");
		usage(stderr);
		cli_params_release(&params);
		return EXIT_BAD_INPUT;
	}
	for (int i = optind; i < argc; i++) {
		struct drill_options o = { .params = (const char *const *)params.v,
					   .n_params = params.n };
		struct drill *d = NULL;
		struct cd_error err = { 0 };

		int r = drill_load(argv[i], &o, &d, &err);

		if (r >= 0)
			r = drill_names_check(&seen, d, &err);
		if (r < 0) {
			if (!err.msg[0])
				cd_error_set(&err, -r, argv[i], 0, 0, "%s", strerror(-r));
			cli_print_error(&err);
			rc = EXIT_BAD_INPUT;
		} else if (!quiet) {
			describe(argv[i], d);
		}
		drill_free(d);
	}
	drill_names_release(&seen);
	cli_params_release(&params);
	return rc;
}
