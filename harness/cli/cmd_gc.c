/* `chaosdrill gc`: remove what a killed chaosdrill left behind. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/lab/lab.h"
#include "harness/run/run.h"

static void say(void *ud, const char *what, const char *object)
{
	unsigned *n = ud;

	(*n)++;
	printf("  %s %s\n", what, object);
}

static void say_path(void *ud, const char *path)
{
	say(ud, "temp file", path);
}

int cmd_gc(int argc, char **argv)
{
	const char *out = "runs";
	unsigned n = 0;
	int k, t;

	if (argc == 3 && strcmp(argv[1], "--out") == 0) {
		out = argv[2];
	} else if (argc > 1) {
		bool help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;

		printf("Usage: chaosdrill gc [--out DIR]\n\n"
		       "Removes what a killed chaosdrill left behind: the processes it started (found\n"
		       "through the cgroups it created, never by name), those cgroups, and with them the\n"
		       "lab's namespaces, veths and mounts. Labs of running chaosdrills are left alone.\n"
		       "Also removes the temp files of reports it was writing (result.json.tmp.PID, ...)\n"
		       "in the run directories under DIR (default runs/, as run --out), once their\n"
		       "writer is dead. Says what it removed. Needs root.\n");
		return help ? EXIT_MET : EXIT_BAD_INPUT;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "chaosdrill gc: needs root\n");
		return EXIT_ENVIRONMENT;
	}
	lab_init_process();
	k = lab_gc(say, &n);
	if (k >= 0 && (t = run_sweep_stale(out, NULL, say_path, &n)) < 0)
		fprintf(stderr, "chaosdrill gc: cannot look for temp files under %s: %s\n", out,
			strerror(-t));
	if (k < 0) {
		fprintf(stderr, "chaosdrill gc: %s (%s)\n", strerror(-k), lab_last_error());
		return EXIT_ENVIRONMENT;
	}
	printf("chaosdrill gc: %d lab%s removed%s\n", k, k == 1 ? "" : "s",
	       n ? "" : "; nothing was left behind");
	return EXIT_MET;
}
