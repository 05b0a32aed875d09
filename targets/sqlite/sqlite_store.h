/* The one file that talks to libsqlite3: the node's key-value table kv(k TEXT PRIMARY KEY,
 * v TEXT) in DIR/kv.db, written in group-commit transactions, read whole, and checked with
 * PRAGMA integrity_check. SQLite's result codes become -errno here; the text SQLite gave
 * for the last failure is kept for replies and logs.
 *
 * Usage:
 *   struct sqlite_store *st;
 *   r = sqlite_store_open(dir, &opts, &st);                // creates the table if missing
 *   r = sqlite_store_commit(st, keys, vals, n, &stage);    // one transaction of n sets
 *   r = sqlite_store_read_all(st, row_cb, ctx, &count);    // every row, in key order
 *   sqlite_store_free(st);                                 // accepts NULL
 *   r = sqlite_store_check(path, line_cb, ctx);            // offline: integrity_check lines
 */
#ifndef CHAOSDRILL_TARGETS_SQLITE_STORE_H
#define CHAOSDRILL_TARGETS_SQLITE_STORE_H

#include <stddef.h>
#include <stdint.h>

#define SQLITE_STORE_FILE "kv.db"

enum sqlite_store_sync { STORE_SYNC_FULL, STORE_SYNC_NORMAL, STORE_SYNC_OFF };
enum sqlite_store_journal { STORE_JOURNAL_WAL, STORE_JOURNAL_DELETE, STORE_JOURNAL_OFF };

struct sqlite_store_opts {
	enum sqlite_store_sync sync;
	enum sqlite_store_journal journal;
};

/* How far a failed commit got: before COMMIT nothing reached the database (with a journal),
 * at COMMIT the outcome cannot be told. */
enum sqlite_store_stage { STORE_STAGE_BEFORE_COMMIT, STORE_STAGE_COMMIT };

struct sqlite_store;

/* "full" -> STORE_SYNC_FULL ...; -EINVAL for other names. */
int sqlite_store_parse_sync(const char *s, enum sqlite_store_sync *out);
int sqlite_store_parse_journal(const char *s, enum sqlite_store_journal *out);

/* Opens (creating) DIR/kv.db with the journal mode and synchronous level of opts. *out is
 * set also on failure, so that sqlite_store_errmsg() can say why; free it either way. */
int sqlite_store_open(const char *dir, const struct sqlite_store_opts *opts,
		      struct sqlite_store **out);
void sqlite_store_free(struct sqlite_store *st);

/* One transaction setting keys[i] to vals[i] (borrowed). On failure *stage says whether
 * COMMIT had been reached; the transaction is rolled back where SQLite left it open. */
int sqlite_store_commit(struct sqlite_store *st, const char *const *keys, const char *const *vals,
			size_t n, enum sqlite_store_stage *stage);

/* Calls row(ctx, key, value) for every row (a negative return stops the scan and is
 * returned); *count is the number of rows passed. */
int sqlite_store_read_all(struct sqlite_store *st,
			  int (*row)(void *ctx, const char *key, const char *val), void *ctx,
			  uint64_t *count);

/* What SQLite said about the last failure ("database disk image is malformed"). Borrowed. */
const char *sqlite_store_errmsg(const struct sqlite_store *st);

/* PRAGMA integrity_check on the database file at path (no journal mode or table imposed):
 * line(ctx, text) for every row it returns. 1 if the only row was "ok", 0 if it found
 * problems, -errno if it could not run (*err, if given, gets SQLite's text; caller frees). */
int sqlite_store_check(const char *path, void (*line)(void *ctx, const char *text), void *ctx,
		       char **err);

#endif
