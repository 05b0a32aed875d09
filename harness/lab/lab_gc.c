/* lab_gc: finds the labs of harnesses that died without lab_free (their cgroups under
 * <hierarchy>/chaosdrill/), kills what still runs in them through those cgroups (never by
 * name) and removes the cgroups. Namespaces need no work: they die with their last process
 * (the holders die with the harness through PR_SET_PDEATHSIG), and no namespace is ever
 * bind-mounted. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "harness/lab/lab_internal.h"

typedef void (*gc_report_fn)(void *ud, const char *what, const char *object);

/* Field n (1-based, n >= 3) of /proc/<pid>/stat, after the parenthesised comm. */
static long long proc_stat_field(pid_t pid, int n)
{
	char p[64];
	_cleanup_free_ char *s = NULL;
	char *q;
	int i;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (fs_read_all(p, 4096, &s, NULL) < 0 || !(q = strrchr(s, ')')))
		return -1;
	for (i = 2; i < n && q; i++)
		q = strchr(q + 1, ' ');
	return q ? strtoll(q + 1, NULL, 10) : -1;
}

static long long boot_time(void)
{
	_cleanup_free_ char *s = NULL;
	char *q;

	if (fs_read_all("/proc/stat", 1 << 20, &s, NULL) < 0 || !(q = strstr(s, "\nbtime ")))
		return -1;
	return strtoll(q + 7, NULL, 10);
}

struct owner_check {
	pid_t owner;
	bool child_found, any;
};

static int find_child(const char *path, void *ud)
{
	struct owner_check *c = ud;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, i;

	if (cgroup_pids(path, &pids, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		c->any = true;
		if (proc_stat_field(pids[i], 4) == c->owner)
			c->child_found = true;
	}
	return 0;
}

/* Recursion over a lab's cgroups (it is shallow: lab, then holders/exec/nodes). */
static void each_cgroup(const char *path, int (*fn)(const char *, void *), void *ud)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *e;
	char sub[PATH_MAX];

	fn(path, ud);
	while (d && (e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
		    snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < (int)sizeof(sub))
			each_cgroup(sub, fn, ud);
}

/* A lab is live if its owner runs and is the same process that made it: it has a child in
 * the lab (holders are its children) or, with nothing left in the lab, it started before
 * the lab's cgroup was last changed. */
static bool owner_alive(pid_t owner, const char *path)
{
	struct owner_check c = { .owner = owner };
	struct stat st;
	long long start, hz = sysconf(_SC_CLK_TCK), bt = boot_time();

	if (owner == getpid())
		return true;
	if (kill(owner, 0) < 0 && errno == ESRCH)
		return false;
	each_cgroup(path, find_child, &c);
	if (c.any)
		return c.child_found;
	start = proc_stat_field(owner, 22);
	if (start < 0 || bt < 0 || hz <= 0 || stat(path, &st) < 0)
		return true; /* when in doubt, leave it */
	return bt + start / hz <= (long long)st.st_ctime + 1;
}

struct gc_ctx {
	gc_report_fn report;
	void *ud;
};

static int report_pids(const char *path, void *ud)
{
	struct gc_ctx *g = ud;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, i;
	char what[PATH_MAX + 64];

	if (!g->report || cgroup_pids(path, &pids, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "pid %d in %s", (int)pids[i], path);
		g->report(g->ud, "kill", what);
	}
	return 0;
}

static void report_rmdir(void *ud, const char *path)
{
	struct gc_ctx *g = ud;

	if (g->report)
		g->report(g->ud, "rmdir", path);
}

static int gc_lab(enum cgroup_kind kind, const char *path, struct gc_ctx *g)
{
	int r;

	each_cgroup(path, report_pids, g);
	r = cgroup_kill(kind, path);
	if (r < 0)
		return lab_fail(-r, "kill the processes of %s", path);
	r = cgroup_remove_tree(path, report_rmdir, g);
	return r < 0 ? lab_fail(-r, "remove %s", path) : 0;
}

static int gc_hierarchy(enum cgroup_kind kind, struct gc_ctx *g)
{
	char mnt[PATH_MAX - 64], root[PATH_MAX], path[PATH_MAX];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int count = 0, first = 0, r, pid;

	if (cgroup_mount_point(kind == CGROUP_V1, mnt, sizeof(mnt)) < 0)
		return 0;
	snprintf(root, sizeof(root), "%s/" CGROUP_DIR, mnt);
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : lab_fail(errno, "open %s", root);
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || sscanf(e->d_name, LAB_NAME_PREFIX "%d-", &pid) != 1)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", root, e->d_name) >= (int)sizeof(path))
			continue;
		if (owner_alive(pid, path))
			continue;
		r = gc_lab(kind, path, g);
		if (r < 0 && first == 0)
			first = r;
		count += r == 0;
	}
	return first < 0 ? first : count;
}

int lab_gc(gc_report_fn report, void *ud)
{
	struct gc_ctx g = { .report = report, .ud = ud };
	int v2, v1;

	v2 = gc_hierarchy(CGROUP_V2, &g);
	v1 = gc_hierarchy(CGROUP_V1, &g);
	if (v2 < 0)
		return v2;
	if (v1 < 0)
		return v1;
	return v2 + v1;
}
