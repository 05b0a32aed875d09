/* The runner's side of node attachments (faults/attach.h): which attachments each node
 * gets (what its faults need, and its own disk when the drill gives it one), the host they
 * are handed (event loop, timeline, helper processes, the node's incarnation), and their
 * calls at each point of a node's life. The runner knows no attachment by name but one
 * table entry: the node's own disk, which the drill file asks for rather than a fault. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/timeutil.h"
#include "common/units.h"
#include "faults/disk/attach.h"
#include "harness/run/run_internal.h"

struct run_attach {
	const struct attach_ops *ops;
	struct node_attach *a;
};

/* One node's attachments and the host they are handed. */
struct node_atts {
	struct drill_run *r;
	struct run_node *n;
	struct run_attach *att; /* by order */
	size_t n_att;
	struct attach_host host;
	char node_dir[4200]; /* host path: the run directory's nodes/NAME */
	char program[4096];  /* the node's start program as it finds it, "" if not */
};

/* This file's alone: every node's, in the drill's order. */
struct run_attachments {
	struct node_atts *nodes;
	size_t n;
};

static struct node_atts *atts_of(struct drill_run *r, const struct run_node *n)
{
	return r->attach && n && run_node_index(n) < r->attach->n ?
		       &r->attach->nodes[run_node_index(n)] :
		       NULL;
}

/* An event loop operation on an attachment's behalf: the loop calls back with its own
 * signature, the attachment wants its own. */
struct attach_op {
	struct node_atts *na;
	struct loop_op *op;
	attach_cb cb;
	void *ud;
};

static void on_op(struct loop *l, void *ud, int res)
{
	struct attach_op *o = ud;
	attach_cb cb = o->cb;
	void *cb_ud = o->ud;

	free(o); /* before the callback: it may arm the next one */
	cb(cb_ud, res);
}

static struct attach_op *op_new(void *h, attach_cb cb, void *ud)
{
	struct attach_op *o = malloc(sizeof(*o));

	if (o)
		*o = (struct attach_op){ .na = h, .cb = cb, .ud = ud };
	return o;
}

static int op_done(struct attach_op *o, int k, struct attach_op **out)
{
	if (k < 0) {
		free(o);
		return k;
	}
	if (out)
		*out = o;
	return 0;
}

static int h_poll(void *h, int fd, unsigned events, attach_cb cb, void *ud, struct attach_op **out)
{
	struct attach_op *o = op_new(h, cb, ud);

	if (!o)
		return -ENOMEM;
	return op_done(o, loop_poll(o->na->r->loop, fd, events, on_op, o, &o->op), out);
}

static int h_timer_at(void *h, int64_t at, attach_cb cb, void *ud, struct attach_op **out)
{
	struct attach_op *o = op_new(h, cb, ud);

	if (!o)
		return -ENOMEM;
	return op_done(o, loop_timer_at(o->na->r->loop, at, on_op, o, &o->op), out);
}

static void h_cancel(void *h, struct attach_op *o)
{
	if (!o)
		return;
	loop_cancel(o->na->r->loop, o->op);
	free(o);
}

static int64_t h_now(void *h)
{
	return run_now(((struct node_atts *)h)->r);
}

static void h_note(void *h, int64_t at, int fault, const char *line, const char *said)
{
	struct node_atts *na = h;

	timeline_add(na->r->tl, at, TL_NOTE, fault, run_node_name(na->n), 0, "%s", line);
	if (said)
		run_say(na->r, at, "%s", said);
}

static void h_cannot(void *h, const char *why)
{
	run_env_error(((struct node_atts *)h)->r, "%s", why);
}

#define HELPER_DEFAULT_NS (30 * NSEC_PER_SEC)

static int h_run(void *h, bool in_node, const char *const *argv, int64_t timeout_ns, char *out,
		 size_t len)
{
	struct node_atts *na = h;
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int k;

	cmd.argv = argv;
	cmd.cwd = "/";
	cmd.node_mounts = in_node;
	k = lab_run(na->r->lab, in_node ? run_node_lab(na->n) : NULL, &cmd,
		    timeout_ns > 0 ? timeout_ns : HELPER_DEFAULT_NS, &res);
	if (k < 0)
		return k;
	if (out) {
		snprintf(out, len, "%s", res.output);
		out[strcspn(out, "\n")] = '\0';
	}
	k = res.timed_out					  ? -ETIMEDOUT :
	    WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 ? 0 :
								    -EIO;
	if (k == -EIO && out && !*out)
		snprintf(out, len, "exit status 0x%x", res.status);
	free(res.output);
	return k;
}

