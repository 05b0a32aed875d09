/* The drill's timeline: see timeline.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/strbuf.h"
#include "harness/record/timeline.h"

struct timeline *timeline_new(void)
{
	return calloc(1, sizeof(struct timeline));
}

void timeline_free(struct timeline *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->n; i++) {
		free(tl->ev[i].node);
		free(tl->ev[i].detail);
	}
	free(tl->ev);
	free(tl);
}

int timeline_add(struct timeline *tl, int64_t t_ns, enum tl_kind kind, int index, const char *node,
		 int status, const char *fmt, ...)
{
	struct tl_event *e;
	va_list ap;

	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 64;
		struct tl_event *ev = realloc(tl->ev, cap * sizeof(*ev));

		if (!ev)
			return -ENOMEM;
		tl->ev = ev;
		tl->cap = cap;
	}
	e = &tl->ev[tl->n];
	*e = (struct tl_event){ .t_ns = t_ns, .kind = kind, .index = index, .status = status };
	if (node && !(e->node = strdup(node)))
		return -ENOMEM;
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&e->detail, fmt, ap) < 0)
			e->detail = NULL;
		va_end(ap);
	}
	tl->n++;
	return 0;
}

const struct tl_event *timeline_find(const struct timeline *tl, enum tl_kind kind, int index)
{
	for (size_t i = 0; i < tl->n; i++)
		if (tl->ev[i].kind == kind && (index < 0 || tl->ev[i].index == index))
			return &tl->ev[i];
	return NULL;
}

const char *timeline_kind_name(enum tl_kind k)
{
	static const char *const names[] = {
		[TL_DRILL_START] = "drill_start",
		[TL_NODE_STARTED] = "node_started",
		[TL_NODE_EXITED] = "node_exited",
		[TL_PROBE_OK] = "probe_ok",
		[TL_PROBE_FAILED] = "probe_failed",
		[TL_STEADY] = "steady",
		[TL_FAULT_INJECTED] = "fault_injected",
		[TL_FAULT_FAILED] = "fault_failed",
		[TL_FAULT_HEALED] = "fault_healed",
		[TL_STEP_STARTED] = "step_started",
		[TL_STEP_ENDED] = "step_ended",
		[TL_RECOVERED] = "recovered",
		[TL_WORKLOAD_STOPPED] = "workload_stopped",
		[TL_FINAL_READ] = "final_read",
		[TL_CHECK] = "check",
		[TL_INTERRUPTED] = "interrupted",
		[TL_NOTE] = "note",
		[TL_ADAPTER] = "adapter",
		[TL_SEEDED] = "seeded",
		[TL_VERDICT] = "verdict",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "?";
}

int timeline_write_jsonl(const struct timeline *tl, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	for (size_t i = 0; i < tl->n; i++) {
		const struct tl_event *e = &tl->ev[i];

		strbuf_appendf(&sb, "{\"t_ns\":%" PRId64 ",\"event\":\"%s\"", e->t_ns,
			       timeline_kind_name(e->kind));
		if (e->index >= 0)
			strbuf_appendf(&sb, ",\"index\":%d", e->index);
		if (e->node) {
			strbuf_append(&sb, ",\"node\":");
			strbuf_append_json_string(&sb, e->node);
		}
		strbuf_appendf(&sb, ",\"status\":%d", e->status);
		if (e->detail) {
			strbuf_append(&sb, ",\"detail\":");
			strbuf_append_json_string(&sb, e->detail);
		}
		strbuf_append(&sb, "}\n");
	}
	r = strbuf_failed(&sb) ? -ENOMEM :
				 fs_write_atomic(path, sb.buf ? sb.buf : "", sb.len, 0644);
	strbuf_release(&sb);
	return r;
}
