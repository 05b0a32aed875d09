/* Stray temp files of reports: a harness killed while it wrote a report (SIGKILL, OOM, a
 * power loss) leaves "result.json.tmp.PID" beside the report it never renamed into place.
 * The reports themselves are whole or absent (fs_write_atomic); these leftovers are
 * removed by the next `chaosdrill run` into the same --out (and --junit) and by
 * `chaosdrill gc --out DIR`, only once their writer is dead, and only report files' own. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "harness/run/run.h"

/* What a run directory holds, by name: nothing else of the directory is touched. */
static const char *const report_files[] = { "scenario.yaml", "schedule.json", "timeline.jsonl",
					    "ledger",	     "ledger.",	      "result.json",
					    "junit.xml",     "report.html",   NULL };

static int sweep_out(const char *out_dir, void (*say)(void *, const char *), void *ud)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int n = 0, k = fs_opendirat(AT_FDCWD, out_dir, 0, &d);

	if (k < 0)
		return k == -ENOENT ? 0 : k;
	while ((e = readdir(d))) {
		char dir[PATH_MAX];

		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", out_dir, e->d_name) >= (int)sizeof(dir))
			continue;
		k = fs_remove_stale_tmp(dir, report_files, say, ud);
		n += k > 0 ? k : 0; /* not a directory, or gone: nothing of ours */
	}
	return n;
}

int run_sweep_stale(const char *out_dir, const char *junit, void (*say)(void *, const char *),
		    void *ud)
{
	int n = out_dir ? sweep_out(out_dir, say, ud) : 0, k;

	if (n < 0)
		return n;
	if (junit) {
		char dir[PATH_MAX];
		const char *slash = strrchr(junit, '/');
		const char *base[] = { slash ? slash + 1 : junit, NULL };

		if (snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - junit) : 1,
			     slash ? junit : ".") >= (int)sizeof(dir))
			return -ENAMETOOLONG;
		if (slash == junit)
			strcpy(dir, "/");
		k = fs_remove_stale_tmp(dir, base, say, ud);
		if (k < 0 && k != -ENOENT)
			return k;
		n += k > 0 ? k : 0;
	}
	return n;
}
