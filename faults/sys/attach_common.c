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
				  .what = STRBUF_INIT,
				  .seeded = STRBUF_INIT };
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
	sys_injection_seeded(inj, &s->seeded);
	if (inj->killed)
		s->spent = true; /* the next incarnation runs clean */
	strbuf_release(&line);
}

void sys_attach_release(struct sys_attach *s)
{
	strbuf_release(&s->what);
	strbuf_release(&s->seeded);
}

void sys_injection_seeded(const struct sys_injection *inj, struct strbuf *sb)
{
	const char *slash = strrchr(inj->path, '/');

	strbuf_appendf(sb, "what=syscall rule=%zu action=%s call=%s file=%s nth=%llu", inj->rule + 1,
		       sys_action_name(inj->action), inj->syscall,
		       inj->path[0] ? (slash ? slash + 1 : inj->path) : "?",
		       (unsigned long long)inj->nth);
	if (inj->action == SYS_ACT_SHORT || inj->action == SYS_ACT_TORN ||
	    (inj->action == SYS_ACT_CRASH_AFTER && inj->requested))
		strbuf_appendf(sb, " kept=%llu requested=%llu", (unsigned long long)inj->kept,
			       (unsigned long long)inj->requested);
	if (inj->zeroed)
		strbuf_appendf(sb, " zeroed=%llu", (unsigned long long)inj->zeroed);
	if (inj->err)
		strbuf_appendf(sb, " errno=%d", inj->err);
	if (inj->action == SYS_ACT_DELAY)
		strbuf_appendf(sb, " delay_ms=%lld", (long long)(inj->delay_ns / 1000000));
	strbuf_appendf(sb, " killed=%s offset~%lld pid~%d\n", inj->killed ? "yes" : "no",
		       (long long)inj->offset, (int)inj->pid);
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

	if (s && s->seeded.len)
		strbuf_append(out, s->seeded.buf);
}
