/* Client adapters as processes: see adapter.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "harness/run/adapter.h"

extern char **environ;

struct adapter {
	pid_t pid; /* 0 once reaped */
	int rfd, wfd;
	int status;  /* wait status once reaped */
	bool killed; /* reaped after our SIGKILL */
};

/* argv[0] as execve wants it: itself if it has a slash, else its first executable match
 * in PATH. Resolved before fork: the child may only make async-signal-safe calls. */
static int resolve(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(name, '/'))
		return snprintf(out, len, "%s", name) < (int)len ? 0 : -ENAMETOOLONG;
	for (p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *colon = strchrnul(p, ':');

		snprintf(out, len, "%.*s/%s", (int)(colon - p), colon == p ? "." : p, name);
		if (access(out, X_OK) == 0)
			return 0;
		p = *colon ? colon + 1 : colon;
	}
	return -ENOENT;
}

/* The harness's environment with CHAOSDRILL_NODE set; the strings are borrowed but the
 * node's, *mine (caller frees it and the array). */
static char **environment(const char *node, char **mine)
{
	size_t n = 0, j = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CHAOSDRILL_NODE=", 16) != 0)
			env[j++] = environ[i];
	if (asprintf(&env[j], "CHAOSDRILL_NODE=%s", node ? node : "") < 0) {
		free(env);
		return NULL;
	}
	*mine = env[j];
	return env;
}

/* In the child, between fork and execve: only async-signal-safe calls. */
static void child(int in, int out, int err, int report, const char *path, char *const *argv,
		  char **env)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int e;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, gaps */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		goto failed;
	execve(path, argv, env);
failed:
	e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Waits for the child's exec: 0 when it happened (the report pipe closed on exec). */
static int exec_result(int report)
{
	int e = 0;
	ssize_t n;

	do
		n = read(report, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? -e : 0;
}

int adapter_start(const struct adapter_spec *s, struct adapter **out)
{
	_cleanup_close_ int err = -1, report_r = -1, report_w = -1;
	int to[2] = { -1, -1 }, from[2] = { -1, -1 }, k;
	_cleanup_free_ char **env = NULL;
	_cleanup_free_ char *node_var = NULL;
	char path[PATH_MAX];
	struct adapter *a;
	pid_t pid;

	if (!s->argv || !s->argv[0])
		return -EINVAL;
	/* a write to an adapter that died must be EPIPE, not the end of the harness */
	signal(SIGPIPE, SIG_IGN);
	if ((k = resolve(s->argv[0], path, sizeof(path))) < 0)
		return k;
	err = open(s->stderr_path ? s->stderr_path : "/dev/null",
		   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (err < 0)
		return -errno;
	env = environment(s->node, &node_var);
	a = calloc(1, sizeof(*a));
	if (!env || !a) {
		free(a);
		return -ENOMEM;
	}
	*a = (struct adapter){ .rfd = -1, .wfd = -1 };
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
		k = -errno;
		goto fail;
	}
	{
		int rw[2];

		if (pipe2(rw, O_CLOEXEC) < 0) {
			k = -errno;
			goto fail;
		}
		report_r = rw[0];
		report_w = rw[1];
	}
	pid = fork();
	if (pid < 0) {
		k = -errno;
		goto fail;
	}
	if (pid == 0)
		child(to[0], from[1], err, report_w, path, s->argv, env);
	setpgid(pid, pid); /* both sides: whichever runs first */
	close(report_w);
	report_w = -1;
	close(to[0]);
	close(from[1]);
	a->pid = pid;
	a->wfd = to[1];
	a->rfd = from[0];
	k = exec_result(report_r);
	if (k < 0) {
		adapter_free(a);
		return k;
	}
	*out = a;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (to[i] >= 0)
			close(to[i]);
		if (from[i] >= 0)
			close(from[i]);
	}
	free(a);
	return k;
}

pid_t adapter_pid(const struct adapter *a)
{
	return a->pid;
}

int adapter_take_rfd(struct adapter *a)
{
	int fd = a->rfd;

	a->rfd = -1;
	return fd;
}

int adapter_take_wfd(struct adapter *a)
{
	int fd = a->wfd;

	a->wfd = -1;
	return fd;
}

/* Reaps the adapter if it has ended: true then. */
static bool reaped(struct adapter *a, int flags)
{
	int st;
	pid_t p;

	do
		p = waitpid(a->pid, &st, flags);
	while (p < 0 && errno == EINTR);
	if (p == 0)
		return false;
	a->status = p == a->pid ? st : 0;
	a->pid = 0;
	return true;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void adapter_stop(struct adapter *a, int grace_ms, char *how, size_t how_len)
{
	for (int waited = 0; a->pid && waited < grace_ms && !reaped(a, WNOHANG); waited += 5)
		sleep_ms(5);
	if (a->pid && !reaped(a, WNOHANG)) {
		kill(-a->pid, SIGKILL);
		kill(a->pid, SIGKILL); /* if the group was never made */
		a->killed = true;
		reaped(a, 0);
	}
	if (!how)
		return;
	if (a->killed)
		snprintf(how, how_len, "killed by the harness");
	else if (WIFEXITED(a->status))
		snprintf(how, how_len, "exited with status %d", WEXITSTATUS(a->status));
	else if (WIFSIGNALED(a->status))
		snprintf(how, how_len, "killed by SIG%s", sigabbrev_np(WTERMSIG(a->status)));
	else
		snprintf(how, how_len, "ended");
}

void adapter_free(struct adapter *a)
{
	if (!a)
		return;
	if (a->pid)
		adapter_stop(a, 0, NULL, 0);
	if (a->rfd >= 0)
		close(a->rfd);
	if (a->wfd >= 0)
		close(a->wfd);
	free(a);
}

char *adapter_stderr_tail(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	off_t from;
	ssize_t n;
	char *p;

	buf[0] = '\0';
	if (fd < 0 || len < 2 || fstat(fd, &st) < 0)
		return buf;
	from = st.st_size > (off_t)(len - 1) ? st.st_size - (off_t)(len - 1) : 0;
	n = pread(fd, buf, len - 1, from);
	if (n <= 0)
		return buf;
	buf[n] = '\0';
	p = buf;
	if (from > 0 && (p = strchr(buf, '\n'))) /* a whole first line only */
		p++;
	else if (from > 0)
		p = buf;
	memmove(buf, p, strlen(p) + 1);
	for (n = (ssize_t)strlen(buf); n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '); n--)
		buf[n - 1] = '\0';
	return buf;
}
