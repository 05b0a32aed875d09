/* Node supervision during a drill: data dirs and logs, argv from the target's templates,
 * incarnations started and watched through pidfds, readiness, the target's checker, and
 * the node operations faults may use. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/failpoint.h"
#include "common/fsutil.h"
#include "common/linux.h"
#include "common/log.h"
#include "common/units.h"
#include "harness/run/run_internal.h"

/* A node of the drill: this file's alone; others read it through run_node_*(). */
struct run_node {
	struct drill_run *run;
	size_t index; /* in the drill's order */
	const struct scenario_node *sn;
	struct lab_node *ln;
	char addr[16], port[8];
	char *replicas, *peers; /* owned */
	char *nodes;		/* owned: {nodes}, every node's name=addr:port */
	char timeout_ms[24];	/* {timeout_ms}: the workload's per-operation timeout */
	char data_dir[4096];	/* host path */
	int out_fd, err_fd;	/* logs, O_APPEND */
	pid_t pid;		/* current incarnation, 0 when down */
	int pidfd;
	unsigned incarnation;
	struct template_vars vars;		       /* start/probe/check templates */
	char **start_argv, **probe_argv, **check_argv; /* owned, expanded */
	char **leader_argv;  /* owned, expanded; NULL: the target has no leader probe */
	char **client_argv;  /* owned, expanded; NULL: the target has no adapter */
	char **init_argv;    /* owned, expanded; NULL: the target has no `init:` */
	char **envp;	     /* owned: PATH and the target's env:, expanded (NAME=value) */
	int last_status;     /* wait status of the last incarnation that ended, -1 none */
	int check_status;    /* exit status of the target's checker, -1 not run */
	char *check_output;  /* owned */
	char **online_argv;  /* owned, expanded; NULL: the target has no check-online */
	int online_status;   /* as check_status; -4: the node was not running */
	char *online_output; /* owned */
	int64_t online_start_ns, online_end_ns;
};

size_t run_node_count(const struct drill_run *r)
{
	return r->nodes ? r->n_nodes : 0;
}

struct run_node *run_node_at(struct drill_run *r, size_t i)
{
	return i < run_node_count(r) ? &r->nodes[i] : NULL;
}

size_t run_node_index(const struct run_node *n)
{
	return n->index;
}

const struct scenario_node *run_node_spec(const struct run_node *n)
{
	return n->sn;
}

const char *run_node_name(const struct run_node *n)
{
	return n->sn->name;
}

const char *run_node_addr(const struct run_node *n)
{
	return n->addr;
}

const char *run_node_port(const struct run_node *n)
{
	return n->port;
}

struct lab_node *run_node_lab(const struct run_node *n)
{
	return n->ln;
}

int run_node_pidfd(const struct run_node *n)
{
	return n->pidfd;
}

pid_t run_node_pid(const struct run_node *n)
{
	return n->pid;
}

unsigned run_node_incarnation(const struct run_node *n)
{
	return n->incarnation;
}

char *const *run_node_client_argv(const struct run_node *n)
{
	return n->client_argv;
}

const struct template_vars *run_node_vars(const struct run_node *n)
{
	return &n->vars;
}

char *const *run_node_start_argv(const struct run_node *n)
{
	return n->start_argv;
}

char *const *run_node_probe_argv(const struct run_node *n)
{
	return n->probe_argv;
}

const char *run_node_checker(const struct run_node *n, int *status, const char **output)
{
	*status = n->check_status;
	*output = n->check_output ? n->check_output : "";
	return n->check_argv ? n->check_argv[0] : NULL;
}

struct run_node *run_node_find(struct drill_run *r, const char *name)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (strcmp(r->nodes[i].sn->name, name) == 0)
			return &r->nodes[i];
	return NULL;
}

static int open_log(const char *dir, const char *name)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

const struct drill *run_node_view(const struct run_node *n)
{
	return drill_node_view(n->run->d, n->sn);
}

const struct target_def *run_node_target(const struct run_node *n)
{
	return run_node_view(n)->target;
}

/* {replicas}: addr:port of the other nodes whose role param is "replica"; {peers}: of
 * every other node; {nodes}: name=addr:port of every node (of n's target, in a drill of
 * several). */
