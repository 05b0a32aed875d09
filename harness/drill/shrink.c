/* The search for a smaller failing schedule, and the drill file of a schedule. See
 * shrink.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "harness/drill/drill.h"
#include "harness/drill/shrink.h"

/* ---- the schedule of a drill ---- */

static void sort_by_time(struct shrink_fault *f, size_t n)
{
	for (size_t i = 1; i < n; i++) /* stable, as the runner orders them */
		for (size_t j = i; j > 0 && f[j].at_ns < f[j - 1].at_ns; j--) {
			struct shrink_fault t = f[j];

			f[j] = f[j - 1];
			f[j - 1] = t;
		}
}

int shrink_faults_of(const struct drill *d, struct shrink_fault **out, size_t *n)
{
	struct shrink_fault *f = calloc(d->n_faults + 1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_faults; i++) {
		const struct scenario_fault *sf = d->faults[i].sf;

		f[i] = (struct shrink_fault){ .kind = sf->kind,
					      .name = sf->name,
					      .node = d->faults[i].ops->node(d->faults[i].state),
					      .args = sf->args,
					      .recovery = cfg_get(sf->item, "recovery"),
					      .at_ns = sf->at_ns,
					      .has_heal = sf->has_heal,
					      .heal_at_ns = sf->heal_is_after ?
								    sf->at_ns + sf->heal_ns :
								    sf->heal_ns };
	}
	sort_by_time(f, d->n_faults);
	*out = f;
	*n = d->n_faults;
	return 0;
}

/* ---- the search ---- */

int shrink_init(struct shrink *s, const struct shrink_fault *faults, size_t n)
{
	*s = (struct shrink){ .phase = SHRINK_DROP };
	s->cur = calloc(n + 1, sizeof(*s->cur));
	s->cand = calloc(n + 1, sizeof(*s->cand));
	if (!s->cur || !s->cand) {
		shrink_release(s);
		return -ENOMEM;
	}
	memcpy(s->cur, faults, n * sizeof(*faults));
	s->n = n;
	s->chunk = (n + 1) / 2;
	if (n <= 1)
		s->phase = SHRINK_EARLIER;
	return 0;
}

void shrink_release(struct shrink *s)
{
	free(s->cur);
	free(s->cand);
	s->cur = s->cand = NULL;
}

static int64_t round_ms(int64_t ns)
{
	return ns / NSEC_PER_MSEC * NSEC_PER_MSEC;
}

/* The earliest time fault i may move to: after the fault before it, and after the heal
 * (plus 100 ms) of any earlier fault on its node. */
static int64_t earliest(const struct shrink_fault *f, size_t i)
{
	int64_t lo = i ? f[i - 1].at_ns : 0;

	for (size_t j = 0; j < i; j++)
		if (f[j].has_heal && f[j].node && f[i].node && strcmp(f[j].node, f[i].node) == 0 &&
		    f[j].heal_at_ns + SHRINK_MIN_STEP_NS > lo)
			lo = f[j].heal_at_ns + SHRINK_MIN_STEP_NS;
	return lo;
}

/* Chunks go from the end of the schedule: a drill without its last faults is the shorter
 * run. pos counts the faults after the chunk (they stay where they are when it goes). */
void shrink_drop_range(const struct shrink *s, size_t *start, size_t *end)
{
	*end = s->n - s->pos;
	*start = *end > s->chunk ? *end - s->chunk : 0;
}

/* DROP: the next chunk to leave out; false when dropping is over. */
static bool next_drop(struct shrink *s)
{
	while (s->n > 1) {
		if (s->chunk >= s->n) { /* the schedule shrank under the chunk: halves again */
			s->chunk = (s->n + 1) / 2;
			s->pos = 0;
		}
		if (s->pos < s->n) {
			size_t start, end;

			shrink_drop_range(s, &start, &end);
			memcpy(s->cand, s->cur, start * sizeof(*s->cand));
			memcpy(s->cand + start, s->cur + end, (s->n - end) * sizeof(*s->cand));
			s->n_cand = s->n - (end - start);
			return true;
		}
		if (s->chunk == 1 && !s->dropped) /* 1-minimal: no single fault can go */
			return false;
		s->chunk = (s->chunk + 1) / 2;
		s->pos = 0;
		s->dropped = false;
	}
	return false;
}

/* EARLIER: fault pos halfway to its earliest time, its heal moved along. */
static bool next_earlier(struct shrink *s)
{
	for (; s->pos < s->n; s->pos++) {
		int64_t lo = earliest(s->cur, s->pos), at = s->cur[s->pos].at_ns;
		int64_t to = round_ms(lo + (at - lo) / 2);

		if (at - to < SHRINK_MIN_STEP_NS)
			continue;
		memcpy(s->cand, s->cur, s->n * sizeof(*s->cand));
		s->n_cand = s->n;
		s->cand[s->pos].at_ns = to;
		s->cand[s->pos].heal_at_ns -= at - to;
		return true;
	}
	return false;
}

