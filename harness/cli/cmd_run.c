/* `chaosdrill run FILE...`: load every drill (any error: exit 2, nothing set up), then
 * run each and report. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "harness/cli/cli.h"
#include "harness/cli/cmd_common.h"
#include "harness/cli/run_jobs.h"
#include "harness/cli/shard.h"
#include "harness/drill/drill.h"
#include "harness/history/history.h"
#include "harness/run/run.h"
#include "reports/report.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chaosdrill run [OPTIONS] FILE...\n\n"
		"Runs each drill: starts the target's nodes in their own namespaces, drives the\n"
		"workload, injects the faults, runs the recovery steps, and checks RTO, RPO and\n"
		"integrity. Every file is checked first; a bad one stops the run before anything\n"
		"is set up.\n\n"
		"Options:\n"
		"  --out DIR          run directories go under DIR (default: runs/)\n"
		"  --junit FILE       write one JUnit XML file for all drills of this call\n"
		"  --seed N           seed for every random choice (default: the file's, else drawn)\n"
		"  --repeat N         run each drill N times (JUnit suites DRILL#1..DRILL#N)\n"
		"  --history FILE     append each run's figures to FILE, a SQLite history (created\n"
		"                     if new) that `chaosdrill trend FILE` compares over time\n"
		"  --subnet CIDR      the lab's addresses (default: the first /16 of 10.213.0.0/16,\n"
		"                     10.214.0.0/16, ... no other live lab holds; private to the lab)\n"
		"  -j, --jobs N       run up to N drills at once, each in its own process and lab;\n"
		"                     output lines prefixed [drill], index.html in --out\n"
		"  --shard I/N        run only shard I of N: the drills sorted by name, every Nth\n"
		"                     from the Ith (CI jobs; merge with chaosdrill junit-merge)\n"
		"  --param KEY=VALUE  override a target param for every node (repeatable)\n"
		"  -q, --quiet        print only the verdict lines and errors (no live line)\n"
		"  -v, --verbose      print every event as it happens\n"
		"  -h, --help         this help\n\n"
		"On a terminal a live line shows the phase, writes/s, failures, faults in force\n"
		"and the time left (not when stdout is not a terminal, with CI set, or -q).\n\n"
		"Exit codes: 0 every expectation met; 1 an expectation missed; 2 bad input;\n"
		"3 the environment could not run the drill (privileges, kernel feature, target).\n");
}

struct run_args {
	const char *out_dir;
	const char *junit;
	const char *history;
	bool has_seed;
	uint64_t seed;
	unsigned repeat;
	const char *subnet;
	struct cli_params params;
	enum log_level level;
	unsigned jobs; /* 0: one drill after another in this process */
	bool has_shard;
	struct shard shard;
};

