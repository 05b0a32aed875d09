/* The history file: SQLite, confined to this file; its result codes become -errno here.
 *
 * Layout: a schema_version table and one migration per version (migrations[i] takes a
 * file from version i to i + 1; version 0 is a new, empty file). A run is a row of `runs`
 * with its targets', faults' and cases' rows in tables of their own, all written in one
 * IMMEDIATE transaction: two harness processes appending at once take turns (the busy
 * timeout waits for the other's transaction), and a reader sees whole runs only. The
 * default rollback journal, not WAL: WAL needs shared memory that network file systems,
 * where CI keeps such files, do not give. */
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/failpoint.h"
#include "common/units.h"
#include "harness/history/history.h"

/* How long an append waits for other processes' transactions: a drill takes seconds, an
 * append milliseconds, so only a stuck process (or a lock held by hand) waits this out. */
#define HISTORY_BUSY_TIMEOUT_MS 30000

struct history {
	sqlite3 *db;
	char *path;
};

static const char *const migrations[HISTORY_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"INSERT INTO schema_version VALUES (1);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  drill TEXT NOT NULL,"
	"  started_utc TEXT NOT NULL,"	 /* 2026-12-07T16:10:33Z, for people and sqlite3 */
	"  started_ns INTEGER NOT NULL," /* wall clock, ns since the epoch: the order */
	"  seed INTEGER NOT NULL,"	 /* the 64-bit seed's bits */
	"  exit_code INTEGER NOT NULL,"
	"  verdict TEXT NOT NULL,"
	"  duration_ms INTEGER NOT NULL,"
	"  rto_ms INTEGER, rpo_lost INTEGER, rpo_window_ms INTEGER, integrity INTEGER,"
	"  version TEXT NOT NULL, run_dir TEXT, hostname TEXT, error TEXT);"
	"CREATE INDEX runs_by_drill ON runs (drill, started_ns);"
	"CREATE TABLE run_targets ("
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	"  target TEXT NOT NULL,"
	"  rto_ms INTEGER, rpo_lost INTEGER, rpo_window_ms INTEGER, integrity INTEGER,"
	"  PRIMARY KEY (run_id, target));"
	"CREATE TABLE run_faults ("
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	"  target TEXT NOT NULL, fault INTEGER NOT NULL, rto_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (run_id, target, fault));"
	"CREATE TABLE run_cases ("
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  case_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
	"  status TEXT NOT NULL, duration_ns INTEGER, message TEXT,"
	"  PRIMARY KEY (run_id, seq));",
};

static const char *const kinds[] = {
	[HISTORY_STEP] = "step",
	[HISTORY_ACTION] = "action",
	[HISTORY_EXPECT] = "expect",
};

/* A SQLite result code as -errno; the system's errno where SQLite has one. */
static int sql_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
		return -EINVAL;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		return sys > 0 ? -sys : -EIO;
	default:
		return -EIO;
	}
}

