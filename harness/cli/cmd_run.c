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
#include "harness/drill/drill.h"
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
		"  --subnet CIDR      the lab's addresses (default 10.213.0.0/16; private to the lab)\n"
		"  --param KEY=VALUE  override a target param for every node (repeatable)\n"
		"  -q, --quiet        print only the verdict lines and errors\n"
		"  -v, --verbose      print every event as it happens\n"
		"  -h, --help         this help\n\n"
		"Exit codes: 0 every expectation met; 1 an expectation missed; 2 bad input;\n"
		"3 the environment could not run the drill (privileges, kernel feature, target).\n");
}

struct run_args {
	const char *out_dir;
	const char *junit;
	bool has_seed;
	uint64_t seed;
	unsigned repeat;
	const char *subnet;
	struct cli_params params;
	enum log_level level;
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
		{ "junit", required_argument, NULL, 'j' },
		{ "seed", required_argument, NULL, 's' },
		{ "param", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "subnet", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out_dir = optarg;
			break;
		case 'j':
			a->junit = optarg;
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

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .out_dir = "runs", .level = LOG_LEVEL_INFO, .repeat = 1 };
	struct run_result *results = NULL;
	struct drill **drills = NULL;
	size_t total, ran;
	int r, n, rc = EXIT_MET;
	bool stop = false;

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
	if (load_all(argv + optind, n, &a, &drills) < 0) {
		free_all(drills, n);
		cli_params_release(&a.params);
		return EXIT_BAD_INPUT;
	}
	/* what killed harnesses left half-written into the same places: gone before we write */
	if ((r = run_sweep_stale(a.out_dir, a.junit, swept, NULL)) < 0)
		log_debug("cannot look for stray temp files under %s: %s", a.out_dir, strerror(-r));
	total = (size_t)n * a.repeat;
	results = calloc(total, sizeof(*results));
	ran = 0;
	for (int i = 0; results && i < n && !stop; i++) {
		unsigned k;

		for (k = 0; k < a.repeat && !stop; k++) {
			struct run_result *res = &results[(size_t)i * a.repeat + k];
			struct run_options o = { a.out_dir, a.subnet, a.level < LOG_LEVEL_INFO };
			int code = run_drill(drills[i], &o, res);

			ran++;
			name_iteration(res, k, a.repeat);
			if (code > rc)
				rc = code;
			stop = interrupted_between(res, rc, &rc);
		}
		if (a.repeat > 1)
			repeat_summary(drills[i], &results[(size_t)i * a.repeat], k);
	}
	total = results ? ran : total;
	if (!results)
		rc = EXIT_ENVIRONMENT;
	if (results && a.junit && (r = write_junit(a.junit, results, total)) < 0) {
		log_error("cannot write %s: %s", a.junit, strerror(-r));
		rc = EXIT_ENVIRONMENT;
	}
	for (size_t i = 0; results && i < total; i++)
		run_result_release(&results[i]);
	free(results);
	free_all(drills, n);
	cli_params_release(&a.params);
	return rc;
}
