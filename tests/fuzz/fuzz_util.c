/* Helpers shared by the fuzzers (fuzz.h): inputs as files for path-only loaders, a
 * scratch directory, and a loud failure for a fuzzer's own invariants. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static int memfd = -1;
static char memfd_path[64];

int fuzz_memfd_path(const uint8_t *data, size_t size, const char **path)
{
	if (memfd < 0) {
		memfd = memfd_create("chaosdrill-fuzz", MFD_CLOEXEC);
		if (memfd < 0)
			return -errno;
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) < 0)
		return -errno;
	for (size_t off = 0; off < size;) {
		ssize_t n = pwrite(memfd, data + off, size - off, (off_t)off);

		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	*path = memfd_path;
	return 0;
}

static char tmpdir[256];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void tmpdir_remove(void)
{
	if (nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS) < 0)
		fprintf(stderr, "fuzz: could not remove %s: %m\n", tmpdir);
}

const char *fuzz_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	if (tmpdir[0])
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/chaosdrill-fuzz-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = 0;
		return NULL;
	}
	atexit(tmpdir_remove);
	return tmpdir;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}
