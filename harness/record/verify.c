/* RTO, RPO and integrity from the ledger and the final read: see verify.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/record/verify.h"

int final_read_init(struct final_read *fr, const struct ledger *l)
{
	memset(fr, 0, sizeof(*fr));
	fr->ledger = l;
	fr->seen = calloc(l->n ? l->n : 1, 1);
	fr->expect_buf = malloc(l->value_size ? l->value_size : 1);
	if (!fr->seen || !fr->expect_buf) {
		final_read_release(fr);
		return -ENOMEM;
	}
	return 0;
}

void final_read_release(struct final_read *fr)
{
	free(fr->seen);
	free(fr->expect_buf);
	fr->seen = NULL;
	fr->expect_buf = NULL;
}

static void note_bad(struct final_read *fr, const char *what, const char *key, size_t klen)
{
	if (!fr->first_bad[0])
		snprintf(fr->first_bad, sizeof(fr->first_bad), "%s key '%.*s'", what,
			 (int)(klen > 64 ? 64 : klen), key);
}

int final_read_kv(void *ud, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct final_read *fr = ud;
	const struct ledger *l = fr->ledger;
	uint64_t id = ledger_key_id(key, klen), vid;

	fr->keys++;
	if (id == 0 || id > l->n) {
		fr->phantoms++;
		note_bad(fr, "phantom", key, klen);
		return 0;
	}
	if (ledger_value_check(val, vlen, &vid) < 0 || vid != id || vlen != l->value_size) {
		fr->corrupt++;
		note_bad(fr, "corrupt value at", key, klen);
		return 0;
	}
	ledger_value(l->seed, id, l->value_size, fr->expect_buf);
	if (memcmp(fr->expect_buf, val, vlen) != 0) {
		fr->corrupt++;
		note_bad(fr, "wrong value at", key, klen);
		return 0;
	}
	fr->seen[id - 1] = 1;
	return 0;
}

/* First op id (0-based index) whose start is >= t; ops are in start order. */
static size_t first_at(const struct ledger *l, int64_t t)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->ops[mid].start_ns < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t first_probe_after(const struct verify_input *in, int64_t t)
{
	for (size_t i = 0; i < in->n_probe_ok; i++)
		if (in->probe_ok_ns[i] >= t)
			return in->probe_ok_ns[i];
	return -1;
}

/* Detection: the first operation to fail, by end time, among those that ended in
 * [f, end) (including operations started before the fault). */
static int64_t detect(const struct ledger *l, int64_t f, int64_t end)
{
	int64_t best = -1;

	for (size_t i = first_at(l, f - 3600LL * 1000000000LL); i < l->n; i++) {
		const struct ledger_op *op = &l->ops[i];

		if (op->start_ns >= end)
			break;
		if (op->outcome == LEDGER_OK || op->outcome == LEDGER_PENDING || op->end_ns < f ||
		    op->end_ns >= end)
			continue;
		if (best < 0 || op->end_ns < best)
			best = op->end_ns;
	}
	return best;
}

/* Whether op belongs to the outage of the fault at f whose window ends at end: it failed
 * after the fault (even if it started before: it was in flight when the fault hit) and
 * before the next fault (a later failure may be that fault's doing). */
static bool casualty(const struct ledger_op *op, int64_t f, int64_t end)
{
	if (op->outcome == LEDGER_OK || op->outcome == LEDGER_PENDING)
		return false;
	return op->start_ns < end && op->end_ns >= f && op->end_ns < end;
}

/* RTO of the fault at f, whose window ends at end (the next fault, or never). */
static void rto_of(const struct verify_input *in, int64_t f, int64_t heal, int64_t end,
		   struct verify_rto *r)
{
	const struct ledger *l = in->ledger;
	unsigned need = in->rto_ops ? in->rto_ops : 3, run = 0;
	size_t bad = l->n;
	int64_t probe, from;

