/* The volatile cache: dirty sectors per file over the backing file, and what fsync and a
 * power cut do with them (see ffs_cache.h for the model). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "faults/faultfs/ffs_cache.h"
#include "faults/faultfs/ffs_rand.h"

struct sec {
	uint64_t idx;
	bool lost; /* a failed fsync lost it: readable, never written */
	unsigned char d[FFS_SECTOR];
};

/* Invariants: floor <= durable, floor <= size; backing bytes at or past floor read as
 * zeros (a truncate cut them); bytes of a dirty sector past size are zero. */
struct ffs_file {
	struct ffs_key key;
	int fd;     /* owned dup of a writable backing fd */
	char *name; /* owned */
	uint64_t size, floor, durable;
	struct sec **s; /* sorted by idx; owned, each: an insert moves pointers, not sectors */
	size_t n, cap;
};

struct ffs_cache {
	struct ffs_file **v; /* sorted by key: found by binary search */
	size_t n, cap;
};

struct ffs_cache *ffs_cache_new(void)
{
	return calloc(1, sizeof(struct ffs_cache));
}

/* Frees sectors [from, f->n) and drops them. */
static void sec_drop(struct ffs_file *f, size_t from)
{
	for (size_t k = from; k < f->n; k++)
		free(f->s[k]);
	f->n = from < f->n ? from : f->n;
}

static void file_free(struct ffs_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	sec_drop(f, 0);
	free(f->name);
	free(f->s);
	free(f);
}

static void file_remove(struct ffs_cache *c, size_t i)
{
	file_free(c->v[i]);
	memmove(&c->v[i], &c->v[i + 1], (--c->n - i) * sizeof(*c->v));
}

void ffs_cache_free(struct ffs_cache *c)
{
	if (!c)
		return;
	while (c->n)
		file_remove(c, c->n - 1);
	free(c->v);
	free(c);
}

static int key_cmp(struct ffs_key a, struct ffs_key b)
{
	if (a.dev != b.dev)
		return a.dev < b.dev ? -1 : 1;
	return a.ino < b.ino ? -1 : a.ino > b.ino;
}

