/* The state of one faultfs mount: the backing directory, the trash, the event log, and the
 * namespace changes of volatile mode (moved to trash, undone at a power cut). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "faults/faultfs/faultfs.h"

#define EVENT_CAP 1000

const char *faultfs_rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

bool faultfs_hidden(const char *path)
{
	size_t n = strlen("/" FAULTFS_TRASH);

	return path && strncmp(path, "/" FAULTFS_TRASH, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

static void event_v(struct faultfs *fs, const char *name, const char *path, const char *fields,
		    va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	if (!fs->opts.events)
		return;
	strbuf_appendf(&sb, "{\"mono_ns\":%" PRId64 ",\"event\":\"%s\"", time_mono_ns(), name);
	if (path) {
		strbuf_append(&sb, ",\"path\":");
		strbuf_append_json_string(&sb, path);
	}
	if (fields) {
		char buf[1024];

		vsnprintf(buf, sizeof(buf), fields, ap);
		strbuf_appendf(&sb, ",%s", buf);
	}
	strbuf_append(&sb, "}\n");
	if (!strbuf_failed(&sb)) {
		fputs(sb.buf, fs->opts.events);
		fflush(fs->opts.events);
	}
	strbuf_release(&sb);
}

void faultfs_event(struct faultfs *fs, const char *name, const char *path, const char *fields, ...)
{
	va_list ap;

	va_start(ap, fields);
	event_v(fs, name, path, fields, ap);
	va_end(ap);
}

void faultfs_event_capped(struct faultfs *fs, const char *name, const char *path,
			  const char *fields, ...)
{
	va_list ap;

	if (fs->capped_events++ == EVENT_CAP)
		faultfs_event(fs, "events-capped", NULL, "\"after\":%d", EVENT_CAP);
	if (fs->capped_events > EVENT_CAP)
		return;
	va_start(ap, fields);
	event_v(fs, name, path, fields, ap);
	va_end(ap);
}

/* Removes name under dirfd, recursively. */
static int rm_rf_at(int at, const char *name)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if ((r = fs_opendirat(at, name, O_NOFOLLOW, &d)) < 0)
		return r;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rm_rf_at(dirfd(d), e->d_name);
	return unlinkat(at, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int trash_open(struct faultfs *fs)
{
	int r = rm_rf_at(fs->backing_fd, FAULTFS_TRASH);

	if (r < 0)
		return r;
	if (mkdirat(fs->backing_fd, FAULTFS_TRASH, 0700) < 0)
		return -errno;
	fs->trash_fd = openat(fs->backing_fd, FAULTFS_TRASH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fs->trash_fd < 0 ? -errno : 0;
}

int faultfs_new(const struct faultfs_opts *opts, struct faultfs **out)
{
	struct faultfs *fs = calloc(1, sizeof(*fs));
	int r;

	if (!fs)
		return -ENOMEM;
	fs->opts = *opts;
	fs->trash_fd = fs->ctl_fd = fs->ctl_stop[0] = fs->ctl_stop[1] = -1;
	pthread_mutex_init(&fs->lock, NULL);
	fs->cache = ffs_cache_new();
	fs->journal = ffs_journal_new();
	fs->keeps = ffs_keeps_new();
	fs->backing_fd = open(opts->backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->backing_fd < 0)
		r = -errno;
	else
		r = fs->cache && fs->journal && fs->keeps ? trash_open(fs) : -ENOMEM;
	if (r < 0) {
		faultfs_free(fs);
		return r;
	}
	*out = fs;
	return 0;
}

void faultfs_free(struct faultfs *fs)
{
	if (!fs)
		return;
	ffs_cache_free(fs->cache);
	ffs_journal_free(fs->journal);
	ffs_keeps_free(fs->keeps);
	ffs_rules_release(&fs->rules);
	if (fs->trash_fd >= 0) {
		close(fs->trash_fd);
		rm_rf_at(fs->backing_fd, FAULTFS_TRASH);
	}
	if (fs->backing_fd >= 0)
		close(fs->backing_fd);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

static int dir_empty(int dirfd, const char *rel)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r = fs_opendirat(dirfd, rel, O_NOFOLLOW, &d);

	while (r == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = -ENOTEMPTY;
	return r;
}

/* Moves rel to a new trash entry, named in name. */
static int to_trash(struct faultfs *fs, const char *rel, char *name, size_t len)
{
	snprintf(name, len, "t%" PRIu64, ++fs->trash_seq);
	return renameat(fs->backing_fd, rel, fs->trash_fd, name) < 0 ? -errno : 0;
}

int faultfs_ns_remove(struct faultfs *fs, const char *path, bool dir)
{
	const char *rel = faultfs_rel(path);
	char name[32];
	struct stat st;
	int r;

	if (fstatat(fs->backing_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (dir != !!S_ISDIR(st.st_mode))
		return dir ? -ENOTDIR : -EISDIR;
	if (dir && (r = dir_empty(fs->backing_fd, rel)) < 0)
		return r;
	r = to_trash(fs, rel, name, sizeof(name));
	if (r < 0)
		return r;
	return ffs_journal_add(fs->journal, FFS_NS_REMOVE, path, NULL, name);
}

/* A rename over an existing entry: the entry goes to trash first, so an undo can restore
 * it. The same checks rename(2) does, as the kernel will not see the replacement. */
static int rename_replace(struct faultfs *fs, const char *from, const char *to,
			  const struct stat *dst)
{
	const char *rf = faultfs_rel(from), *rt = faultfs_rel(to);
	char name[32];
	struct stat src;
	int r;

	if (fstatat(fs->backing_fd, rf, &src, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (src.st_ino == dst->st_ino && src.st_dev == dst->st_dev)
		return 0;
	if (S_ISDIR(src.st_mode) != S_ISDIR(dst->st_mode))
		return S_ISDIR(src.st_mode) ? -ENOTDIR : -EISDIR;
	if (S_ISDIR(dst->st_mode) && (r = dir_empty(fs->backing_fd, rt)) < 0)
		return r;
	r = to_trash(fs, rt, name, sizeof(name));
	if (r < 0)
		return r;
	if (renameat(fs->backing_fd, rf, fs->backing_fd, rt) < 0) {
		r = -errno;
		renameat(fs->trash_fd, name, fs->backing_fd, rt);
		return r;
	}
	return ffs_journal_add(fs->journal, FFS_NS_RENAME, from, to, name);
}

int faultfs_ns_rename(struct faultfs *fs, const char *from, const char *to, unsigned flags)
{
	const char *rf = faultfs_rel(from), *rt = faultfs_rel(to);
	struct stat dst;

	if (flags & RENAME_EXCHANGE) {
		if (renameat2(fs->backing_fd, rf, fs->backing_fd, rt, RENAME_EXCHANGE) < 0)
			return -errno;
		return ffs_journal_add(fs->journal, FFS_NS_EXCHANGE, from, to, NULL);
	}
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;
	if (fstatat(fs->backing_fd, rt, &dst, AT_SYMLINK_NOFOLLOW) == 0) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		return rename_replace(fs, from, to, &dst);
	}
	if (renameat2(fs->backing_fd, rf, fs->backing_fd, rt, RENAME_NOREPLACE) < 0)
		return -errno;
	return ffs_journal_add(fs->journal, FFS_NS_RENAME, from, to, NULL);
}

int faultfs_ns_fsyncdir(struct faultfs *fs, const char *path)
{
	const char **purge;
	size_t n, np;
	int fd;

	n = ffs_journal_commit(fs->journal, path, &purge, &np);
	for (size_t i = 0; i < np; i++)
		rm_rf_at(fs->trash_fd, purge[i]);
	ffs_journal_drop_committed(fs->journal);
	fs->stats.ns_committed += n;
	if (n)
		faultfs_event(fs, "dir-synced", path, "\"committed\":%zu", n);
	fd = openat(fs->backing_fd, faultfs_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = fsync(fd) < 0 ? (size_t)errno : 0;
	close(fd);
	return -(int)n;
}

/* Undoes one step of a power cut's plan. */
static int undo_step(struct faultfs *fs, const struct ffs_undo *u)
{
	int b = fs->backing_fd, r = 0;

	switch (u->kind) {
	case FFS_UNDO_UNLINK:
		r = unlinkat(b, faultfs_rel(u->a), 0);
		break;
	case FFS_UNDO_RMDIR:
		return rm_rf_at(b, faultfs_rel(u->a));
	case FFS_UNDO_RENAME:
		r = renameat(b, faultfs_rel(u->a), b, faultfs_rel(u->b));
		break;
	case FFS_UNDO_EXCHANGE:
		r = renameat2(b, faultfs_rel(u->a), b, faultfs_rel(u->b), RENAME_EXCHANGE);
		break;
	case FFS_UNDO_FROM_TRASH:
		r = renameat(fs->trash_fd, u->a, b, faultfs_rel(u->b));
		break;
	}
	return r < 0 ? -errno : 0;
}

static const char *const undo_names[] = {
	[FFS_UNDO_UNLINK] = "unlink",	   [FFS_UNDO_RMDIR] = "rmdir",
	[FFS_UNDO_RENAME] = "rename",	   [FFS_UNDO_EXCHANGE] = "exchange",
	[FFS_UNDO_FROM_TRASH] = "restore",
};

/* The namespace half of a power cut: every change not made durable is undone. */
int faultfs_ns_cut(struct faultfs *fs, uint64_t *undone)
{
	const struct ffs_undo *steps;
	size_t n;
	int first = 0, r;

	*undone = 0;
	r = ffs_journal_undo_plan(fs->journal, &steps, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = undo_step(fs, &steps[i]);
		faultfs_event(fs, "ns-undone",
			      steps[i].kind == FFS_UNDO_FROM_TRASH ? steps[i].b : steps[i].a,
			      "\"undo\":\"%s\",\"errno\":%d", undo_names[steps[i].kind], -r);
		if (r < 0 && !first)
			first = r;
		*undone += r == 0;
	}
	ffs_journal_clear(fs->journal);
	return first;
}

int faultfs_shutdown(struct faultfs *fs)
{
	const char **names;
	size_t n;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	if (fs->opts.drop_on_exit) {
		uint64_t d, k, u;

		r = ffs_cache_cut(fs->cache, FFS_KEEP_NONE, 0, NULL, NULL, &d, &k);
		faultfs_ns_cut(fs, &u);
		faultfs_event(fs, "stopped", NULL,
			      "\"dropped_sectors\":%" PRIu64 ",\"undone\":%" PRIu64, d, u);
	} else {
		r = ffs_cache_sync_all(fs->cache);
		n = ffs_journal_trash(fs->journal, &names);
		for (size_t i = 0; i < n; i++)
			rm_rf_at(fs->trash_fd, names[i]);
		ffs_journal_clear(fs->journal);
		faultfs_event(fs, "stopped", NULL, "\"flushed\":%s", r < 0 ? "false" : "true");
	}
	pthread_mutex_unlock(&fs->lock);
	return r;
}
