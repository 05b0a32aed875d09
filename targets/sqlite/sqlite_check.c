/* sqlite-check: the SQLite target's offline checker (target.yaml `check:`).
 *
 *   sqlite-check DIR|FILE      DIR means DIR/kv.db
 *
 * Runs PRAGMA integrity_check and exits 0 only when its one answer is "ok": the sqlite3
 * shell exits 0 whatever the pragma finds. Exit 1 when it found problems or could not run
 * at all (not a database, no such file), with what SQLite said on stderr; 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "targets/sqlite/sqlite_store.h"

static void print_line(void *ctx, const char *text)
{
	const char *path = ctx;

	fprintf(stderr, "sqlite-check: %s: %s\n", path, text);
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *path = NULL, *err = NULL;
	struct stat st;
	int r;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: sqlite-check DIR|FILE   (DIR: DIR/%s)\n", SQLITE_STORE_FILE);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode))
		r = asprintf(&path, "%s/%s", argv[1], SQLITE_STORE_FILE);
	else
		r = (path = strdup(argv[1])) ? 0 : -1;
	if (r < 0)
		return 1;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "sqlite-check: %s: %s\n", path, strerror(errno));
		return 1;
	}
	r = sqlite_store_check(path, print_line, path, &err);
	if (r < 0) {
		fprintf(stderr, "sqlite-check: %s: integrity_check could not run: %s\n", path,
			err ? err : strerror(-r));
		return 1;
	}
	return r == 1 ? 0 : 1;
}
