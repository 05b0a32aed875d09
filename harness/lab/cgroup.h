/* Per-lab and per-node cgroups, found at run time: cgroup v2 where a cgroup2 hierarchy is
 * mounted and offers cgroup.freeze, else the v1 freezer hierarchy, else none. Everything lives
 * under "<hierarchy root>/chaosdrill/" so `chaosdrill gc` finds what a killed harness left.
 *
 * Usage:
 *   struct cgroup_root root;
 *   cgroup_detect(CGROUP_AUTO, &root);             // CGROUP_NONE is a valid answer
 *   cgroup_create(&root, "cd-1-0/node.n1", path, sizeof(path));
 *   fd = cgroup_procs_open(path);                  // a child writes "0" here to join
 *   cgroup_freeze(root.kind, path, true);
 *   cgroup_kill(root.kind, lab_path);              // every process in the subtree
 *   cgroup_remove_tree(lab_path);
 */
#ifndef CHAOSDRILL_HARNESS_CGROUP_H
#define CHAOSDRILL_HARNESS_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum cgroup_kind { CGROUP_AUTO, CGROUP_V2, CGROUP_V1, CGROUP_NONE };

#define CGROUP_DIR "chaosdrill"

struct cgroup_root {
	enum cgroup_kind kind;
	char path[PATH_MAX]; /* "<mount point>/chaosdrill"; empty for CGROUP_NONE */
};

/* "v2", "v1-freezer", "none". */
const char *cgroup_kind_name(enum cgroup_kind kind);
/* Finds the hierarchy to use; want forces one kind (-ENOTSUP if unusable here). Creates
 * "<root>/chaosdrill". With CGROUP_AUTO and nothing usable, returns 0 and kind NONE. */
int cgroup_detect(enum cgroup_kind want, struct cgroup_root *out);
/* Mount point of a hierarchy: the cgroup2 one (v1 false) or the v1 freezer one. */
int cgroup_mount_point(bool v1, char *buf, size_t len);
/* mkdir "<root>/<rel>" into path (buf of len). */
int cgroup_create(const struct cgroup_root *root, const char *rel, char *path, size_t len);
/* fd on "<path>/cgroup.procs", O_WRONLY|O_CLOEXEC. Caller closes. */
int cgroup_procs_open(const char *path);
/* Opens a cgroup for CLONE_INTO_CGROUP (v2): fd on the directory, O_CLOEXEC; -1 for v1 and
 * none (which have no such thing). Caller closes. */
int cgroup_dir_open(enum cgroup_kind kind, const char *path);
/* Freezes or thaws and waits (up to 2 s) until the kernel says it is done. */
int cgroup_freeze(enum cgroup_kind kind, const char *path, bool frozen);
/* SIGKILLs every process in the subtree (v2 cgroup.kill, else freeze, kill each, thaw) and
 * waits (up to 2 s) until it is empty. Returns the number killed when known (v1), else 0. */
int cgroup_kill(enum cgroup_kind kind, const char *path);
/* Pids directly in path (cgroup.procs); *pids is caller-freed. */
int cgroup_pids(const char *path, pid_t **pids, size_t *n);
/* true if any process is in the subtree. */
int cgroup_populated(const char *path);
/* Removes path and its descendants, deepest first (they must be empty of processes).
 * report (may be NULL) is called for each directory removed. */
int cgroup_remove_tree(const char *path, void (*report)(void *ud, const char *path), void *ud);

#endif
