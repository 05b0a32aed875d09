/* The preload mechanism of syscall faults in a drill (run_sys.c drives it): the check that
 * the node's program can take the shim at all, the shim's control block in the node's
 * folder of the run directory, the environment that loads the shim into every incarnation,
 * and the shim's log read back as injections. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/failpoint.h"
#include "faults/sys/shimctl.h"
#include "faults/sys/supervisor.h"
#include "harness/run/run_internal.h"

struct run_shim {
	struct sys_shimctl *ctl;       /* owned */
	const struct sys_rules *rules; /* borrowed from the drill */
	char *env[5];                  /* owned: PATH, LD_PRELOAD, the control block, ASan's
					* options; NULL */
	char program[PATH_MAX];        /* what the node starts */
	uint32_t attached;             /* the block's attach count before this incarnation */
};

const char *run_shim_library(void)
{
	const char *e = getenv("CHAOSDRILL_SHIM");

	return e && *e ? e : CHAOSDRILL_SHIM_SO;
}

/* The program the node starts must be one the dynamic loader preloads the shim into:
 * otherwise the fault would silently do nothing. */
static int check_program(struct run_node *n, const char *so, struct run_shim *s)
{
	struct drill_run *r = n->run;
	enum sys_shim_fit fit;
	char found[PATH_MAX];
	int k = lab_find_program(n->start_argv[0], found, sizeof(found));

	if (k < 0)
		return run_env_error(r, "syscall fault on %s: cannot find %s, the program the node starts",
				     n->sn->name, n->start_argv[0]);
	if (!realpath(found, s->program)) /* named as a reader finds it, without ".." */
		snprintf(s->program, sizeof(s->program), "%s", found);
	k = sys_shim_fit(so, s->program, &fit);
	if (k < 0)
		return run_env_error(r, "syscall fault on %s: cannot read %s or the preload shim %s: %s",
				     n->sn->name, s->program, so, strerror(-k));
	if (fit != SYS_SHIM_FITS)
		return run_env_error(r, "syscall fault on %s: mechanism: preload cannot reach %s: it is %s; use mechanism: seccomp, which works for any program",
				     n->sn->name, s->program, sys_shim_fit_name(fit));
	return 0;
}

/* nodes/NAME/shim.ctl, absolute: the node resolves it from its own working directory. */
static int create_block(struct run_node *n, struct run_shim *s, char **path)
{
	struct drill_run *r = n->run;
	char dir[4200];
	_cleanup_free_ char *abs = NULL;
	int k;

	snprintf(dir, sizeof(dir), "%s/nodes/%s", r->run_dir, n->sn->name);
	abs = realpath(dir, NULL);
	if (!abs || asprintf(path, "%s/shim.ctl", abs) < 0)
		return -errno;
	k = sys_shimctl_create(*path, &s->ctl);
	if (k < 0)
		return k;
	/* a target that runs as another user maps it read-write too */
	if (r->d->target->user && chmod(*path, 0666) < 0)
		return -errno;
	return 0;
}

static char *env_var(const char *name, const char *value)
{
	char *s;

	return asprintf(&s, "%s=%s", name, value) < 0 ? NULL : s;
}

int run_shim_new(struct run_node *n, const struct sys_rules *rules, struct run_shim **out)
{
	struct drill_run *r = n->run;
	_cleanup_free_ char *so = realpath(run_shim_library(), NULL), *ctl = NULL;
	struct run_shim *s;
	int k;

	if (!so)
		return run_env_error(r, "the preload shim %s is missing (%s): build it (make build), or name it in $CHAOSDRILL_SHIM",
				     run_shim_library(), strerror(errno));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rules = rules;
	if ((k = check_program(n, so, s)) < 0)
		goto fail;
	if ((k = create_block(n, s, &ctl)) < 0 || (k = failpoint("shim.block", -ENOSPC)) < 0) {
		k = run_env_error(r, "syscall fault on %s: cannot create the preload shim's control block in nodes/%s: %s",
				  n->sn->name, n->sn->name, strerror(-k));
		goto fail;
	}
	/* The default PATH stays: the shim only adds itself. A target built with AddressSanitizer
	 * (its shared runtime) refuses to start when a library is preloaded before that runtime;
	 * the shim wraps no allocator function and reaches libc through ASan's own interceptors
	 * (RTLD_NEXT), so that check does not apply. Other programs ignore the variable. */
	if (!(s->env[0] = strdup(LAB_DEFAULT_PATH)) || !(s->env[1] = env_var("LD_PRELOAD", so)) ||
	    !(s->env[2] = env_var(SYS_SHIM_ENV, ctl)) ||
	    !(s->env[3] = strdup("ASAN_OPTIONS=verify_asan_link_order=0"))) {
		k = -ENOMEM;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	run_shim_free(s);
	return k;
}

void run_shim_free(struct run_shim *s)
{
	if (!s)
		return;
	sys_shimctl_free(s->ctl);
	for (size_t i = 0; s->env[i]; i++)
		free(s->env[i]);
	free(s);
}

int run_shim_before_start(struct run_shim *s, struct run_node *n, bool armed, struct lab_cmd *cmd)
{
	cmd->envp = (const char *const *)s->env;
	s->attached = sys_shimctl_attached(s->ctl);
	/* As a new seccomp supervisor does: counts and `from:` start again (the previous
	 * incarnation's log was taken out when it exited). */
	return armed ? sys_shimctl_arm(s->ctl, s->rules, n->run->d->seed, LAB_DATA_PATH) : 0;
}

int run_shim_arm(struct run_shim *s, struct run_node *n, bool armed)
{
	if (!armed) {
		sys_shimctl_disarm(s->ctl);
		return 0;
	}
	if (n->pidfd < 0)
		return -ESRCH;
	/* Checked when it matters: a program that passed check_program may still drop the
	 * shim (it clears LD_PRELOAD and runs itself again, or runs setuid). */
	if (sys_shimctl_attached(s->ctl) == s->attached) {
		run_env_error(n->run, "syscall fault on %s: the preload shim did not load into %s (no process of the node mapped its control block); use mechanism: seccomp",
			      n->sn->name, s->program);
		return -ELIBACC;
	}
	return sys_shimctl_arm(s->ctl, s->rules, n->run->d->seed, LAB_DATA_PATH);
}

int run_shim_next(struct run_shim *s, bool final, struct sys_injection *inj)
{
	struct sys_shim_event ev;

	if (sys_shimctl_next(s->ctl, final, &ev) != 1)
		return 0;
	sys_shim_event_injection(&ev, s->rules, inj);
	return 1;
}

uint32_t run_shim_lost(const struct run_shim *s)
{
	return sys_shimctl_lost(s->ctl);
}