/* Sets err from a failed call and returns its -errno. */
static int fail(struct history *h, int rc, struct cd_error *err, const char *what)
{
	int k = sql_errno(h->db, rc);

	if (!k)
		k = -EIO;
	if (k == -EBUSY)
		return cd_error_set(err, EBUSY, h->path, 0, 0,
				    "%s: other processes held the history locked for %d s", what,
				    HISTORY_BUSY_TIMEOUT_MS / 1000);
	if ((rc & 0xff) == SQLITE_NOTADB)
		return cd_error_set(err, EINVAL, h->path, 0, 0,
				    "not a chaosdrill history: not a SQLite database");
	if (((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR) && k != -EIO)
		return cd_error_set(err, -k, h->path, 0, 0, "%s: %s", what, strerror(-k));
	/* the connection's message when it is about this call (not one of ours, such as
	 * SQLITE_CORRUPT for a row this file cannot read) */
	return cd_error_set(err, -k, h->path, 0, 0, "%s: %s", what,
			    h->db && sqlite3_errcode(h->db) == rc ? sqlite3_errmsg(h->db) :
								    sqlite3_errstr(rc));
}

static int exec(struct history *h, const char *sql, struct cd_error *err, const char *what)
{
	int rc = sqlite3_exec(h->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(h, rc, err, what);
}

/* The one integer a query returns (0 without a row). */
static int query_int(struct history *h, const char *sql, int64_t *v, struct cd_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL);

	*v = 0;
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : fail(h, rc, err, "cannot read the history");
}

/* The file's schema version; 0 for a new, empty file. */
static int schema_version(struct history *h, int64_t *v, struct cd_error *err)
{
	int64_t n;
	int k;

	if ((k = query_int(h, "SELECT count(*) FROM sqlite_master", &n, err)) < 0)
		return k;
	*v = 0;
	if (n == 0)
		return 0;
	if ((k = query_int(h,
			   "SELECT count(*) FROM sqlite_master"
			   " WHERE type = 'table' AND name = 'schema_version'",
			   &n, err)) < 0)
		return k;
	if (n == 0)
		return cd_error_set(err, EINVAL, h->path, 0, 0,
				    "a SQLite database, but not a chaosdrill history");
	if ((k = query_int(h, "SELECT max(version) FROM schema_version", v, err)) < 0)
		return k;
	if (*v > HISTORY_SCHEMA_VERSION)
		return cd_error_set(err, EPROTONOSUPPORT, h->path, 0, 0,
				    "history schema version %lld is newer than this chaosdrill's "
				    "(%d): written by a later chaosdrill",
				    (long long)*v, HISTORY_SCHEMA_VERSION);
	if (*v < 1)
		return cd_error_set(err, EINVAL, h->path, 0, 0, "bad history schema version %lld",
				    (long long)*v);
	return 0;
}

/* Brings the file's schema up to date, in one transaction (two processes creating the
 * same new file: the second finds it done). */
static int migrate(struct history *h, struct cd_error *err)
{
	int64_t v;
	int k;

	if ((k = exec(h, "BEGIN IMMEDIATE", err, "cannot lock the history")) < 0)
		return k;
	k = schema_version(h, &v, err);
	for (int64_t i = v; k >= 0 && i < HISTORY_SCHEMA_VERSION; i++) {
		k = exec(h, migrations[i], err, "cannot create the history's tables");
		if (k >= 0 && i > 0) /* migration 0 sets it */
			k = exec(h, "UPDATE schema_version SET version = version + 1", err,
				 "cannot update the schema version");
	}
	if (k >= 0)
		return exec(h, "COMMIT", err, "cannot write the history's tables");
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return k;
}

/* A read-only history must already be of this version. */
static int check_version(struct history *h, struct cd_error *err)
{
	int64_t v;
	int k = schema_version(h, &v, err);

	if (k < 0)
		return k;
	if (v == 0)
		return cd_error_set(err, EINVAL, h->path, 0, 0,
				    "empty: not a chaosdrill history (`chaosdrill run --history "
				    "FILE` makes one)");
	if (v < HISTORY_SCHEMA_VERSION)
		return cd_error_set(err, EPROTONOSUPPORT, h->path, 0, 0,
				    "history schema version %lld is older than this chaosdrill's "
				    "(%d): `chaosdrill run --history FILE` brings it up to date",
				    (long long)v, HISTORY_SCHEMA_VERSION);
	return 0;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	sqlite3_close(h->db);
	free(h->path);
	free(h);
}

int history_open(const char *path, enum history_mode mode, struct history **out,
		 struct cd_error *err)
{
	int flags = mode == HISTORY_CREATE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE :
					     SQLITE_OPEN_READONLY;
	struct history *h = calloc(1, sizeof(*h));
	char sqlite_path[4200];
	int rc, k;

	/* a path, never one of SQLite's special names (":memory:", "file:...", "" for a
	 * temporary database): those would take the runs and keep nothing */
	snprintf(sqlite_path, sizeof(sqlite_path), "%s%s", path[0] == '/' ? "" : "./", path);

	*out = NULL;
	if (!*path) {
		free(h);
		return cd_error_set(err, EINVAL, path, 0, 0, "no history file named");
	}
	if (!h || !(h->path = strdup(path))) {
		free(h);
		return cd_error_set(err, ENOMEM, path, 0, 0, "out of memory");
	}
	rc = sqlite3_open_v2(sqlite_path, &h->db, flags, NULL);
	if (rc != SQLITE_OK) {
		k = fail(h, rc, err, "cannot open the history");
		history_close(h);
		return k;
	}
	sqlite3_busy_timeout(h->db, HISTORY_BUSY_TIMEOUT_MS);
	k = exec(h, "PRAGMA foreign_keys = ON", err, "cannot set up the history");
	if (k >= 0)
		k = mode == HISTORY_CREATE ? migrate(h, err) : check_version(h, err);
	if (k < 0) {
		history_close(h);
		return k;
	}
	*out = h;
	return 0;
}

/* Binds v, or NULL when it is -1 (not measured). */
static int bind_figure(sqlite3_stmt *st, int i, int64_t v)
{
	return v < 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC); /* NULL binds NULL */
}

