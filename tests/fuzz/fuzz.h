/* What every fuzzer of tests/fuzz/ shares: the libFuzzer entry points (defined by each
 * fuzz_*.c; called by libFuzzer in the clang -DFUZZ=ON build, by replay.c in the plain
 * one) and small helpers that hand an input to loaders that only take a path. */
#ifndef CHAOSDRILL_TESTS_FUZZ_H
#define CHAOSDRILL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A memfd holding exactly data (created on first use, rewritten on each call): *path is
 * "/proc/self/fd/N", valid until the next call. -errno on failure. */
int fuzz_memfd_path(const uint8_t *data, size_t size, const char **path);

/* A fresh directory under $TMPDIR (or /tmp), removed with what is in it at exit. Returns
 * its path (static storage) or NULL. */
const char *fuzz_tmpdir(void);

/* A fuzzer's own invariant broke: print why and abort, so libFuzzer keeps the input. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
