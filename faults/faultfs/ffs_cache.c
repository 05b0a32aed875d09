/* The volatile cache: dirty sectors per file over the backing file, and what fsync and a
 * power cut do with them (see ffs_cache.h for the model). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rng.h"
#include "faults/faultfs/ffs_cache.h"

/* Dirty sectors are kept in 4 KiB pages (one allocation and one lookup per page the
 * kernel's writeback cache sends), found through a radix tree by page index: a write,
 * a read or a lookup costs the same however many pages a file holds, and a walk visits
 * them in file order (syncs write in order; a cut reports kept sectors sorted). */
#define PG_SECT 8u /* sectors per page */
#define PG_SIZE (PG_SECT * FFS_SECTOR)
#define R_BITS 6u
#define R_FAN (1u << R_BITS)
#define R_MAX_HEIGHT 9u	     /* R_FAN^9 pages of 4 KiB: past 2^64 bytes */
#define FREE_MAX 65536u	     /* freed pages kept for reuse, at most (256 MiB) */
#define TRIM_NS 1000000000ll /* pages the pool did not need for this long are freed */

struct pg {
	uint8_t have; /* sectors held: bit k is sector (page index * PG_SECT + k) */
	uint8_t lost; /* of those, the ones a failed fsync lost: readable, never written */
	unsigned char d[PG_SIZE]; /* only sectors in have are meaningful */
};

/* A tree node: slots hold nodes one level down, or pages at the bottom level. */
struct rnode {
	void *slot[R_FAN];
	unsigned used;
};

/* Invariants: floor <= durable, floor <= size; backing bytes at or past floor read as
 * zeros (a truncate cut them); bytes of a held sector past size are zero. */
struct ffs_file {
	struct ffs_key key;
	int fd;	    /* owned dup of a writable backing fd */
	char *name; /* owned */
	uint64_t size, floor, durable;
	void *root;	 /* NULL when height is 0, else the top rnode */
	unsigned height; /* the root covers R_FAN^height pages */
	uint64_t n;	 /* sectors held */
};

struct ffs_cache {
	struct ffs_file **v; /* sorted by key: found by binary search */
	size_t n, cap;
	/* Freed pages, chained through their first bytes: reused, as fresh memory costs a
	 * page fault per page under the caller's lock. low is the fewest the pool held since
	 * the last trim: that many were not needed, and the next trim frees them. */
	struct pg *free;
	size_t n_free, low;
	int64_t trim_ns;
};

static unsigned bits(unsigned m)
{
	return (unsigned)__builtin_popcount(m);
}

static struct pg *pg_alloc(struct ffs_cache *c)
{
	struct pg *g = c->free;

	if (g) {
		memcpy(&c->free, g->d, sizeof(c->free));
		c->n_free--;
		c->low = c->n_free < c->low ? c->n_free : c->low;
	} else if (!(g = malloc(sizeof(*g)))) {
		return NULL;
	}
	g->have = g->lost = 0;
	return g;
}

static void pg_free(struct ffs_cache *c, struct pg *g)
{
	if (c->n_free >= FREE_MAX) {
		free(g);
		return;
	}
	memcpy(g->d, &c->free, sizeof(c->free));
	c->free = g;
	c->n_free++;
}

void ffs_cache_trim(struct ffs_cache *c, int64_t now_ns)
{
	if (now_ns - c->trim_ns < TRIM_NS)
		return;
	for (; c->low > 0 && c->free; c->low--) {
		struct pg *g = c->free;

		memcpy(&c->free, g->d, sizeof(c->free));
		free(g);
		c->n_free--;
	}
	c->low = c->n_free;
	c->trim_ns = now_ns;
}

/* The page of index p, or NULL. */
static struct pg *pg_find(const struct ffs_file *f, uint64_t p)
{
	void *n = f->root;

	if (!n || (f->height < R_MAX_HEIGHT + 1 && p >> (R_BITS * f->height)))
		return NULL;
	for (unsigned h = f->height; n && h-- > 0;)
		n = ((struct rnode *)n)->slot[(p >> (R_BITS * h)) & (R_FAN - 1)];
	return n;
}

/* The page of index p, made (holding no sector) if missing. NULL: out of memory (the
 * tree may keep empty nodes: walks free them). */
static struct pg *pg_get(struct ffs_cache *c, struct ffs_file *f, uint64_t p)
{
	struct rnode *n;

