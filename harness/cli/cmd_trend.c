/* `chaosdrill trend FILE`: each drill's runs from a history file (`run --history`) as a
 * table over time, the newest run judged against the runs before it (harness/history/
 * trend.h), and optionally an HTML page with a plot per drill. Exit 1 when anything is
 * flagged. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/units.h"
#include "harness/cli/cli.h"
#include "harness/history/history.h"
#include "harness/history/trend.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chaosdrill trend [OPTIONS] FILE\n\n"
		"Prints each drill's runs kept in the history FILE (`chaosdrill run --history\n"
		"FILE` appends them) as a table over time: date, seed, verdict, RTO and each\n"
		"recovery step's duration. Then judges the newest run of each drill against the\n"
		"runs before it and flags:\n"
		"  - a figure (the RTO, each step's duration) above the median of the previous\n"
		"    runs by more than the margin AND by more than the floor (both: +50 %% of a\n"
		"    20 ms figure is noise, not a regression);\n"
		"  - a step or expectation that fails in the newest run and passed in each of\n"
		"    the previous runs.\n"
		"Nothing is judged with fewer than 3 previous runs.\n\n"
		"Options:\n"
		"  --drill NAME            only this drill (default: every drill in FILE)\n"
		"  --last N                compare with the previous N runs (default 5, at least 3)\n"
		"  --margin PCT            percent above the median (default 50)\n"
		"  --min-delta DURATION    and at least this far above it (default 100ms)\n"
		"  --html OUT              also write OUT: a self-contained HTML page (no script,\n"
		"                          nothing fetched) with a plot per drill\n"
		"  -h, --help              this help\n\n"
		"Exit codes: 0 nothing flagged; 1 a regression flagged; 2 bad input (usage, a\n"
		"history that cannot be read, no run of --drill NAME, OUT not writable).\n");
}

struct trend_args {
	const char *file, *drill, *html;
	struct trend_options o;
};

static int parse_uint(const char *s, unsigned min, unsigned max, bool pct, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (pct && *end == '%')
		end++;
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int bad_value(const char *opt, const char *v, const char *want)
{
	fprintf(stderr, "chaosdrill trend: %s '%s': expected %s\n", opt, v, want);
	return -EINVAL;
}

static int option(int c, struct trend_args *a)
{
	switch (c) {
	case 'd':
		a->drill = optarg;
		return 0;
	case 'H':
		a->html = optarg;
		return 0;
	case 'l':
		return parse_uint(optarg, 3, 10000, false, &a->o.last) < 0 ?
			       bad_value("--last", optarg,
					 "3 to 10000 (the median needs at least 3 runs)") :
			       0;
	case 'm':
		return parse_uint(optarg, 0, 100000, true, &a->o.margin_pct) < 0 ?
			       bad_value("--margin", optarg, "a percentage, 0 to 100000") :
			       0;
	case 'f':
		return units_parse_duration(optarg, &a->o.min_delta_ns) < 0 ?
			       bad_value("--min-delta", optarg, "a duration such as 100ms") :
			       0;
	case 'h':
		usage(stdout);
		return 1;
	default:
		usage(stderr);
		return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct trend_args *a)
{
	static const struct option opts[] = {
		{ "drill", required_argument, NULL, 'd' },
		{ "last", required_argument, NULL, 'l' },
		{ "margin", required_argument, NULL, 'm' },
		{ "min-delta", required_argument, NULL, 'f' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, k;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((k = option(c, a)) != 0)
			return k;
	if (optind != argc - 1) {
		fprintf(stderr, "chaosdrill trend: %s\n\n",
			optind >= argc ? "no history file given" : "one history file only");
		usage(stderr);
		return -EINVAL;
	}
	a->file = argv[optind];
	return 0;
}

/* Splits runs (ordered by drill) into one group per drill and judges each. */
static int judge(const struct history_runs *runs, const struct trend_options *o,
		 struct trend_drill *drills, struct trend_verdict *verdicts, size_t *n)
{
	*n = 0;
	for (size_t i = 0, j; i < runs->n; i = j) {
		for (j = i + 1; j < runs->n && !strcmp(runs->v[j].drill, runs->v[i].drill); j++)
			;
		if (trend_check(&runs->v[i], j - i, o, &verdicts[*n]) < 0)
			return -ENOMEM;
		drills[*n] = (struct trend_drill){ &runs->v[i], j - i, &verdicts[*n] };
		(*n)++;
	}
	return 0;
}

static int report(const struct trend_args *a, const struct trend_drill *drills, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char title[600];
	int k = 0;

	for (size_t i = 0; i < n; i++) {
		trend_text(drills[i].runs, drills[i].n, drills[i].verdict, &a->o, &sb);
		if (i + 1 < n)
			strbuf_append(&sb, "\n");
	}
	if (strbuf_failed(&sb))
		k = -ENOMEM;
	else if (sb.len)
		fputs(sb.buf, stdout);
	fflush(stdout);
	strbuf_release(&sb);
	if (k < 0 || !a->html)
		return k;
	snprintf(title, sizeof(title), "chaosdrill trend: %s", a->file);
	if ((k = trend_html(drills, n, &a->o, title, &sb)) >= 0 &&
	    (k = fs_write_atomic(a->html, sb.buf, sb.len, 0644)) < 0)
		fprintf(stderr, "chaosdrill trend: cannot write %s: %s\n", a->html, strerror(-k));
	strbuf_release(&sb);
	return k;
}

static int trend(const struct trend_args *a, struct history *h)
{
	struct history_runs runs;
	struct trend_drill *drills = NULL;
	struct trend_verdict *verdicts = NULL;
	struct cd_error err = { 0 };
	size_t n = 0, flagged = 0;
	int rc = EXIT_BAD_INPUT;

	if (history_load(h, a->drill, &runs, &err) < 0) {
		cli_print_error(&err);
		return EXIT_BAD_INPUT;
	}
	if (!runs.n && a->drill)
		fprintf(stderr, "chaosdrill trend: %s: no run of drill '%s'\n", a->file, a->drill);
	else if (!runs.n)
		printf("%s: no runs\n", a->file);
	drills = calloc(runs.n + 1, sizeof(*drills));
	verdicts = calloc(runs.n + 1, sizeof(*verdicts));
	if (!drills || !verdicts || judge(&runs, &a->o, drills, verdicts, &n) < 0)
		fprintf(stderr, "chaosdrill trend: out of memory\n");
	else if ((runs.n || !a->drill) && report(a, drills, n) >= 0)
		rc = EXIT_MET;
	for (size_t i = 0; verdicts && i < n; i++) {
		flagged += verdicts[i].n_flagged;
		trend_verdict_release(&verdicts[i]);
	}
	free(drills);
	free(verdicts);
	history_runs_release(&runs);
	return rc == EXIT_MET && flagged ? EXIT_MISSED : rc;
}

int cmd_trend(int argc, char **argv)
{
	struct trend_args a = { .o = TREND_OPTIONS_DEFAULT };
	struct cd_error err = { 0 };
	struct history *h;
	int k = parse_args(argc, argv, &a);

	if (k != 0)
		return k > 0 ? EXIT_MET : EXIT_BAD_INPUT;
	if (history_open(a.file, HISTORY_READ, &h, &err) < 0) {
		cli_print_error(&err);
		return EXIT_BAD_INPUT;
	}
	k = trend(&a, h);
	history_close(h);
	return k;
}
