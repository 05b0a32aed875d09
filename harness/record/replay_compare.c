/* replay --check's comparison of two timelines: see replay_compare.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "harness/record/replay_compare.h"

/* ---- one line: a flat JSON object of strings and numbers ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static void put_utf8(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_appendc(sb, (char)cp);
	} else if (cp < 0x800) {
		strbuf_appendc(sb, (char)(0xc0 | cp >> 6));
		strbuf_appendc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_appendc(sb, (char)(0xe0 | cp >> 12));
		strbuf_appendc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_appendc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A JSON string at *pp (at its opening quote); *out: caller frees. */
static int json_string(const char **pp, const char *end, char **out)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	struct strbuf sb = STRBUF_INIT;
	const char *p = *pp + 1;

	for (; p < end && *p != '"'; p++) {
		const char *e;
		unsigned cp;

		if (*p != '\\') {
			strbuf_appendc(&sb, *p);
			continue;
		}
		if (++p >= end)
			break;
		if (*p == 'u' && end - p > 4 && sscanf(p + 1, "%4x", &cp) == 1) {
			put_utf8(&sb, cp);
			p += 4;
		} else if ((e = strchr(esc, *p)) && *p && (e - esc) % 2 == 0) {
			strbuf_appendc(&sb, e[1]);
		} else {
			break;
		}
	}
	if (p >= end || *p != '"' || strbuf_failed(&sb)) {
		strbuf_release(&sb);
		return -EINVAL;
	}
	*pp = p + 1;
	*out = strbuf_detach(&sb);
	return *out ? 0 : -ENOMEM;
}

static int set_field(struct replay_event *ev, const char *key, char *str, long long num)
{
	char **dst = !strcmp(key, "event")  ? &ev->event :
		     !strcmp(key, "node")   ? &ev->node :
		     !strcmp(key, "detail") ? &ev->detail :
					      NULL;

	if (dst) {
		if (!str)
			return -EINVAL;
		free(*dst);
		*dst = str;
		return 0;
	}
	free(str);
	if (!strcmp(key, "t_ns"))
		ev->t_ns = num;
	else if (!strcmp(key, "index"))
		ev->index = (int)num;
	else if (!strcmp(key, "status"))
		ev->status = (int)num;
	return 0; /* a field a later version added: ignored */
}

static int parse_value(const char **pp, const char *end, char **str, long long *num)
{
	char *stop;

	*str = NULL;
	*num = 0;
	if (*pp < end && **pp == '"')
		return json_string(pp, end, str);
	*num = strtoll(*pp, &stop, 10);
	if (stop == *pp || stop > end)
		return -EINVAL;
	*pp = stop;
	return 0;
}

/* One "key": value pair at *pp into ev. */
static int parse_pair(const char **pp, const char *end, struct replay_event *ev)
{
	const char *p = skip_ws(*pp, end);
	char *key = NULL, *str = NULL;
	long long num;
	int r;

	if (p >= end || *p != '"' || json_string(&p, end, &key) < 0)
		return -EINVAL;
	p = skip_ws(p, end);
	if (p >= end || *p++ != ':') {
		free(key);
		return -EINVAL;
	}
	p = skip_ws(p, end);
	r = parse_value(&p, end, &str, &num);
	if (r >= 0)
		r = set_field(ev, key, str, num);
	free(key);
	*pp = skip_ws(p, end);
	return r;
}

int replay_parse_event(const char *line, size_t len, struct replay_event *ev)
{
	const char *p = line, *end = line + len;
	int r = 0;

	*ev = (struct replay_event){ .index = -1 };
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -EINVAL;
	for (;;) {
		if ((r = parse_pair(&p, end, ev)) < 0)
			break;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p >= end || *p != '}')
			r = -EINVAL;
		break;
	}
	if (r >= 0 && !ev->event)
		r = -EINVAL;
	if (r < 0)
		replay_event_release(ev);
	return r;
}

void replay_event_release(struct replay_event *ev)
{
	free(ev->event);
	free(ev->node);
	free(ev->detail);
	*ev = (struct replay_event){ .index = -1 };
}

/* ---- a timeline ---- */

struct tl {
	struct replay_event *ev;
	size_t n;
};

