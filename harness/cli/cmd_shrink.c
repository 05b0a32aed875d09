/* `chaosdrill shrink RUNDIR`: from a failed run, a smaller fault schedule that still fails
 * the same expectations, found by running candidate drills (harness/drill/shrink.h says
 * which) as child `chaosdrill run` processes and reading their exit codes and JUnit files. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/units.h"
#include "harness/cli/cli.h"
#include "harness/drill/drill.h"
#include "harness/drill/shrink.h"

extern char **environ;

/* SIGINT/SIGTERM: passed on to the running candidate, which tears its lab down and says so;
 * then the search stops and says what it has. */
static volatile sig_atomic_t interrupted;
static volatile pid_t child = -1;

static void on_signal(int sig)
{
	interrupted = 1;
	if (child > 0)
		kill(child, sig);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chaosdrill shrink [OPTIONS] RUNDIR\n\n"
		"From the run directory of a failed drill, searches for a smaller fault schedule\n"
		"that still fails the same expectations: first fewer faults (drop halves, then\n"
		"single faults), then faults earlier and heals sooner. Each candidate is a drill\n"
		"file with explicit faults, the seed and the run's --param pinned, run as\n"
		"`chaosdrill run`; one line per candidate says its verdict. The smallest failing\n"
		"schedule is written as DIR/minimal.yaml.\n\n"
		"Options:\n"
		"  --out DIR       where candidates, their runs and minimal.yaml go\n"
		"                  (default RUNDIR/shrink)\n"
		"  --max-runs N    run at most N drills, the original schedule included\n"
		"                  (default 40)\n"
		"  -h, --help      this help\n\n"
		"Exit codes: 0 a failing schedule was found (smaller or not); 1 the original\n"
		"schedule does not fail again; 2 bad input (not a failed run directory);\n"
		"3 the environment could not run the original schedule.\n");
}

