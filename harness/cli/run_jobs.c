/* `run -j N` (run_jobs.h): a child process per drill, at most N at once; the parent
 * prefixes their output, forwards signals, and writes the call's JUnit file, index.html
 * and summary. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "harness/cli/run_jobs.h"
#include "reports/index.h"
#include "reports/junit_merge.h"

enum { OUT, ERR, RES, N_PIPES };

struct job {
	const char *name;
	pid_t pid;		 /* 0: not started; -1: done */
	int fd[N_PIPES];	 /* the parent's read ends, -1 once closed */
	struct strbuf line[2];	 /* a partial line of stdout, stderr */
	struct strbuf msg;	 /* what came through the result pipe */
	int status;		 /* wait status once done */
	int64_t started_ns, ended_ns;
};

struct jobs {
	struct job *v;
	size_t n, next, running;
	const struct run_jobs_options *o;
	run_jobs_drill_fn fn;
	void *ud;
	int sigfd;
	int interrupt_sig;
};

/* Writes all of buf to fd (a pipe, a terminal, a file). */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

/* "[drill] line\n" in one write: lines of several drills never mix. */
static void emit(const struct job *j, int stream, const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_appendf(&sb, "[%s] ", j->name);
	strbuf_appendn(&sb, s, len);
	strbuf_appendc(&sb, '\n');
	if (!strbuf_failed(&sb))
		write_all(stream == OUT ? STDOUT_FILENO : STDERR_FILENO, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* The complete lines of a stream's buffer go out; the rest waits (all of it at the end). */
static void flush_lines(struct job *j, int stream, bool all)
{
	struct strbuf *b = &j->line[stream];
	size_t from = 0;

	for (size_t i = 0; i < b->len; i++)
		if (b->buf[i] == '\n') {
			emit(j, stream, b->buf + from, i - from);
			from = i + 1;
		}
	if (all && from < b->len) {
		emit(j, stream, b->buf + from, b->len - from);
		from = b->len;
	}
	if (from) {
		memmove(b->buf, b->buf + from, b->len - from);
		b->len -= from;
		b->buf[b->len] = '\0';
	}
}

/* Reads what a pipe has; at EOF (or an error) closes it. */
static void drain(struct job *j, int k)
{
	char buf[8192];

	while (j->fd[k] >= 0) {
		ssize_t r = read(j->fd[k], buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			close(j->fd[k]);
			j->fd[k] = -1;
			break;
		}
		if (k == RES) {
			strbuf_appendn(&j->msg, buf, (size_t)r);
		} else {
			strbuf_appendn(&j->line[k], buf, (size_t)r);
			flush_lines(j, k, false);
		}
	}
}

/* In the child: the message for the parent. */
static void child_report(int fd, const struct run_result *res, unsigned repeat)
{
	struct strbuf sb = STRBUF_INIT;
	struct report_suite *suites = calloc(repeat, sizeof(*suites));

	for (unsigned i = 0; i < repeat; i++) {
		struct run_jobs_suite s = { res[i].suite.exit_code, (long long)res[i].suite.duration_ns,
					    (char *)res[i].suite.name,	    res[i].run_dir,
					    run_jobs_rto(&res[i].suite),    res[i].error };

		run_jobs_encode_suite(&sb, &s);
		free(s.rto);
		if (suites)
			suites[i] = res[i].suite;
	}
	strbuf_append(&sb, "J\n");
	if (suites)
		junit_write(suites, repeat, &sb);
	if (!strbuf_failed(&sb))
		write_all(fd, sb.buf, sb.len);
	strbuf_release(&sb);
	free(suites);
}

/* The child: its output into the pipes, signals still blocked (the drill takes them from
 * its signalfd: one that came before is pending and ends the drill as soon as it
 * watches), the serial path for its drill. */
static void child(struct jobs *js, size_t i, int w[N_PIPES])
{
	struct run_result *res = calloc(js->o->repeat, sizeof(*res));
	sigset_t chld;
	int rc;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD); /* as in a call without -j; only the parent watches it */
	sigprocmask(SIG_UNBLOCK, &chld, NULL);

	for (size_t k = 0; k < js->n; k++)
		for (int p = 0; p < N_PIPES; p++)
			if (js->v[k].fd[p] >= 0)
				close(js->v[k].fd[p]);
	close(js->sigfd);
	if (dup2(w[OUT], STDOUT_FILENO) < 0 || dup2(w[ERR], STDERR_FILENO) < 0)
		_exit(EXIT_ENVIRONMENT);
	close(w[OUT]);
	close(w[ERR]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!res)
		_exit(EXIT_ENVIRONMENT);
	rc = js->fn(js->ud, i, res);
	child_report(w[RES], res, js->o->repeat);
	for (unsigned k = 0; k < js->o->repeat; k++) /* what the drill made, for valgrind */
		run_result_release(&res[k]);
	free(res);
	fflush(stdout);
	fflush(stderr);
	_exit(rc);
}

static int start(struct jobs *js, size_t i)
{
	struct job *j = &js->v[i];
	int p[N_PIPES][2], w[N_PIPES];
	pid_t pid;

	for (int k = 0; k < N_PIPES; k++)
		if (pipe2(p[k], O_CLOEXEC) < 0) {
			int e = errno;

			while (k--) {
				close(p[k][0]);
				close(p[k][1]);
			}
			return -e;
		}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		for (int k = 0; k < N_PIPES; k++) {
			close(p[k][0]);
			close(p[k][1]);
		}
		return -e;
	}
	if (pid == 0) {
		for (int k = 0; k < N_PIPES; k++) {
			close(p[k][0]);
			w[k] = p[k][1];
		}
		child(js, i, w); /* never returns */
	}
	for (int k = 0; k < N_PIPES; k++) {
		close(p[k][1]);
		j->fd[k] = p[k][0];
		fcntl(j->fd[k], F_SETFL, O_NONBLOCK);
	}
	j->pid = pid;
	j->started_ns = time_mono_ns();
	js->running++;
	return 0;
}