static void tl_release(struct tl *t)
{
	for (size_t i = 0; i < t->n; i++)
		replay_event_release(&t->ev[i]);
	free(t->ev);
}

static int tl_parse(const char *text, size_t len, struct tl *t, long *bad)
{
	const char *p = text, *end = text + len;
	long line = 0;

	*t = (struct tl){ 0 };
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct replay_event *v;

		line++;
		if (n && !(n == 1 && *p == '\r')) {
			if (!(v = realloc(t->ev, (t->n + 1) * sizeof(*v))))
				return -ENOMEM;
			t->ev = v;
			if (replay_parse_event(p, n, &t->ev[t->n]) < 0) {
				*bad = line;
				return -EINVAL;
			}
			t->n++;
		}
		p += n + (nl != NULL);
	}
	return 0;
}

/* ---- words: "key=value", "key~value", "key^a,b" ---- */

struct word {
	const char *key, *value;
	size_t key_len, value_len;
	char op;
};

/* The words of s (at most max). */
static size_t words_of(const char *s, struct word *w, size_t max)
{
	size_t n = 0;

	while (s && *s && n < max) {
		size_t len = strcspn(s, " "), k = strcspn(s, "=~^");

		if (len && k < len) {
			w[n] = (struct word){ s, s + k + 1, k, len - k - 1, s[k] };
			n++;
		}
		s += len;
		s += *s == ' ';
	}
	return n;
}

static const struct word *find_word(const struct word *w, size_t n, const struct word *like)
{
	for (size_t i = 0; i < n; i++)
		if (w[i].key_len == like->key_len && !memcmp(w[i].key, like->key, like->key_len))
			return &w[i];
	return NULL;
}

static int add_diff(struct replay_cmp *c, enum replay_class cls, bool same, const char *label,
		    const char *key, size_t key_len, const struct word *o, const struct word *n)
{
	struct replay_diff *v = realloc(c->diffs, (c->n_diffs + 1) * sizeof(*v));
	struct replay_diff *d;

	if (!v)
		return -ENOMEM;
	c->diffs = v;
	d = &v[c->n_diffs];
	*d = (struct replay_diff){ .cls = cls, .same = same };
	if (asprintf(&d->what, "%s %.*s", label, (int)key_len, key) < 0)
		d->what = NULL;
	if (asprintf(&d->old_value, "%.*s", o ? (int)o->value_len : 6, o ? o->value : "(none)") < 0)
		d->old_value = NULL;
	if (asprintf(&d->new_value, "%.*s", n ? (int)n->value_len : 6, n ? n->value : "(none)") < 0)
		d->new_value = NULL;
	c->n_diffs++;
	return d->what && d->old_value && d->new_value ? 0 : -ENOMEM;
}

/* Sequences: identical over the prefix both have. */
static bool prefix_same(const struct word *o, const struct word *n, size_t *compared)
{
	const char *a = o->value, *b = n->value, *ae = a + o->value_len, *be = b + n->value_len;

	*compared = 0;
	while (a < ae && b < be) {
		size_t la = strcspn(a, ","), lb = strcspn(b, ",");

		la = a + la > ae ? (size_t)(ae - a) : la;
		lb = b + lb > be ? (size_t)(be - b) : lb;
		if (la != lb || memcmp(a, b, la))
			return false;
		(*compared)++;
		a += la + 1;
		b += lb + 1;
	}
	return true;
}

/* One word of either run against its counterpart (NULL: that run lacks it). */
static int compare_word(struct replay_cmp *c, const char *label, const struct word *o,
			const struct word *n, bool *event_same)
{
	const struct word *w = o ? o : n;
	size_t compared = 0;
	bool same;

	if (w->op == '~') {
		same = o && n && o->value_len == n->value_len &&
		       !memcmp(o->value, n->value, o->value_len);
		same ? c->timing_same++ : c->timing_differ++;
		return add_diff(c, REPLAY_TIMING, same, label, w->key, w->key_len, o, n);
	}
	if (w->op == '^')
		same = o && n && o->op == n->op && prefix_same(o, n, &compared);
	else
		same = o && n && o->op == n->op && o->value_len == n->value_len &&
		       !memcmp(o->value, n->value, o->value_len);
	c->draws_compared += compared;
	if (same)
		return 0;
	*event_same = false;
	return add_diff(c, REPLAY_SEEDED, false, label, w->key, w->key_len, o, n);
}