static int parse_seed(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* The lab checks it too; checking here makes a typo bad input (exit 2), before anything
 * is set up. */
static int check_subnet(const char *s)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	uint64_t len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1 || parse_seed(slash + 1, &len) < 0 || len < 8 ||
	    len > 30)
		return -EINVAL;
	return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "junit", required_argument, NULL, 'U' },
		{ "history", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "param", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "subnet", required_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "shard", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "j:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out_dir = optarg;
			break;
		case 'U':
			a->junit = optarg;
			break;
		case 'H':
			a->history = optarg;
			break;
		case 's':
			if (parse_seed(optarg, &a->seed) < 0) {
				fprintf(stderr,
					"chaosdrill run: --seed '%s': expected a whole number\n",
					optarg);
				return -EINVAL;
			}
			a->has_seed = true;
			break;
		case 'p':
			if (cli_params_add(&a->params, optarg) < 0)
				return -EINVAL;
			break;
		case 'n':
			if (check_subnet(optarg) < 0) {
				fprintf(stderr,
					"chaosdrill run: --subnet '%s': expected A.B.C.D/LEN with LEN 8 to 30\n",
					optarg);
				return -EINVAL;
			}
			a->subnet = optarg;
			break;
		case 'r':
			if (parse_seed(optarg, &n) < 0 || n < 1 || n > 10000) {
				fprintf(stderr,
					"chaosdrill run: --repeat '%s': expected 1 to 10000\n",
					optarg);
				return -EINVAL;
			}
			a->repeat = (unsigned)n;
			break;
		case 'j':
			if (parse_seed(optarg, &n) < 0 || n < 1 || n > 256) {
				fprintf(stderr, "chaosdrill run: -j '%s': expected 1 to 256\n",
					optarg);
				return -EINVAL;
			}
			a->jobs = (unsigned)n;
			break;
		case 'S':
			if (shard_parse(optarg, &a->shard) < 0) {
				fprintf(stderr,
					"chaosdrill run: --shard '%s': expected I/N with 1 <= I <= N <= %u\n",
					optarg, SHARD_MAX);
				return -EINVAL;
			}
			a->has_shard = true;
			break;
		case 'q':
			a->level = LOG_LEVEL_WARN;
			break;
		case 'v':
			a->level = LOG_LEVEL_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "chaosdrill run: no drill file given\n\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Loads every file; on any error prints it and fails (nothing has been set up). */
static int load_all(char **files, int n, const struct run_args *a, struct drill ***out)
{
	struct drill_options o = { (const char *const *)a->params.v, a->params.n, a->has_seed,
				   a->seed };
	struct drill **v = calloc((size_t)n, sizeof(*v));
	struct drill_names seen = { 0 };
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct cd_error err = { 0 };
		int k = drill_load(files[i], &o, &v[i], &err);

		if (k >= 0)
			k = drill_names_check(&seen, v[i], &err);
		if (k < 0) {
			if (!err.msg[0])
				cd_error_set(&err, -k, files[i], 0, 0, "%s", strerror(-k));
			cli_print_error(&err);
			r = k;
		}
	}
	drill_names_release(&seen);
	*out = v;
	return r;
}

static void free_all(struct drill **v, int n)
{
	for (int i = 0; v && i < n; i++)
		drill_free(v[i]);
	free(v);
}

