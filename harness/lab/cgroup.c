/* Per-lab and per-node cgroups, detected at run time: see cgroup.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "harness/lab/cgroup.h"

#define WAIT_NS (2000LL * 1000000LL)

const char *cgroup_kind_name(enum cgroup_kind kind)
{
	switch (kind) {
	case CGROUP_V2:
		return "v2";
	case CGROUP_V1:
		return "v1-freezer";
	case CGROUP_NONE:
		return "none";
	default:
		return "auto";
	}
}

/* One mountinfo line: "... mountpoint opts ... - fstype source superopts". */
static bool mount_matches(char *line, bool v1, char *mnt, size_t len)
{
	char *sep = strstr(line, " - "), *fields[6], *save = NULL, *tok;
	char type[32] = "", super[512] = "";
	int n = 0;

	if (!sep)
		return false;
	*sep = '\0';
	for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	if (n < 5 || sscanf(sep + 3, "%31s %*s %511s", type, super) < 1)
		return false;
	if (!v1 && strcmp(type, "cgroup2") != 0)
		return false;
	if (v1) {
		char *s = NULL, *opt;

		if (strcmp(type, "cgroup") != 0)
			return false;
		for (opt = strtok_r(super, ",", &s); opt; opt = strtok_r(NULL, ",", &s))
			if (strcmp(opt, "freezer") == 0)
				break;
		if (!opt)
			return false;
	}
	return snprintf(mnt, len, "%s", fields[4]) < (int)len;
}

int cgroup_mount_point(bool v1, char *buf, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		if (mount_matches(line, v1, buf, len))
			return 0;
	return -ENOENT;
}

/* "dir/name" into p (PATH_MAX bytes); false if it does not fit. */
static bool join(char *p, const char *dir, const char *name)
{
	return snprintf(p, PATH_MAX, "%s/%s", dir, name) < PATH_MAX;
}

static bool file_exists(const char *dir, const char *name)
{
	char p[PATH_MAX];

	return join(p, dir, name) && access(p, F_OK) == 0;
}

/* A kind is usable if its hierarchy is mounted, we can create our directory in it and, for
 * v2, a child cgroup offers cgroup.freeze (Linux 5.2+). */
