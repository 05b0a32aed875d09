/* Shared helpers of the lab integration tests: checks that print and fail, skip with 77 on
 * a missing feature, host-state snapshots, and the tiny programs (listener, connector,
 * info) that the test binaries run inside nodes by re-executing themselves. */
#ifndef CHAOSDRILL_TESTS_LAB_TEST_H
#define CHAOSDRILL_TESTS_LAB_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/lab/lab.h"

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fprintf(stderr, " (last lab error: %s)\n", lab_last_error());   \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

#define OK(...)                      \
	do {                         \
		printf("ok - ");     \
		printf(__VA_ARGS__); \
		printf("\n");        \
		fflush(stdout);      \
	} while (0)

/* Exits 77 unless root; else lab_init_process. */
void t_require_root(void);
/* The folder of this test binary, as lab_options.keep_paths (nodes exec the binary). */
const char *const *t_keep_paths(void);
/* lab_new, exiting 77 (with the reason) if the kernel lacks what the lab needs. */
struct lab *t_lab_new(enum lab_cgroup_mode mode);
/* If argv[1] names a node-side mode, runs it and exits; else returns. */
void t_dispatch(int argc, char **argv);
/* Path of the running test binary (for re-executing it in a node). Static buffer. */
const char *t_self(void);

/* What the host looks like: `ip -o link` names, /proc/self/mounts, `ip netns list`. */
struct t_snapshot {
	char *links, *mounts, *netns;
};
void t_snapshot_take(struct t_snapshot *s);
/* Compares with an earlier snapshot; prints differences; true if equal. */
bool t_snapshot_same(const struct t_snapshot *a, const struct t_snapshot *b);
void t_snapshot_free(struct t_snapshot *s);

/* Makes a fresh data dir under /tmp; caller frees the string. rm -r with t_rm_rf. */
char *t_data_dir(void);
void t_rm_rf(const char *path);
/* Runs lab_run and returns its output (caller frees) after checking exit 0. */
char *t_run_ok(struct lab *lab, struct lab_node *node, const char *const *argv);
/* True if some process in the system has this netns inode. */
bool t_ns_in_use(const char *kind, unsigned long ino);
unsigned long t_ns_ino(pid_t pid, const char *kind);
/* TCP: connect to addr:port through fd and read one line into buf (timeout ms). */
int t_read_line(int fd, char *buf, size_t len, int timeout_ms);
int t_connect(int fd, struct in_addr addr, int port, int timeout_ms);

#endif
