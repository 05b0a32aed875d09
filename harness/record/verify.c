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

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t latency(const struct ledger_op *op)
{
	return op->end_ns - op->start_ns;
}

static bool on_time(const struct ledger_op *op, int64_t slow)
{
	return op->outcome == LEDGER_OK && latency(op) <= slow;
}

/* When a client could tell op was a casualty: when it failed or timed out, or once it had
 * waited `slow` without an answer, whichever came first; -1 if it is none (acknowledged in
 * time, or still pending). */
static int64_t casualty_at(const struct ledger_op *op, int64_t slow)
{
	switch (op->outcome) {
	case LEDGER_FAILED:
	case LEDGER_UNKNOWN:
		return latency(op) > slow ? op->start_ns + slow : op->end_ns;
	case LEDGER_OK:
		return latency(op) > slow ? op->start_ns + slow : -1;
	default:
		return -1;
	}
}

/* Latencies of the writes sent in [from, to) and acknowledged by `to`, sorted, into v. */
static size_t steady_latencies(const struct ledger *l, int64_t from, int64_t to, int64_t *v)
{
	size_t n = 0;

	for (size_t i = first_at(l, from); i < l->n && l->ops[i].start_ns < to; i++)
		if (l->ops[i].outcome == LEDGER_OK && l->ops[i].end_ns <= to)
			v[n++] = latency(&l->ops[i]);
	qsort(v, n, sizeof(*v), cmp_i64);
	return n;
}

/* The latency bound: the drill's, else VERIFY_SLOW_MULT x the p99 of the steady state, the
 * writes sent after the warm-up and acknowledged before the first fault (all writes before
 * it if there are none), with a floor (verify.h). */
static int slow_bound(const struct verify_input *in, struct verify_result *out)
{
	const struct ledger *l = in->ledger;
	int64_t to = in->n_faults ? in->faults[0].at_ns : INT64_MAX;
	int64_t *v = malloc((l->n ? l->n : 1) * sizeof(*v));
	size_t n;

	if (!v)
		return -ENOMEM;
	n = steady_latencies(l, in->steady_from_ns, to, v);
	if (!n)
		n = steady_latencies(l, INT64_MIN, to, v);
	out->steady_n = n;
	if (n) {
		out->steady_p50_ns = v[n / 2];
		out->steady_p99_ns = v[(n - 1) * 99 / 100];
	}
	free(v);
	if (in->slow_ns > 0) {
		out->slow_ns = in->slow_ns;
		out->slow_source = VERIFY_SLOW_SET;
	} else if (!n) {
		out->slow_ns = VERIFY_SLOW_FLOOR_NS;
		out->slow_source = VERIFY_SLOW_NO_STEADY;
	} else if (out->steady_p99_ns * VERIFY_SLOW_MULT > VERIFY_SLOW_FLOOR_NS) {
		out->slow_ns = out->steady_p99_ns * VERIFY_SLOW_MULT;
		out->slow_source = VERIFY_SLOW_STEADY;
	} else {
		out->slow_ns = VERIFY_SLOW_FLOOR_NS;
		out->slow_source = VERIFY_SLOW_FLOOR;
	}
	return 0;
}

/* The casualties of the fault at f, whose window ends at end (the next fault, or never):
 * writes that became casualties after the fault (even if sent before it: in flight when it
 * hit) and before the next fault (a later casualty may be that fault's doing). Counts them
 * into r; returns the index of the first one (l->n if none) and the first moment one was
 * known as such in *detect. waits: scratch for the late ones' waits. */
static size_t casualties(const struct ledger *l, int64_t slow, int64_t f, int64_t end,
			 int64_t *waits, int64_t *detect, struct verify_rto *r)
{
	size_t first = l->n, n_late = 0;

	*detect = -1;
	/* a write still in flight at f was sent less than its timeout before: an hour covers it */
	for (size_t j = first_at(l, f - 3600LL * 1000000000LL);
	     j < l->n && l->ops[j].start_ns < end; j++) {
		const struct ledger_op *op = &l->ops[j];
		int64_t c = casualty_at(op, slow);

		if (c < f || c >= end)
			continue;
		r->failed += op->outcome == LEDGER_FAILED;
		r->unknown += op->outcome == LEDGER_UNKNOWN;
		if (op->outcome == LEDGER_OK)
			waits[n_late++] = latency(op);
		if (first == l->n)
			first = j;
		if (*detect < 0 || c < *detect)
			*detect = c;
	}
	r->late = n_late;
	if (n_late) {
		qsort(waits, n_late, sizeof(*waits), cmp_i64);
		r->late_wait_p50_ns = waits[n_late / 2];
		r->late_wait_max_ns = waits[n_late - 1];
	}
	return first;
}