	memset(r, 0, sizeof(*r));
	r->since_heal_ns = -1;
	for (size_t j = first_at(l, f - 3600LL * 1000000000LL); j < l->n && l->ops[j].start_ns < end; j++) {
		if (!casualty(&l->ops[j], f, end))
			continue;
		r->failed += l->ops[j].outcome == LEDGER_FAILED;
		r->unknown += l->ops[j].outcome == LEDGER_UNKNOWN;
		if (bad == l->n)
			bad = j;
	}
	if (bad == l->n) { /* no operation failed after the fault: no outage, RTO 0 */
		r->recovered = true;
		return;
	}
	r->outage = true;
	r->detect_ns = detect(l, f, end) - f;
	/* the outage ends with N successes in a row, all started after the fault, after the
	 * first casualty, and after the readiness probe passed */
	probe = first_probe_after(in, f);
	from = l->ops[bad].start_ns > f ? l->ops[bad].start_ns : f;
	if (probe > from)
		from = probe;
	for (size_t j = bad + 1; j < l->n && l->ops[j].start_ns < end; j++) {
		const struct ledger_op *op = &l->ops[j];

		if (op->outcome == LEDGER_OK && !r->first_ok_ns && op->start_ns >= f)
			r->first_ok_ns = op->start_ns - f;
		if (op->outcome != LEDGER_OK || op->start_ns < from) {
			run = 0;
			continue;
		}
		if (++run == need) {
			r->recovered = true;
			r->rto_ns = l->ops[j + 1 - need].start_ns - f;
			if (heal >= 0)
				r->since_heal_ns = f + r->rto_ns - heal;
			return;
		}
	}
}

static void count_rpo(const struct verify_input *in, const struct final_read *fr,
		      struct verify_result *out)
{
	const struct ledger *l = in->ledger;
	int64_t oldest = -1;

	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_op *op = &l->ops[i];
		bool present = fr->seen[i];

		out->ops++;
		switch (op->outcome) {
		case LEDGER_OK:
			out->acked++;
			if (present)
				break;
			if (out->n_lost_ids < VERIFY_MAX_EXAMPLES)
				out->lost_ids[out->n_lost_ids++] = i + 1;
			if (oldest < 0 || op->end_ns < oldest)
				oldest = op->end_ns;
			out->lost++;
			break;
		case LEDGER_FAILED:
			out->failed++;
			if (present && out->n_failed_present_ids < VERIFY_MAX_EXAMPLES)
				out->failed_present_ids[out->n_failed_present_ids++] = i + 1;
			out->failed_present += present;
			break;
		case LEDGER_UNKNOWN:
			out->unknown++;
			out->unknown_present += present;
			break;
		default:
			out->pending++;
			out->unknown_present += present;
			break;
		}
	}
	if (oldest >= 0 && in->n_faults && in->faults[0].at_ns > oldest)
		out->rpo_window_ns = in->faults[0].at_ns - oldest;
}

int verify_run(const struct verify_input *in, const struct final_read *fr,
	       struct verify_result *out)
{
	memset(out, 0, sizeof(*out));
	out->rto = calloc(in->n_faults ? in->n_faults : 1, sizeof(*out->rto));
	if (!out->rto)
		return -ENOMEM;
	out->n_rto = in->n_faults;
	out->recovered = true;
	for (size_t i = 0; i < in->n_faults; i++) {
		/* An outage still on when the next fault comes (a node killed, then its disk
		 * damaged while it is down) goes on: its window extends to the next fault's. */
		for (size_t j = i + 1;; j++) {
			int64_t end = j < in->n_faults ? in->faults[j].at_ns : INT64_MAX;

			rto_of(in, in->faults[i].at_ns, in->faults[i].heal_ns, end, &out->rto[i]);
			if (out->rto[i].recovered || j >= in->n_faults)
				break;
		}
		out->recovered &= out->rto[i].recovered;
		if (out->rto[i].rto_ns > out->rto_ns)
			out->rto_ns = out->rto[i].rto_ns;
	}
	count_rpo(in, fr, out);
	out->integrity_ok = fr->phantoms == 0 && fr->corrupt == 0 && out->failed_present == 0;
	return 0;
}

void verify_result_release(struct verify_result *r)
{
	free(r->rto);
	r->rto = NULL;
}
