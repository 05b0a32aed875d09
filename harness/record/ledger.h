/* The ledger: every operation the workload issued, with its start and end on the drill's
 * clock and its outcome. RPO and RTO are computed from it (verify.h), never from timers.
 *
 * Usage:
 *   struct ledger *l = ledger_new(seed, value_size);
 *   uint64_t id = ledger_begin(l, now, client);        // a new write; key/value from id
 *   ledger_end(l, id, now, LEDGER_OK);                  // or FAILED / UNKNOWN
 *   ledger_write(l, "run/ledger");                      // compact text, one op a line
 *   ledger_free(l);
 */
#ifndef CHAOSDRILL_HARNESS_LEDGER_H
#define CHAOSDRILL_HARNESS_LEDGER_H

#include <stddef.h>
#include <stdint.h>

enum ledger_outcome {
	LEDGER_PENDING, /* sent, no answer yet */
	LEDGER_OK,	/* acknowledged by the target */
	LEDGER_FAILED,	/* definitely not applied: refused, or never sent */
	LEDGER_UNKNOWN, /* timed out or connection lost after sending: may or may not be there */
};

struct ledger_op {
	int64_t start_ns; /* drill clock */
	int64_t end_ns;	  /* 0 while pending */
	uint32_t client;
	uint8_t outcome; /* enum ledger_outcome */
};

struct ledger {
	struct ledger_op *ops; /* index = operation id - 1 */
	size_t n, cap;
	uint64_t seed;
	size_t value_size;
};

struct ledger *ledger_new(uint64_t seed, size_t value_size);
void ledger_free(struct ledger *l);
/* Returns the new operation's id (>= 1), or 0 on ENOMEM. */
uint64_t ledger_begin(struct ledger *l, int64_t now_ns, uint32_t client);
void ledger_end(struct ledger *l, uint64_t id, int64_t now_ns, enum ledger_outcome outcome);
const char *ledger_outcome_name(enum ledger_outcome o);
int ledger_write(const struct ledger *l, const char *path);

/* The set workload's keys and values, derived from (seed, id) so the ledger never stores
 * them: key "w<id>", value "<id>:<crc32c hex>:<payload>" of exactly value_size bytes, the
 * payload pseudo-random from (seed, id), the CRC over id and payload. */
#define LEDGER_KEY_MAX 24
#define LEDGER_VALUE_MIN 32
void ledger_key(uint64_t id, char key[LEDGER_KEY_MAX]);
/* Writes exactly value_size (>= LEDGER_VALUE_MIN) bytes to buf. */
void ledger_value(uint64_t seed, uint64_t id, size_t value_size, char *buf);
/* The id a key names, or 0 if it is not a workload key. */
uint64_t ledger_key_id(const char *key, size_t klen);
/* 0 if val is a well-formed value with a valid checksum (then *id is the id it names);
 * -EBADMSG if malformed or its checksum is wrong. */
int ledger_value_check(const void *val, size_t vlen, uint64_t *id);

#endif
