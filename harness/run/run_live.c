/* The live progress line: when stdout is a terminal, one line rewritten in place about
 * four times a second (drill, phase, writes/s, failures so far, faults in force, time
 * left), cleared before any other line is printed (run_say, the summary, log lines on
 * stderr) so that it never mixes with them. Nothing when stdout is not a terminal, under
 * --quiet, when CI is set (CI=true: a CI log is not a terminal even when it pretends to
 * be one) or when TERM is dumb. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

#define LIVE_NS (250 * NSEC_PER_MSEC)
#define RATE_SAMPLES 5 /* writes/s over the last second: 4 ticks */

struct run_live {
	struct loop_op *timer;
	bool shown;	   /* the line is on the screen */
	const char *phase; /* set: this one, not the one the drill's state says */
	uint64_t done[RATE_SAMPLES];
	int64_t at[RATE_SAMPLES];
	size_t next, n;
	pid_t pid; /* children forked with the hook must not clear the parent's line */
};

static struct drill_run *owner; /* the drill whose line it is (one at a time) */

/* Whether a live line is wanted: stdout a terminal, not quiet, not CI, not TERM=dumb. */
static bool wanted(const struct drill_run *r)
{
	const char *ci = getenv("CI"), *term = getenv("TERM");

	if (r->quiet || !isatty(STDOUT_FILENO))
		return false;
	if (ci && *ci && strcmp(ci, "false") != 0 && strcmp(ci, "0") != 0)
		return false;
	return !term || strcmp(term, "dumb") != 0;
}

void run_live_clear(const struct drill_run *r)
{
	if (!r->live || !r->live->shown || r->live->pid != getpid())
		return;
	fputs("\r\033[K", stdout);
	fflush(stdout);
	r->live->shown = false;
}

static void clear_before_log(void)
{
	if (owner)
		run_live_clear(owner);
}

static int faults_in_force(const struct drill_run *r)
{
	int n = 0;

	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct fault_run *f = run_fault_result(r, i);

		n += f && f->injected && !f->healed && !f->failed && r->d->faults[i].sf->has_heal;
	}
	return n;
}

static bool step_running(const struct drill_run *r)
{
	for (size_t i = 0; i < r->d->n_steps; i++)
		if (run_step_result(r, i) && run_step_result(r, i)->state == STEP_RUNNING)
			return true;
	return false;
}

static const char *phase(const struct drill_run *r, int in_force)
{
	if (r->live->phase)
		return r->live->phase;
	if (r->steady_ns <= 0)
		return "setup";
	if (in_force)
		return "fault";
	return step_running(r) ? "recovery" : "steady";
}

/* When the drill plans to end (drill clock): the last fault or heal, then the tail. -1
 * before steady state. */
static int64_t planned_end(const struct drill_run *r)
{
	int64_t end = 0, tail = 0;

	if (r->steady_ns <= 0)
		return -1;
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct scenario_fault *f = r->d->faults[i].sf;
		int64_t t = f->at_ns;

		if (f->has_heal)
			t = f->heal_is_after ? f->at_ns + f->heal_ns : f->heal_ns;
		end = t > end ? t : end;
	}
	for (size_t i = 0; i < r->n_wls; i++)
		if (r->wls[i].d->sc->workload.tail_ns > tail)
			tail = r->wls[i].d->sc->workload.tail_ns;
	return r->steady_ns + end + tail;
}

/* Operations answered (all targets), and failures (failed or unknown) among them. */
static uint64_t answered(const struct drill_run *r, uint64_t *failures)
{
	uint64_t n = 0;

	*failures = 0;
	for (size_t i = 0; i < r->n_wls; i++) {
		struct workload *wl = i == r->cur ? r->wl : r->wls[i].wl;
		struct workload_stats st;

		if (!wl)
			continue;
		st = workload_stats(wl);
		n += st.ok + st.failed + st.unknown;
		*failures += st.failed + st.unknown;
	}
	return n;
}

static double rate(struct run_live *l, uint64_t done, int64_t now)
{
	size_t oldest;

	l->done[l->next] = done;
	l->at[l->next] = now;
	l->next = (l->next + 1) % RATE_SAMPLES;
	if (l->n < RATE_SAMPLES)
		l->n++;
	oldest = l->n < RATE_SAMPLES ? 0 : l->next; /* the sample a second ago */
	if (l->n < 2 || now <= l->at[oldest])
		return 0;
	return (double)(done - l->done[oldest]) * 1e9 / (double)(now - l->at[oldest]);
}

static int columns(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* Draws the line now (cut to the terminal's width: a wrapped line cannot be rewritten). */
void run_live_draw(struct drill_run *r)
{
	struct run_live *l = r->live;
	int64_t now = run_now(r), end;
	uint64_t failures, done;
	char line[512], left[32] = "", t[32];
	int in_force, width = columns() - 1;

	if (!l)
		return;
	in_force = faults_in_force(r);
	done = answered(r, &failures);
	end = planned_end(r);
	units_format_duration(now - (r->steady_ns > 0 ? r->steady_ns : 0), t, sizeof(t));
	if (end >= 0 && !l->phase) {
		char d[32];

		units_format_duration(end > now ? end - now : 0, d, sizeof(d));
		snprintf(left, sizeof(left), ", %s left%s", d, end > now ? "" : " (overdue)");
	}
	snprintf(line, sizeof(line),
		 "%s [%s] %.0f writes/s, %llu failed, %d fault%s in force%s%s%s%s", r->sc->drill,
		 phase(r, in_force), l->phase ? 0 : rate(l, done, now),
		 (unsigned long long)failures, in_force, in_force == 1 ? "" : "s", left,
		 r->steady_ns > 0 ? " (t=" : "", r->steady_ns > 0 ? t : "",
		 r->steady_ns > 0 ? ")" : "");
	if ((int)strlen(line) > width)
		line[width > 0 ? width : 0] = '\0';
	fprintf(stdout, "\r\033[K%s", line);
	fflush(stdout);
	l->shown = true;
}

static void on_tick(struct loop *lp, void *ud, int res)
{
	struct drill_run *r = ud;

	r->live->timer = NULL;
	if (r->interrupted)
		return;
	run_live_draw(r);
	loop_timer_at(lp, time_mono_ns() + LIVE_NS, on_tick, r, &r->live->timer);
}

int run_live_start(struct drill_run *r)
{
	if (!wanted(r) || !r->loop)
		return 0;
	r->live = calloc(1, sizeof(*r->live));
	if (!r->live)
		return -ENOMEM;
	r->live->pid = getpid();
	owner = r;
	log_set_before_line(clear_before_log);
	return loop_timer_at(r->loop, time_mono_ns() + LIVE_NS, on_tick, r, &r->live->timer);
}

void run_live_phase(struct drill_run *r, const char *p)
{
	if (!r->live)
		return;
	r->live->phase = p;
	if (r->live->timer && r->loop)
		loop_cancel(r->loop, r->live->timer);
	r->live->timer = NULL;
	run_live_draw(r); /* the loop may not step again: the phase shows until the summary */
}

void run_live_stop(struct drill_run *r)
{
	if (!r->live)
		return;
	if (r->live->timer && r->loop)
		loop_cancel(r->loop, r->live->timer);
	run_live_clear(r);
	log_set_before_line(NULL);
	owner = NULL;
	free(r->live);
	r->live = NULL;
}