static int peer_lists(struct drill_run *r, struct run_node *n)
{
	struct strbuf rep = STRBUF_INIT, peers = STRBUF_INIT, all = STRBUF_INIT;

	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *o = &r->nodes[i];
		const char *role = scenario_param(run_node_view(o)->sc, o->sn, "role");

		if (o->sn->target != n->sn->target)
			continue;
		strbuf_appendf(&all, "%s%s=%s:%s", all.len ? "," : "", o->sn->name, o->addr,
			       o->port);
		if (o == n)
			continue;
		strbuf_appendf(&peers, "%s%s:%s", peers.len ? "," : "", o->addr, o->port);
		if (role && strcmp(role, "replica") == 0)
			strbuf_appendf(&rep, "%s%s:%s", rep.len ? "," : "", o->addr, o->port);
	}
	n->replicas = strbuf_detach(&rep);
	n->peers = strbuf_detach(&peers);
	n->nodes = strbuf_detach(&all);
	return n->replicas && n->peers && n->nodes ? 0 : -ENOMEM;
}

static int node_vars(struct drill_run *r, struct run_node *n)
{
	const struct target_def *t = run_node_target(n);
	struct template_vars *v = &n->vars;
	int k = 0;

	k |= template_set(v, "bin", t->bin_dir);
	k |= template_set(v, "targets_bin", target_bin_root());
	k |= template_set(v, "data", LAB_DATA_PATH);
	k |= template_set(v, "addr", n->addr);
	k |= template_set(v, "port", n->port);
	k |= template_set(v, "name", n->sn->name);
	k |= template_set(v, "replicas", n->replicas);
	k |= template_set(v, "peers", n->peers);
	k |= template_set(v, "nodes", n->nodes);
	snprintf(n->timeout_ms, sizeof(n->timeout_ms), "%lld",
		 (long long)(run_node_view(n)->sc->workload.timeout_ns / 1000000));
	k |= template_set(v, "timeout_ms", n->timeout_ms);
	k |= template_set(v, "src", t->src_dir);
	for (size_t i = 0; i < t->n_params; i++) {
		const char *val = scenario_param(run_node_view(n)->sc, n->sn, t->params[i].name);

		k |= template_set(v, t->params[i].name,
				  val		   ? val :
				  t->params[i].def ? t->params[i].def :
						     "");
	}
	return k ? -ENOMEM : 0;
}

static int expand(struct drill_run *r, struct run_node *n, const struct target_argv *a, char ***out)
{
	const char *bad = NULL;
	int k = template_expand_argv(a->argv, &n->vars, out, &bad);

	if (k == -ENOENT || k == -EINVAL) {
		run_env_error(r, "target %s: unknown placeholder {%s} in target.yaml",
			      run_node_target(n)->name, bad);
		return -EINVAL;
	}
	return k;
}

/* The environment of the node's processes: PATH (unless env: sets it), then env:. */
static int node_env(struct drill_run *r, struct run_node *n)
{
	const struct target_def *t = run_node_target(n);
	bool path = false;
	size_t k = 0;

	n->envp = calloc(t->n_env + 2, sizeof(*n->envp));
	if (!n->envp)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_env; i++)
		path |= strcmp(t->env[i].name, "PATH") == 0;
	if (!path && !(n->envp[k++] = strdup(LAB_DEFAULT_PATH)))
		return -ENOMEM;
	for (size_t i = 0; i < t->n_env; i++) {
		const char *bad = NULL;
		char *val = NULL;
		int e = template_expand(t->env[i].value, &n->vars, &val, &bad);

		if (e == -ENOENT || e == -EINVAL)
			return run_env_error(r, "target %s: unknown placeholder {%s} in env %s",
					     t->name, bad, t->env[i].name);
		if (e < 0)
			return e;
		e = asprintf(&n->envp[k], "%s=%s", t->env[i].name, val);
		free(val);
		if (e < 0)
			return -ENOMEM;
		k++;
	}
	return 0;
}

const char *const *run_node_envp(const struct run_node *n)
{
	return (const char *const *)n->envp;
}