	while (!f->root || (f->height < R_MAX_HEIGHT + 1 && p >> (R_BITS * f->height))) {
		struct rnode *r = calloc(1, sizeof(*r));

		if (!r)
			return NULL;
		if (f->root) {
			r->slot[0] = f->root;
			r->used = 1;
		}
		f->root = r;
		f->height++;
	}
	n = f->root;
	for (unsigned h = f->height - 1;; h--) {
		void **s = &n->slot[(p >> (R_BITS * h)) & (R_FAN - 1)];

		if (!*s) {
			*s = h ? (void *)calloc(1, sizeof(struct rnode)) : (void *)pg_alloc(c);
			if (!*s)
				return NULL;
			n->used++;
		}
		if (h == 0)
			return *s;
		n = *s;
	}
}

enum walk_do { W_KEEP, W_FREE, W_STOP };
typedef enum walk_do (*pg_fn)(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g);

/* Calls fn on the pages of n (level h, first page index base) from page index from on,
 * in order; frees pages fn says to and nodes left empty. true: fn said stop. */
static bool walk_node(struct ffs_cache *c, struct ffs_file *f, struct rnode *n, unsigned h,
		      uint64_t base, uint64_t from, pg_fn fn, void *ctx)
{
	uint64_t span = 1ull << (R_BITS * h);
	uint64_t i0 = from > base ? (from - base) / span : 0;
	bool stop = false;

	for (uint64_t i = i0; i < R_FAN && !stop; i++) {
		void *s = n->slot[i];
		enum walk_do a;

		if (!s)
			continue;
		if (h == 0) {
			a = fn(ctx, f, base + i, s);
			stop = a == W_STOP;
			if (a != W_FREE)
				continue;
			pg_free(c, s);
		} else {
			stop = walk_node(c, f, s, h - 1, base + i * span, from, fn, ctx);
			if (((struct rnode *)s)->used)
				continue;
			free(s);
		}
		n->slot[i] = NULL;
		n->used--;
	}
	return stop;
}

static void walk(struct ffs_cache *c, struct ffs_file *f, uint64_t from, pg_fn fn, void *ctx)
{
	struct rnode *r = f->root;

	if (!r)
		return;
	walk_node(c, f, r, f->height - 1, 0, from, fn, ctx);
	if (r->used == 0) {
		free(r);
		f->root = NULL;
		f->height = 0;
	}
}

static enum walk_do drop_all(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	f->n -= bits(g->have);
	return W_FREE;
}

struct ffs_cache *ffs_cache_new(void)
{
	return calloc(1, sizeof(struct ffs_cache));
}

static void file_free(struct ffs_cache *c, struct ffs_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	walk(c, f, 0, drop_all, NULL);
	free(f->name);
	free(f);
}

static void file_remove(struct ffs_cache *c, size_t i)
{
	file_free(c, c->v[i]);
	memmove(&c->v[i], &c->v[i + 1], (--c->n - i) * sizeof(*c->v));
}

void ffs_cache_free(struct ffs_cache *c)
{
	if (!c)
		return;
	while (c->n)
		file_remove(c, c->n - 1);
	while (c->free) {
		struct pg *g = c->free;

		memcpy(&c->free, g->d, sizeof(c->free));
		free(g);
	}
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

		file_free(c, f);
		return r;
	}
	f->size = f->floor = f->durable = (uint64_t)st.st_size;
	i = (ssize_t)file_lower(c, key);
	memmove(&c->v[i + 1], &c->v[i], (c->n++ - (size_t)i) * sizeof(*c->v));
	c->v[i] = f;
	*out = f;
	return 0;
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

/* Sectors k0 .. k1 - 1 of a page, as a mask. */
static uint8_t sect_mask(unsigned k0, unsigned k1)
{
	return (uint8_t)(((1u << k1) - 1) & ~((1u << k0) - 1));
}

/* Sector s, not held yet, starts as the file's current view (for a write that covers it
 * only in part). */
static int fill_sector(struct ffs_file *f, uint64_t s)
{
	struct pg *g = pg_find(f, s / PG_SECT);
	unsigned k = (unsigned)(s % PG_SECT);

	if (g->have & (1u << k))
		return 0;
	return view_backing(f, f->fd, g->d + k * FFS_SECTOR, FFS_SECTOR, s * FFS_SECTOR);
}

struct range {
	uint64_t p0, p1;
};

/* After a failed write: pages of the range that hold nothing go. */
static enum walk_do drop_empty(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	const struct range *r = ctx;

	if (p > r->p1)
		return W_STOP;
	return g->have ? W_KEEP : W_FREE;
}