/* Runs a prepared insert and resets it for the next row. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void utc(int64_t ns, char buf[32])
{
	time_t t = (time_t)(ns / NSEC_PER_SEC);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(buf, "?");
}

static int insert_run(struct history *h, const struct history_run *r)
{
	sqlite3_stmt *st = NULL;
	char when[32];
	int rc = sqlite3_prepare_v2(
		h->db,
		"INSERT INTO runs (drill, started_utc, started_ns, seed, exit_code, verdict,"
		" duration_ms, rto_ms, rpo_lost, rpo_window_ms, integrity, version, run_dir,"
		" hostname, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		-1, &st, NULL);

	utc(r->started_ns, when);
	if (rc == SQLITE_OK) {
		bind_text(st, 1, r->drill);
		bind_text(st, 2, when);
		sqlite3_bind_int64(st, 3, r->started_ns);
		sqlite3_bind_int64(st, 4, (int64_t)r->seed);
		sqlite3_bind_int(st, 5, r->exit_code);
		bind_text(st, 6, history_verdict(r->exit_code));
		sqlite3_bind_int64(st, 7, r->duration_ms);
		bind_figure(st, 8, r->rto_ms);
		bind_figure(st, 9, r->rpo_lost);
		bind_figure(st, 10, r->rpo_window_ms);
		bind_figure(st, 11, r->integrity);
		bind_text(st, 12, r->version ? r->version : CHAOSDRILL_VERSION);
		bind_text(st, 13, r->run_dir);
		bind_text(st, 14, r->hostname);
		bind_text(st, 15, r->error);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_targets(struct history *h, const struct history_run *r, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h->db,
				    "INSERT INTO run_targets (run_id, target, rto_ms, rpo_lost,"
				    " rpo_window_ms, integrity) VALUES (?,?,?,?,?,?)",
				    -1, &st, NULL);

	for (size_t i = 0; rc == SQLITE_OK && i < r->n_targets; i++) {
		const struct history_target *t = &r->targets[i];

		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, t->target ? t->target : "");
		bind_figure(st, 3, t->rto_ms);
		bind_figure(st, 4, t->rpo_lost);
		bind_figure(st, 5, t->rpo_window_ms);
		bind_figure(st, 6, t->integrity);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_faults(struct history *h, const struct history_run *r, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
		h->db, "INSERT INTO run_faults (run_id, target, fault, rto_ms) VALUES (?,?,?,?)",
		-1, &st, NULL);

	for (size_t i = 0; rc == SQLITE_OK && i < r->n_faults; i++) {
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, r->faults[i].target ? r->faults[i].target : "");
		sqlite3_bind_int64(st, 3, r->faults[i].fault);
		sqlite3_bind_int64(st, 4, r->faults[i].rto_ms);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_cases(struct history *h, const struct history_run *r, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h->db,
				    "INSERT INTO run_cases (run_id, seq, case_id, kind, name,"
				    " status, duration_ns, message) VALUES (?,?,?,?,?,?,?,?)",
				    -1, &st, NULL);

	for (size_t i = 0; rc == SQLITE_OK && i < r->n_cases; i++) {
		const struct history_case *c = &r->cases[i];

		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		bind_text(st, 3, c->id);
		bind_text(st, 4, kinds[c->kind]);
		bind_text(st, 5, c->name ? c->name : c->id);
		bind_text(st, 6, history_status_name(c->status));
		bind_figure(st, 7, c->duration_ns);
		bind_text(st, 8, c->message);
		rc = step_done(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int history_append(struct history *h, struct history_run *run, struct cd_error *err)
{
	int64_t id;
	int rc, k;

	if ((k = failpoint("history.append", -ENOSPC)) < 0) /* test-only */
		return cd_error_set(err, -k, h->path, 0, 0, "cannot append the run: %s",
				    strerror(-k));
	if ((k = exec(h, "BEGIN IMMEDIATE", err, "cannot lock the history")) < 0)
		return k;
	rc = insert_run(h, run);
	id = sqlite3_last_insert_rowid(h->db);
	if (rc == SQLITE_OK)
		rc = insert_targets(h, run, id);
	if (rc == SQLITE_OK)
		rc = insert_faults(h, run, id);
	if (rc == SQLITE_OK)
		rc = insert_cases(h, run, id);
	if (rc != SQLITE_OK) {
		k = fail(h, rc, err, "cannot append the run");
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		return k;
	}
	if ((k = exec(h, "COMMIT", err, "cannot append the run")) < 0) {
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		return k;
	}
	run->id = id;
	return 0;
}

