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
 *   struct verify_input in = { .ledger = l, .faults = f, .n_faults = n, .rto_ops = 3 };
 *   struct verify_result res;  verify_run(&in, &fr, &res);
 *   ... res.rto_ns, res.lost, res.integrity_ok ...
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
	uint8_t *seen;               /* [id - 1]: 1 present and intact */
	uint64_t keys;               /* keys read */
	uint64_t phantoms;           /* keys or values the workload never wrote */
	uint64_t corrupt;            /* values that fail their checksum or differ from the write */
	char first_bad[160];         /* the first phantom or corrupt key, for the report */
	char *expect_buf;            /* scratch of ledger->value_size bytes */
};

int final_read_init(struct final_read *fr, const struct ledger *l);
/* target_kv_fn: records one key/value of the final read. */
int final_read_kv(void *ud, const char *key, size_t klen, const void *val, size_t vlen);
void final_read_release(struct final_read *fr);

struct verify_fault {
	int64_t at_ns;   /* injection time */
	int64_t heal_ns; /* heal time, or -1 */
};

struct verify_input {
	const struct ledger *ledger;
	const struct verify_fault *faults; /* sorted by at_ns */
	size_t n_faults;
	const int64_t *probe_ok_ns;        /* readiness probe passes, sorted; may be NULL */
	size_t n_probe_ok;
	unsigned rto_ops;                  /* N consecutive successes (default 3) */
};

struct verify_rto {
	bool outage;            /* some operation failed after the fault */
	bool recovered;         /* N consecutive successes came after the outage */
	int64_t rto_ns;         /* 0 when no outage */
	int64_t detect_ns;      /* first failed operation's end - fault (outage only) */
	int64_t first_ok_ns;    /* first success after the outage began - fault */
	int64_t since_heal_ns;  /* recovery - heal, or -1 */
	uint64_t failed, unknown; /* operations in this fault's window */
};

struct verify_result {
	struct verify_rto *rto; /* one per fault */
	size_t n_rto;
	bool recovered;         /* every fault's outage ended */
	int64_t rto_ns;         /* the largest */
	uint64_t ops, acked, failed, unknown, pending;
	uint64_t lost;          /* acknowledged, missing from the final read: RPO count */
	int64_t rpo_window_ns;  /* first fault - oldest lost acknowledgement (>= 0) */
	uint64_t lost_ids[VERIFY_MAX_EXAMPLES];
	size_t n_lost_ids;
	uint64_t unknown_present, failed_present; /* failed_present: refused but applied */
	uint64_t failed_present_ids[VERIFY_MAX_EXAMPLES];
	size_t n_failed_present_ids;
	bool integrity_ok;      /* no phantom, no corruption, no refused write present */
};

int verify_run(const struct verify_input *in, const struct final_read *fr,
	       struct verify_result *out);
void verify_result_release(struct verify_result *r);

#endif