#define MAX_WORDS 64

static int compare_event(struct replay_cmp *c, const char *label, const char *od, const char *nd,
			 bool *same)
{
	struct word ow[MAX_WORDS], nw[MAX_WORDS];
	size_t on = words_of(od, ow, MAX_WORDS), nn = words_of(nd, nw, MAX_WORDS);
	int r = 0;

	*same = od && nd;
	for (size_t i = 0; i < on && r >= 0; i++)
		r = compare_word(c, label, &ow[i], find_word(nw, nn, &ow[i]), same);
	for (size_t i = 0; i < nn && r >= 0; i++)
		if (!find_word(ow, on, &nw[i]))
			r = compare_word(c, label, NULL, &nw[i], same);
	return r;
}

/* "fault 2 delay-draws", "drill" */
static char *label_of(const struct replay_event *e)
{
	struct word w[MAX_WORDS];
	size_t n = words_of(e->detail, w, MAX_WORDS);
	const struct word what = { "what", NULL, 4, 0, '=' }, *x = find_word(w, n, &what);
	char *s;

	if (e->index < 0)
		return strdup("drill");
	if (asprintf(&s, "fault %d %.*s", e->index + 1, x ? (int)x->value_len : 0,
		     x ? x->value : "") < 0)
		return NULL;
	return s;
}

/* The k-th seeded event of that fault index in t, or NULL. */
static const struct replay_event *nth_seeded(const struct tl *t, int index, size_t k, size_t *at)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ev[i].event, "seeded") && t->ev[i].index == index && !k--) {
			if (at)
				*at = i;
			return &t->ev[i];
		}
	return NULL;
}

static size_t ordinal(const struct tl *t, size_t at)
{
	size_t k = 0;

	for (size_t i = 0; i < at; i++)
		k += !strcmp(t->ev[i].event, "seeded") && t->ev[i].index == t->ev[at].index;
	return k;
}

static int add_event(struct replay_cmp *c, const struct replay_event *o,
		     const struct replay_event *n)
{
	struct replay_event_cmp *v = realloc(c->events, (c->n_events + 1) * sizeof(*v));
	struct replay_event_cmp *e;
	int r;

	if (!v)
		return -ENOMEM;
	c->events = v;
	e = &v[c->n_events++];
	*e = (struct replay_event_cmp){ .label = label_of(o ? o : n) };
	e->old_detail = o && o->detail ? strdup(o->detail) : o ? strdup("") : NULL;
	e->new_detail = n && n->detail ? strdup(n->detail) : n ? strdup("") : NULL;
	if (!e->label || (o && !e->old_detail) || (n && !e->new_detail))
		return -ENOMEM;
	r = compare_event(c, e->label, e->old_detail, e->new_detail, &e->same);
	e->same ? c->seeded_same++ : c->seeded_differ++;
	return r;
}

static int compare_seeded(struct replay_cmp *c, const struct tl *o, const struct tl *n)
{
	int r = 0;

	for (size_t i = 0; i < o->n && r >= 0; i++)
		if (!strcmp(o->ev[i].event, "seeded"))
			r = add_event(c, &o->ev[i],
				      nth_seeded(n, o->ev[i].index, ordinal(o, i), NULL));
	for (size_t i = 0; i < n->n && r >= 0; i++)
		if (!strcmp(n->ev[i].event, "seeded") &&
		    !nth_seeded(o, n->ev[i].index, ordinal(n, i), NULL))
			r = add_event(c, NULL, &n->ev[i]);
	return r;
}

static const struct replay_event *find_event(const struct tl *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ev[i].event, name))
			return &t->ev[i];
	return NULL;
}

static size_t count_events(const struct tl *t, const char *name)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++)
		k += !strcmp(t->ev[i].event, name);
	return k;
}

