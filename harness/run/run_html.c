/* report.html of a drill: the time series (writes per bucket by outcome, latency
 * percentiles), fault and step bands and the RTO marker, computed from the ledger and the
 * run's record, then handed to the pure writer in reports/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

#define MAX_BUCKETS 240

struct lat {
	uint32_t bucket;
	uint32_t us;
};

static int cmp_lat(const void *a, const void *b)
{
	const struct lat *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return (x->us > y->us) - (x->us < y->us);
}

/* p50/p99 of each bucket's acknowledged writes, from lats sorted by (bucket, latency). */
static void percentiles(struct report_bucket *b, const struct lat *lats, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && lats[j].bucket == lats[i].bucket)
			j++;
		b[lats[i].bucket].p50_us = lats[i + (j - i) / 2].us;
		b[lats[i].bucket].p99_us = lats[i + (j - i - 1) * 99 / 100].us;
		i = j;
	}
}

static int buckets(const struct ledger *l, struct report_series *s, struct report_bucket **out)
{
	int64_t t0 = l->ops[0].start_ns, t1 = l->ops[l->n - 1].start_ns,
		bucket = 100 * NSEC_PER_MSEC;
	struct report_bucket *b;
	struct lat *lats;
	size_t n, n_lats = 0;

	while ((t1 - t0) / bucket + 1 > MAX_BUCKETS)
		bucket *= 2;
	n = (size_t)((t1 - t0) / bucket + 1);
	b = calloc(n, sizeof(*b));
	lats = calloc(l->n, sizeof(*lats));
	if (!b || !lats) {
		free(b);
		free(lats);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		b[i].start_ns = t0 + (int64_t)i * bucket;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_op *op = &l->ops[i];
		uint32_t k = (uint32_t)((op->start_ns - t0) / bucket);

		b[k].ok += op->outcome == LEDGER_OK;
		b[k].failed += op->outcome == LEDGER_FAILED;
		b[k].unknown += op->outcome == LEDGER_UNKNOWN || op->outcome == LEDGER_PENDING;
		if (op->outcome == LEDGER_OK)
			lats[n_lats++] =
				(struct lat){ k, (uint32_t)((op->end_ns - op->start_ns) / 1000) };
	}
	qsort(lats, n_lats, sizeof(*lats), cmp_lat);
	percentiles(b, lats, n_lats);
	free(lats);
	s->bucket_ns = bucket;
	s->buckets = *out = b;
	s->n_buckets = n;
	return 0;
}

/* Fault and step bands; labels are owned by the result (they must outlive the page). */
static int bands(struct drill_run *r, struct report_series *s, struct report_band **out)
{
	size_t n = 0, max = r->d->n_faults + r->d->n_steps;
	struct report_band *b = calloc(max + 1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct fault_run *f = run_fault_result(r, i);
		const struct report_case *c = &r->res->suite.cases[i]; /* cases start with faults */

		if (!f->injected)
			continue;
		b[n++] = (struct report_band){ REPORT_BAND_FAULT, f->injected_ns,
					       f->healed ? f->healed_ns : f->injected_ns, c->name };
	}
	for (size_t i = 0; i < r->d->n_steps; i++) {
		const struct step_run *st = run_step_result(r, i);

		if (st->state != STEP_OK && st->state != STEP_FAILED)
			continue;
		b[n++] = (struct report_band){ REPORT_BAND_STEP, st->start_ns, st->end_ns,
					       r->res->suite.cases[r->d->n_faults + i].name };
	}
	s->bands = *out = b;
	s->n_bands = n;
	return 0;
}

/* The worst fault's outage, from the moment it struck to the acknowledgement that ended it. */
static void rto_marker(struct drill_run *r, struct report_series *s)
{
	const struct verify_fault *faults;
	size_t n = 0, worst = 0;
	const struct verify_result *v = run_verdicts(r, &faults, &n);

	s->rto_from_ns = s->rto_to_ns = -1;
	if (!v || !v->n_rto || v->n_rto != n)
		return;
	for (size_t i = 1; i < v->n_rto; i++)
		if (v->rto[i].rto_ns > v->rto[worst].rto_ns)
			worst = i;
	if (!v->rto[worst].recovered || !v->rto[worst].outage)
		return;
	s->rto_from_ns = faults[worst].at_ns;
	s->rto_to_ns = s->rto_from_ns + v->rto[worst].rto_ns;
}

int run_write_html(struct drill_run *r)
{
	struct report_series s = { .origin_ns = r->steady_ns, .rto_from_ns = -1, .rto_to_ns = -1 };
	struct report_bucket *b = NULL;
	struct report_band *bd = NULL;
	struct strbuf sb = STRBUF_INIT;
	char path[4200];
	int k = 0;

	if (r->ledger && r->ledger->n && (k = buckets(r->ledger, &s, &b)) >= 0 &&
	    (k = bands(r, &s, &bd)) >= 0)
		rto_marker(r, &s);
	if (k >= 0)
		k = report_html_write(&r->res->suite, s.n_buckets ? &s : NULL, &sb);
	if (k >= 0) {
		snprintf(path, sizeof(path), "%s/report.html", r->run_dir);
		k = fs_write_atomic(path, sb.buf, sb.len, 0644);
	}
	strbuf_release(&sb);
	free(b);
	free(bd);
	return k;
}
