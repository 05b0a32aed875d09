/* --shard I/N (shard.h): a deterministic split of a call's drills across CI jobs. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/shard.h"

static int parse_uint(const char *s, const char *end, unsigned *out)
{
	uint64_t v = 0;

	if (s == end || end - s > 6)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = (unsigned)v;
	return 0;
}

int shard_parse(const char *s, struct shard *out)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	struct shard v;

	if (!slash || parse_uint(s, slash, &v.index) < 0 ||
	    parse_uint(slash + 1, slash + strlen(slash), &v.count) < 0 || v.index < 1 ||
	    v.count > SHARD_MAX || v.index > v.count)
		return -EINVAL;
	*out = v;
	return 0;
}

struct named {
	const char *name;
	size_t i;
};

static int by_name(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* names are unique in a call; the given order only settles a tie, if any */
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

int shard_select(const char *const *names, size_t n, const struct shard *s, bool *keep)
{
	struct named *v = calloc(n ? n : 1, sizeof(*v));
	int kept = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct named){ names[i], i };
	qsort(v, n, sizeof(*v), by_name);
	for (size_t k = 0; k < n; k++) {
		keep[v[k].i] = k % s->count + 1 == s->index;
		kept += keep[v[k].i];
	}
	free(v);
	return kept;
}