static int write_junit(const char *path, struct run_result *results, size_t n)
{
	struct report_suite *suites = calloc(n ? n : 1, sizeof(*suites));
	struct strbuf sb = STRBUF_INIT;
	int r;

	if (!suites)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		suites[i] = results[i].suite;
	r = junit_write(suites, n, &sb);
	if (r >= 0)
		r = fs_write_atomic(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	free(suites);
	return r;
}

/* With --repeat: unique suite names, and the spread of RTO over the iterations. */
static void name_iteration(struct run_result *res, unsigned iter, unsigned repeat)
{
	if (repeat < 2 || asprintf(&res->name, "%s#%u", res->suite.name, iter + 1) < 0) {
		res->name = NULL;
		return;
	}
	res->suite.name = res->name;
}

static void repeat_summary(const struct drill *d, struct run_result *res, unsigned repeat)
{
	long long lo = -1, hi = -1;
	unsigned passed = 0, measured = 0;

	for (unsigned i = 0; i < repeat; i++) {
		const struct report_suite *s = &res[i].suite;

		passed += s->exit_code == EXIT_MET;
		for (size_t k = 0; k < s->n_props; k++) {
			long long v;

			if (strcmp(s->props[k].name, "rto_ms") != 0)
				continue;
			v = atoll(s->props[k].value);
			lo = lo < 0 || v < lo ? v : lo;
			hi = v > hi ? v : hi;
			measured++;
		}
	}
	printf("%s: %u runs, %u passed", d->sc->drill, repeat, passed);
	if (measured)
		printf("; RTO %lld ms to %lld ms over %u measured runs", lo, hi, measured);
	printf("\n");
}

static void swept(void *ud, const char *path)
{
	(void)ud;
	log_info("removed %s, a temp file a killed chaosdrill left", path);
}

/* Ctrl-C or SIGTERM ends the whole call: the drill it interrupted wrote its reports, the
 * drills after it are not run. A signal that came while a drill wrote its reports (outside
 * any drill) is taken here. True to stop. */
static bool interrupted_between(const struct run_result *res, int rc, int *out_rc)
{
	int sig = res->interrupted;

	if (!sig && (sig = run_signal_pending()) != 0)
		log_warn("interrupted by %s after the reports of %s were written", strsignal(sig),
			 res->suite.name);
	if (!sig)
		return false;
	*out_rc = rc > EXIT_ENVIRONMENT ? rc : EXIT_ENVIRONMENT;
	return true;
}

/* Opens --history before any drill runs: a path that cannot be a history is bad input. */
static int open_history(const struct run_args *a, struct history **h)
{
	struct cd_error err = { 0 };

	*h = NULL;
	if (a->history && history_open(a->history, HISTORY_CREATE, h, &err) < 0) {
		cli_print_error(&err);
		return -EINVAL;
	}
	return 0;
}

/* Appends one run's figures, from its report model, under the drill's own name. */
static int record_run(struct history *h, const struct drill *d, const struct run_result *res)
{
	struct cd_error err = { 0 };
	struct history_run run;
	int k;

	if (!h)
		return 0;
	if ((k = history_run_from_suite(&res->suite, d->sc->drill, &run)) < 0) {
		log_error("cannot record %s in the history: %s", d->sc->drill, strerror(-k));
		return k;
	}
	if ((k = history_append(h, &run, &err)) < 0)
		cli_print_error(&err);
	history_run_release(&run);
	return k;
}

/* Drill d, --repeat times, into res[0..repeat-1], each run recorded in hist (if any); the
 * worst exit code, 3 when a run could not be recorded (the drills ran; their record is
 * incomplete). An interrupt ends the repeats and sets *stop (the ones not run are left
 * zeroed: *ran says how many ran). */
static int run_repeats(const struct drill *d, const struct run_args *a, struct history *hist,
		       struct run_result *res, unsigned *ran, bool *stop)
{
	bool unrecorded = false;
	int rc = EXIT_MET;

	*ran = 0;
	*stop = false;
	for (unsigned k = 0; k < a->repeat && !*stop; k++) {
		struct run_options o = { a->out_dir, a->subnet, a->level < LOG_LEVEL_INFO };
		int code = run_drill(d, &o, &res[k]);

		unrecorded |= record_run(hist, d, &res[k]) < 0;
		name_iteration(&res[k], k, a->repeat);
		(*ran)++;
		if (code > rc)
			rc = code;
		*stop = interrupted_between(&res[k], rc, &rc);
	}
	if (a->repeat > 1 && *ran == a->repeat)
		repeat_summary(d, res, a->repeat);
	return unrecorded ? EXIT_ENVIRONMENT : rc;
}

struct job_ctx {
	struct drill **drills; /* the ones this call runs */
	const struct run_args *a;
};

/* A -j child: one drill, as the serial path runs it, with a history handle of its own
 * (an SQLite connection must not cross fork). */
static int run_job(void *ud, size_t i, struct run_result *res)
{
	struct job_ctx *c = ud;
	struct history *hist = NULL;
	unsigned ran;
	bool stop;
	int rc;

	if (open_history(c->a, &hist) < 0)
		return EXIT_ENVIRONMENT;
	rc = run_repeats(c->drills[i], c->a, hist, res, &ran, &stop);
	history_close(hist);
	return rc;
}
/* --shard: keeps the drills of this shard, in the order given; the rest are freed. */
static int select_shard(struct drill **v, int *n, const struct shard *s)
{
	const char **names = calloc((size_t)*n + 1, sizeof(*names));
	bool *keep = calloc((size_t)*n + 1, sizeof(*keep));
	int kept = -ENOMEM, j = 0;

	if (names && keep) {
		for (int i = 0; i < *n; i++)
			names[i] = v[i]->sc->drill;
		kept = shard_select(names, (size_t)*n, s, keep);
	}
	for (int i = 0; kept >= 0 && i < *n; i++) {
		if (keep[i])
			v[j++] = v[i];
		else
			drill_free(v[i]);
	}
	if (kept >= 0)
		*n = j;
	free(names);
	free(keep);
	return kept;
}

static int run_parallel(struct drill **drills, int n, const struct run_args *a)
{
	struct run_jobs_options o = { a->jobs, a->repeat, a->out_dir, a->junit,
				      a->level < LOG_LEVEL_INFO };
	struct job_ctx c = { drills, a };
	const char **names = calloc((size_t)n + 1, sizeof(*names));
	int rc;

	if (!names)
		return EXIT_ENVIRONMENT;
	for (int i = 0; i < n; i++)
		names[i] = drills[i]->sc->drill;
	rc = run_jobs(names, (size_t)n, &o, run_job, &c);
	free(names);
	return rc;
}

static int run_serial(struct drill **drills, int n, const struct run_args *a,
		      struct history *hist)
{
	size_t total = (size_t)n * a->repeat, done = 0;
	struct run_result *results = calloc(total ? total : 1, sizeof(*results));
	int rc = EXIT_MET, r;

	for (int i = 0; results && i < n; i++) {
		unsigned ran;
		bool stop;
		int code = run_repeats(drills[i], a, hist, &results[done], &ran, &stop);

		done += ran;
		if (code > rc)
			rc = code;
		if (stop) {
			if (i + 1 < n)
				log_warn("interrupted: the %d drill%s after %s not run", n - i - 1,
					 n - i - 1 == 1 ? "" : "s", drills[i]->sc->drill);
			break;
		}
	}
	if (!results)
		rc = EXIT_ENVIRONMENT;
	if (results && a->junit && (r = write_junit(a->junit, results, done)) < 0) {
		log_error("cannot write %s: %s", a->junit, strerror(-r));
		rc = EXIT_ENVIRONMENT;
	}
	for (size_t i = 0; results && i < done; i++)
		run_result_release(&results[i]);
	free(results);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .out_dir = "runs", .level = LOG_LEVEL_INFO, .repeat = 1 };
	struct drill **drills = NULL;
	struct history *hist = NULL;
	int r, n, rc;

	r = parse_args(argc, argv, &a);
	if (r != 0) {
		cli_params_release(&a.params);
		return r > 0 ? EXIT_MET : EXIT_BAD_INPUT;
	}
	log_set_level(a.level);
	if ((r = run_signals_block()) < 0) {
		cli_params_release(&a.params);
		log_error("cannot block SIGINT/SIGTERM: %s", strerror(-r));
		return EXIT_ENVIRONMENT;
	}
	n = argc - optind;
	if (load_all(argv + optind, n, &a, &drills) < 0 || open_history(&a, &hist) < 0) {
		free_all(drills, n);
		cli_params_release(&a.params);
		return EXIT_BAD_INPUT;
	}
	if (a.has_shard && select_shard(drills, &n, &a.shard) < 0) {
		history_close(hist);
		free_all(drills, n);
		cli_params_release(&a.params);
		return EXIT_ENVIRONMENT;
	}
	if (a.has_shard && a.level >= LOG_LEVEL_INFO)
		printf("chaosdrill: shard %u/%u: %d drill%s\n", a.shard.index, a.shard.count, n,
		       n == 1 ? "" : "s");
	/* what killed harnesses left half-written into the same places: gone before we write */
	if ((r = run_sweep_stale(a.out_dir, a.junit, swept, NULL)) < 0)
		log_debug("cannot look for stray temp files under %s: %s", a.out_dir, strerror(-r));
	if (a.jobs) { /* each child opens the history again: opened here only to check it */
		history_close(hist);
		hist = NULL;
		rc = run_parallel(drills, n, &a);
	} else {
		rc = run_serial(drills, n, &a, hist);
	}
	history_close(hist);
	free_all(drills, n);
	cli_params_release(&a.params);
	return rc;
}