static int try_kind(enum cgroup_kind kind, struct cgroup_root *out)
{
	char mnt[PATH_MAX], probe[PATH_MAX];
	int r;

	r = cgroup_mount_point(kind == CGROUP_V1, mnt, sizeof(mnt));
	if (r < 0)
		return r;
	if (!join(out->path, mnt, CGROUP_DIR))
		return -ENAMETOOLONG;
	if (mkdir(out->path, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (kind == CGROUP_V2 && !file_exists(out->path, "cgroup.freeze"))
		return -ENOTSUP;
	if (kind == CGROUP_V1 && !file_exists(out->path, "freezer.state"))
		return -ENOTSUP;
	if (!join(probe, out->path, "cgroup.procs"))
		return -ENAMETOOLONG;
	if (access(probe, W_OK) < 0)
		return -errno;
	out->kind = kind;
	return 0;
}

int cgroup_detect(enum cgroup_kind want, struct cgroup_root *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = CGROUP_NONE;
	if (want == CGROUP_NONE)
		return 0;
	if (want != CGROUP_AUTO)
		return try_kind(want, out) < 0 ? -ENOTSUP : 0;
	if (try_kind(CGROUP_V2, out) == 0 || try_kind(CGROUP_V1, out) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->kind = CGROUP_NONE;
	return 0;
}

int cgroup_create(const struct cgroup_root *root, const char *rel, char *path, size_t len)
{
	if (root->kind == CGROUP_NONE)
		return -ENOTSUP;
	if (snprintf(path, len, "%s/%s", root->path, rel) >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0)
		return -errno;
	return 0;
}

int cgroup_procs_open(const char *path)
{
	char p[PATH_MAX];
	int fd;

	if (!join(p, path, "cgroup.procs"))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgroup_dir_open(enum cgroup_kind kind, const char *path)
{
	int fd;

	if (kind != CGROUP_V2 || !path || !*path)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char p[PATH_MAX];
	_cleanup_close_ int fd = -1;

	if (!join(p, dir, name))
		return -ENAMETOOLONG;
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fs_write_full(fd, val, strlen(val));
}

/* Reads dir/name and tells whether it contains want. */
static int file_has(const char *dir, const char *name, const char *want)
{
	char p[PATH_MAX];
	_cleanup_free_ char *s = NULL;
	int r;

	if (!join(p, dir, name))
		return -ENAMETOOLONG;
	r = fs_read_all(p, 1 << 16, &s, NULL);
	if (r < 0)
		return r;
	return strstr(s, want) != NULL;
}

static void pause_briefly(void)
{
	struct timespec ts = { 0, 200 * 1000 };

	nanosleep(&ts, NULL);
}

int cgroup_freeze(enum cgroup_kind kind, const char *path, bool frozen)
{
	const char *file = kind == CGROUP_V2 ? "cgroup.freeze" : "freezer.state";
	const char *val = kind == CGROUP_V2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
	const char *efile = kind == CGROUP_V2 ? "cgroup.events" : "freezer.state";
	const char *want = kind == CGROUP_V2 ? (frozen ? "frozen 1" : "frozen 0") : val;
	int64_t deadline = time_mono_ns() + WAIT_NS;
	int r;

	if (kind != CGROUP_V2 && kind != CGROUP_V1)
		return -ENOTSUP;
	r = write_file(path, file, val);
	if (r < 0)
		return r;
	while ((r = file_has(path, efile, want)) == 0) {
		if (time_mono_ns() > deadline)
			return -ETIMEDOUT;
		/* v1: a half-done freeze stays FREEZING until asked again. */
		if (kind == CGROUP_V1 && frozen)
			write_file(path, file, val);
		pause_briefly();
	}
	return r < 0 ? r : 0;
}

int cgroup_pids(const char *path, pid_t **pids, size_t *n)
{
	char p[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;
	pid_t *v = NULL, *nv;
	size_t cap = 0, cnt = 0;
	int pid;

	if (!join(p, path, "cgroup.procs"))
		return -ENAMETOOLONG;
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%d", &pid) == 1) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = pid;
	}
	*pids = v;
	*n = cnt;
	return 0;
}

/* Calls fn(path, ud) for path and every cgroup below it, parents first. */
static int walk(const char *path, int (*fn)(const char *, void *), void *ud)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	char sub[PATH_MAX];
	int r;

	r = fn(path, ud);
	if (r != 0)
		return r;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub))
			continue;
		r = walk(sub, fn, ud);
		if (r != 0)
			return r;
	}
	return 0;
}

static int has_procs(const char *path, void *ud)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = cgroup_pids(path, &pids, &n);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return n > 0;
}

int cgroup_populated(const char *path)
{
	return walk(path, has_procs, NULL);
}

static int kill_procs(const char *path, void *ud)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, i;
	int *count = ud;

	if (cgroup_pids(path, &pids, &n) < 0)
		return 0;
	/* The subtree is frozen: these pids cannot exit and be reused under us. */
	for (i = 0; i < n; i++)
		if (kill(pids[i], SIGKILL) == 0)
			(*count)++;
	return 0;
}

int cgroup_kill(enum cgroup_kind kind, const char *path)
{
	int64_t deadline = time_mono_ns() + WAIT_NS;
	int count = 0, r;

	if (kind == CGROUP_V2 && file_exists(path, "cgroup.kill")) {
		r = write_file(path, "cgroup.kill", "1");
		if (r < 0)
			return r;
	} else {
		r = cgroup_freeze(kind, path, true);
		if (r < 0)
			return r;
		walk(path, kill_procs, &count);
		r = cgroup_freeze(kind, path, false);
		if (r < 0)
			return r;
	}
	while ((r = cgroup_populated(path)) > 0) {
		if (time_mono_ns() > deadline)
			return -ETIMEDOUT;
		pause_briefly();
	}
	return r < 0 ? r : count;
}

/* nftw has no user data; the removal report goes through these (nftw is not reentrant
 * either, and the harness removes cgroups from one thread). */
static __thread void (*rm_report)(void *, const char *);
static __thread void *rm_ud;
static __thread int rm_err;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	int tries;

	if (flag != FTW_DP)
		return 0;
	for (tries = 0; rmdir(p) < 0; tries++) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || tries > 1000) {
			rm_err = -errno;
			return 0;
		}
		pause_briefly();
	}
	if (rm_report)
		rm_report(rm_ud, p);
	return 0;
}

int cgroup_remove_tree(const char *path, void (*report)(void *ud, const char *path), void *ud)
{
	rm_report = report;
	rm_ud = ud;
	rm_err = 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -errno;
	return rm_err;
}