ssize_t ffs_cache_write(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
			const void *buf, size_t len, uint64_t off)
{
	const unsigned char *src = buf;
	uint64_t end = off + len, s0, s1;
	struct range rg;
	struct ffs_file *f;
	int r;

	if (len == 0)
		return 0;
	if (end < off)
		return -EFBIG;
	r = file_get(c, key, fd, name, &f);
	if (r < 0)
		return r;
	s0 = off / FFS_SECTOR;
	s1 = (end - 1) / FFS_SECTOR;
	rg = (struct range){ s0 / PG_SECT, s1 / PG_SECT };
	/* First every page is made and the sectors written only in part read what they hold
	 * now, out of sight (not in have): on a failure it is as it was. */
	for (uint64_t p = rg.p0; p <= rg.p1 && r == 0; p++)
		if (!pg_get(c, f, p))
			r = -ENOMEM;
	if (r == 0 && (off % FFS_SECTOR || (s0 == s1 && end % FFS_SECTOR)))
		r = fill_sector(f, s0);
	if (r == 0 && s1 != s0 && end % FFS_SECTOR)
		r = fill_sector(f, s1);
	if (r < 0) {
		walk(c, f, rg.p0, drop_empty, &rg);
		return r;
	}
	for (uint64_t at = off; at < end;) {
		struct pg *g = pg_find(f, at / PG_SIZE);
		size_t in = (size_t)(at % PG_SIZE);
		size_t n = PG_SIZE - in < end - at ? PG_SIZE - in : (size_t)(end - at);
		uint8_t m = sect_mask(in / FFS_SECTOR, (in + n - 1) / FFS_SECTOR + 1);

		memcpy(g->d + in, src + (at - off), n);
		f->n += bits(m & ~g->have);
		g->have |= m;
		g->lost &= (uint8_t)~m; /* new data: dirty again */
		at += n;
	}
	if (end > f->size)
		f->size = end;
	return (ssize_t)len;
}

/* Drops the sectors at or past index first. */
static enum walk_do drop_from(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	uint64_t first = *(const uint64_t *)ctx;
	uint8_t gone = p * PG_SECT >= first ? 0xff :
					      sect_mask((unsigned)(first % PG_SECT), PG_SECT);

	f->n -= bits(g->have & gone);
	g->have &= (uint8_t)~gone;
	g->lost &= (uint8_t)~gone;
	return g->have ? W_KEEP : W_FREE;
}

