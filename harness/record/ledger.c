/* The ledger and the set workload's key/value codec: see ledger.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/fsutil.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "harness/record/ledger.h"

struct ledger *ledger_new(uint64_t seed, size_t value_size)
{
	struct ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->seed = seed;
	l->value_size = value_size;
	return l;
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	free(l->ops);
	free(l);
}

uint64_t ledger_begin(struct ledger *l, int64_t now_ns, uint32_t client)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		struct ledger_op *ops = realloc(l->ops, cap * sizeof(*ops));

		if (!ops)
			return 0;
		l->ops = ops;
		l->cap = cap;
	}
	l->ops[l->n] = (struct ledger_op){ .start_ns = now_ns, .client = client };
	return ++l->n;
}

void ledger_end(struct ledger *l, uint64_t id, int64_t now_ns, enum ledger_outcome outcome)
{
	struct ledger_op *op;

	if (id == 0 || id > l->n)
		return;
	op = &l->ops[id - 1];
	if (op->outcome != LEDGER_PENDING)
		return; /* the first answer stands (a late reply after a timeout changes nothing) */
	op->end_ns = now_ns;
	op->outcome = (uint8_t)outcome;
}

const char *ledger_outcome_name(enum ledger_outcome o)
{
	static const char *const names[] = { "pending", "ok", "failed", "unknown" };

	return (unsigned)o < 4 ? names[o] : "?";
}

static int ledger_fill(FILE *f, void *ud)
{
	const struct ledger *l = ud;

	fprintf(f,
		"# chaosdrill ledger v1: id start_ns end_ns client outcome (seed %" PRIu64
		", value_size %zu)\n",
		l->seed, l->value_size);
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_op *op = &l->ops[i];

		if (fprintf(f, "%zu %" PRId64 " %" PRId64 " %u %s\n", i + 1, op->start_ns,
			    op->end_ns, op->client, ledger_outcome_name(op->outcome)) < 0)
			return errno ? -errno : -EIO;
	}
	return 0;
}

/* Streamed: 24 bytes an operation in memory, ~45 in text; a ten-minute drill's text would
 * otherwise double the harness's peak. */
int ledger_write(const struct ledger *l, const char *path)
{
	return fs_write_atomic_stream(path, 0644, ledger_fill, (void *)l);
}

void ledger_key(uint64_t id, char key[LEDGER_KEY_MAX])
{
	snprintf(key, LEDGER_KEY_MAX, "w%" PRIu64, id);
}

uint64_t ledger_key_id(const char *key, size_t klen)
{
	uint64_t id = 0;

	if (klen < 2 || klen > 21 || key[0] != 'w' || key[1] == '0')
		return 0;
	for (size_t i = 1; i < klen; i++) {
		uint64_t d = (uint64_t)(key[i] - '0');

		if (key[i] < '0' || key[i] > '9' || id > (UINT64_MAX - d) / 10)
			return 0;
		id = id * 10 + d;
	}
	return id;
}

/* crc32c over the id's decimal text and the payload. */
static uint32_t value_crc(const char *idtxt, size_t idlen, const char *payload, size_t plen)
{
	return crc32c(crc32c(0, idtxt, idlen), payload, plen);
}

void ledger_value(uint64_t seed, uint64_t id, size_t value_size, char *buf)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char idtxt[24], head[40];
	int idlen = snprintf(idtxt, sizeof(idtxt), "%" PRIu64, id);
	size_t hlen = (size_t)idlen + 1 + 8 + 1, plen = value_size - hlen;
	uint64_t state = seed ^ (id * 0xd6e8feb86659fd93ULL), r = 0;
	char *payload = buf + hlen;

	/* value_size >= LEDGER_VALUE_MIN leaves room for the longest header (30 bytes) */
	for (size_t i = 0; i < plen; i++) {
		if (i % 8 == 0)
			r = rng_next(&state);
		payload[i] = alphabet[(r >> (8 * (i % 8))) % 62];
	}
	snprintf(head, sizeof(head), "%s:%08x:", idtxt,
		 value_crc(idtxt, (size_t)idlen, payload, plen));
	memcpy(buf, head, hlen);
}

int ledger_value_check(const void *val, size_t vlen, uint64_t *id)
{
	const char *v = val, *c1, *c2;
	char crctxt[9];
	uint64_t n = 0;
	size_t idlen;

	c1 = memchr(v, ':', vlen < 21 ? vlen : 21);
	if (!c1 || c1 == v || (size_t)(c1 - v) + 10 > vlen)
		return -EBADMSG;
	idlen = (size_t)(c1 - v);
	for (size_t i = 0; i < idlen; i++) {
		uint64_t d = (uint64_t)(v[i] - '0');

		if (v[i] < '0' || v[i] > '9' || n > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		n = n * 10 + d;
	}
	c2 = c1 + 9;
	if (*c2 != ':')
		return -EBADMSG;
	memcpy(crctxt, c1 + 1, 8);
	crctxt[8] = '\0';
	for (int i = 0; i < 8; i++)
		if (!((crctxt[i] >= '0' && crctxt[i] <= '9') ||
		      (crctxt[i] >= 'a' && crctxt[i] <= 'f')))
			return -EBADMSG;
	if (strtoul(crctxt, NULL, 16) != value_crc(v, idlen, c2 + 1, vlen - (size_t)(c2 + 1 - v)))
		return -EBADMSG;
	*id = n;
	return 0;
}
