/* `chaosdrill gc`: remove what a killed chaosdrill left behind. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/lab/lab.h"

static void say(void *ud, const char *what, const char *object)
{
	unsigned *n = ud;

	(*n)++;
	printf("  %s %s\n", what, object);
}

int cmd_gc(int argc, char **argv)
{
	unsigned n = 0;
	int k;

	if (argc > 1) {
		bool help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;

		printf("Usage: chaosdrill gc\n\n"
		       "Removes what a killed chaosdrill left behind: the processes it started (found\n"
		       "through the cgroups it created, never by name), those cgroups, and with them the\n"
		       "lab's namespaces, veths and mounts. Labs of running chaosdrills are left alone.\n"
		       "Says what it removed. Needs root.\n");
		return help ? EXIT_MET : EXIT_BAD_INPUT;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "chaosdrill gc: needs root\n");
		return EXIT_ENVIRONMENT;
	}
	lab_init_process();
	k = lab_gc(say, &n);
	if (k < 0) {
		fprintf(stderr, "chaosdrill gc: %s (%s)\n", strerror(-k), lab_last_error());
		return EXIT_ENVIRONMENT;
	}
	printf("chaosdrill gc: %d lab%s removed%s\n", k, k == 1 ? "" : "s",
	       n ? "" : "; nothing was left behind");
	return EXIT_MET;
}
