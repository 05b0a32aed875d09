/* `chaosdrill replay RUNDIR [--check]`: runs a drill again from its run directory alone
 * (scenario.yaml as written, schedule.json's seed and --param values), and with --check
 * compares the new run's timeline with the old one (harness/record/replay_compare.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "harness/cli/cli.h"
#include "harness/cli/cmd_common.h"
#include "harness/drill/drill.h"
#include "harness/record/replay_compare.h"
#include "harness/run/run.h"
#include "reports/report.h"
#include "scenarios/parser/yaml_load.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chaosdrill replay [OPTIONS] RUNDIR\n\n"
		"Runs the drill of a run directory again from that directory alone: its\n"
		"scenario.yaml, with schedule.json's seed and --param values. The original drill\n"
		"file is not needed. The new run directory goes beside the old one.\n\n"
		"With --check, compares the new run with the old one, event by event\n"
		"(timeline.jsonl): what the seed decides (each fault's kind, node and scheduled\n"
		"time, the torn call and the bytes it kept, the errno and the call it hit, the\n"
		"links a partition cut, the delay queue's per-packet draws over the prefix both\n"
		"runs have) must be identical; what timing decides (when a fault actually struck,\n"
		"when the drill recovered, how many packets arrived, which unsynced sectors a\n"
		"power cut found) is printed with both values when it differs. Then the verdicts,\n"
		"old and new.\n\n"
		"Options:\n"
		"  --check          compare the new run with the old one\n"
		"  --out DIR        the new run directory goes under DIR (default: RUNDIR's folder)\n"
		"  --junit FILE     write the new run's JUnit XML file\n"
		"  -q, --quiet      print only the verdict lines, the summary and errors\n"
		"  -v, --verbose    print every event as it happens\n"
		"  -h, --help       this help\n\n"
		"Exit codes: the drill's own (0 met, 1 missed, 3 the environment could not run\n"
		"it); 2 bad input (no such run directory, or one without scenario.yaml and\n"
		"schedule.json, or with --check a timeline without the events to compare). With\n"
		"--check: 1 when an event the seed decides differs or the verdict differs (the\n"
		"reason is printed), else the drill's own.\n");
}

struct replay_args {
	const char *run_dir, *out_dir, *junit;
	bool check;
	enum log_level level;
};

static int parse_args(int argc, char **argv, struct replay_args *a)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "junit", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->check = true;
			break;
		case 'o':
			a->out_dir = optarg;
			break;
		case 'j':
			a->junit = optarg;
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
	if (optind + 1 != argc) {
		fprintf(stderr, "chaosdrill replay: expected one run directory\n\n");
		usage(stderr);
		return -EINVAL;
	}
	a->run_dir = argv[optind];
	return 0;
}

/* schedule.json's seed and params ("KEY=VALUE" into *params); JSON is YAML's flow style. */
static int read_schedule(const char *run_dir, uint64_t *seed, const char **drill,
			 struct cli_params *params, struct cfg_node **root)
{
	_cleanup_free_ char *path = NULL;
	struct cd_error err = { 0 };
	const struct cfg_node *s, *p;
	char *end;

	if (asprintf(&path, "%s/schedule.json", run_dir) < 0)
		return -ENOMEM;
	if (yaml_load_file(path, root, &err) < 0) {
		cli_print_error(&err);
		return -EINVAL;
	}
	s = cfg_get(*root, "seed");
	p = cfg_get(*root, "params");
	if (cfg_get_string(*root, "drill", true, drill, &err) < 0 || !s || s->type != CFG_SCALAR ||
	    !p || p->type != CFG_MAP) {
		fprintf(stderr, "chaosdrill replay: %s: expected drill, seed and params\n", path);
		return -EINVAL;
	}
	errno = 0;
	*seed = strtoull(s->scalar, &end, 10);
	if (errno || *end || !*s->scalar) {
		fprintf(stderr, "chaosdrill replay: %s: seed '%s' is not a whole number\n", path,
			s->scalar);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n; i++) {
		_cleanup_free_ char *kv = NULL;

		if (p->items[i]->type != CFG_SCALAR ||
		    asprintf(&kv, "%s=%s", p->keys[i]->scalar, p->items[i]->scalar) < 0 ||
		    cli_params_add(params, kv) < 0)
			return -EINVAL;
	}
	return 0;
}

/* The folder RUNDIR is in: where the replay's run directory goes by default. */
static char *parent_of(const char *run_dir)
{
	char *abs = realpath(run_dir, NULL), *slash = abs ? strrchr(abs, '/') : NULL;

	if (slash && slash != abs)
		*slash = '\0';
	return abs;
}

static void print_diffs(const struct replay_cmp *c, enum replay_class cls, const char *title)
{
	for (size_t i = 0; i < c->n_diffs; i++) {
		const struct replay_diff *d = &c->diffs[i];

		if (d->cls == cls && !d->same)
			printf("  %s %s: old %s, new %s\n", title, d->what, d->old_value,
			       d->new_value);
	}
}

static const char *verdict_word(int code)
{
	return code == 0 ? "PASS" : code == 1 ? "FAIL" : code == 3 ? "COULD NOT RUN" : "none";
}