/* Reading back. */

static int64_t col_figure(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/* A copy of a text column (NULL stays NULL); *bad set when out of memory. */
static char *col_text(sqlite3_stmt *st, int i, bool *bad)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	char *c;

	if (!s)
		return NULL;
	if (!(c = strdup((const char *)s)))
		*bad = true;
	return c;
}

/* Grows *v (of *n elements, each size bytes) by one zeroed element. */
static void *grow(void *pv, size_t n, size_t size)
{
	void **v = pv;
	char *p = realloc(*v, (n + 1) * size);

	if (!p)
		return NULL;
	memset(p + n * size, 0, size);
	*v = p;
	return p + n * size;
}

static int load_targets(sqlite3_stmt *st, struct history_run *r)
{
	bool bad = false;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct history_target *t = grow(&r->targets, r->n_targets, sizeof(*t));

		if (!t)
			return SQLITE_NOMEM;
		r->n_targets++;
		t->target = col_text(st, 0, &bad);
		t->rto_ms = col_figure(st, 1);
		t->rpo_lost = col_figure(st, 2);
		t->rpo_window_ms = col_figure(st, 3);
		t->integrity = (int)col_figure(st, 4);
		if (bad || !t->target)
			return SQLITE_NOMEM;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int load_faults(sqlite3_stmt *st, struct history_run *r)
{
	bool bad = false;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct history_fault *f = grow(&r->faults, r->n_faults, sizeof(*f));

		if (!f)
			return SQLITE_NOMEM;
		r->n_faults++;
		f->target = col_text(st, 0, &bad);
		f->fault = (unsigned)sqlite3_column_int64(st, 1);
		f->rto_ms = sqlite3_column_int64(st, 2);
		if (bad || !f->target)
			return SQLITE_NOMEM;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int case_kind(const char *s, enum history_case_kind *out)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (s && !strcmp(s, kinds[i])) {
			*out = (enum history_case_kind)i;
			return 0;
		}
	return -EINVAL;
}

static int load_cases(sqlite3_stmt *st, struct history_run *r)
{
	bool bad = false;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct history_case *c = grow(&r->cases, r->n_cases, sizeof(*c));

		if (!c)
			return SQLITE_NOMEM;
		r->n_cases++;
		c->id = col_text(st, 0, &bad);
		c->name = col_text(st, 2, &bad);
		c->duration_ns = col_figure(st, 4);
		c->message = col_text(st, 5, &bad);
		if (bad || !c->id || !c->name)
			return bad ? SQLITE_NOMEM : SQLITE_CORRUPT;
		if (case_kind((const char *)sqlite3_column_text(st, 1), &c->kind) < 0 ||
		    history_status_parse((const char *)sqlite3_column_text(st, 3), &c->status) < 0)
			return SQLITE_CORRUPT;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The statements of one load: the runs, and each run's targets, faults and cases. */
struct loader {
	sqlite3_stmt *runs, *targets, *faults, *cases;
};

static int prepare(struct history *h, struct loader *l, const char *drill)
{
	int rc = sqlite3_prepare_v2(
		h->db,
		"SELECT id, drill, started_ns, seed, exit_code, duration_ms, rto_ms, rpo_lost,"
		" rpo_window_ms, integrity, version, run_dir, hostname, error FROM runs"
		" WHERE ?1 IS NULL OR drill = ?1 ORDER BY drill, started_ns, id",
		-1, &l->runs, NULL);

	if (rc == SQLITE_OK)
		rc = bind_text(l->runs, 1, drill);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db,
					"SELECT target, rto_ms, rpo_lost, rpo_window_ms, integrity"
					" FROM run_targets WHERE run_id = ? ORDER BY rowid",
					-1, &l->targets, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db,
					"SELECT target, fault, rto_ms FROM run_faults"
					" WHERE run_id = ? ORDER BY rowid",
					-1, &l->faults, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h->db,
					"SELECT case_id, kind, name, status, duration_ns, message"
					" FROM run_cases WHERE run_id = ? ORDER BY seq",
					-1, &l->cases, NULL);
	return rc;
}

static void loader_release(struct loader *l)
{
	sqlite3_finalize(l->runs);
	sqlite3_finalize(l->targets);
	sqlite3_finalize(l->faults);
	sqlite3_finalize(l->cases);
}

/* Runs a per-run query for run r into it. */
static int load_part(sqlite3_stmt *st, struct history_run *r,
		     int (*fn)(sqlite3_stmt *, struct history_run *))
{
	int rc = sqlite3_bind_int64(st, 1, r->id);

	if (rc == SQLITE_OK)
		rc = fn(st, r);
	sqlite3_reset(st);
	return rc;
}

static int load_run(struct loader *l, struct history_run *r)
{
	sqlite3_stmt *st = l->runs;
	bool bad = false;
	int rc;

	r->id = sqlite3_column_int64(st, 0);
	r->drill = col_text(st, 1, &bad);
	r->started_ns = sqlite3_column_int64(st, 2);
	r->seed = (uint64_t)sqlite3_column_int64(st, 3);
	r->exit_code = sqlite3_column_int(st, 4);
	r->duration_ms = sqlite3_column_int64(st, 5);
	r->rto_ms = col_figure(st, 6);
	r->rpo_lost = col_figure(st, 7);
	r->rpo_window_ms = col_figure(st, 8);
	r->integrity = (int)col_figure(st, 9);
	r->version = col_text(st, 10, &bad);
	r->run_dir = col_text(st, 11, &bad);
	r->hostname = col_text(st, 12, &bad);
	r->error = col_text(st, 13, &bad);
	if (bad || !r->drill)
		return bad ? SQLITE_NOMEM : SQLITE_CORRUPT;
	rc = load_part(l->targets, r, load_targets);
	if (rc == SQLITE_OK)
		rc = load_part(l->faults, r, load_faults);
	if (rc == SQLITE_OK)
		rc = load_part(l->cases, r, load_cases);
	return rc;
}

static int load_all(struct loader *l, struct history_runs *out)
{
	int rc;

	while ((rc = sqlite3_step(l->runs)) == SQLITE_ROW) {
		struct history_run *r = grow(&out->v, out->n, sizeof(*r));

		if (!r)
			return SQLITE_NOMEM;
		out->n++;
		if ((rc = load_run(l, r)) != SQLITE_OK)
			return rc;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int history_load(struct history *h, const char *drill, struct history_runs *out,
		 struct cd_error *err)
{
	struct loader l = { 0 };
	int rc, k;

	*out = (struct history_runs){ 0 };
	/* one read transaction: a snapshot, with no half-appended run of another process */
	if ((k = exec(h, "BEGIN", err, "cannot read the history")) < 0)
		return k;
	rc = prepare(h, &l, drill);
	if (rc == SQLITE_OK)
		rc = load_all(&l, out);
	k = rc == SQLITE_OK ? 0 : fail(h, rc, err, "cannot read the history");
	loader_release(&l);
	sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
	if (k < 0)
		history_runs_release(out);
	return k;
}