static int prepare_one(struct drill_run *r, struct run_node *n)
{
	char dir[4200];
	struct in_addr a;
	int k;

	snprintf(n->data_dir, sizeof(n->data_dir), "%s/data/%s", r->run_dir, n->sn->name);
	snprintf(dir, sizeof(dir), "%s/nodes/%s", r->run_dir, n->sn->name);
	if ((k = fs_mkdir_p(n->data_dir, 0755)) < 0 || (k = fs_mkdir_p(dir, 0755)) < 0)
		return k;
	n->out_fd = open_log(dir, "stdout.log");
	n->err_fd = open_log(dir, "stderr.log");
	if (n->out_fd < 0 || n->err_fd < 0)
		return -errno;
	/* a target run as a user sees its own files at fixed paths in the node (node_vars) */
	if (run_node_target(n)->user)
		k = lab_node_add_binds(r->lab, n->sn->name, n->data_dir, run_node_target(n)->src_dir,
				       run_node_target(n)->bin_dir, &n->ln);
	else
		k = lab_node_add(r->lab, n->sn->name, n->data_dir, &n->ln);
	if (k < 0 || (k = failpoint("node.add", -ENOSPC)) < 0)
		return k;
	a = node_addr(n->ln);
	inet_ntop(AF_INET, &a, n->addr, sizeof(n->addr));
	snprintf(n->port, sizeof(n->port), "%u", run_node_target(n)->port);
	return 0;
}

int run_nodes_prepare(struct drill_run *r)
{
	const struct target_def *t;
	int k;

	r->nodes = calloc(r->sc->n_nodes, sizeof(*r->nodes));
	if (!r->nodes)
		return -ENOMEM;
	r->n_nodes = r->sc->n_nodes;
	/* all of them first: a failure half-way leaves nodes that teardown must tell apart */
	for (size_t i = 0; i < r->n_nodes; i++)
		r->nodes[i] = (struct run_node){ .run = r,
						 .index = i,
						 .sn = &r->sc->nodes[i],
						 .out_fd = -1,
						 .err_fd = -1,
						 .pidfd = -1,
						 .last_status = -1,
						 .check_status = -1,
						 .online_status = -1 };
	for (size_t i = 0; i < r->n_nodes; i++)
		if ((k = prepare_one(r, &r->nodes[i])) < 0)
			return k;
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];

		t = run_node_target(n);
		if ((k = peer_lists(r, n)) < 0 || (k = node_vars(r, n)) < 0)
			return k;
		/* the adapter runs in the lab, on the host's files: {src} and {bin} where they
		 * are; everything else runs in the node, where a target run as a user has them
		 * at fixed paths it can reach (run_node_add) */
		if (t->client.argc && (k = expand(r, n, &t->client, &n->client_argv)) < 0)
			return k;
		if (t->user && (template_set(&n->vars, "src", LAB_TARGET_PATH) < 0 ||
				template_set(&n->vars, "bin", LAB_TARGET_BIN_PATH) < 0))
			return -ENOMEM;
		if ((k = node_env(r, n)) < 0 || (k = expand(r, n, &t->start, &n->start_argv)) < 0 ||
		    (k = expand(r, n, &t->probe_ready, &n->probe_argv)) < 0)
			return k;
		if (t->check.argc && (k = expand(r, n, &t->check, &n->check_argv)) < 0)
			return k;
		if (t->probe_leader.argc &&
		    (k = expand(r, n, &t->probe_leader, &n->leader_argv)) < 0)
			return k;
		if (t->init.argc && (k = expand(r, n, &t->init, &n->init_argv)) < 0)
			return k;
		if (t->check_online.argc &&
		    (k = expand(r, n, &t->check_online, &n->online_argv)) < 0)
			return k;
	}
	return 0;
}

/* "UID:GID" of the target's user (a name or a number), for chown. */
static int user_ids(const char *user, char *ids, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long uid = strtoul(user, &end, 10);
	int k = *user && !*end ? getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) :
				 getpwnam_r(user, &pw, buf, sizeof(buf), &res);

	if (k != 0)
		return -k;
	if (!res)
		return -ESRCH;
	snprintf(ids, len, "%u:%u", (unsigned)pw.pw_uid, (unsigned)pw.pw_gid);
	return 0;
}

#define OWN_TIMEOUT_NS (30 * NSEC_PER_SEC)
#define INIT_TIMEOUT_NS (300 * NSEC_PER_SEC)

/* chown of the data dir as the node sees it (in its mount namespace: through its disk and
 * fault file system when it has them), so the target's user owns it. */
