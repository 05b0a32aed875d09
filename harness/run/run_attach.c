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

/* An event loop operation on an attachment's behalf: the loop calls back with its own
 * signature, the attachment wants its own. */
struct attach_op {
	struct run_node *n;
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
		*o = (struct attach_op){ .n = h, .cb = cb, .ud = ud };
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
	return op_done(o, loop_poll(o->n->run->loop, fd, events, on_op, o, &o->op), out);
}

static int h_timer_at(void *h, int64_t at, attach_cb cb, void *ud, struct attach_op **out)
{
	struct attach_op *o = op_new(h, cb, ud);

	if (!o)
		return -ENOMEM;
	return op_done(o, loop_timer_at(o->n->run->loop, at, on_op, o, &o->op), out);
}

static void h_cancel(void *h, struct attach_op *o)
{
	if (!o)
		return;
	loop_cancel(o->n->run->loop, o->op);
	free(o);
}

static int64_t h_now(void *h)
{
	return run_now(((struct run_node *)h)->run);
}

static void h_note(void *h, int64_t at, int fault, const char *line, const char *said)
{
	struct run_node *n = h;

	timeline_add(n->run->tl, at, TL_NOTE, fault, n->sn->name, 0, "%s", line);
	if (said)
		run_say(n->run, at, "%s", said);
}

static void h_cannot(void *h, const char *why)
{
	run_env_error(((struct run_node *)h)->run, "%s", why);
}

#define HELPER_DEFAULT_NS (30 * NSEC_PER_SEC)

static int h_run(void *h, bool in_node, const char *const *argv, int64_t timeout_ns, char *out,
		 size_t len)
{
	struct run_node *n = h;
	struct lab_cmd cmd = LAB_CMD_INIT;
	struct lab_run_result res;
	int k;

	cmd.argv = argv;
	cmd.cwd = "/";
	cmd.node_mounts = in_node;
	k = lab_run(n->run->lab, in_node ? n->ln : NULL, &cmd, timeout_ns > 0 ? timeout_ns : HELPER_DEFAULT_NS, &res);
	if (k < 0)
		return k;
	if (out) {
		snprintf(out, len, "%s", res.output);
		out[strcspn(out, "\n")] = '\0';
	}
	k = res.timed_out ? -ETIMEDOUT : WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 ? 0 : -EIO;
	if (k == -EIO && out && !*out)
		snprintf(out, len, "exit status 0x%x", res.status);
	free(res.output);
	return k;
}

static int h_spawn(void *h, const struct attach_spawn *s, pid_t *pid, int *pidfd)
{
	struct run_node *n = h;
	struct lab_cmd cmd = LAB_CMD_INIT;

	cmd.argv = s->argv;
	cmd.stdout_fd = s->stdout_fd;
	cmd.stderr_fd = s->stderr_fd;
	cmd.cwd = "/";
	cmd.node_mounts = true;
	return node_exec(n->ln, &cmd, pid, pidfd);
}

static int h_wait(void *h, int pidfd, int64_t timeout_ns, int *status)
{
	return lab_proc_wait(pidfd, timeout_ns, status);
}

static int h_pidfd(void *h)
{
	return ((struct run_node *)h)->pidfd;
}

static int h_kill(void *h)
{
	return node_kill(((struct run_node *)h)->ln);
}

static const struct attach_host_ops host_ops = {
	.poll = h_poll, .timer_at = h_timer_at, .cancel = h_cancel, .now = h_now,
	.note = h_note, .cannot = h_cannot, .run = h_run, .spawn = h_spawn, .wait = h_wait,
	.pidfd = h_pidfd, .kill = h_kill,
};

static const char *self_exe(void)
{
	static char path[PATH_MAX];

	if (!path[0] && !realpath("/proc/self/exe", path))
		return NULL;
	return path;
}

static void init_host(struct run_node *n)
{
	struct drill_run *r = n->run;

	if (n->host.ops)
		return;
	snprintf(n->node_dir, sizeof(n->node_dir), "%s/nodes/%s", r->run_dir, n->sn->name);
	if (lab_find_program(n->start_argv[0], n->program, sizeof(n->program)) >= 0) {
		char abs[PATH_MAX]; /* named as a reader finds it, without ".." */

		if (realpath(n->program, abs))
			snprintf(n->program, sizeof(n->program), "%s", abs);
	} else {
		n->program[0] = '\0';
	}
	n->host = (struct attach_host){
		.h = n, .ops = &host_ops, .node = n->sn->name, .node_dir = n->node_dir,
		.data_path = LAB_DATA_PATH, .user = r->d->target->user,
		.argv = (const char *const *)n->start_argv, .program = n->program[0] ? n->program : NULL,
		.chaosdrill = self_exe(), .seed = r->d->seed, .t0 = r->t0,
	};
}