int ffs_cache_truncate(struct ffs_cache *c, struct ffs_key key, int fd, const char *name,
		       uint64_t size)
{
	struct ffs_file *f;
	int r = file_get(c, key, fd, name, &f);

	if (r < 0)
		return r;
	if (size < f->size) {
		uint64_t first = (size + FFS_SECTOR - 1) / FFS_SECTOR, last = size / FFS_SECTOR;
		struct pg *g;

		walk(c, f, first / PG_SECT, drop_from, &first);
		/* The tail of the last sector must read as zeros if the file grows again. */
		g = size % FFS_SECTOR ? pg_find(f, last / PG_SECT) : NULL;
		if (g && g->have & (1u << (last % PG_SECT)))
			memset(g->d + size % PG_SIZE, 0, FFS_SECTOR - size % FFS_SECTOR);
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
	unsigned char *dst = buf;
	struct ffs_file *f;
	uint64_t end;
	size_t n;
	int r;

	if (i < 0) {
		ssize_t got;

		while ((got = pread(fd, buf, len, (off_t)off)) < 0 && errno == EINTR)
			;
		return got < 0 ? -errno : got;
	}
	f = c->v[i];
	if (off >= f->size || len == 0)
		return 0;
	n = f->size - off < len ? (size_t)(f->size - off) : len;
	end = off + n;
	r = view_backing(f, fd, dst, n, off);
	if (r < 0)
		return r;
	for (uint64_t p = off / PG_SIZE; f->n && p <= (end - 1) / PG_SIZE; p++) {
		const struct pg *g = pg_find(f, p);

		/* Each run of held sectors, clipped to the read. */
		for (unsigned k = 0; g && k < PG_SECT;) {
			unsigned k1 = k;
			uint64_t lo, hi;

			if (!(g->have & (1u << k))) {
				k++;
				continue;
			}
			while (k1 < PG_SECT && g->have & (1u << k1))
				k1++;
			lo = p * PG_SIZE + k * FFS_SECTOR;
			hi = p * PG_SIZE + k1 * FFS_SECTOR;
			lo = lo > off ? lo : off;
			hi = hi < end ? hi : end;
			if (lo < hi)
				memcpy(dst + (lo - off), g->d + (lo - p * PG_SIZE),
				       (size_t)(hi - lo));
			k = k1;
		}
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

/* Writes sectors [k0, k1) of page p to the backing file, up to the file's size. */
static int run_write(const struct ffs_file *f, uint64_t p, const struct pg *g, unsigned k0,
		     unsigned k1)
{
	uint64_t b = p * PG_SIZE + k0 * FFS_SECTOR, e = p * PG_SIZE + k1 * FFS_SECTOR;

	if (e > f->size)
		e = f->size;
	for (uint64_t at = b; at < e;) {
		ssize_t w = pwrite(f->fd, g->d + (at - p * PG_SIZE), (size_t)(e - at), (off_t)at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		at += (uint64_t)w;
	}
	return 0;
}

/* Writes the runs of sectors in mask m of page p. */
static int page_write(const struct ffs_file *f, uint64_t p, const struct pg *g, uint8_t m)
{
	for (unsigned k = 0; k < PG_SECT;) {
		unsigned k1 = k;
		int r;

		if (!(m & (1u << k))) {
			k++;
			continue;
		}
		while (k1 < PG_SECT && m & (1u << k1))
			k1++;
		r = run_write(f, p, g, k, k1);
		if (r < 0)
			return r;
		k = k1;
	}
	return 0;
}

static enum walk_do write_unlost(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	int *r = ctx;

	*r = page_write(f, p, g, g->have & (uint8_t)~g->lost);
	return *r < 0 ? W_STOP : W_KEEP;
}

/* Once synced: only the sectors a failed fsync lost stay (readable, never written). */
static enum walk_do keep_lost(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	f->n -= bits(g->have & (uint8_t)~g->lost);
	g->have &= g->lost;
	return g->have ? W_KEEP : W_FREE;
}

static int file_sync(struct ffs_cache *c, struct ffs_file *f, bool datasync)
{
	struct stat st;
	int r = 0;

	if (f->floor < f->durable && ftruncate(f->fd, (off_t)f->floor) < 0)
		return -errno;
	walk(c, f, 0, write_unlost, &r);
	if (r < 0)
		return r;
	if (fstat(f->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != f->size && ftruncate(f->fd, (off_t)f->size) < 0)
		return -errno;
	if ((datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0)
		return -errno;
	walk(c, f, 0, keep_lost, NULL);
	f->floor = f->durable = f->size;
	return 0;
}

int ffs_cache_sync(struct ffs_cache *c, struct ffs_key key, bool datasync)
{
	ssize_t i = file_find(c, key);
	int r;

	if (i < 0)
		return 0;
	r = file_sync(c, c->v[i], datasync);
	if (r == 0 && c->v[i]->n == 0)
		file_remove(c, (size_t)i);
	return r;
}

static enum walk_do lose_all(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	*(uint64_t *)ctx += bits(g->have & (uint8_t)~g->lost);
	g->lost = g->have;
	return W_KEEP;
}

uint64_t ffs_cache_fail_sync(struct ffs_cache *c, struct ffs_key key)
{
	ssize_t i = file_find(c, key);
	uint64_t n = 0;

	if (i >= 0)
		walk(c, c->v[i], 0, lose_all, &n);
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
	return rng_draw(seed, rng_hash_str(name), idx) & 1;
}

struct cut {
	enum ffs_keep keep;
	uint64_t seed;
	struct ffs_cut_file *out;
	uint64_t *kept_idx;
	int first;
};

static enum walk_do cut_page(void *ctx, struct ffs_file *f, uint64_t p, struct pg *g)
{
	struct cut *cu = ctx;

	for (unsigned k = 0; k < PG_SECT; k++) {
		uint64_t s = p * PG_SECT + k;
		int r;

		if (!(g->have & (1u << k)))
			continue;
		if (cu->keep != FFS_KEEP_RANDOM_SECTORS || g->lost & (1u << k) ||
		    s * FFS_SECTOR >= f->size || !ffs_cut_keeps(cu->seed, f->name, s)) {
			cu->out->dropped++;
			continue;
		}
		r = run_write(f, p, g, k, k + 1);
		if (r < 0 && cu->first == 0)
			cu->first = r;
		cu->kept_idx[cu->out->kept++] = s;
	}
	return W_KEEP;
}

int ffs_cache_cut(struct ffs_cache *c, enum ffs_keep keep, uint64_t seed, ffs_cut_report_fn report,
		  void *ctx, uint64_t *dropped, uint64_t *kept)
{
	int first = 0;

	*dropped = *kept = 0;
	while (c->n) {
		struct ffs_file *f = c->v[c->n - 1];
		uint64_t *idx = calloc(f->n ? f->n : 1, sizeof(*idx));
		struct ffs_cut_file out = { .name = f->name, .kept_idx = idx };
		struct cut cu = { keep, seed, &out, idx, 0 };

		if (idx)
			walk(c, f, 0, cut_page, &cu);
		else
			cu.first = -ENOMEM;
		if (cu.first < 0 && first == 0)
			first = cu.first;
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

uint64_t ffs_cache_pooled(const struct ffs_cache *c)
{
	return c->n_free;
}

void ffs_cache_counts(const struct ffs_cache *c, uint64_t *files, uint64_t *sectors)
{
	*files = c->n;
	*sectors = 0;
	for (size_t i = 0; i < c->n; i++)
		*sectors += c->v[i]->n;
}