static int own_data_dir(struct drill_run *r, struct run_node *n, const char *ids)
{
	const char *argv[] = { "chown", ids, LAB_DATA_PATH, NULL };
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int k;

	cmd.argv = argv;
	cmd.cwd = "/";
	cmd.node_mounts = true;
	if ((k = lab_run(r->lab, n->ln, &cmd, OWN_TIMEOUT_NS, &res)) < 0)
		return run_env_error(r, "node %s: cannot run chown on its data dir: %s",
				     n->sn->name, strerror(-k));
	k = res.timed_out || !WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0;
	if (k)
		run_env_error(r, "node %s: chown %s of its data dir failed: %s", n->sn->name, ids,
			      res.output && *res.output ? res.output : "no output");
	else
		timeline_add(r->tl, run_now(r), TL_NOTE, -1, n->sn->name, 0,
			     "data dir owned by user %s (%s)", run_node_target(n)->user, ids);
	free(res.output);
	return k ? -EIO : 0;
}

/* The target's `init:` on the node's fresh data dir, as its user, to its end. */
static int init_node(struct drill_run *r, struct run_node *n)
{
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int64_t t = run_now(r);
	int k;

	cmd.argv = (const char *const *)n->init_argv;
	cmd.user = run_node_target(n)->user;
	cmd.envp = run_node_envp(n);
	if ((k = lab_run(r->lab, n->ln, &cmd, INIT_TIMEOUT_NS, &res)) < 0)
		return run_env_error(r, "node %s: init %s could not run: %s%s%s%s", n->sn->name,
				     n->init_argv[0], strerror(-k), *lab_last_error() ? " (" : "",
				     lab_last_error(), *lab_last_error() ? ")" : "");
	k = res.timed_out || !WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0;
	timeline_add(r->tl, run_now(r), TL_NOTE, -1, n->sn->name, k, "init %s %s%s%s in %lld ms",
		     n->init_argv[0],
		     res.timed_out ? "timed out" :
		     k		   ? "failed" :
				     "ok",
		     cmd.user ? " as user " : "", cmd.user ? cmd.user : "",
		     (long long)((run_now(r) - t) / NSEC_PER_MSEC));
	if (k)
		run_env_error(r, "target %s: init %s on node %s %s: %s", run_node_target(n)->name,
			      n->init_argv[0], n->sn->name, res.timed_out ? "timed out" : "failed",
			      res.output && *res.output ? res.output : "no output");
	else
		run_say(r, run_now(r), "init %s on %s: ok", n->init_argv[0], n->sn->name);
	free(res.output);
	return k ? -EIO : 0;
}

int run_nodes_own(struct drill_run *r)
{
	char ids[64];
	int k;

	for (size_t i = 0; i < r->n_nodes; i++) {
		const char *user = run_node_target(&r->nodes[i])->user;

		if (user && (k = user_ids(user, ids, sizeof(ids))) < 0)
			return run_env_error(r, "target %s: user '%s' %s",
					     run_node_target(&r->nodes[i])->name, user,
					     k == -ESRCH ? "does not exist on this machine" :
							   strerror(-k));
		if (user && (k = own_data_dir(r, &r->nodes[i], ids)) < 0)
			return k;
		if (r->nodes[i].init_argv && (k = init_node(r, &r->nodes[i])) < 0)
			return k;
	}
	return 0;
}

