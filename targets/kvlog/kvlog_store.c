/* kvlog-server's in-memory key-value table: chained hashing, doubling at load 1. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "targets/kvlog/kvlog_store.h"

struct entry {
	struct entry *next;
	size_t klen, vlen;
	unsigned char *val; /* owned; the key follows the struct */
	unsigned char key[];
};

struct kvlog_store {
	struct entry **slots; /* owned */
	size_t nslots, count;
};

struct kvlog_store *kvlog_store_new(void)
{
	struct kvlog_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nslots = 1024;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	return s;
}

void kvlog_store_free(struct kvlog_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nslots; i++) {
		for (struct entry *e = s->slots[i], *n; e; e = n) {
			n = e->next;
			free(e->val);
			free(e);
		}
	}
	free(s->slots);
	free(s);
}

static size_t slot_of(const struct kvlog_store *s, const char *key, size_t klen)
{
	return crc32c(0, key, klen) & (s->nslots - 1);
}

static struct entry **find(const struct kvlog_store *s, const char *key, size_t klen)
{
	struct entry **pe = &s->slots[slot_of(s, key, klen)];

	for (; *pe; pe = &(*pe)->next)
		if ((*pe)->klen == klen && memcmp((*pe)->key, key, klen) == 0)
			break;
	return pe;
}

static void grow(struct kvlog_store *s)
{
	size_t n = s->nslots * 2;
	struct entry **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return; /* stay at this size: slower, still correct */
	for (size_t i = 0; i < s->nslots; i++) {
		for (struct entry *e = s->slots[i], *next; e; e = next) {
			size_t j = crc32c(0, e->key, e->klen) & (n - 1);

			next = e->next;
			e->next = slots[j];
			slots[j] = e;
		}
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
}

int kvlog_store_set(struct kvlog_store *s, const char *key, size_t klen, const void *val,
		    size_t vlen)
{
	struct entry **pe = find(s, key, klen), *e;
	unsigned char *v = malloc(vlen ? vlen : 1);

	if (!v)
		return -ENOMEM;
	if (vlen)
		memcpy(v, val, vlen);
	if (*pe) {
		free((*pe)->val);
		(*pe)->val = v;
		(*pe)->vlen = vlen;
		return 0;
	}
	e = malloc(sizeof(*e) + klen);
	if (!e) {
		free(v);
		return -ENOMEM;
	}
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->val = v;
	e->vlen = vlen;
	e->next = NULL;
	*pe = e;
	if (++s->count > s->nslots)
		grow(s);
	return 0;
}

int kvlog_store_get(const struct kvlog_store *s, const char *key, size_t klen, const void **val,
		    size_t *vlen)
{
	struct entry *e = *find(s, key, klen);

	if (!e)
		return -ENOENT;
	*val = e->val;
	*vlen = e->vlen;
	return 0;
}

size_t kvlog_store_count(const struct kvlog_store *s)
{
	return s->count;
}

int kvlog_store_each(const struct kvlog_store *s,
		     int (*cb)(void *ud, const char *key, size_t klen, const void *val,
			       size_t vlen),
		     void *ud)
{
	for (size_t i = 0; i < s->nslots; i++) {
		for (struct entry *e = s->slots[i]; e; e = e->next) {
			int r = cb(ud, (const char *)e->key, e->klen, e->val, e->vlen);

			if (r < 0)
				return r;
		}
	}
	return 0;
}