/* The first position whose key >= key. */
static size_t file_lower(const struct ffs_cache *c, struct ffs_key key)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(c->v[mid]->key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static ssize_t file_find(const struct ffs_cache *c, struct ffs_key key)
{
	size_t i = file_lower(c, key);

	return i < c->n && key_cmp(c->v[i]->key, key) == 0 ? (ssize_t)i : -1;
}

static int file_get(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
		    struct ffs_file **out)
{
	ssize_t i = file_find(c, key);
	struct ffs_file *f;
	struct stat st;

	if (i >= 0) {
		*out = c->v[i];
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct ffs_file **v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->key = key;
	f->name = strdup(name ? name : "?");
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (!f->name || f->fd < 0) {
		int r = f->fd < 0 ? -errno : -ENOMEM;

		file_free(f);
		return r;
	}
	f->size = f->floor = f->durable = (uint64_t)st.st_size;
	i = (ssize_t)file_lower(c, key);
	memmove(&c->v[i + 1], &c->v[i], (c->n++ - (size_t)i) * sizeof(*c->v));
	c->v[i] = f;
	*out = f;
	return 0;
}

/* The first position whose idx >= idx. */
static size_t sec_lower(const struct ffs_file *f, uint64_t idx)
{
	size_t lo = 0, hi = f->n;

	/* Past the last one: the common case, as the kernel writes pages back in order (and a
	 * search touches a sector per step). */
	if (hi == 0 || f->s[hi - 1]->idx < idx)
		return hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->s[mid]->idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The backing file's bytes as the cache sees them, without dirty sectors: zero past floor
 * and past the backing file's end. */
static int view_backing(const struct ffs_file *f, int fd, unsigned char *buf, size_t len,
			uint64_t off)
{
	size_t want = off >= f->floor ? 0 : (size_t)(f->floor - off < len ? f->floor - off : len);
	size_t got = 0;

	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	memset(buf + got, 0, len - got);
	return 0;
}

/* Grows f->s to hold n more sectors. */
static int sec_reserve(struct ffs_file *f, size_t more)
{
	size_t cap = f->cap ? f->cap : 16;
	struct sec **s;

	if (f->n + more <= f->cap)
		return 0;
	while (cap < f->n + more)
		cap *= 2;
	s = realloc(f->s, cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	f->s = s;
	f->cap = cap;
	return 0;
}

/* Makes the sectors of [off, off + len) present and dense from *pos on, for a write of
 * that range. A new sector the write covers only in part starts as the file's current
 * view (only the two ends can be, so only they are read); the others are left for the
 * write to fill. The new ones are made before the array changes: on a failure it is as
 * it was. */
static int ensure_range(struct ffs_file *f, uint64_t off, size_t len, size_t *pos)
{
	uint64_t s0 = off / FFS_SECTOR, s1 = (off + len - 1) / FFS_SECTOR;
	bool part0 = off % FFS_SECTOR, part1 = (off + len) % FFS_SECTOR;
	size_t lo = sec_lower(f, s0), hi = sec_lower(f, s1 + 1);
	size_t have = hi - lo, need = (size_t)(s1 - s0 + 1), add = need - have, nf = 0;
	_cleanup_free_ struct sec **fresh = NULL;
	int r = 0;

	*pos = lo;
	if (!add)
		return 0;
	if (sec_reserve(f, add) < 0 || !(fresh = calloc(add, sizeof(*fresh))))
		return -ENOMEM;
	for (uint64_t idx = s0, k = lo; idx <= s1 && r == 0; idx++) {
		struct sec *s;

		if (k < hi && f->s[k]->idx == idx) {
			k++;
			continue;
		}
		s = fresh[nf++] = malloc(sizeof(*s));
		if (!s) {
			r = -ENOMEM;
			break;
		}
		s->idx = idx;
		s->lost = false;
		if ((idx == s0 && part0) || (idx == s1 && part1))
			r = view_backing(f, f->fd, s->d, FFS_SECTOR, idx * FFS_SECTOR);
	}
	if (r < 0) {
		while (nf)
			free(fresh[--nf]);
		return r;
	}
	/* Merged from the back: every move of an old one goes right. */
	memmove(&f->s[hi + add], &f->s[hi], (f->n - hi) * sizeof(*f->s));
	for (size_t k = need; k-- > 0;)
		f->s[lo + k] = have && f->s[lo + have - 1]->idx == s0 + k ? f->s[lo + --have] :
									      fresh[--nf];
	f->n += add;
	return 0;
}

ssize_t ffs_cache_write(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
			const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;
	struct ffs_file *f;
	size_t pos;
	int r;

	if (len == 0)
		return 0;
	if (off + len < off)
		return -EFBIG;
	r = file_get(c, key, fd, name, &f);
	if (r >= 0)
		r = ensure_range(f, off, len, &pos);
	if (r < 0)
		return r;
	for (uint64_t at = off; at < off + len; pos++) {
		struct sec *s = f->s[pos];
		size_t in = (size_t)(at % FFS_SECTOR);
		size_t n = FFS_SECTOR - in;

		if (n > off + len - at)
			n = (size_t)(off + len - at);
		memcpy(s->d + in, p + (at - off), n);
		s->lost = false; /* new data: dirty again */
		at += n;
	}
	if (off + len > f->size)
		f->size = off + len;
	return (ssize_t)len;
}

int ffs_cache_truncate(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
		       uint64_t size)
{
	struct ffs_file *f;
	size_t keep;
	int r = file_get(c, key, fd, name, &f);

	if (r < 0)
		return r;
	if (size < f->size) {
		keep = sec_lower(f, (size + FFS_SECTOR - 1) / FFS_SECTOR);
		sec_drop(f, keep);
		/* The tail of the last sector must read as zeros if the file grows again. */
		if (size % FFS_SECTOR && keep && f->s[keep - 1]->idx == size / FFS_SECTOR)
			memset(f->s[keep - 1]->d + size % FFS_SECTOR, 0,
			       FFS_SECTOR - size % FFS_SECTOR);
	}
	if (size < f->floor)
		f->floor = size;
	f->size = size;
	return 0;
}

ssize_t ffs_cache_read(struct ffs_cache *c, struct ffs_key key, int fd, void *buf, size_t len,
		       uint64_t off)
{
	ssize_t i = file_find(c, key);
	unsigned char *p = buf;
	struct ffs_file *f;
	size_t n;
	int r;

	if (i < 0) {
		ssize_t got;

		while ((got = pread(fd, buf, len, (off_t)off)) < 0 && errno == EINTR)
			;
		return got < 0 ? -errno : got;
	}
	f = c->v[i];
	if (off >= f->size)
		return 0;
	n = f->size - off < len ? (size_t)(f->size - off) : len;
	r = view_backing(f, fd, p, n, off);
	if (r < 0)
		return r;
	for (size_t k = sec_lower(f, off / FFS_SECTOR); k < f->n; k++) {
		const struct sec *s = f->s[k];
		uint64_t b = s->idx * FFS_SECTOR, lo = b > off ? b : off;
		uint64_t hi = b + FFS_SECTOR < off + n ? b + FFS_SECTOR : off + n;

		if (lo >= off + n)
			break;
		memcpy(p + (lo - off), s->d + (lo - b), (size_t)(hi - lo));
	}
	return (ssize_t)n;
}

int ffs_cache_size(const struct ffs_cache *c, struct ffs_key key, uint64_t *size)
{
	ssize_t i = file_find(c, key);

	if (i < 0)
		return 0;
	*size = c->v[i]->size;
	return 1;
}

/* Writes sector s of f to the backing file, up to the file's size. */
static int sec_write(const struct ffs_file *f, const struct sec *s)
{
	uint64_t b = s->idx * FFS_SECTOR;
	size_t n = f->size - b < FFS_SECTOR ? (size_t)(f->size - b) : FFS_SECTOR;

	if (b >= f->size)
		return 0;
	for (size_t done = 0; done < n;) {
		ssize_t w = pwrite(f->fd, s->d + done, n - done, (off_t)(b + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	return 0;
}

static int file_sync(struct ffs_file *f, bool datasync)
{
	size_t lost = 0;
	struct stat st;
	int r;

	if (f->floor < f->durable && ftruncate(f->fd, (off_t)f->floor) < 0)
		return -errno;
	for (size_t k = 0; k < f->n; k++) {
		if (f->s[k]->lost)
			continue;
		r = sec_write(f, f->s[k]);
		if (r < 0)
			return r;
	}
	if (fstat(f->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != f->size && ftruncate(f->fd, (off_t)f->size) < 0)
		return -errno;
	if ((datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0)
		return -errno;
	/* Only the sectors a failed fsync lost stay (readable, never written). */
	for (size_t k = 0; k < f->n; k++) {
		if (f->s[k]->lost)
			f->s[lost++] = f->s[k];
		else
			free(f->s[k]);
	}
	f->n = lost;
	f->floor = f->durable = f->size;
	return 0;
}

int ffs_cache_sync(struct ffs_cache *c, struct ffs_key key, bool datasync)
{
	ssize_t i = file_find(c, key);
	int r;

	if (i < 0)
		return 0;
	r = file_sync(c->v[i], datasync);
	if (r == 0 && c->v[i]->n == 0)
		file_remove(c, (size_t)i);
	return r;
}

uint64_t ffs_cache_fail_sync(struct ffs_cache *c, struct ffs_key key)
{
	ssize_t i = file_find(c, key);
	uint64_t n = 0;

	if (i < 0)
		return 0;
	for (size_t k = 0; k < c->v[i]->n; k++) {
		n += !c->v[i]->s[k]->lost;
		c->v[i]->s[k]->lost = true;
	}
	return n;
}

int ffs_cache_sync_all(struct ffs_cache *c)
{
	int first = 0;

	for (size_t i = c->n; i-- > 0;) {
		int r = ffs_cache_sync(c, c->v[i]->key, false);

		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}

bool ffs_cut_keeps(uint64_t seed, const char *name, uint64_t idx)
{
	return ffs_draw(seed, ffs_hash_str(name), idx) & 1;
}

static int file_cut(struct ffs_file *f, enum ffs_keep keep, uint64_t seed, struct ffs_cut_file *out,
		    uint64_t *kept_idx)
{
	int first = 0;

	*out = (struct ffs_cut_file){ .name = f->name, .kept_idx = kept_idx };
	for (size_t k = 0; k < f->n; k++) {
		const struct sec *s = f->s[k];
		int r;

		if (keep != FFS_KEEP_RANDOM_SECTORS || s->lost || s->idx * FFS_SECTOR >= f->size ||
		    !ffs_cut_keeps(seed, f->name, s->idx)) {
			out->dropped++;
			continue;
		}
		r = sec_write(f, s);
		if (r < 0 && first == 0)
			first = r;
		kept_idx[out->kept++] = s->idx;
	}
	return first;
}

int ffs_cache_cut(struct ffs_cache *c, enum ffs_keep keep, uint64_t seed, ffs_cut_report_fn report,
		  void *ctx, uint64_t *dropped, uint64_t *kept)
{
	int first = 0;

	*dropped = *kept = 0;
	while (c->n) {
		struct ffs_file *f = c->v[c->n - 1];
		uint64_t *idx = calloc(f->n ? f->n : 1, sizeof(*idx));
		struct ffs_cut_file out;
		int r = idx ? file_cut(f, keep, seed, &out, idx) : -ENOMEM;

		if (r < 0 && first == 0)
			first = r;
		if (idx && report)
			report(ctx, &out);
		if (idx) {
			*dropped += out.dropped;
			*kept += out.kept;
		}
		free(idx);
		file_remove(c, c->n - 1);
	}
	return first;
}

void ffs_cache_counts(const struct ffs_cache *c, uint64_t *files, uint64_t *sectors)
{
	*files = c->n;
	*sectors = 0;
	for (size_t i = 0; i < c->n; i++)
		*sectors += c->v[i]->n;
}