static void on_node_exit(struct loop *l, void *ud, int res)
{
	struct run_node *n = ud;
	struct drill_run *r = n->run;
	int status = 0;

	if (n->pidfd < 0)
		return;
	if (lab_proc_wait(n->pidfd, 0, &status) == -ETIMEDOUT) { /* spurious: poll again */
		loop_poll(l, n->pidfd, POLLIN, on_node_exit, n, NULL);
		return;
	}
	run_attach_exited(r, n, true); /* before the pidfd they borrow goes */
	close(n->pidfd);
	n->pidfd = -1;
	n->pid = 0;
	n->last_status = status;
	timeline_add(r->tl, run_now(r), TL_NODE_EXITED, -1, n->sn->name, status, "%s %d",
		     WIFSIGNALED(status) ? "killed by signal" : "exited with",
		     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	log_debug("node %s exited (status 0x%x)", n->sn->name, status);
}

int run_node_start(struct run_node *n)
{
	struct drill_run *r = n->run;
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct attach_start *st;
	int k;

	/* still running: say so, and leave that incarnation alone (the cleanup below is for
	 * a new one that its attachments cannot serve) */
	if (n->pidfd >= 0)
		return -EBUSY;
	cmd.argv = (const char *const *)n->start_argv;
	cmd.envp = run_node_envp(n);
	cmd.stdout_fd = n->out_fd;
	cmd.stderr_fd = n->err_fd;
	cmd.user = run_node_target(n)->user;
	if ((k = run_attach_before_start(r, n, &cmd, &st)) < 0)
		return k;
	k = failpoint("node.spawn", -ENOEXEC);
	k = run_attach_after_start(r, n, k < 0 ? k : node_spawn(n->ln, &cmd, &n->pid, &n->pidfd));
	attach_start_free(st);
	if (k < 0) {
		if (n->pidfd >= 0) { /* started, but its attachments cannot serve it: stop it */
			run_attach_exited(r, n, false);
			node_kill(n->ln);
			lab_proc_wait(n->pidfd, 5 * NSEC_PER_SEC, NULL);
			close(n->pidfd);
			n->pidfd = -1;
			n->pid = 0;
		}
		return k;
	}
	n->incarnation++;
	timeline_add(r->tl, run_now(r), TL_NODE_STARTED, -1, n->sn->name, (int)n->incarnation,
		     "pid %d%s%s", (int)n->pid, cmd.user ? " as user " : "",
		     cmd.user ? cmd.user : "");
	return loop_poll(r->loop, n->pidfd, POLLIN, on_node_exit, n, NULL);
}

int run_node_start_with(struct run_node *n, const struct cfg_node *params)
{
	const struct target_def *t = run_node_target(n);
	struct template_vars v = { 0 };
	char **argv = NULL, **saved = n->start_argv;
	const char *bad = NULL;
	int k = 0;

	if (!params)
		return run_node_start(n);
	for (size_t i = 0; i < n->vars.n; i++)
		k |= template_set(&v, n->vars.names[i], n->vars.values[i]);
	for (size_t i = 0; i < params->n; i++) /* checked against the target's by drill_load */
		k |= template_set(&v, params->keys[i]->scalar, params->items[i]->scalar);
	k = k ? -ENOMEM : template_expand_argv(t->start.argv, &v, &argv, &bad);
	template_vars_release(&v);
	if (k < 0)
		return k;
	/* this incarnation's argv only: the next plain start uses the drill's params again */
	n->start_argv = argv;
	k = run_node_start(n);
	n->start_argv = saved;
	template_argv_free(argv); /* node_spawn returns after the exec: nothing uses it now */
	return k;
}

int run_node_signal(struct run_node *n, int sig)
{
	if (n->pidfd < 0)
		return -ESRCH;
	if (sig == SIGKILL)
		return node_kill(n->ln);
	/* pid 1 of its pid namespace gets only the signals it has a handler for */
	if (sys_pidfd_send_signal(n->pidfd, sig, NULL, 0) < 0)
		return errno == ENOSYS && kill(n->pid, sig) == 0 ? 0 : -errno;
	return 0;
}

int run_node_last_status(const struct run_node *n)
{
	return n->last_status;
}

struct ready_wait {
	size_t left;
	struct run_node *bad; /* the first node whose probe never passed */
	char *bad_output;     /* owned */
};

struct ready_ctx {
	struct ready_wait *w;
	struct run_node *n;
};

static void on_ready(struct drill_run *r, void *ud, int status, bool timed_out, const char *out)
{
	struct ready_ctx *c = ud;

	c->w->left--;
	if (status != 0 && !c->w->bad) {
		c->w->bad = c->n;
		c->w->bad_output = out ? strdup(out) : NULL;
	}
}

static bool all_answered(struct drill_run *r, void *arg)
{
	return ((struct ready_wait *)arg)->left == 0;
}

static char *log_tail(const struct run_node *n)
{
	char path[4200], *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/nodes/%s/stderr.log", n->run->run_dir, n->sn->name);
	if (fs_read_all(path, 1 << 20, &buf, &len) < 0)
		return NULL;
	if (len > 600)
		memmove(buf, buf + len - 600, 601);
	return buf;
}

/* Starts every node and waits until each one's readiness probe passes. On failure sets
 * r->env_error (the target failed to start: exit 3) with the probe's and node's words. */
int run_nodes_wait_ready(struct drill_run *r, int64_t timeout_ns)
{
	struct ready_wait w = { .left = r->n_nodes };
	struct ready_ctx *ctx = calloc(r->n_nodes, sizeof(*ctx));
	int k = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_nodes && k >= 0; i++) {
		ctx[i] = (struct ready_ctx){ &w, &r->nodes[i] };
		k = run_node_start(&r->nodes[i]);
		if (k < 0)
			run_env_error(r, "node %s failed to start: %s%s%s%s", r->nodes[i].sn->name,
				      strerror(-k), *lab_last_error() ? " (" : "", lab_last_error(),
				      *lab_last_error() ? ")" : "");
	}
	for (size_t i = 0; i < r->n_nodes && k >= 0; i++)
		k = probe_until_ready(r, &r->nodes[i], timeout_ns, on_ready, &ctx[i]);
	if (k >= 0 && !run_until(r, all_answered, &w, -1))
		k = -EINTR;
	if (k >= 0 && w.bad) {
		char *tail = log_tail(w.bad);

		run_env_error(r, "target %s: node %s never became ready (probe: %s)%s%s",
			      run_node_target(w.bad)->name, w.bad->sn->name,
			      w.bad_output && *w.bad_output ? w.bad_output : "no output",
			      tail ? "; its stderr ends: " : "", tail ? tail : "");
		free(tail);
		k = -ETIMEDOUT;
	}
	free(w.bad_output);
	free(ctx);
	return k;
}

