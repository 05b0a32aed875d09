/* Fuzzes the target.yaml loader (harness/drill/target.c). target_load() only takes a
 * target's name and reads $CHAOSDRILL_TARGETS/NAME/target.yaml: that file is a symlink to
 * a memfd holding the input, so nothing is written to disk per input. Inputs whose
 * `target:` is not "fz" still go through the whole parse (the name is checked last). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/drill/target.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t empty[1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir(), *mem;
	char sub[512], link[600];

	if (!dir || fuzz_memfd_path(empty, 0, &mem) < 0)
		fuzz_fail("no scratch directory or memfd: %m");
	snprintf(sub, sizeof(sub), "%s/fz", dir);
	snprintf(link, sizeof(link), "%s/target.yaml", sub);
	if (mkdir(sub, 0755) < 0 || symlink(mem, link) < 0)
		fuzz_fail("%s: %m", link);
	setenv("CHAOSDRILL_TARGETS", dir, 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target_def *t;
	struct cd_error err = { 0 };
	const char *path;
	int r;

	if (fuzz_memfd_path(data, size, &path) < 0)
		return 0;
	r = target_load("fz", &t, &err);
	if (r < 0) {
		if (!err.msg[0])
			fuzz_fail("a load error without a message (%s)", strerror(-r));
		return 0;
	}
	/* what the harness relies on once loaded */
	if (!t->start.argv || t->start.argc == 0 || t->start.argv[t->start.argc] != NULL)
		fuzz_fail("start argv not NULL-terminated or empty");
	if (!t->probe_ready.argv || t->probe_ready.argv[t->probe_ready.argc] != NULL)
		fuzz_fail("probe ready argv not NULL-terminated");
	for (size_t i = 0; i < t->n_params; i++)
		if (target_param(t, t->params[i].name) == NULL)
			fuzz_fail("param '%s' not found by name", t->params[i].name);
	target_free(t);
	return 0;
}