/* "recovered_ms~842.113": a timing word of t, or "" when t lacks it. */
static void recovered_word(const struct tl *t, char *buf, size_t len)
{
	const struct replay_event *s = find_event(t, "steady"), *r = find_event(t, "recovered");

	buf[0] = '\0';
	if (s && r)
		snprintf(buf, len, "recovered_ms~%.3f", (double)(r->t_ns - s->t_ns) / 1e6);
}

/* The first whole number of the first event of that name ("3011 operations"), or "". */
static void first_number(const struct tl *t, const char *name, const char *key, char *buf,
			 size_t len)
{
	const struct replay_event *e = find_event(t, name);
	const char *p = e && e->detail ? e->detail + strcspn(e->detail, "0123456789") : "";

	buf[0] = '\0';
	if (*p)
		snprintf(buf, len, " %s~%.*s", key, (int)strspn(p, "0123456789"), p);
}

/* What timing decides in the drill as a whole: when it recovered, how many operations the
 * workload made and how many keys the final read found, how often nodes started and probes
 * failed. */
static void drill_timing(const struct tl *t, char *buf, size_t len)
{
	char rec[64], ops[64], keys[64];

	recovered_word(t, rec, sizeof(rec));
	first_number(t, "workload_stopped", "operations", ops, sizeof(ops));
	first_number(t, "final_read", "final_keys", keys, sizeof(keys));
	snprintf(buf, len, "%s%s%s node_starts~%zu failed_probes~%zu", rec, ops, keys,
		 count_events(t, "node_started"), count_events(t, "probe_failed"));
}

static int compare_drill_timing(struct replay_cmp *c, const struct tl *o, const struct tl *n)
{
	char od[320], nd[320];
	bool same;

	drill_timing(o, od, sizeof(od));
	drill_timing(n, nd, sizeof(nd));
	return compare_event(c, "drill", od, nd, &same);
}

static void compare_verdict(struct replay_cmp *c, const struct tl *o, const struct tl *n)
{
	const struct replay_event *ov = find_event(o, "verdict"), *nv = find_event(n, "verdict");
	const char *om = ov && ov->detail && !strncmp(ov->detail, "missed=", 7) ? ov->detail + 7 :
										  "-";
	const char *nm = nv && nv->detail && !strncmp(nv->detail, "missed=", 7) ? nv->detail + 7 :
										  "-";

	c->old_exit = ov ? ov->status : -1;
	c->new_exit = nv ? nv->status : -1;
	c->old_missed = strdup(om);
	c->new_missed = strdup(nm);
	c->verdict_differs = !ov || !nv || c->old_exit != c->new_exit || strcmp(om, nm);
}

int replay_compare(const char *old_tl, size_t old_len, const char *new_tl, size_t new_len,
		   struct replay_cmp *out, long *bad_line)
{
	struct tl o, n;
	long bad = 0;
	int r;

	*out = (struct replay_cmp){ .old_exit = -1, .new_exit = -1 };
	r = tl_parse(old_tl, old_len, &o, &bad);
	if (r >= 0 && (r = tl_parse(new_tl, new_len, &n, &bad)) < 0)
		bad = -bad;
	else if (r < 0)
		n = (struct tl){ 0 };
	if (r >= 0)
		r = compare_seeded(out, &o, &n);
	if (r >= 0)
		r = compare_drill_timing(out, &o, &n);
	if (r >= 0)
		compare_verdict(out, &o, &n);
	if (r >= 0 && (!out->old_missed || !out->new_missed))
		r = -ENOMEM;
	if (bad_line)
		*bad_line = bad;
	tl_release(&o);
	tl_release(&n);
	if (r < 0)
		replay_cmp_release(out);
	return r;
}

void replay_cmp_release(struct replay_cmp *c)
{
	for (size_t i = 0; i < c->n_diffs; i++) {
		free(c->diffs[i].what);
		free(c->diffs[i].old_value);
		free(c->diffs[i].new_value);
	}
	for (size_t i = 0; i < c->n_events; i++) {
		free(c->events[i].label);
		free(c->events[i].old_detail);
		free(c->events[i].new_detail);
	}
	free(c->diffs);
	free(c->events);
	free(c->old_missed);
	free(c->new_missed);
	*c = (struct replay_cmp){ .old_exit = -1, .new_exit = -1 };
}
