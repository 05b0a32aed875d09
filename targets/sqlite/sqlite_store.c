/* The SQLite node's database (sqlite_store.h): libsqlite3 behind -errno. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "targets/sqlite/sqlite_store.h"

struct sqlite_store {
	sqlite3 *db;
	sqlite3_stmt *begin, *insert, *commit, *rollback, *scan;
	char errmsg[256];
};

static void db_closep(sqlite3 **db)
{
	if (*db)
		sqlite3_close_v2(*db);
}
#define _cleanup_db_ _cleanup_(db_closep)

/* SQLite's primary result codes as errno values. */
static int to_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
	case SQLITE_CONSTRAINT:
		return -EINVAL;
	case SQLITE_INTERRUPT:
		return -EINTR;
	default:
		return -EIO;
	}
}

static int fail(struct sqlite_store *st, int rc)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s", sqlite3_errmsg(st->db));
	return to_errno(rc) ? to_errno(rc) : -EIO;
}

int sqlite_store_parse_sync(const char *s, enum sqlite_store_sync *out)
{
	static const char *const names[] = { "full", "normal", "off" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum sqlite_store_sync)i;
			return 0;
		}
	return -EINVAL;
}

int sqlite_store_parse_journal(const char *s, enum sqlite_store_journal *out)
{
	static const char *const names[] = { "wal", "delete", "off" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum sqlite_store_journal)i;
			return 0;
		}
	return -EINVAL;
}

static int exec(struct sqlite_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

/* journal_mode answers with the mode it is in: a mode SQLite refused shows here. */
static int set_journal(struct sqlite_store *st, enum sqlite_store_journal j)
{
	static const char *const modes[] = { "wal", "delete", "off" };
	char sql[64];
	sqlite3_stmt *q = NULL;
	int rc, r = 0;

	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", modes[j]);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		r = fail(st, rc);
	else if (strcasecmp((const char *)sqlite3_column_text(q, 0), modes[j])) {
		snprintf(st->errmsg, sizeof(st->errmsg), "journal_mode %s refused: still %s",
			 modes[j], sqlite3_column_text(q, 0));
		r = -EINVAL;
	}
	sqlite3_finalize(q);
	return r;
}

static int prepare(struct sqlite_store *st, const char *sql, sqlite3_stmt **q)
{
	int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL);

	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

static int setup(struct sqlite_store *st, const struct sqlite_store_opts *o)
{
	static const char *const syncs[] = { "PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL",
					     "PRAGMA synchronous=OFF" };
	int r;

	sqlite3_extended_result_codes(st->db, 1);
	/* synchronous first: it then governs every write, the new file's header included. */
	if ((r = exec(st, syncs[o->sync])) < 0 || (r = set_journal(st, o->journal)) < 0 ||
	    (r = exec(st, "CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v TEXT)")) < 0)
		return r;
	if ((r = prepare(st, "BEGIN IMMEDIATE", &st->begin)) < 0 ||
	    (r = prepare(st,
			 "INSERT INTO kv(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO UPDATE SET "
			 "v = excluded.v",
			 &st->insert)) < 0 ||
	    (r = prepare(st, "COMMIT", &st->commit)) < 0 ||
	    (r = prepare(st, "ROLLBACK", &st->rollback)) < 0 ||
	    (r = prepare(st, "SELECT k, v FROM kv ORDER BY k", &st->scan)) < 0)
		return r;
	return 0;
}

int sqlite_store_open(const char *dir, const struct sqlite_store_opts *opts,
		      struct sqlite_store **out)
{
	_cleanup_free_ char *path = NULL;
	struct sqlite_store *st;
	int rc, r;

	*out = NULL;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (asprintf(&path, "%s/%s", dir, SQLITE_STORE_FILE) < 0)
		return -ENOMEM;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	r = rc == SQLITE_OK ? setup(st, opts) : fail(st, rc);
	/* Also on failure: the caller prints the reason before freeing. */
	*out = st;
	return r;
}

void sqlite_store_free(struct sqlite_store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->insert);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_finalize(st->scan);
	sqlite3_close_v2(st->db);
	free(st);
}

const char *sqlite_store_errmsg(const struct sqlite_store *st)
{
	return st->errmsg[0] ? st->errmsg : "no error";
}

static int step_done(struct sqlite_store *st, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(st, rc);
}

static void rollback_if_open(struct sqlite_store *st)
{
	/* After some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite has rolled back already. */
	if (!sqlite3_get_autocommit(st->db)) {
		sqlite3_step(st->rollback);
		sqlite3_reset(st->rollback);
	}
}

int sqlite_store_commit(struct sqlite_store *st, const char *const *keys, const char *const *vals,
			size_t n, enum sqlite_store_stage *stage)
{
	int r;

	*stage = STORE_STAGE_BEFORE_COMMIT;
	r = step_done(st, st->begin);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(st->insert, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st->insert, 2, vals[i], -1, SQLITE_STATIC);
		r = step_done(st, st->insert);
		sqlite3_clear_bindings(st->insert);
		if (r < 0) {
			rollback_if_open(st);
			return r;
		}
	}
	*stage = STORE_STAGE_COMMIT;
	r = step_done(st, st->commit);
	if (r < 0)
		rollback_if_open(st);
	return r;
}

int sqlite_store_read_all(struct sqlite_store *st,
			  int (*row)(void *ctx, const char *key, const char *val), void *ctx,
			  uint64_t *count)
{
	int rc, r = 0;

	*count = 0;
	while ((rc = sqlite3_step(st->scan)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st->scan, 0);
		const char *v = (const char *)sqlite3_column_text(st->scan, 1);

		r = row(ctx, k ? k : "", v ? v : "");
		if (r < 0)
			break;
		(*count)++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(st->scan);
	return r;
}

int sqlite_store_check(const char *path, void (*line)(void *ctx, const char *text), void *ctx,
		       char **err)
{
	_cleanup_db_ sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc, rows = 0, ok = 0;

	/* No SQLITE_OPEN_CREATE: a missing database is an error, not an empty one. A hot
	 * journal or WAL is recovered on open, as the node itself would on its next start. */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);

		rows++;
		ok = t && !strcmp(t, "ok");
		line(ctx, t ? t : "(null)");
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		if (err)
			*err = strdup(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_finalize(q);
		return to_errno(rc) ? to_errno(rc) : -EIO;
	}
	sqlite3_finalize(q);
	return rows == 1 && ok;
}
