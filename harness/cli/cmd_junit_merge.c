/* `chaosdrill junit-merge OUT IN...`: the JUnit files of several calls (the shards of a
 * CI pipeline, `run --shard I/N --junit shard-I.xml`) as one, valid against the schema. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "harness/cli/cli.h"
#include "reports/junit_merge.h"

#define JUNIT_MAX_INPUT (256u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chaosdrill junit-merge OUT IN...\n\n"
		"Writes OUT: one JUnit XML document holding every <testsuite> of the IN files, in\n"
		"the order given, under one <testsuites> whose tests, failures, errors and time\n"
		"are the sums. Each IN is a JUnit file with a <testsuites> root (as `chaosdrill run\n"
		"--junit` writes it) or a single <testsuite>. OUT is written atomically and may be\n"
		"one of the INs.\n\n"
		"Example, three CI jobs and a last one:\n"
		"  chaosdrill run --shard 1/3 --junit shard-1.xml scenarios/*.yaml   # job 1 (2, 3)\n"
		"  chaosdrill junit-merge junit.xml shard-1.xml shard-2.xml shard-3.xml\n\n"
		"Exit codes: 0 written; 2 bad input (usage, an IN unreadable or not JUnit);\n"
		"3 OUT could not be written.\n");
}

int cmd_junit_merge(int argc, char **argv)
{
	char **docs = NULL, err[300];
	size_t *lens = NULL, n;
	struct strbuf out = STRBUF_INIT;
	int r, rc = EXIT_MET;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return EXIT_MET;
	}
	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "chaosdrill junit-merge: %s\n\n",
			argc < 3 ? "want OUT and at least one IN" : "unknown option");
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	n = (size_t)argc - 2;
	docs = calloc(n, sizeof(*docs));
	lens = calloc(n, sizeof(*lens));
	if (!docs || !lens) {
		rc = EXIT_ENVIRONMENT;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = fs_read_all(argv[i + 2], JUNIT_MAX_INPUT, &docs[i], &lens[i])) < 0) {
			fprintf(stderr, "chaosdrill junit-merge: cannot read %s: %s\n", argv[i + 2],
				strerror(-r));
			rc = EXIT_BAD_INPUT;
			goto out;
		}
	r = junit_merge((const char *const *)docs, lens, n, &out, err, sizeof(err));
	if (r == -EINVAL) {
		/* "document K is not ...": name the file instead */
		const char *why = strchr(err, ':');

		fprintf(stderr, "chaosdrill junit-merge: %s is not JUnit XML%s\n",
			argv[2 + atoi(err + 9)], why ? why : "");
		rc = EXIT_BAD_INPUT;
	} else if (r < 0 || (r = fs_write_atomic(argv[1], out.buf, out.len, 0644)) < 0) {
		fprintf(stderr, "chaosdrill junit-merge: cannot write %s: %s\n", argv[1],
			strerror(-r));
		rc = EXIT_ENVIRONMENT;
	}
out:
	for (size_t i = 0; docs && i < n; i++)
		free(docs[i]);
	free(docs);
	free(lens);
	strbuf_release(&out);
	return rc;
}