/* Kills every running incarnation and reaps it (the drill is over). */
void run_nodes_stop(struct drill_run *r)
{
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];
		int status;

		if (n->pidfd < 0)
			continue;
		run_attach_exited(r, n, false);
		node_kill(n->ln);
		if (lab_proc_wait(n->pidfd, 5 * NSEC_PER_SEC, &status) == 0)
			timeline_add(r->tl, run_now(r), TL_NODE_EXITED, -1, n->sn->name, status,
				     "stopped at the end of the drill");
		close(n->pidfd);
		n->pidfd = -1;
		n->pid = 0;
	}
}

static void on_checked(struct drill_run *r, void *ud, int status, bool timed_out, const char *out)
{
	struct run_node *n = ud;

	n->check_status = timed_out ? -2 : status;
	n->check_output = out ? strdup(out) : NULL;
	timeline_add(r->tl, run_now(r), TL_CHECK, -1, n->sn->name, status, "%s",
		     timed_out ? "timed out" : "exited");
}

static bool all_checked(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (r->nodes[i].check_argv && r->nodes[i].check_status == -1)
			return false;
	return true;
}

/* Runs the target's checker on every node's data (nodes stopped first). */
void run_nodes_check(struct drill_run *r)
{
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];

		if (n->check_argv &&
		    helper_start(r, n, n->check_argv, 60 * NSEC_PER_SEC, on_checked, n) < 0)
			n->check_status = -3;
	}
	run_until(r, all_checked, NULL, -1);
}

static void on_checked_online(struct drill_run *r, void *ud, int status, bool timed_out,
			      const char *out)
{
	struct run_node *n = ud;

	n->online_status = timed_out ? -2 : status;
	n->online_output = out ? strdup(out) : NULL;
	n->online_end_ns = run_now(r);
	timeline_add(r->tl, n->online_end_ns, TL_CHECK, -1, n->sn->name, status, "check-online %s",
		     timed_out ? "timed out" : "exited");
}

static bool all_online_checked(struct drill_run *r, void *arg)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (r->nodes[i].online_argv && r->nodes[i].online_status == -1)
			return false;
	return true;
}

#define CHECK_ONLINE_TIMEOUT_NS (60 * NSEC_PER_SEC)

void run_nodes_check_online(struct drill_run *r)
{
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];

		if (!n->online_argv)
			continue;
		n->online_start_ns = n->online_end_ns = run_now(r);
		if (n->pidfd < 0) /* nothing to check against: that is a failed check */
			n->online_status = -4;
		else if (helper_start(r, n, n->online_argv, CHECK_ONLINE_TIMEOUT_NS,
				      on_checked_online, n) < 0)
			n->online_status = -3;
	}
	run_until(r, all_online_checked, NULL, -1);
}

const char *run_node_check_online(const struct run_node *n, int *status, const char **output,
				  int64_t *start_ns, int64_t *end_ns)
{
	*status = n->online_status;
	*output = n->online_output ? n->online_output : "";
	*start_ns = n->online_start_ns;
	*end_ns = n->online_end_ns;
	return n->online_argv ? n->online_argv[0] : NULL;
}