static int h_spawn(void *h, const struct attach_spawn *s, pid_t *pid, int *pidfd)
{
	struct node_atts *na = h;
	struct lab_cmd cmd = LAB_CMD_INIT;

	cmd.argv = s->argv;
	cmd.stdout_fd = s->stdout_fd;
	cmd.stderr_fd = s->stderr_fd;
	cmd.cwd = "/";
	cmd.node_mounts = true;
	return node_exec(run_node_lab(na->n), &cmd, pid, pidfd);
}

static int h_wait(void *h, int pidfd, int64_t timeout_ns, int *status)
{
	return lab_proc_wait(pidfd, timeout_ns, status);
}

static int h_pidfd(void *h)
{
	return run_node_pidfd(((struct node_atts *)h)->n);
}

static int h_kill(void *h)
{
	return node_kill(run_node_lab(((struct node_atts *)h)->n));
}

static const struct attach_host_ops host_ops = {
	.poll = h_poll,
	.timer_at = h_timer_at,
	.cancel = h_cancel,
	.now = h_now,
	.note = h_note,
	.cannot = h_cannot,
	.run = h_run,
	.spawn = h_spawn,
	.wait = h_wait,
	.pidfd = h_pidfd,
	.kill = h_kill,
};

static const char *self_exe(void)
{
	static char path[PATH_MAX];

	if (!path[0] && !realpath("/proc/self/exe", path))
		return NULL;
	return path;
}

static void init_host(struct node_atts *na)
{
	struct drill_run *r = na->r;
	const char *name = run_node_name(na->n);
	char *const *argv = run_node_start_argv(na->n);

	if (na->host.ops)
		return;
	snprintf(na->node_dir, sizeof(na->node_dir), "%s/nodes/%s", r->run_dir, name);
	if (lab_find_program(argv[0], na->program, sizeof(na->program)) >= 0) {
		char abs[PATH_MAX]; /* named as a reader finds it, without ".." */

		if (realpath(na->program, abs))
			snprintf(na->program, sizeof(na->program), "%s", abs);
	} else {
		na->program[0] = '\0';
	}
	na->host = (struct attach_host){
		.h = na,
		.ops = &host_ops,
		.node = name,
		.node_dir = na->node_dir,
		.data_path = LAB_DATA_PATH,
		.user = run_node_target(na->n)->user,
		.argv = (const char *const *)argv,
		.program = na->program[0] ? na->program : NULL,
		.chaosdrill = self_exe(),
		.seed = r->d->seed,
		.t0 = r->t0,
	};
}

struct node_attach *run_attach_find(struct drill_run *r, struct run_node *n,
				    const struct attach_ops *ops)
{
	struct node_atts *na = atts_of(r, n);

	for (size_t i = 0; na && i < na->n_att; i++)
		if (na->att[i].ops == ops)
			return na->att[i].a;
	return NULL;
}

/* The node's attachment of that kind, made on the first need; kept sorted by order. */
static int need(struct node_atts *na, const struct attach_ops *ops, const void *arg, size_t fault)
{
	struct node_attach *a = run_attach_find(na->r, na->n, ops);
	struct run_attach *v;
	size_t i;
	int k;

	if (!a) {
		init_host(na);
		if (!(v = realloc(na->att, (na->n_att + 1) * sizeof(*v))))
			return -ENOMEM;
		na->att = v;
		if ((k = ops->new (&na->host, &a)) < 0)
			return k;
		for (i = na->n_att; i > 0 && v[i - 1].ops->order > ops->order; i--)
			v[i] = v[i - 1];
		v[i] = (struct run_attach){ ops, a };
		na->n_att++;
	}
	return ops->want(a, arg, fault);
}

static int collect(struct drill_run *r)
{
	struct run_attachments *ra = calloc(1, sizeof(*ra));

	if (!ra || !(ra->nodes = calloc(run_node_count(r) + 1, sizeof(*ra->nodes)))) {
		free(ra);
		return -ENOMEM;
	}
	r->attach = ra;
	ra->n = run_node_count(r);
	for (size_t i = 0; i < ra->n; i++)
		ra->nodes[i] = (struct node_atts){ .r = r, .n = run_node_at(r, i) };
	for (size_t i = 0; i < ra->n; i++) { /* the one attachment a drill file asks for */
		const struct scenario_disk *d =
			scenario_node_disk(r->sc, run_node_spec(ra->nodes[i].n));
		struct disk_spec spec = { d->size, d->fs == SCENARIO_DISK_EXT4 };
		int k;

		if (d->fs != SCENARIO_DISK_NONE &&
		    (k = need(&ra->nodes[i], &disk_attach_ops, &spec, 0)) < 0)
			return k;
	}
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct drill_fault *df = &r->d->faults[i];
		const struct attach_ops *ops = df->ops->attach ? df->ops->attach(df->state) : NULL;
		int k;

		if (ops && (k = need(atts_of(r, run_node_find(r, df->ops->node(df->state))), ops,
				     df->state, i)) < 0)
			return k;
	}
	return 0;
}

