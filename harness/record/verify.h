/* harness/record/: what a drill leaves as its record and what is concluded from it,
 * all pure: the ledger of every operation (ledger.h), the timeline of every event
 * (timeline.h), and the verdicts (this file): RTO, RPO and integrity, computed from them
 * and nothing else.
 *
 * Verification: RTO, RPO and integrity computed from the ledger, the final read and the
 * fault times, exactly as shared/DESIGN.md §6 defines them. Pure: no clock, no I/O.
 *
 * Usage:
 *   struct final_read fr;  final_read_init(&fr, ledger);
 *   conn_read_all(driver, host, port, timeout, final_read_kv, &fr);   // fills fr
 *   struct verify_input in = { .ledger = l, .faults = f, .n_faults = n, .rto_ops = 3,
 *                              .write_interval_ns = clients * 1e9 / rate };
 *   struct verify_result res;  verify_run(&in, &fr, &res);
 *   ... res.rto_ns, res.bound_ns, res.slow_ns, res.lost, res.integrity_ok ...
 *   verify_result_release(&res); final_read_release(&fr);
 */
#ifndef CHAOSDRILL_HARNESS_VERIFY_H
#define CHAOSDRILL_HARNESS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/record/ledger.h"

#define VERIFY_MAX_EXAMPLES 16

/* What the final read found, per operation id. */
struct final_read {
	const struct ledger *ledger; /* borrowed */
	uint8_t *seen;		     /* [id - 1]: 1 present and intact */
	uint64_t keys;		     /* keys read */
	uint64_t phantoms;	     /* keys or values the workload never wrote */
	uint64_t corrupt;	     /* values that fail their checksum or differ from the write */
	char first_bad[160];	     /* the first phantom or corrupt key, for the report */
	char *expect_buf;	     /* scratch of ledger->value_size bytes */
};

int final_read_init(struct final_read *fr, const struct ledger *l);
/* target_kv_fn: records one key/value of the final read. */
int final_read_kv(void *ud, const char *key, size_t klen, const void *val, size_t vlen);
void final_read_release(struct final_read *fr);

struct verify_fault {
	int64_t at_ns;	 /* injection time */
	int64_t heal_ns; /* heal time, or -1 */
};

/* The latency bound `slow` past which an acknowledged write is a casualty: the drill's own
 * (expect: {slow: ...}), else VERIFY_SLOW_MULT times the p99 latency of the steady state
 * (writes sent after the warm-up, acknowledged before the first fault), and never below
 * VERIFY_SLOW_FLOOR_NS. Why these
 * numbers: on a shared 2-core machine a healthy kvlog node's steady-state p99 was 0.3-3.8 ms
 * in quiet runs and up to 62 ms while other builds ran, with single writes up to 78 ms. The
 * floor keeps such host hiccups from being outages; ten p99s follow a slower target (or a
 * busier host) up. A stall shorter than the bound is no outage: a drill that must see
 * shorter ones sets `slow` itself. Since the outage ends at an acknowledgement, a bound
 * too generous only hides short stalls: it never makes an outage end early. */
#define VERIFY_SLOW_MULT 10
#define VERIFY_SLOW_FLOOR_NS (100 * 1000 * 1000LL)

enum verify_slow_source {
	VERIFY_SLOW_SET,       /* the drill set it */
	VERIFY_SLOW_STEADY,    /* VERIFY_SLOW_MULT x the steady-state p99 */
	VERIFY_SLOW_FLOOR,     /* the floor: the steady state was quicker still */
	VERIFY_SLOW_NO_STEADY, /* the floor: no write was acknowledged before the first fault */
};

struct verify_input {
	const struct ledger *ledger;
	const struct verify_fault *faults; /* sorted by at_ns */
	size_t n_faults;
	const int64_t *probe_ok_ns; /* readiness probe passes, sorted; may be NULL */
	size_t n_probe_ok;
	unsigned rto_ops;	/* N consecutive on-time successes (default 3) */
	int64_t slow_ns;	/* the drill's latency bound; 0: derive it */
	int64_t steady_from_ns; /* the end of the workload's warm-up: the steady
					    * state runs from it to the first fault */
	/* For the error bound: the time between two writes of one client (clients / rate)
	 * and how late the readiness probe may pass after the node is ready; 0 if unknown. */
	int64_t write_interval_ns;
	int64_t probe_lag_ns;
};

/* One fault's outage, as clients saw it (shared/DESIGN.md §6). Times are from the fault. */
struct verify_rto {
	bool outage;		  /* some write after the fault was a casualty */
	bool recovered;		  /* N consecutive on-time successes came after it */
	int64_t rto_ns;		  /* the acknowledgement that ended the outage; 0 without one */
	int64_t detect_ns;	  /* the first casualty: failed, timed out, or `slow` overdue */
	int64_t first_ok_ns;	  /* first on-time acknowledgement after the outage began, -1 */
	int64_t since_heal_ns;	  /* recovery - heal, or -1 */
	int64_t end_sent_ns;	  /* the write whose acknowledgement ended it: sent then, */
	int64_t end_latency_ns;	  /* ... and acknowledged this much later */
	bool probe_gated;	  /* the end waited for the readiness probe to pass */
	int64_t bound_ns;	  /* the figure is at most this much above the true outage */
	uint64_t failed, unknown; /* casualties that failed, timed out */
	uint64_t late;		  /* casualties acknowledged late: they waited out the outage */
	int64_t late_wait_p50_ns, late_wait_max_ns; /* how long they waited */
};

struct verify_result {
	struct verify_rto *rto; /* one per fault */
	size_t n_rto;
	bool recovered;	  /* every fault's outage ended */
	int64_t rto_ns;	  /* the largest */
	int64_t bound_ns; /* the largest error bound among the faults' figures */
	bool bound_probe; /* bound_ns includes the readiness probe's lag */
	int64_t slow_ns;  /* the latency bound used */
	enum verify_slow_source slow_source;
	int64_t steady_p50_ns, steady_p99_ns; /* of the steady state's acknowledged writes */
	uint64_t steady_n;
	uint64_t ops, acked, failed, unknown, pending;
	uint64_t lost;	       /* acknowledged, missing from the final read: RPO count */
	int64_t rpo_window_ns; /* first fault - oldest lost acknowledgement (>= 0) */
	uint64_t lost_ids[VERIFY_MAX_EXAMPLES];
	size_t n_lost_ids;
	uint64_t unknown_present, failed_present; /* failed_present: refused but applied */
	uint64_t failed_present_ids[VERIFY_MAX_EXAMPLES];
	size_t n_failed_present_ids;
	bool integrity_ok; /* no phantom, no corruption, no refused write present */
};

int verify_run(const struct verify_input *in, const struct final_read *fr,
	       struct verify_result *out);
void verify_result_release(struct verify_result *r);
/* True when the drill's workload is too sparse to measure an RTO target of target_ns to
 * within a tenth: the figure's error bound is more than target_ns / 10. */
bool verify_too_sparse(const struct verify_result *r, int64_t target_ns);

#endif