/* RTO of the fault at f, whose window ends at end (the next fault, or never): from the
 * fault to the acknowledgement of the first of N consecutive on-time successes, all sent
 * after the fault, after the first casualty and after the readiness probe passed. */
static void rto_of(const struct verify_input *in, const struct verify_result *vr, int64_t f,
		   int64_t heal, int64_t end, int64_t *waits, struct verify_rto *r)
{
	const struct ledger *l = in->ledger;
	unsigned need = in->rto_ops ? in->rto_ops : 3, run = 0;
	int64_t slow = vr->slow_ns, probe, from, detect;
	size_t bad;

	memset(r, 0, sizeof(*r));
	r->since_heal_ns = r->first_ok_ns = -1;
	bad = casualties(l, slow, f, end, waits, &detect, r);
	if (bad == l->n) { /* no casualty after the fault: no outage, RTO 0 */
		r->recovered = true;
		return;
	}
	r->outage = true;
	r->detect_ns = detect - f;
	from = l->ops[bad].start_ns > f ? l->ops[bad].start_ns : f;
	probe = first_probe_after(in, f);
	if (probe > from) {
		from = probe;
		r->probe_gated = true;
	}
	for (size_t j = bad; j < l->n && l->ops[j].start_ns < end; j++) {
		const struct ledger_op *op = &l->ops[j];

		if (!on_time(op, slow)) {
			run = 0;
			continue;
		}
		if (r->first_ok_ns < 0 && op->start_ns >= f)
			r->first_ok_ns = op->end_ns - f;
		if (op->start_ns < from) {
			run = 0;
			continue;
		}
		if (++run == need) {
			const struct ledger_op *e = &l->ops[j + 1 - need];

			r->recovered = true;
			r->rto_ns = e->end_ns - f;
			r->end_sent_ns = e->start_ns - f;
			r->end_latency_ns = latency(e);
			r->bound_ns = in->write_interval_ns + vr->steady_p99_ns +
				      (r->probe_gated ? in->probe_lag_ns : 0);
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
	int64_t *waits;
	int k;

	memset(out, 0, sizeof(*out));
	if ((k = slow_bound(in, out)) < 0)
		return k;
	out->rto = calloc(in->n_faults ? in->n_faults : 1, sizeof(*out->rto));
	waits = malloc((in->ledger->n ? in->ledger->n : 1) * sizeof(*waits));
	if (!out->rto || !waits) {
		free(waits);
		verify_result_release(out);
		return -ENOMEM;
	}
	out->n_rto = in->n_faults;
	out->recovered = true;
	/* what any outage's figure may be off by, even one no write met (bound_ns of verify_rto) */
	out->bound_ns = in->write_interval_ns + out->steady_p99_ns +
			(in->n_probe_ok ? in->probe_lag_ns : 0);
	out->bound_probe = in->n_probe_ok > 0;
	for (size_t i = 0; i < in->n_faults; i++) {
		/* An outage still on when the next fault comes (a node killed, then its disk
		 * damaged while it is down) goes on: its window extends to the next fault's. */
		for (size_t j = i + 1;; j++) {
			int64_t end = j < in->n_faults ? in->faults[j].at_ns : INT64_MAX;

			rto_of(in, out, in->faults[i].at_ns, in->faults[i].heal_ns, end, waits,
			       &out->rto[i]);
			if (out->rto[i].recovered || j >= in->n_faults)
				break;
		}
		out->recovered &= out->rto[i].recovered;
		if (out->rto[i].rto_ns > out->rto_ns)
			out->rto_ns = out->rto[i].rto_ns;
		if (out->rto[i].bound_ns > out->bound_ns)
			out->bound_ns = out->rto[i].bound_ns;
	}
	free(waits);
	count_rpo(in, fr, out);
	out->integrity_ok = fr->phantoms == 0 && fr->corrupt == 0 && out->failed_present == 0;
	return 0;
}

bool verify_too_sparse(const struct verify_result *r, int64_t target_ns)
{
	return r->bound_ns * 10 > target_ns;
}

void verify_result_release(struct verify_result *r)
{
	free(r->rto);
	r->rto = NULL;
}