int run_attach_prepare(struct drill_run *r)
{
	int k = collect(r), lo = 0;

	/* in order across nodes: every node's disk before any node's file system over it */
	while (k >= 0) {
		int next = INT_MAX;

		for (size_t i = 0; i < r->attach->n && k >= 0; i++)
			for (size_t j = 0; j < r->attach->nodes[i].n_att && k >= 0; j++) {
				const struct run_attach *at = &r->attach->nodes[i].att[j];

				if (at->ops->order == lo && at->ops->prepare)
					k = at->ops->prepare(at->a);
				if (at->ops->order > lo && at->ops->order < next)
					next = at->ops->order;
			}
		if (next == INT_MAX)
			break;
		lo = next;
	}
	if (k < 0 && !r->env_error)
		run_env_error(r, "cannot set up what the faults keep on the nodes: %s",
			      strerror(-k));
	return k;
}

/* The host paths nodes must see (the shim, faultfs's binary), NULL-terminated, borrowed. */
size_t run_attach_host_paths(const struct drill *d, const char **paths, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_faults && n + 1 < max; i++) {
		const struct attach_ops *ops =
			d->faults[i].ops->attach ? d->faults[i].ops->attach(d->faults[i].state) :
						   NULL;

		if (ops && ops->host_path)
			paths[n++] = ops->host_path();
	}
	paths[n] = NULL;
	return n;
}

int run_attach_before_start(struct drill_run *r, struct run_node *n, struct lab_cmd *cmd,
			    struct attach_start **out)
{
	const char *const *base = run_node_envp(n);
	struct node_atts *na = atts_of(r, n);
	struct attach_start *s = NULL;
	int k;

	*out = NULL;
	if (!na || !na->n_att)
		return 0;
	if ((k = attach_start_new(base, &s)) < 0)
		return k;
	for (size_t i = 0; i < na->n_att && k >= 0; i++)
		if (na->att[i].ops->before_start)
			k = na->att[i].ops->before_start(na->att[i].a, s);
	if (k < 0) {
		attach_start_free(s);
		return k;
	}
	cmd->envp = attach_start_envp(s);
	if (attach_start_has_pre_exec(s)) {
		cmd->pre_exec = attach_start_pre_exec_all;
		cmd->pre_exec_ud = s;
	}
	*out = s;
	return 0;
}

int run_attach_after_start(struct drill_run *r, struct run_node *n, int spawn_result)
{
	struct node_atts *na = atts_of(r, n);
	int k = spawn_result;

	/* every attachment hears of the start, also after another one failed it */
	for (size_t i = 0; na && i < na->n_att; i++)
		if (na->att[i].ops->after_start) {
			int a = na->att[i].ops->after_start(na->att[i].a, spawn_result,
							    run_node_pidfd(n));

			if (k >= 0 && a < 0)
				k = a;
		}
	return k;
}

void run_attach_exited(struct drill_run *r, struct run_node *n, bool gone)
{
	struct node_atts *na = atts_of(r, n);

	for (size_t i = 0; na && i < na->n_att; i++)
		if (na->att[i].ops->exited)
			na->att[i].ops->exited(na->att[i].a, gone);
}

void run_attach_stop(struct drill_run *r)
{
	for (size_t i = 0; r->attach && i < r->attach->n; i++)
		for (size_t j = 0; j < r->attach->nodes[i].n_att; j++)
			if (r->attach->nodes[i].att[j].ops->stop)
				r->attach->nodes[i].att[j].ops->stop(r->attach->nodes[i].att[j].a);
}

void run_attach_free(struct drill_run *r)
{
	for (size_t i = 0; r->attach && i < r->attach->n; i++) {
		struct node_atts *na = &r->attach->nodes[i];

		for (size_t j = 0; j < na->n_att; j++)
			na->att[j].ops->free(na->att[j].a);
		free(na->att);
	}
	if (r->attach)
		free(r->attach->nodes);
	free(r->attach);
	r->attach = NULL;
}
