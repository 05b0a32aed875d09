/* What both syscall attachments share: see attach_common.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "faults/sys/attach.h"
#include "faults/sys/attach_common.h"
#include "faults/sys/syscall.h"

void sys_attach_init(struct sys_attach *s, const struct attach_host *host, const char *mech,
		     const char *hint, int (*arm)(struct sys_attach *, bool))
{
	*s = (struct sys_attach){ .host = *host,
				  .mech = mech,
				  .hint = hint,
				  .arm = arm,
				  .first_ns = -1,
				  .what = STRBUF_INIT };
}

int sys_attach_want(struct sys_attach *s, const void *fault_state, size_t fault)
{
	char why[160];

	if (s->rules) {
		snprintf(why, sizeof(why),
			 "node %s has two syscall faults; give it one with several rules",
			 s->host.node);
		s->host.ops->cannot(s->host.h, why);
		return -EINVAL;
	}
	s->rules = fault_syscall_rules(fault_state);
	s->fault = fault;
	return 0;
}

void sys_attach_note(struct sys_attach *s, int64_t at_ns, const char *line)
{
	char *tl = NULL, *said = NULL;

	if (!s->injections++)
		s->first_ns = at_ns;
	strbuf_appendf(&s->what, "%s%s", s->what.len ? "\n" : "", line);
	if (asprintf(&tl, "syscall fault (%s): %s", s->mech, line) < 0)
		tl = NULL;
	if (asprintf(&said, "syscall fault on %s (%s): %s", s->host.node, s->mech, line) < 0)
		said = NULL;
	s->host.ops->note(s->host.h, at_ns, (int)s->fault, tl ? tl : line, said);
	free(tl);
	free(said);
}

void sys_attach_record(struct sys_attach *s, const struct sys_injection *inj)
{
	struct strbuf line = STRBUF_INIT;
	int64_t at = inj->at_ns ? inj->at_ns - s->host.t0 : s->host.ops->now(s->host.h);

	sys_injection_format(inj, &line);
	sys_attach_note(s, at, line.buf ? line.buf : "");
	(void)sys_seen_add(&s->seen, inj); /* out of memory: replay --check shows it missing */
	if (inj->killed)
		s->spent = true; /* the next incarnation runs clean */
	strbuf_release(&line);
}

void sys_attach_release(struct sys_attach *s)
{
	strbuf_release(&s->what);
	sys_seen_free(s->seen);
	s->seen = NULL;
}

int sys_attach_arm(struct node_attach *a, bool armed)
{
	struct sys_attach *s = (struct sys_attach *)a;

	return s ? s->arm(s, armed) : -ESRCH;
}

void sys_attach_effects(const struct node_attach *a, struct fault_effects *out)
{
	const struct sys_attach *s = (const struct sys_attach *)a;

	*out = (struct fault_effects){
		.first_ns = -1, .details = "", .none = "no call matched its rules", .hint = ""
	};
	if (!s)
		return;
	out->count = s->injections;
	out->first_ns = s->first_ns;
	out->details = s->what.buf ? s->what.buf : "";
	out->hint = s->hint;
}

void sys_attach_seeded(const struct node_attach *a, struct strbuf *out)
{
	const struct sys_attach *s = (const struct sys_attach *)a;

	if (s)
		sys_seen_format(s->seen, out);
}
