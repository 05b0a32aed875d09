/* What the seed decided at a syscall fault's injections, per rule: see seen.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults/sys/seen.h"

struct seen_rule {
	uint64_t count, killed;
	uint64_t nth[SYS_SEEN_DRAWS], kept[SYS_SEEN_DRAWS], requested[SYS_SEEN_DRAWS];
	enum sys_action action;
	int err;
	int64_t delay_ms;
	char call[32], file[128];
};

struct sys_seen {
	struct seen_rule rule[SYS_SEEN_RULES];
};

int sys_seen_add(struct sys_seen **v, const struct sys_injection *inj)
{
	size_t i = inj->rule < SYS_SEEN_RULES ? inj->rule : SYS_SEEN_RULES - 1;
	const char *slash = strrchr(inj->path, '/');
	struct seen_rule *r;

	if (!*v && !(*v = calloc(1, sizeof(**v))))
		return -ENOMEM;
	r = &(*v)->rule[i];
	if (!r->count) {
		r->action = inj->action;
		r->err = inj->err;
		r->delay_ms = inj->delay_ns / 1000000;
		snprintf(r->call, sizeof(r->call), "%s", inj->syscall ? inj->syscall : "?");
		snprintf(r->file, sizeof(r->file), "%s",
			 inj->path[0] ? (slash ? slash + 1 : inj->path) : "?");
	}
	if (r->count < SYS_SEEN_DRAWS) {
		r->nth[r->count] = inj->nth;
		r->kept[r->count] = inj->kept;
		r->requested[r->count] = inj->requested;
	}
	r->count++;
	r->killed += inj->killed;
	return 0;
}

static void list(struct strbuf *out, const char *key, const uint64_t *v, uint64_t n)
{
	strbuf_appendf(out, " %s^", key);
	for (uint64_t i = 0; i < n && i < SYS_SEEN_DRAWS; i++)
		strbuf_appendf(out, "%s%llu", i ? "," : "", (unsigned long long)v[i]);
}

static void format_rule(const struct seen_rule *r, size_t i, struct strbuf *out)
{
	strbuf_appendf(out, "what=syscall rule=%zu action=%s call=%s file=%s", i + 1,
		       sys_action_name(r->action), r->call, r->file);
	if (r->err)
		strbuf_appendf(out, " errno=%d", r->err);
	if (r->action == SYS_ACT_DELAY)
		strbuf_appendf(out, " delay_ms=%lld", (long long)r->delay_ms);
	list(out, "nth", r->nth, r->count);
	if (r->action == SYS_ACT_SHORT || r->action == SYS_ACT_TORN ||
	    r->action == SYS_ACT_CRASH_AFTER) {
		list(out, "kept", r->kept, r->count);
		list(out, "requested", r->requested, r->count);
	}
	strbuf_appendf(out, " struck~%llu killed~%llu\n", (unsigned long long)r->count,
		       (unsigned long long)r->killed);
}

void sys_seen_format(const struct sys_seen *v, struct strbuf *out)
{
	for (size_t i = 0; v && i < SYS_SEEN_RULES; i++)
		if (v->rule[i].count)
			format_rule(&v->rule[i], i, out);
}

void sys_seen_free(struct sys_seen *v)
{
	free(v);
}