/* A child that ended: what its pipes still hold (a process it left behind may keep them
 * open: not waited for), then it is done. */
static void reap(struct jobs *js)
{
	for (size_t i = 0; i < js->n; i++) {
		struct job *j = &js->v[i];
		int st;

		if (j->pid <= 0 || waitpid(j->pid, &st, WNOHANG) != j->pid)
			continue;
		j->status = st;
		j->pid = -1;
		j->ended_ns = time_mono_ns();
		js->running--;
		for (int k = 0; k < N_PIPES; k++) {
			drain(j, k);
			if (j->fd[k] >= 0) {
				close(j->fd[k]);
				j->fd[k] = -1;
			}
		}
		flush_lines(j, OUT, true);
		flush_lines(j, ERR, true);
	}
}

static void on_signal(struct jobs *js)
{
	struct signalfd_siginfo si;

	while (read(js->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		js->interrupt_sig = (int)si.ssi_signo;
		log_warn("interrupted by %s: ending the %zu running drill%s (each writes its "
			 "reports and tears its lab down); %zu not started",
			 strsignal((int)si.ssi_signo), js->running, js->running == 1 ? "" : "s",
			 js->n - js->next);
		for (size_t i = 0; i < js->n; i++)
			if (js->v[i].pid > 0)
				kill(js->v[i].pid, (int)si.ssi_signo);
	}
}

/* Until every started child is done: start the next ones while there is room. */
static int loop(struct jobs *js)
{
	struct pollfd *pfd = calloc(js->n * N_PIPES + 1, sizeof(*pfd));
	int r;

	if (!pfd)
		return -ENOMEM;
	while (js->running || (js->next < js->n && !js->interrupt_sig)) {
		size_t np = 0;

		while (!js->interrupt_sig && js->next < js->n && js->running < js->o->jobs) {
			if ((r = start(js, js->next)) < 0) {
				log_error("cannot start a process for %s: %s", js->v[js->next].name,
					  strerror(-r));
				js->interrupt_sig = -1; /* start no more; the others end */
				break;
			}
			js->next++;
		}
		pfd[np++] = (struct pollfd){ .fd = js->sigfd, .events = POLLIN };
		for (size_t i = 0; i < js->n; i++)
			for (int k = 0; k < N_PIPES; k++)
				if (js->v[i].fd[k] >= 0)
					pfd[np++] = (struct pollfd){ .fd = js->v[i].fd[k], .events = POLLIN };
		if (poll(pfd, np, 1000) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < js->n; i++)
			for (int k = 0; k < N_PIPES; k++)
				drain(&js->v[i], k);
		on_signal(js);
		reap(js);
	}
	free(pfd);
	return 0;
}

/* A job's exit code: the child's, or 3 when it died or never ran. */
static int job_code(const struct job *j)
{
	if (j->pid == 0)
		return EXIT_ENVIRONMENT;
	if (WIFEXITED(j->status) && WEXITSTATUS(j->status) <= EXIT_ENVIRONMENT)
		return WEXITSTATUS(j->status);
	return EXIT_ENVIRONMENT;
}

/* A suite for a drill that left no report: never started (interrupted), or its process
 * died; as JUnit, through the same writer as any drill. */
static void lost_suite(const struct jobs *js, const struct job *j, struct run_jobs_suite *s,
		       struct strbuf *junit)
{
	struct report_suite rs = { .name = j->name, .exit_code = EXIT_ENVIRONMENT };
	char why[160];

	if (j->pid == 0)
		snprintf(why, sizeof(why), "not started: the call was %s",
			 js->interrupt_sig > 0 ? "interrupted" : "ended early");
	else if (WIFSIGNALED(j->status))
		snprintf(why, sizeof(why), "its chaosdrill process was killed by signal %d (%s)",
			 WTERMSIG(j->status), strsignal(WTERMSIG(j->status)));
	else
		snprintf(why, sizeof(why), "its chaosdrill process exited %d without a report",
			 WIFEXITED(j->status) ? WEXITSTATUS(j->status) : -1);
	*s = (struct run_jobs_suite){ .exit_code = EXIT_ENVIRONMENT,
				      .duration_ns = -1,
				      .name = strdup(j->name),
				      .error = strdup(why) };
	rs.error = why;
	junit_write(&rs, 1, junit);
}

struct outcome {
	struct run_jobs_suite *suites; /* of every job, in order */
	size_t n;
	char **docs; /* one JUnit document per job */
	size_t *lens;
};

static int collect(const struct jobs *js, struct outcome *oc)
{
	oc->suites = NULL;
	oc->n = 0;
	oc->docs = calloc(js->n ? js->n : 1, sizeof(char *));
	oc->lens = calloc(js->n ? js->n : 1, sizeof(size_t));
	if (!oc->docs || !oc->lens)
		return -ENOMEM;
	for (size_t i = 0; i < js->n; i++) {
		const struct job *j = &js->v[i];
		struct run_jobs_suite *s = NULL, *w;
		size_t n = 0, at = 0;
		struct strbuf doc = STRBUF_INIT;

		if (j->msg.buf && run_jobs_decode(j->msg.buf, j->msg.len, &s, &n, &at) == 0 && n) {
			strbuf_appendn(&doc, j->msg.buf + at, j->msg.len - at);
		} else {
			run_jobs_suites_free(s, n);
			s = calloc(1, sizeof(*s));
			n = 1;
			if (!s)
				return -ENOMEM;
			lost_suite(js, j, s, &doc);
		}
		w = realloc(oc->suites, (oc->n + n) * sizeof(*w));
		if (!w) {
			run_jobs_suites_free(s, n);
			strbuf_release(&doc);
			return -ENOMEM;
		}
		oc->suites = w;
		memcpy(oc->suites + oc->n, s, n * sizeof(*s));
		free(s);
		oc->n += n;
		oc->lens[i] = doc.len;
		oc->docs[i] = strbuf_detach(&doc);
	}
	return 0;
}

static void outcome_free(struct outcome *oc, size_t n_docs)
{
	run_jobs_suites_free(oc->suites, oc->n);
	for (size_t i = 0; oc->docs && i < n_docs; i++)
		free(oc->docs[i]);
	free(oc->docs);
	free(oc->lens);
}

static int write_junit(const char *path, const struct outcome *oc, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char err[256];
	int r = junit_merge((const char *const *)oc->docs, oc->lens, n, &sb, err, sizeof(err));

	if (r == -EINVAL)
		log_error("cannot merge the drills' JUnit reports: %s", err);
	if (r >= 0)
		r = fs_write_atomic(path, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	return r;
}

/* The link from out_dir/index.html to a run directory's report.html: relative when the
 * run directory is under out_dir (as it is), else absolute. Caller frees. */
static char *link_of(const char *out_abs, const char *run_dir)
{
	size_t n = out_abs ? strlen(out_abs) : 0;
	char *s = NULL;

	if (!run_dir)
		return NULL;
	if (n && strncmp(run_dir, out_abs, n) == 0 && run_dir[n] == '/')
		run_dir += n + 1;
	return asprintf(&s, "%s/report.html", run_dir) < 0 ? NULL : s;
}

static int write_index(const struct run_jobs_options *o, const struct outcome *oc)
{
	struct report_index_row *rows = calloc(oc->n ? oc->n : 1, sizeof(*rows));
	_cleanup_free_ char *out_abs = realpath(o->out_dir, NULL), *path = NULL, *title = NULL;
	struct strbuf sb = STRBUF_INIT;
	int r = -ENOMEM;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < oc->n; i++) {
		const struct run_jobs_suite *s = &oc->suites[i];

		rows[i] = (struct report_index_row){ s->name, s->exit_code, s->rto, s->duration_ns,
						     link_of(out_abs, s->run_dir), s->run_dir,
						     s->error };
	}
	if (asprintf(&title, "chaosdrill run -j %u: %zu drill%s", o->jobs, oc->n,
		     oc->n == 1 ? "" : "s") >= 0 &&
	    asprintf(&path, "%s/index.html", out_abs ? out_abs : o->out_dir) >= 0 &&
	    (r = report_index_write(title, rows, oc->n, &sb)) >= 0 &&
	    (r = fs_mkdir_p(o->out_dir, 0755)) >= 0)
		r = fs_write_atomic(path, sb.buf, sb.len, 0644);
	for (size_t i = 0; i < oc->n; i++)
		free((char *)rows[i].link);
	free(rows);
	strbuf_release(&sb);
	return r;
}

static void summary(const struct jobs *js, const struct outcome *oc, int64_t wall_ns)
{
	size_t count[3] = { 0 };

	for (size_t i = 0; i < oc->n; i++)
		count[oc->suites[i].exit_code == 0 ? 0 : oc->suites[i].exit_code == 1 ? 1 : 2]++;
	printf("chaosdrill: %zu drill%s with -j %u in %lld.%03llds: %zu passed, %zu failed, %zu "
	       "could not run\n",
	       oc->n, oc->n == 1 ? "" : "s", js->o->jobs, (long long)(wall_ns / 1000000000),
	       (long long)(wall_ns / 1000000 % 1000), count[0], count[1], count[2]);
	for (size_t i = 0; i < oc->n; i++) {
		const struct run_jobs_suite *s = &oc->suites[i];

		printf("  %-32s %-5s rto %-12s %s\n", s->name, report_index_verdict(s->exit_code),
		       s->rto ? s->rto : "-", s->error ? s->error : s->run_dir ? s->run_dir : "");
	}
	fflush(stdout);
}

static int finish(struct jobs *js, int64_t t0)
{
	struct outcome oc = { 0 };
	int rc = EXIT_MET, r;

	for (size_t i = 0; i < js->n; i++)
		if (job_code(&js->v[i]) > rc)
			rc = job_code(&js->v[i]);
	if (collect(js, &oc) < 0) {
		log_error("out of memory");
		outcome_free(&oc, js->n);
		return EXIT_ENVIRONMENT;
	}
	if (js->o->junit && (r = write_junit(js->o->junit, &oc, js->n)) < 0) {
		log_error("cannot write %s: %s", js->o->junit, strerror(-r));
		rc = EXIT_ENVIRONMENT;
	}
	if ((r = write_index(js->o, &oc)) < 0) {
		log_error("cannot write %s/index.html: %s", js->o->out_dir, strerror(-r));
		rc = EXIT_ENVIRONMENT;
	}
	summary(js, &oc, time_mono_ns() - t0);
	outcome_free(&oc, js->n);
	return rc;
}

static int watch_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int run_jobs(const char *const *names, size_t n, const struct run_jobs_options *o,
	     run_jobs_drill_fn fn, void *ud)
{
	struct jobs js = { .n = n, .o = o, .fn = fn, .ud = ud, .sigfd = -1 };
	int64_t t0 = time_mono_ns();
	sigset_t old;
	int rc;

	js.v = calloc(n ? n : 1, sizeof(*js.v));
	if (!js.v)
		return EXIT_ENVIRONMENT;
	for (size_t i = 0; i < n; i++) {
		js.v[i].name = names[i];
		for (int k = 0; k < N_PIPES; k++)
			js.v[i].fd[k] = -1;
	}
	js.sigfd = watch_signals(&old);
	if (js.sigfd < 0) {
		log_error("cannot watch signals: %s", strerror(errno));
		free(js.v);
		return EXIT_ENVIRONMENT;
	}
	if (loop(&js) < 0)
		log_error("out of memory");
	rc = finish(&js, t0);
	close(js.sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < n; i++) {
		strbuf_release(&js.v[i].line[OUT]);
		strbuf_release(&js.v[i].line[ERR]);
		strbuf_release(&js.v[i].msg);
	}
	free(js.v);
	return rc;
}