struct shrinker {
	const char *run_dir, *out;
	unsigned max_runs, runs;
	struct drill *d;
	char *src; /* the run's scenario.yaml */
	uint64_t seed;
	char **params;
	size_t n_params;
	char **want; /* the failures every candidate must show: "CLASS/NAME" */
	size_t n_want;
	char best[4200]; /* the drill file of the smallest failing schedule */
};

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* "&lt;" and friends back to text, for the progress lines. */
static void unescape(const char *s, char *out, size_t len)
{
	static const struct {
		const char *ent, c;
	} ents[] = { { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' } };
	size_t o = 0;

	while (*s && o + 1 < len) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(ents); i++)
			if (strncmp(s, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		out[o++] = i < ARRAY_SIZE(ents) ? ents[i].c : *s;
		s += i < ARRAY_SIZE(ents) ? strlen(ents[i].ent) : 1;
	}
	out[o] = '\0';
}

/* The names of the wanted failures, unescaped, joined by ", ". */
static void want_text(const struct shrinker *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n_want && off < len; i++) {
		char name[256];
		const char *slash = strchr(s->want[i], '/');

		unescape(slash ? slash + 1 : s->want[i], name, sizeof(name));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", name);
	}
}

static int load_run(struct shrinker *s)
{
	char path[4200];
	_cleanup_free_ char *xml = NULL;
	struct drill_options o = { 0 };
	struct cd_error err = { 0 };
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/scenario.yaml", s->run_dir);
	if ((r = fs_read_all(path, 4 << 20, &s->src, &len)) < 0) {
		fprintf(stderr, "chaosdrill shrink: cannot read %s: %s\n", path, strerror(-r));
		return -EINVAL;
	}
	if (shrink_read_header(s->src, &s->seed, &s->params, &s->n_params) < 0) {
		fprintf(stderr,
			"chaosdrill shrink: %s has no '# resolved by chaosdrill ...: seed N' line: "
			"not a run directory's\n",
			path);
		return -EINVAL;
	}
	o = (struct drill_options){ .params = (const char *const *)s->params,
				    .n_params = s->n_params,
				    .has_seed = true,
				    .seed = s->seed };
	if (drill_load(path, &o, &s->d, &err) < 0) {
		cli_print_error(&err);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/junit.xml", s->run_dir);
	if ((r = fs_read_all(path, 64 << 20, &xml, &len)) < 0) {
		fprintf(stderr, "chaosdrill shrink: cannot read %s: %s\n", path, strerror(-r));
		return -EINVAL;
	}
	if ((r = shrink_junit_failures(xml, true, &s->want, &s->n_want)) < 0 ||
	    (!s->n_want && (r = shrink_junit_failures(xml, false, &s->want, &s->n_want)) < 0))
		return r;
	if (!s->n_want) {
		fprintf(stderr, "chaosdrill shrink: %s: the run did not fail: nothing to shrink\n",
			s->run_dir);
		return -EINVAL;
	}
	return 0;
}

/* Runs `chaosdrill run` on file; its exit code, or -errno. */
static int run_child(const struct shrinker *s, const char *file, const char *junit, const char *log)
{
	char runs[4200];
	const char *argv[16 + 2 * 64];
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	pid_t pid;
	int st, r;

	snprintf(runs, sizeof(runs), "%s/runs", s->out);
	argv[n++] = "chaosdrill";
	argv[n++] = "run";
	argv[n++] = "--out";
	argv[n++] = runs;
	argv[n++] = "--junit";
	argv[n++] = junit;
	for (size_t i = 0; i < s->n_params && i < 64 && cfg_get(s->d->sc->tree, "targets"); i++) {
		argv[n++] = "--param"; /* several targets: the file says them in a comment */
		argv[n++] = s->params[i];
	}
	argv[n++] = file;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	child = pid;
	if (interrupted)
		kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			child = -1;
			return -errno;
		}
	child = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Does the candidate's JUnit file show every wanted failure? */
static bool same_failure(const struct shrinker *s, const char *junit)
{
	_cleanup_free_ char *xml = NULL;
	char **got = NULL;
	size_t len, n = 0;
	bool all = true;

	if (fs_read_all(junit, 64 << 20, &xml, &len) < 0 ||
	    shrink_junit_failures(xml, false, &got, &n) < 0)
		return false;
	for (size_t i = 0; i < s->n_want && all; i++) {
		bool found = false;

		for (size_t j = 0; j < n && !found; j++)
			found = strcmp(s->want[i], got[j]) == 0;
		all = found;
	}
	free_strv(got, n);
	return all;
}

/* What the candidate changed, for its progress line. */
static void what_changed(const struct shrink *sh, bool original, char *buf, size_t len)
{
	const struct shrink_fault *f = sh->pos < sh->n ? &sh->cur[sh->pos] : NULL;
	char a[32], b[32];

	if (original) {
		snprintf(buf, len, "the original schedule");
	} else if (sh->phase == SHRINK_DROP) {
		size_t start, end;

		shrink_drop_range(sh, &start, &end);
		if (end - start > 1)
			snprintf(buf, len, "without faults %zu-%zu", start + 1, end);
		else
			snprintf(buf, len, "without fault %zu", start + 1);
	} else if (sh->phase == SHRINK_EARLIER && f) {
		units_format_duration(f->at_ns, a, sizeof(a));
		units_format_duration(sh->cand[sh->pos].at_ns, b, sizeof(b));
		snprintf(buf, len, "fault %zu (%s) at %s instead of %s", sh->pos + 1, f->kind, b,
			 a);
	} else if (f) {
		units_format_duration(f->heal_at_ns - f->at_ns, a, sizeof(a));
		units_format_duration(sh->cand[sh->pos].heal_at_ns - f->at_ns, b, sizeof(b));
		snprintf(buf, len, "fault %zu (%s) healed after %s instead of %s", sh->pos + 1,
			 f->kind, b, a);
	} else {
		buf[0] = '\0';
	}
}

/* Writes and runs candidate number k; 1: it fails the same way, 0: not, <0: exit code to
 * return from shrink (as -code). */
static int try_candidate(struct shrinker *s, const struct shrink *sh, const struct shrink_fault *f,
			 size_t n, bool original)
{
	char file[4200], junit[4200], log[4200], what[200], want[600];
	struct strbuf sb = STRBUF_INIT;
	unsigned k = ++s->runs;
	int r;

	snprintf(file, sizeof(file), "%s/candidate-%u.yaml", s->out, k);
	snprintf(junit, sizeof(junit), "%s/candidate-%u.junit.xml", s->out, k);
	snprintf(log, sizeof(log), "%s/candidate-%u.log", s->out, k);
	r = shrink_write_drill(s->src, s->d->sc->tree, f, n, s->seed,
			       (const char *const *)s->params, s->n_params, &sb);
	if (r >= 0)
		r = fs_write_atomic(file, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	if (r < 0) {
		fprintf(stderr, "chaosdrill shrink: cannot write %s: %s\n", file, strerror(-r));
		return r == -EINVAL ? -EXIT_BAD_INPUT : -EXIT_ENVIRONMENT;
	}
	unlink(junit);
	what_changed(sh, original, what, sizeof(what));
	r = run_child(s, file, junit, log);
	want_text(s, want, sizeof(want));
	if (r == EXIT_MISSED && same_failure(s, junit)) {
		printf("candidate %u: faults %zu, verdict fail (%s), kept: %s\n", k, n, want, what);
		snprintf(s->best, sizeof(s->best), "%s", file);
	} else {
		printf("candidate %u: faults %zu, verdict %s, dropped: %s\n", k, n,
		       r == EXIT_MET	     ? "pass" :
		       r == EXIT_MISSED	     ? "fail (another expectation)" :
		       r == EXIT_BAD_INPUT   ? "bad drill file (exit 2)" :
		       r == EXIT_ENVIRONMENT ? "environment error (exit 3)" :
					       "crashed",
		       what);
	}
	fflush(stdout);
	if (r < 0 || r == EXIT_BAD_INPUT) {
		fprintf(stderr, "chaosdrill shrink: candidate %s: see %s\n", file, log);
		return -EXIT_BAD_INPUT;
	}
	if (original && r == EXIT_ENVIRONMENT)
		return -EXIT_ENVIRONMENT;
	return r == EXIT_MISSED && same_failure(s, junit);
}

static int search(struct shrinker *s)
{
	_cleanup_free_ struct shrink_fault *faults = NULL;
	struct shrink sh;
	const struct shrink_fault *cand;
	char min[4200];
	size_t n, before, nc;
	int r;

	if ((r = shrink_faults_of(s->d, &faults, &n)) < 0 || (r = shrink_init(&sh, faults, n)) < 0)
		return EXIT_ENVIRONMENT;
	before = n;
	printf("shrink: %s, seed %llu, %zu fault%s; every candidate must fail as it did\n",
	       s->d->sc->drill, (unsigned long long)s->seed, n, n == 1 ? "" : "s");
	r = try_candidate(s, &sh, faults, n, true);
	if (r <= 0) {
		shrink_release(&sh);
		if (r == 0)
			printf("shrink: the original schedule does not fail again\n");
		return r < 0 ? -r : EXIT_MISSED;
	}
	while (!interrupted && s->runs < s->max_runs && (r = shrink_next(&sh, &cand, &nc)) > 0) {
		r = try_candidate(s, &sh, cand, nc, false);
		if (r < 0)
			break;
		shrink_result(&sh, r > 0);
	}
	snprintf(min, sizeof(min), "%s/minimal.yaml", s->out);
	if (r >= 0 && rename(s->best, min) < 0)
		r = -EXIT_ENVIRONMENT;
	printf("shrink: faults %zu -> %zu in %u runs%s\n", before, sh.n, s->runs,
	       interrupted	       ? " (interrupted)" :
	       sh.phase == SHRINK_DONE ? "" :
					 " (stopped at --max-runs)");
	if (r >= 0)
		printf("minimal drill: %s\n", min);
	shrink_release(&sh);
	return r < 0 ? -r : EXIT_MET;
}

static int parse_args(struct shrinker *s, int argc, char **argv, char **out)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "max-runs", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'o') {
			s->out = optarg;
		} else if (c == 'm') {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v < 1 || v > 10000) {
				fprintf(stderr, "chaosdrill shrink: --max-runs: 1 to 10000\n");
				return -EINVAL;
			}
			s->max_runs = (unsigned)v;
		} else {
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "chaosdrill shrink: one run directory, please\n\n");
		usage(stderr);
		return -EINVAL;
	}
	s->run_dir = argv[optind];
	if (!s->out) {
		if (asprintf(out, "%s/shrink", s->run_dir) < 0)
			return -ENOMEM;
		s->out = *out;
	}
	return 0;
}

int cmd_shrink(int argc, char **argv)
{
	struct shrinker s = { .max_runs = 40 };
	_cleanup_free_ char *out = NULL;
	int r = parse_args(&s, argc, argv, &out), rc;

	if (r != 0)
		return r > 0 ? EXIT_MET : EXIT_BAD_INPUT;
	if (load_run(&s) < 0)
		rc = EXIT_BAD_INPUT;
	else if (!s.d->n_faults)
		rc = (fprintf(stderr, "chaosdrill shrink: the drill has no fault to shrink\n"),
		      EXIT_BAD_INPUT);
	else if ((r = fs_mkdir_p(s.out, 0755)) < 0)
		rc = (fprintf(stderr, "chaosdrill shrink: cannot make %s: %s\n", s.out,
			      strerror(-r)),
		      EXIT_ENVIRONMENT);
	else {
		struct sigaction sa = { .sa_handler = on_signal };

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = search(&s);
		if (interrupted && rc == EXIT_MET)
			rc = EXIT_ENVIRONMENT;
	}
	drill_free(s.d);
	free(s.src);
	free_strv(s.params, s.n_params);
	free_strv(s.want, s.n_want);
	return rc;
}
