/* report.html of a drill: for each target the time series (writes per bucket by outcome,
 * latency percentiles), fault and step bands and the RTO marker, every operation (or a
 * deterministic sample) as a point, and a fine-grained close-up of each fault's window,
 * computed from the ledger and the run's record, then handed to the pure writer in
 * reports/. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
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

static enum report_op_outcome op_outcome(const struct ledger_op *op)
{
	return op->outcome == LEDGER_OK	    ? REPORT_OP_OK :
	       op->outcome == LEDGER_FAILED ? REPORT_OP_FAILED :
					      REPORT_OP_UNKNOWN;
}

static bool in_windows(const struct report_series *s, int64_t t)
{
	for (size_t i = 0; i < s->n_closeups; i++)
		if (t >= s->closeups[i].from_ns && t <= s->closeups[i].to_ns)
			return true;
	return false;
}

/* Every operation, or all that were not acknowledged and, of the acknowledged ones, one in
 * a stride inside the close-ups' windows and one in another outside them
 * (report_ops_stride): the same ledger always gives the same points. */
static int ops_sample(const struct ledger *l, struct report_series *s, struct report_op **out)
{
	size_t n_ok = 0, n_win = 0, n = 0, seen_ok = 0, seen_win = 0, stride, wstride, room;
	struct report_op *o;

	for (size_t i = 0; i < l->n; i++)
		if (l->ops[i].outcome == LEDGER_OK) {
			n_ok++;
			n_win += in_windows(s, l->ops[i].start_ns);
		}
	wstride = report_ops_stride(n_win, 0, REPORT_MAX_WINDOW_POINTS);
	room = REPORT_MAX_POINTS - n_win / wstride;
	stride = report_ops_stride(n_ok - n_win, l->n - n_ok, room);
	o = calloc(l->n - n_ok + n_win / wstride + (n_ok - n_win) / stride + 2, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_op *op = &l->ops[i];
		bool ok = op->outcome == LEDGER_OK;

		if (ok && in_windows(s, op->start_ns) ? seen_win++ % wstride != 0 :
							ok && seen_ok++ % stride != 0)
			continue;
		o[n++] = (struct report_op){ op->start_ns,
					     op->end_ns ? op->end_ns - op->start_ns : -1,
					     op_outcome(op) };
	}
	s->ops = *out = o;
	s->n_ops = n;
	s->n_ops_total = l->n;
	s->ok_stride = stride;
	s->window_stride = wstride;
	return 0;
}

