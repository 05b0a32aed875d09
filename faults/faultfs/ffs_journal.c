/* The namespace journal: which creates, renames and removals are durable, and how to undo
 * the rest at a power cut (see ffs_journal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/faultfs/ffs_journal.h"

struct ffs_journal {
	struct ffs_ns_op *v;
	size_t n, cap;
	size_t committed;      /* v[0..committed) are durable, awaiting drop */
	const char **names;    /* scratch for commit/trash lists */
	struct ffs_undo *plan; /* scratch for undo_plan */
};

struct ffs_journal *ffs_journal_new(void)
{
	return calloc(1, sizeof(struct ffs_journal));
}

static void op_release(struct ffs_ns_op *op)
{
	free(op->path);
	free(op->path2);
	free(op->trash);
}

void ffs_journal_clear(struct ffs_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		op_release(&j->v[i]);
	j->n = j->committed = 0;
}

void ffs_journal_free(struct ffs_journal *j)
{
	if (!j)
		return;
	ffs_journal_clear(j);
	free(j->v);
	free(j->names);
	free(j->plan);
	free(j);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

int ffs_journal_add(struct ffs_journal *j, enum ffs_ns_kind kind, const char *path,
		    const char *path2, const char *trash)
{
	struct ffs_ns_op op = { .kind = kind };
	bool oom = false;

	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 16;
		struct ffs_ns_op *v = realloc(j->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		j->v = v;
		j->cap = cap;
	}
	op.path = dup_or_null(path, &oom);
	op.path2 = dup_or_null(path2, &oom);
	op.trash = dup_or_null(trash, &oom);
	if (oom) {
		op_release(&op);
		return -ENOMEM;
	}
	j->v[j->n++] = op;
	return 0;
}

void ffs_parent_dir(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n == 0) {
		snprintf(buf, len, "/");
		return;
	}
	snprintf(buf, len, "%.*s", (int)n, path);
}

static bool touches(const struct ffs_ns_op *op, const char *dir)
{
	char parent[4096];

	ffs_parent_dir(op->path, parent, sizeof(parent));
	if (strcmp(parent, dir) == 0)
		return true;
	if (!op->path2)
		return false;
	ffs_parent_dir(op->path2, parent, sizeof(parent));
	return strcmp(parent, dir) == 0;
}

static const char **names_buf(struct ffs_journal *j)
{
	const char **v = realloc(j->names, (j->n + 1) * sizeof(*v));

	if (v)
		j->names = v;
	return v;
}

size_t ffs_journal_commit(struct ffs_journal *j, const char *dir, const char ***purge,
			  size_t *npurge)
{
	size_t last = j->committed, n = 0;

	for (size_t i = j->committed; i < j->n; i++)
		if (touches(&j->v[i], dir))
			last = i + 1;
	*purge = names_buf(j);
	*npurge = 0;
	if (!*purge)
		return 0; /* nothing committed: the caller's fsync still succeeds, a cut undoes more */
	for (size_t i = j->committed; i < last; i++) {
		if (j->v[i].trash)
			(*purge)[n++] = j->v[i].trash;
	}
	*npurge = n;
	n = last - j->committed;
	j->committed = last;
	return n;
}

void ffs_journal_drop_committed(struct ffs_journal *j)
{
	size_t c = j->committed;

	for (size_t i = 0; i < c; i++)
		op_release(&j->v[i]);
	memmove(j->v, j->v + c, (j->n - c) * sizeof(*j->v));
	j->n -= c;
	j->committed = 0;
}

static size_t undo_op(const struct ffs_ns_op *op, struct ffs_undo *out)
{
	switch (op->kind) {
	case FFS_NS_CREATE:
		out[0] = (struct ffs_undo){ FFS_UNDO_UNLINK, op->path, NULL };
		return 1;
	case FFS_NS_MKDIR:
		out[0] = (struct ffs_undo){ FFS_UNDO_RMDIR, op->path, NULL };
		return 1;
	case FFS_NS_REMOVE:
		out[0] = (struct ffs_undo){ FFS_UNDO_FROM_TRASH, op->trash, op->path };
		return 1;
	case FFS_NS_RENAME:
		out[0] = (struct ffs_undo){ FFS_UNDO_RENAME, op->path2, op->path };
		if (!op->trash)
			return 1;
		out[1] = (struct ffs_undo){ FFS_UNDO_FROM_TRASH, op->trash, op->path2 };
		return 2;
	case FFS_NS_EXCHANGE:
		out[0] = (struct ffs_undo){ FFS_UNDO_EXCHANGE, op->path, op->path2 };
		return 1;
	}
	return 0;
}

int ffs_journal_undo_plan(struct ffs_journal *j, const struct ffs_undo **steps, size_t *n)
{
	struct ffs_undo *plan = realloc(j->plan, (2 * j->n + 1) * sizeof(*plan));
	size_t k = 0;

	if (!plan)
		return -ENOMEM;
	j->plan = plan;
	for (size_t i = j->n; i-- > j->committed;)
		k += undo_op(&j->v[i], plan + k);
	*steps = plan;
	*n = k;
	return 0;
}

size_t ffs_journal_trash(struct ffs_journal *j, const char ***names)
{
	const char **v = names_buf(j);
	size_t n = 0;

	*names = v;
	if (!v)
		return 0;
	for (size_t i = 0; i < j->n; i++)
		if (j->v[i].trash)
			v[n++] = j->v[i].trash;
	return n;
}

size_t ffs_journal_pending(const struct ffs_journal *j)
{
	return j->n - j->committed;
}