/* SHORTER: fault pos healed after half its duration. */
static bool next_shorter(struct shrink *s)
{
	for (; s->pos < s->n; s->pos++) {
		const struct shrink_fault *f = &s->cur[s->pos];
		int64_t dur = f->heal_at_ns - f->at_ns, half = round_ms(dur / 2);

		if (!f->has_heal || half < SHRINK_MIN_STEP_NS)
			continue;
		memcpy(s->cand, s->cur, s->n * sizeof(*s->cand));
		s->n_cand = s->n;
		s->cand[s->pos].heal_at_ns = f->at_ns + half;
		return true;
	}
	return false;
}

static bool (*const phases[])(struct shrink *) = {
	[SHRINK_DROP] = next_drop,
	[SHRINK_EARLIER] = next_earlier,
	[SHRINK_SHORTER] = next_shorter,
};

int shrink_next(struct shrink *s, const struct shrink_fault **cand, size_t *n)
{
	while (s->phase != SHRINK_DONE) {
		if (phases[s->phase](s)) {
			*cand = s->cand;
			*n = s->n_cand;
			return 1;
		}
		s->phase++;
		s->pos = 0;
	}
	return 0;
}

void shrink_result(struct shrink *s, bool fails)
{
	if (!fails) { /* the next chunk, or the next fault */
		s->pos += s->phase == SHRINK_DROP ? s->chunk : 1;
		return;
	}
	/* kept: the same position again (DROP: the chunks after it moved up; EARLIER and
	 * SHORTER: halve once more) */
	s->dropped |= s->phase == SHRINK_DROP;
	memcpy(s->cur, s->cand, s->n_cand * sizeof(*s->cur));
	s->n = s->n_cand;
	sort_by_time(s->cur, s->n);
}

/* ---- YAML out ---- */

