/* A main() for a fuzzer built without libFuzzer (gcc, plain or ASan build): feeds every file
 * named on the command line, or found under a directory named there, to
 * LLVMFuzzerTestOneInput once. The ctest fuzz_replay_* tests run the seed corpora and the
 * regression inputs of crashes fixed so far this way, under ASan/UBSan in build-san. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "tests/fuzz/fuzz.h"

/* Optional in a fuzzer, as in libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

#define REPLAY_TIMEOUT_S 10

static size_t n_inputs;

static int run_file(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "rbe");
	_cleanup_free_ uint8_t *buf = NULL;
	long len;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		return -errno;
	/* exactly len bytes, as libFuzzer hands them: ASan sees a read one past the end */
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return -ENOMEM;
	if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		return -EIO;
	fprintf(stderr, "replay: %s\n", path);
	/* a hang is a finding too (libFuzzer's -timeout): SIGALRM ends the test */
	alarm(REPLAY_TIMEOUT_S);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	alarm(0);
	n_inputs++;
	return 0;
}

static int run_path(const char *path);

/* In name order, so a failure names the same input on every machine. */
static int run_dir(const char *path)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), r = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (r >= 0 && ents[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			r = run_path(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

static int run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		int r = run_path(argv[i]);

		if (r < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
	}
	printf("replay: %zu inputs, no crash\n", n_inputs);
	return 0;
}