struct node_attach *run_attach_find(struct run_node *n, const struct attach_ops *ops)
{
	for (size_t i = 0; n && i < n->n_att; i++)
		if (n->att[i].ops == ops)
			return n->att[i].a;
	return NULL;
}

/* The node's attachment of that kind, made on the first need; kept sorted by order. */
static int need(struct run_node *n, const struct attach_ops *ops, const void *arg, size_t fault)
{
	struct node_attach *a = run_attach_find(n, ops);
	struct run_attach *v;
	size_t i;
	int k;

	if (!a) {
		init_host(n);
		if (!(v = realloc(n->att, (n->n_att + 1) * sizeof(*v))))
			return -ENOMEM;
		n->att = v;
		if ((k = ops->new(&n->host, &a)) < 0)
			return k;
		for (i = n->n_att; i > 0 && v[i - 1].ops->order > ops->order; i--)
			v[i] = v[i - 1];
		v[i] = (struct run_attach){ ops, a };
		n->n_att++;
	}
	return ops->want(a, arg, fault);
}

static int collect(struct drill_run *r)
{
	for (size_t i = 0; i < r->n_nodes; i++) { /* the one attachment a drill file asks for */
		const struct scenario_disk *d = scenario_node_disk(r->sc, r->nodes[i].sn);
		struct disk_spec spec = { d->size, d->fs == SCENARIO_DISK_EXT4 };
		int k;

		if (d->fs != SCENARIO_DISK_NONE && (k = need(&r->nodes[i], &disk_attach_ops, &spec, 0)) < 0)
			return k;
	}
	for (size_t i = 0; i < r->d->n_faults; i++) {
		const struct drill_fault *df = &r->d->faults[i];
		const struct attach_ops *ops = df->ops->attach ? df->ops->attach(df->state) : NULL;
		int k;

		if (ops && (k = need(run_node_find(r, df->ops->node(df->state)), ops, df->state, i)) < 0)
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

		for (size_t i = 0; i < r->n_nodes && k >= 0; i++)
			for (size_t j = 0; j < r->nodes[i].n_att && k >= 0; j++) {
				const struct run_attach *at = &r->nodes[i].att[j];

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
		run_env_error(r, "cannot set up what the faults keep on the nodes: %s", strerror(-k));
	return k;
}

/* The host paths nodes must see (the shim, faultfs's binary), NULL-terminated, borrowed. */
size_t run_attach_host_paths(const struct drill *d, const char **paths, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_faults && n + 1 < max; i++) {
		const struct attach_ops *ops = d->faults[i].ops->attach ? d->faults[i].ops->attach(d->faults[i].state) : NULL;

		if (ops && ops->host_path)
			paths[n++] = ops->host_path();
	}
	paths[n] = NULL;
	return n;
}

int run_attach_before_start(struct run_node *n, struct lab_cmd *cmd, struct attach_start **out)
{
	static const char *const base[] = { LAB_DEFAULT_PATH, NULL };
	struct attach_start *s = NULL;
	int k;

	*out = NULL;
	if (!n->n_att)
		return 0;
	if ((k = attach_start_new(base, &s)) < 0)
		return k;
	for (size_t i = 0; i < n->n_att && k >= 0; i++)
		if (n->att[i].ops->before_start)
			k = n->att[i].ops->before_start(n->att[i].a, s);
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

int run_attach_after_start(struct run_node *n, int spawn_result)
{
	int k = spawn_result;

	/* every attachment hears of the start, also after another one failed it */
	for (size_t i = 0; i < n->n_att; i++)
		if (n->att[i].ops->after_start) {
			int a = n->att[i].ops->after_start(n->att[i].a, spawn_result, n->pidfd);

			if (k >= 0 && a < 0)
				k = a;
		}
	return k;
}

void run_attach_exited(struct run_node *n, bool gone)
{
	for (size_t i = 0; i < n->n_att; i++)
		if (n->att[i].ops->exited)
			n->att[i].ops->exited(n->att[i].a, gone);
}

void run_attach_stop(struct drill_run *r)
{
	for (size_t i = 0; r->nodes && i < r->n_nodes; i++)
		for (size_t j = 0; j < r->nodes[i].n_att; j++)
			if (r->nodes[i].att[j].ops->stop)
				r->nodes[i].att[j].ops->stop(r->nodes[i].att[j].a);
}

void run_attach_release(struct run_node *n)
{
	for (size_t i = 0; i < n->n_att; i++)
		n->att[i].ops->free(n->att[i].a);
	free(n->att);
	n->att = NULL;
	n->n_att = 0;
}