/* The fine buckets of one close-up, from the whole ledger: 1/2/5 x 10^k ms, at most 200. */
static int fine_buckets(const struct ledger *l, struct report_closeup *c,
			struct report_bucket **out)
{
	static const int64_t steps_ms[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
	int64_t bucket = steps_ms[0] * NSEC_PER_MSEC;
	struct report_bucket *b;
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(steps_ms); i++) {
		bucket = steps_ms[i] * NSEC_PER_MSEC;
		if ((c->to_ns - c->from_ns) / bucket < 200)
			break;
	}
	n = (size_t)((c->to_ns - c->from_ns) / bucket + 1);
	if (!(b = calloc(n, sizeof(*b))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		b[i].start_ns = c->from_ns + (int64_t)i * bucket;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_op *op = &l->ops[i];
		size_t k;

		if (op->start_ns < c->from_ns || op->start_ns >= c->from_ns + (int64_t)n * bucket)
			continue;
		k = (size_t)((op->start_ns - c->from_ns) / bucket);
		b[k].ok += op->outcome == LEDGER_OK;
		b[k].failed += op->outcome == LEDGER_FAILED;
		b[k].unknown += op->outcome == LEDGER_UNKNOWN || op->outcome == LEDGER_PENDING;
	}
	c->bucket_ns = bucket;
	c->buckets = *out = b;
	c->n_buckets = n;
	return 0;
}

/* The verdict about the fault injected at t: the first one that struck at or after it. */
static const struct verify_rto *rto_of(struct drill_run *r, int64_t t, int64_t *struck)
{
	const struct verify_fault *vf;
	size_t n = 0, best = SIZE_MAX;
	const struct verify_result *v = run_verdicts(r, &vf, &n);

	if (!v || v->n_rto != n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (vf[i].at_ns >= t && (best == SIZE_MAX || vf[i].at_ns < vf[best].at_ns))
			best = i;
	if (best == SIZE_MAX)
		return NULL;
	*struck = vf[best].at_ns;
	return &v->rto[best];
}

/* The window of fault i: from a little before it to a little after the latest of its
 * heal, the end of its outage and the recovery steps that started meanwhile. */
static void closeup_window(struct drill_run *r, const struct report_series *s, size_t i,
			   struct report_closeup *c)
{
	const struct fault_run *f = run_fault_result(r, i);
	const struct verify_rto *v;
	int64_t end, margin, struck = f->injected_ns,
			     last = r->ledger->ops[r->ledger->n - 1].start_ns;

	c->label = r->res->suite.cases[i].name;
	c->fault_ns = f->injected_ns;
	c->heal_ns = f->healed ? f->healed_ns : -1;
	c->outage_end_ns = -1;
	end = f->injected_ns + 20 * NSEC_PER_MSEC;
	if (f->healed && f->healed_ns > end)
		end = f->healed_ns;
	if ((v = rto_of(r, f->injected_ns, &struck)) && v->outage) {
		c->fault_ns = struck;
		if (v->recovered)
			c->outage_end_ns = struck + v->rto_ns;
		end = v->recovered ? (struck + v->rto_ns > end ? struck + v->rto_ns : end) : last;
	}
	for (size_t k = 0; k < s->n_bands; k++) {
		const struct report_band *b = &s->bands[k];

		if (b->kind == REPORT_BAND_STEP && b->start_ns >= f->injected_ns &&
		    b->start_ns <= end && b->end_ns > end)
			end = b->end_ns;
	}
	if (end - f->injected_ns > 20 * NSEC_PER_SEC) /* a long outage: its start */
		end = f->injected_ns + 20 * NSEC_PER_SEC;
	margin = (end - f->injected_ns) / 5;
	if (margin < 30 * NSEC_PER_MSEC)
		margin = 30 * NSEC_PER_MSEC;
	c->from_ns = f->injected_ns - margin;
	c->to_ns = end + margin;
}

/* A close-up per injected fault; the buckets go in *bufs (one allocation per close-up,
 * freed by the caller: n_faults entries). */
static int closeups(struct drill_run *r, struct report_series *s, struct report_closeup **out,
		    struct report_bucket ***bufs)
{
	struct report_closeup *c = calloc(r->d->n_faults + 1, sizeof(*c));
	struct report_bucket **b = calloc(r->d->n_faults + 1, sizeof(*b));
	size_t n = 0;
	int k = 0;

	*out = c;
	*bufs = b;
	if (!c || !b)
		return -ENOMEM;
	for (size_t i = 0; i < r->d->n_faults && k >= 0; i++) {
		if (!run_fault_result(r, i)->injected)
			continue;
		if (n == REPORT_MAX_CLOSEUPS) {
			s->n_closeups_omitted++;
			continue;
		}
		closeup_window(r, s, i, &c[n]);
		if ((k = fine_buckets(r->ledger, &c[n], &b[n])) >= 0)
			n++;
	}
	s->closeups = c;
	s->n_closeups = n;
	return k;
}

/* What one target's series holds and owns. */
struct series_bufs {
	struct report_bucket *buckets;
	struct report_band *bands;
	struct report_op *ops;
	struct report_closeup *closeups;
	struct report_bucket **fine;
	size_t n_fine;
};

static int one_series(struct drill_run *r, struct report_series *s, struct series_bufs *m)
{
	int k;

	*s = (struct report_series){ .origin_ns = r->steady_ns,
				     .rto_from_ns = -1,
				     .rto_to_ns = -1 };
	if (run_multi(r))
		s->target = r->d->target->name;
	if (!r->ledger || !r->ledger->n)
		return 0;
	if ((k = buckets(r->ledger, s, &m->buckets)) < 0 || (k = bands(r, s, &m->bands)) < 0)
		return k;
	rto_marker(r, s);
	m->n_fine = r->d->n_faults + 1;
	if ((k = closeups(r, s, &m->closeups, &m->fine)) < 0)
		return k;
	return ops_sample(r->ledger, s, &m->ops);
}

static void bufs_free(struct series_bufs *m)
{
	free(m->buckets);
	free(m->bands);
	free(m->ops);
	free(m->closeups);
	for (size_t i = 0; m->fine && i < m->n_fine; i++)
		free(m->fine[i]);
	free(m->fine);
}

int run_write_html(struct drill_run *r)
{
	struct report_series *s = calloc(r->n_wls, sizeof(*s));
	struct series_bufs *m = calloc(r->n_wls, sizeof(*m));
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	char path[4200];
	int k = s && m ? 0 : -ENOMEM;

	for (size_t i = 0; i < r->n_wls && k >= 0; i++) { /* one series per target */
		run_select(r, i);
		if ((k = one_series(r, &s[n], &m[i])) >= 0 && s[n].n_buckets)
			n++;
	}
	run_select(r, 0);
	if (k >= 0)
		k = report_html_write(&r->res->suite, s, n, &sb);
	if (k >= 0) {
		snprintf(path, sizeof(path), "%s/report.html", r->run_dir);
		k = fs_write_atomic(path, sb.buf, sb.len, 0644);
	}
	strbuf_release(&sb);
	for (size_t i = 0; m && i < r->n_wls; i++)
		bufs_free(&m[i]);
	free(m);
	free(s);
	return k;
}