void run_nodes_release(struct drill_run *r)
{
	for (size_t i = 0; r->nodes && i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];

		if (n->pidfd >= 0)
			close(n->pidfd);
		if (n->out_fd >= 0)
			close(n->out_fd);
		if (n->err_fd >= 0)
			close(n->err_fd);
		free(n->replicas);
		free(n->peers);
		free(n->nodes);
		free(n->check_output);
		free(n->online_output);
		template_argv_free(n->online_argv);
		template_vars_release(&n->vars);
		template_argv_free(n->start_argv);
		template_argv_free(n->probe_argv);
		template_argv_free(n->check_argv);
		template_argv_free(n->leader_argv);
		template_argv_free(n->client_argv);
		template_argv_free(n->init_argv);
		template_argv_free(n->envp);
	}
	free(r->nodes);
	r->nodes = NULL;
}

/* The node operations faults may use (faults/fault.h). */
static int env_kill(void *h, const char *name)
{
	struct run_node *n = run_node_find(h, name);

	return n ? node_kill(n->ln) : -ENOENT;
}

static int env_freeze(void *h, const char *name, bool frozen, const char **how)
{
	struct run_node *n = run_node_find(h, name);
	enum lab_freeze_how fh;
	int k;

	if (!n)
		return -ENOENT;
	k = node_freeze(n->ln, frozen, &fh);
	if (k >= 0 && how)
		*how = lab_freeze_how_name(fh);
	return k;
}

static bool env_running(void *h, const char *name)
{
	struct run_node *n = run_node_find(h, name);

	return n && n->pidfd >= 0;
}

static int env_socket(void *h, const char *name, int domain, int type, int protocol)
{
	struct run_node *n = run_node_find(h, name);

	return n ? node_socket(n->ln, domain, type, protocol) : -ENOENT;
}

static int env_addr(void *h, const char *name, uint32_t *addr)
{
	struct run_node *n = run_node_find(h, name);

	if (!n)
		return -ENOENT;
	*addr = node_addr(n->ln).s_addr;
	return 0;
}

/* Kill, then wait until the init's exit: its pid namespace is empty by then. */
static int env_kill_wait(void *h, const char *name)
{
	struct run_node *n = run_node_find(h, name);
	struct pollfd p;
	int k;

	if (!n || n->pidfd < 0)
		return -ESRCH;
	p = (struct pollfd){ n->pidfd, POLLIN, 0 };
	if ((k = node_kill(n->ln)) < 0)
		return k;
	return poll(&p, 1, 10000) == 1 ? 0 : -ETIMEDOUT; /* on_node_exit reaps it */
}

static struct node_attach *env_attachment(void *h, const char *name, const struct attach_ops *ops)
{
	return run_attach_find(h, run_node_find(h, name), ops);
}

#define LEADER_PROBE_NS (2 * NSEC_PER_SEC)

/* Runs the leader probe of every running node (one at a time: a fault waits for them). */
static int env_select(void *h, const char *role, const char **node)
{
	struct drill_run *r = h;
	size_t found = 0;
	int k;

	(void)role; /* "leader" and "primary" are the same question to the probe */
	*node = NULL;
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct run_node *n = &r->nodes[i];
		struct lab_cmd cmd = LAB_CMD_INIT;
		struct lab_run_result res;

		if (!n->leader_argv)
			return -ENOTSUP;
		if (n->pidfd < 0)
			continue;
		cmd.argv = (const char *const *)n->leader_argv;
		cmd.user = run_node_target(n)->user;
		cmd.envp = run_node_envp(n);
		k = lab_run(r->lab, n->ln, &cmd, LEADER_PROBE_NS, &res);
		if (k < 0) /* the probe could not run: that is not an answer */
			return k;
		if (!res.timed_out && WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0) {
			*node = n->sn->name;
			found++;
		}
		free(res.output);
	}
	return found == 1 ? 0 : found ? -ENOTUNIQ : -ENOENT;
}

static void env_unsupported(void *h, const char *why)
{
	run_env_error(h, "this machine cannot make a fault of the drill: %s", why);
}

const struct fault_env run_fault_env_ops = {
	.harness = NULL, /* set per drill: a copy with .harness = the drill_run */
	.node_kill = env_kill,
	.node_freeze = env_freeze,
	.node_running = env_running,
	.node_socket = env_socket,
	.node_addr = env_addr,
	.node_kill_wait = env_kill_wait,
	.attachment = env_attachment,
	.node_select = env_select,
	.unsupported = env_unsupported,
};
