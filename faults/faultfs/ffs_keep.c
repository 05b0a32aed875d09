/* Which files' cached pages the kernel may keep at open (see ffs_keep.h): a hash table of
 * the files closed since the last bump, by backing inode, with their backing file's
 * ctime and size at that close. A bump empties it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "faults/faultfs/ffs_keep.h"

struct stamp {
	struct ffs_key key;
	int64_t ctime_sec, ctime_nsec;
	uint64_t size;
	bool used;
};

struct ffs_keeps {
	uint64_t gen;
	struct stamp *v; /* open addressing, linear probing; cap a power of two or 0 */
	size_t n, cap;
};

struct ffs_keeps *ffs_keeps_new(void)
{
	return calloc(1, sizeof(struct ffs_keeps));
}

void ffs_keeps_free(struct ffs_keeps *k)
{
	if (!k)
		return;
	free(k->v);
	free(k);
}

uint64_t ffs_keeps_gen(const struct ffs_keeps *k)
{
	return k->gen;
}

void ffs_keeps_bump(struct ffs_keeps *k)
{
	k->gen++;
	free(k->v);
	k->v = NULL;
	k->n = k->cap = 0;
}

uint64_t ffs_keeps_count(const struct ffs_keeps *k)
{
	return k->n;
}

static size_t slot_of(const struct stamp *v, size_t cap, struct ffs_key key)
{
	size_t i = (size_t)rng_mix(key.ino ^ rng_mix(key.dev)) & (cap - 1);

	while (v[i].used && (v[i].key.dev != key.dev || v[i].key.ino != key.ino))
		i = (i + 1) & (cap - 1);
	return i;
}

static struct stamp stamp_of(struct ffs_key key, const struct stat *st)
{
	return (struct stamp){ .key = key,
			       .ctime_sec = st->st_ctim.tv_sec,
			       .ctime_nsec = st->st_ctim.tv_nsec,
			       .size = (uint64_t)st->st_size,
			       .used = true };
}

bool ffs_keeps_may_keep(const struct ffs_keeps *k, struct ffs_key key, const struct stat *st)
{
	const struct stamp *s;

	if (!k->cap || st->st_nlink != 1 || !S_ISREG(st->st_mode))
		return false;
	s = &k->v[slot_of(k->v, k->cap, key)];
	return s->used && s->ctime_sec == st->st_ctim.tv_sec &&
	       s->ctime_nsec == st->st_ctim.tv_nsec && s->size == (uint64_t)st->st_size;
}

static int grow(struct ffs_keeps *k)
{
	size_t cap = k->cap ? k->cap * 2 : 64;
	struct stamp *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < k->cap; i++)
		if (k->v[i].used)
			v[slot_of(v, cap, k->v[i].key)] = k->v[i];
	free(k->v);
	k->v = v;
	k->cap = cap;
	return 0;
}

int ffs_keeps_closed(struct ffs_keeps *k, struct ffs_key key, uint64_t gen, const struct stat *st)
{
	size_t i;

	if (gen != k->gen)
		return 0; /* opened before a bump: its pages may predate the fault */
	if ((k->n + 1) * 2 > k->cap && grow(k) < 0)
		return -ENOMEM;
	i = slot_of(k->v, k->cap, key);
	k->n += !k->v[i].used;
	k->v[i] = stamp_of(key, st);
	return 0;
}