/* Prints the comparison; returns EXIT_MISSED with the reason when the replay differs. */
static int print_check(const char *old_dir, const char *new_dir, const struct replay_cmp *c)
{
	printf("replay --check: %s (old) vs %s (new)\n", old_dir, new_dir);
	for (size_t i = 0; i < c->n_events; i++) {
		const struct replay_event_cmp *e = &c->events[i];

		printf("  %-9s %s: %s\n", e->same ? "identical" : "DIFFERS", e->label,
		       e->old_detail ? e->old_detail : e->new_detail);
	}
	print_diffs(c, REPLAY_SEEDED, "seed-decided DIFFERS:");
	print_diffs(c, REPLAY_TIMING, "timing:");
	printf("seed-decided: %zu events identical, %zu differ (%zu draws compared); "
	       "timing: %zu of %zu values differ\n",
	       c->seeded_same, c->seeded_differ, c->draws_compared, c->timing_differ,
	       c->timing_same + c->timing_differ);
	printf("verdict: old %s (exit %d, missed %s), new %s (exit %d, missed %s)%s\n",
	       verdict_word(c->old_exit), c->old_exit, c->old_missed, verdict_word(c->new_exit),
	       c->new_exit, c->new_missed, c->verdict_differs ? ": DIFFERS" : ": same");
	if (c->seeded_differ)
		printf("replay differs: %zu event%s the seed decides differ%s\n", c->seeded_differ,
		       c->seeded_differ == 1 ? "" : "s", c->seeded_differ == 1 ? "s" : "");
	if (c->verdict_differs)
		printf("replay differs: the verdict is not the old run's\n");
	return c->seeded_differ || c->verdict_differs ? EXIT_MISSED : EXIT_MET;
}

static bool old_seeded(const struct replay_cmp *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].old_detail)
			return true;
	return false;
}

static int check(const char *old_dir, const char *new_dir)
{
	_cleanup_free_ char *op = NULL, *np = NULL, *ot = NULL, *nt = NULL;
	size_t ol = 0, nl = 0;
	struct replay_cmp c;
	long bad = 0;
	int r;

	if (asprintf(&op, "%s/timeline.jsonl", old_dir) < 0 ||
	    asprintf(&np, "%s/timeline.jsonl", new_dir) < 0)
		return EXIT_ENVIRONMENT;
	if ((r = fs_read_all(op, 64u << 20, &ot, &ol)) < 0 ||
	    (r = fs_read_all(np, 64u << 20, &nt, &nl)) < 0) {
		fprintf(stderr, "chaosdrill replay: cannot read the timelines: %s\n", strerror(-r));
		return EXIT_ENVIRONMENT;
	}
	if ((r = replay_compare(ot, ol, nt, nl, &c, &bad)) < 0) {
		fprintf(stderr, "chaosdrill replay: %s:%ld: not a timeline event\n",
			bad < 0 ? np : op, bad < 0 ? -bad : bad);
		return EXIT_BAD_INPUT;
	}
	if (c.old_exit < 0 && !old_seeded(&c)) {
		fprintf(stderr,
			"chaosdrill replay: %s has no seeded or verdict events (written by a "
			"chaosdrill older than replay --check): nothing to compare\n",
			op);
		replay_cmp_release(&c);
		return EXIT_BAD_INPUT;
	}
	r = print_check(old_dir, new_dir, &c);
	replay_cmp_release(&c);
	return r;
}

static int replay(const struct replay_args *a, const char *out_dir)
{
	struct cli_params params = { 0 };
	_cleanup_free_ char *file = NULL;
	struct cfg_node *root = NULL;
	struct run_result res = { 0 };
	struct cd_error err = { 0 };
	struct drill *d = NULL;
	const char *name = NULL;
	uint64_t seed = 0;
	int code = EXIT_BAD_INPUT;

	if (read_schedule(a->run_dir, &seed, &name, &params, &root) < 0 ||
	    asprintf(&file, "%s/scenario.yaml", a->run_dir) < 0)
		goto out;
	struct drill_options o = { (const char *const *)params.v, params.n, true, seed };
	if (drill_load(file, &o, &d, &err) < 0) {
		if (!err.msg[0])
			cd_error_set(&err, EINVAL, file, 0, 0, "cannot load it");
		cli_print_error(&err);
		goto out;
	}
	if (strcmp(d->sc->drill, name)) {
		fprintf(stderr, "chaosdrill replay: %s is drill '%s', schedule.json says '%s'\n",
			file, d->sc->drill, name);
		goto out;
	}
	if (a->level >= LOG_LEVEL_INFO)
		printf("replay of %s: drill %s, seed %llu, %zu param%s\n", a->run_dir, d->sc->drill,
		       (unsigned long long)seed, params.n, params.n == 1 ? "" : "s");
	struct run_options ro = { out_dir, NULL, a->level < LOG_LEVEL_INFO };
	code = run_drill(d, &ro, &res);
	if (a->junit && res.suite.name) {
		struct strbuf sb = STRBUF_INIT;

		if (junit_write(&res.suite, 1, &sb) < 0 ||
		    fs_write_atomic(a->junit, sb.buf, sb.len, 0644) < 0) {
			log_error("cannot write %s", a->junit);
			code = EXIT_ENVIRONMENT;
		}
		strbuf_release(&sb);
	}
	if (a->check && res.run_dir && code != EXIT_ENVIRONMENT) {
		int c = check(a->run_dir, res.run_dir);

		code = c != EXIT_MET ? c : code;
	}
	run_result_release(&res);
out:
	drill_free(d);
	cfg_node_free(root);
	cli_params_release(&params);
	return code;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_args a = { .level = LOG_LEVEL_INFO };
	_cleanup_free_ char *parent = NULL;
	int r = parse_args(argc, argv, &a);

	if (r != 0)
		return r > 0 ? EXIT_MET : EXIT_BAD_INPUT;
	log_set_level(a.level);
	parent = parent_of(a.run_dir);
	if (!parent) {
		fprintf(stderr, "chaosdrill replay: %s: %s\n", a.run_dir, strerror(errno));
		return EXIT_BAD_INPUT;
	}
	return replay(&a, a.out_dir ? a.out_dir : parent);
}