/* A scalar as it may stand plain in block YAML, else double-quoted. */
static bool plain_ok(const char *s)
{
	if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` ", *s) || s[strlen(s) - 1] == ' ')
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (p[0] == ':' && (p[1] == ' ' || !p[1])) ||
		    (p[0] == ' ' && p[1] == '#'))
			return false;
	return true;
}

static void emit_scalar(struct strbuf *sb, const struct cfg_node *v)
{
	if (!v->quoted && !v->scalar[0])
		return; /* an empty value stays empty */
	if (!v->quoted && plain_ok(v->scalar)) {
		strbuf_append(sb, v->scalar);
		return;
	}
	strbuf_appendc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)v->scalar; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_appendf(sb, "\\%c", *p);
		else if (*p == '\n')
			strbuf_append(sb, "\\n");
		else if (*p == '\t')
			strbuf_append(sb, "\\t");
		else if (*p < 0x20)
			strbuf_appendf(sb, "\\x%02x", *p);
		else
			strbuf_appendc(sb, (char)*p);
	}
	strbuf_appendc(sb, '"');
}

/* After "key:" or "-": the value on the same line, or on the next lines at indent. */
static void emit_value(struct strbuf *sb, const struct cfg_node *v, int indent)
{
	if (v->type == CFG_SCALAR) {
		if (v->quoted || v->scalar[0])
			strbuf_appendc(sb, ' ');
		emit_scalar(sb, v);
		strbuf_appendc(sb, '\n');
	} else if (v->n == 0) {
		strbuf_append(sb, v->type == CFG_MAP ? " {}\n" : " []\n");
	} else {
		strbuf_appendc(sb, '\n');
		shrink_emit_yaml(sb, v, indent);
	}
}

void shrink_emit_yaml(struct strbuf *sb, const struct cfg_node *v, int indent)
{
	if (v->type == CFG_SCALAR) {
		strbuf_appendf(sb, "%*s", indent, "");
		emit_scalar(sb, v);
		strbuf_appendc(sb, '\n');
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct cfg_node *it = v->items[i];

		if (v->type == CFG_MAP) {
			strbuf_appendf(sb, "%*s", indent, "");
			emit_scalar(sb, v->keys[i]);
			strbuf_appendc(sb, ':');
			emit_value(sb, it, indent + 2);
			continue;
		}
		strbuf_appendf(sb, "%*s-", indent, "");
		if (it->type == CFG_MAP && it->n > 0) { /* "- key: value", the rest below it */
			struct strbuf m = STRBUF_INIT;

			shrink_emit_yaml(&m, it, indent + 2);
			if (m.buf)
				strbuf_appendf(sb, " %s", m.buf + indent + 2);
			strbuf_release(&m);
		} else {
			emit_value(sb, it, indent + 2);
		}
	}
}

static void emit_time(struct strbuf *sb, const char *key, int64_t ns)
{
	strbuf_appendf(sb, "%s: %lldms", key, (long long)(ns / NSEC_PER_MSEC));
}

static void emit_fault(struct strbuf *sb, const struct shrink_fault *f)
{
	strbuf_append(sb, "  - ");
	emit_time(sb, "at", f->at_ns);
	strbuf_append(sb, "\n");
	if (f->name) {
		struct cfg_node name = { .type = CFG_SCALAR, .scalar = (char *)f->name };

		strbuf_append(sb, "    name: ");
		emit_scalar(sb, &name);
		strbuf_append(sb, "\n");
	}
	if (f->has_heal) {
		strbuf_append(sb, "    heal: {");
		emit_time(sb, "at", f->heal_at_ns);
		strbuf_append(sb, "}\n");
	}
	strbuf_appendf(sb, "    %s:", f->kind);
	emit_value(sb, f->args, 6);
	if (f->recovery) {
		strbuf_append(sb, "    recovery:");
		emit_value(sb, f->recovery, 6);
	}
}

/* ---- the drill file ---- */

static bool is_dropped(const char *key, bool single)
{
	return strcmp(key, "faults") == 0 || strcmp(key, "nemesis") == 0 ||
	       strcmp(key, "seed") == 0 || (single && strcmp(key, "params") == 0);
}

/* The line after the block of top-level key i (0: to the end). */
static int block_end(const struct cfg_node *tree, size_t i)
{
	int end = 0;

	for (size_t j = 0; j < tree->n; j++)
		if (tree->keys[j]->line > tree->keys[i]->line &&
		    (!end || tree->keys[j]->line < end))
			end = tree->keys[j]->line;
	return end;
}

/* Is line (1-based) inside the block of a dropped top-level key? */
static bool line_dropped(const struct cfg_node *tree, int line, bool single)
{
	for (size_t i = 0; i < tree->n; i++) {
		int end = block_end(tree, i);

		if (is_dropped(tree->keys[i]->scalar, single) && line >= tree->keys[i]->line &&
		    (!end || line < end))
			return true;
	}
	return false;
}

/* params: the file's own, each overridden by a --param of the same key (TARGET.KEY too). */
static void emit_params(struct strbuf *sb, const struct cfg_node *tree, const char *const *params,
			size_t n_params)
{
	const struct cfg_node *own = cfg_get(tree, "params");
	struct cfg_node map = { .type = CFG_MAP };
	_cleanup_free_ struct cfg_node **keys =
		calloc(n_params + (own ? own->n : 0) + 1, sizeof(*keys));
	_cleanup_free_ struct cfg_node **items =
		calloc(n_params + (own ? own->n : 0) + 1, sizeof(*items));
	struct cfg_node *extra = calloc(2 * n_params + 1, sizeof(*extra));

	if (!keys || !items || !extra) {
		free(extra);
		sb->oom = true;
		return;
	}
	map.keys = keys;
	map.items = items;
	for (size_t i = 0; own && own->type == CFG_MAP && i < own->n; i++) {
		keys[map.n] = own->keys[i];
		items[map.n++] = own->items[i];
	}
	for (size_t i = 0; i < n_params; i++) {
		const char *eq = strchr(params[i], '='), *dot;
		size_t k;

		if (!eq)
			continue;
		extra[2 * i] =
			(struct cfg_node){ .type = CFG_SCALAR,
					   .scalar = strndup(params[i], (size_t)(eq - params[i])) };
		extra[2 * i + 1] = (struct cfg_node){ .type = CFG_SCALAR,
						      .scalar = strdup(eq + 1),
						      .quoted = false };
		if (!extra[2 * i].scalar || !extra[2 * i + 1].scalar)
			continue;
		dot = strchr(extra[2 * i].scalar, '.'); /* TARGET.KEY: the only target's */
		if (dot)
			memmove(extra[2 * i].scalar, dot + 1, strlen(dot + 1) + 1);
		for (k = 0; k < map.n && strcmp(keys[k]->scalar, extra[2 * i].scalar) != 0; k++)
			;
		keys[k] = &extra[2 * i];
		items[k] = &extra[2 * i + 1];
		map.n += k == map.n;
	}
	if (map.n) {
		strbuf_append(sb, "params:");
		emit_value(sb, &map, 2);
	}
	for (size_t i = 0; i < 2 * n_params; i++)
		free(extra[i].scalar);
	free(extra);
}

/* Is the line at p one of the header's: "# resolved by chaosdrill ...", "# --param K=V" (no
 * space in K=V: a comment of the drill's own that starts so is not), or the line a shrink
 * wrote (so a shrink of a shrunk drill's run says it once)? */
static bool header_line(const char *p)
{
	size_t len = strcspn(p, "\n");

	if (strncmp(p, "# resolved by chaosdrill", 24) == 0 ||
	    strncmp(p, "# shrunk by chaosdrill shrink:", 30) == 0)
		return true;
	return len > 10 && strncmp(p, "# --param ", 10) == 0 && memchr(p + 10, '=', len - 10) &&
	       !memchr(p + 10, ' ', len - 10);
}

int shrink_write_drill(const char *src, const struct cfg_node *tree, const struct shrink_fault *f,
		       size_t n, uint64_t seed, const char *const *params, size_t n_params,
		       struct strbuf *out)
{
	bool single = !cfg_get(tree, "targets"), header = true;
	int line = 1;

	if (tree->type != CFG_MAP)
		return -EINVAL;
	for (size_t i = 0; i < tree->n; i++)
		for (size_t j = 0; j < i; j++)
			if (tree->keys[i]->line == tree->keys[j]->line)
				return -EINVAL; /* a flow map: no line per key */
	strbuf_appendf(out, "# shrunk by chaosdrill shrink: %zu fault%s, seed %llu\n", n,
		       n == 1 ? "" : "s", (unsigned long long)seed);
	for (size_t i = 0; !single && i < n_params; i++)
		strbuf_appendf(out, "# run with --param %s\n", params[i]);
	for (const char *p = src; *p; line++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		/* the run directory's own header lines go */
		header = header && header_line(p);
		if (!header && !line_dropped(tree, line, single))
			strbuf_appendn(out, p, len);
		if (len && p[len - 1] != '\n')
			strbuf_appendc(out, '\n');
		p += len;
	}
	strbuf_appendf(out, "seed: %llu\n", (unsigned long long)seed);
	if (single)
		emit_params(out, tree, params, n_params);
	strbuf_append(out, "faults:\n");
	for (size_t i = 0; i < n; i++)
		emit_fault(out, &f[i]);
	return strbuf_failed(out) ? -ENOMEM : 0;
}

/* ---- what a run directory says ---- */

static int push(char ***v, size_t *n, char *s)
{
	char **nv = s ? realloc(*v, (*n + 2) * sizeof(**v)) : NULL;

	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int shrink_read_header(const char *text, uint64_t *seed, char ***params, size_t *n_params)
{
	bool have_seed = false;

	*params = NULL;
	*n_params = 0;
	for (const char *p = text; p && header_line(p);) {
		const char *nl = strchr(p, '\n'), *s = strstr(p, ": seed ");
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int r;

		if (strncmp(p, "# resolved by chaosdrill", 24) == 0 && s && s < p + len) {
			*seed = strtoull(s + 7, NULL, 10);
			have_seed = true;
		} else if (strncmp(p, "# --param ", 10) == 0 &&
			   (r = push(params, n_params, strndup(p + 10, len - 10))) < 0) {
			return r;
		}
		p = nl ? nl + 1 : NULL;
	}
	return have_seed ? 0 : -EINVAL;
}

/* The value of attr="..." inside the tag [tag, end), or NULL; caller frees. */
static char *attr(const char *tag, const char *end, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = tag; p && p < end; p = strchr(p + 1, ' ')) {
		const char *q;

		if (strncmp(p + 1, name, len) != 0 || strncmp(p + 1 + len, "=\"", 2) != 0)
			continue;
		q = strchr(p + len + 3, '"');
		return q && q < end ? strndup(p + len + 3, (size_t)(q - (p + len + 3))) : NULL;
	}
	return NULL;
}

int shrink_junit_failures(const char *xml, bool expect_only, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (const char *p = strstr(xml, "<testcase "); p; p = strstr(p + 1, "<testcase ")) {
		const char *end = strchr(p, '>'), *close, *fail;
		_cleanup_free_ char *name = NULL, *cls = NULL;
		char *key;
		int r;

		if (!end)
			break;
		if (end[-1] == '/') /* <testcase .../>: passed */
			continue;
		close = strstr(end, "</testcase>");
		fail = strstr(end, "<failure");
		if (!fail || (close && fail > close))
			continue;
		name = attr(p, end, "name");
		cls = attr(p, end, "classname");
		if (!name || !cls)
			continue;
		if (expect_only &&
		    (strlen(cls) < 7 || strcmp(cls + strlen(cls) - 7, ".expect") != 0))
			continue;
		if (asprintf(&key, "%s/%s", cls, name) < 0)
			key = NULL;
		if ((r = push(out, n, key)) < 0)
			return r;
	}
	return 0;
}
