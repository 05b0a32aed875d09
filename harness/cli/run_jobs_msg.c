/* What a `run -j` child tells its parent about its drill (run_jobs.h): a line per suite,
 * then the JUnit document. Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "harness/cli/run_jobs.h"

/* A field on one line: tabs and line ends become spaces. */
static void field(struct strbuf *sb, const char *s)
{
	strbuf_appendc(sb, '\t');
	for (; s && *s; s++)
		strbuf_appendc(sb, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

void run_jobs_encode_suite(struct strbuf *sb, const struct run_jobs_suite *s)
{
	strbuf_appendf(sb, "S\t%d\t%lld", s->exit_code, s->duration_ns);
	field(sb, s->name);
	field(sb, s->run_dir);
	field(sb, s->rto);
	field(sb, s->error);
	strbuf_appendc(sb, '\n');
}

/* The next tab-separated field of [*p, end), owned; NULL if empty. */
static int next_field(const char **p, const char *end, char **out)
{
	const char *s = *p, *e = s;

	while (e < end && *e != '\t')
		e++;
	*p = e < end ? e + 1 : e;
	*out = NULL;
	if (e == s)
		return 0;
	*out = strndup(s, (size_t)(e - s));
	return *out ? 0 : -ENOMEM;
}

static int decode_suite(const char *line, const char *end, struct run_jobs_suite *s)
{
	char *num = NULL, *stop;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if (end - line < 2 || line[0] != 'S' || line[1] != '\t')
		return -EINVAL;
	line += 2;
	for (int i = 0; i < 2 && r >= 0; i++) {
		if ((r = next_field(&line, end, &num)) < 0 || !num) {
			r = r < 0 ? r : -EINVAL;
			break;
		}
		errno = 0;
		if (i == 0)
			s->exit_code = (int)strtol(num, &stop, 10);
		else
			s->duration_ns = strtoll(num, &stop, 10);
		if (errno || *stop)
			r = -EINVAL;
		free(num);
		num = NULL;
	}
	if (r >= 0 && ((r = next_field(&line, end, &s->name)) < 0 ||
		       (r = next_field(&line, end, &s->run_dir)) < 0 ||
		       (r = next_field(&line, end, &s->rto)) < 0 ||
		       (r = next_field(&line, end, &s->error)) < 0))
		return r;
	return r < 0 ? r : s->name ? 0 : -EINVAL;
}

void run_jobs_suites_free(struct run_jobs_suite *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].run_dir);
		free(v[i].rto);
		free(v[i].error);
	}
	free(v);
}

int run_jobs_decode(const char *buf, size_t len, struct run_jobs_suite **suites, size_t *n,
		    size_t *junit_at)
{
	const char *p = buf, *end = buf + len;
	struct run_jobs_suite *v = NULL;
	size_t count = 0;

	*suites = NULL;
	*n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct run_jobs_suite *w;
		int r;

		if (!nl)
			break;
		if (nl - p == 1 && p[0] == 'J') {
			*suites = v;
			*n = count;
			*junit_at = (size_t)(nl + 1 - buf);
			return 0;
		}
		w = realloc(v, (count + 1) * sizeof(*v));
		if (!w) {
			run_jobs_suites_free(v, count);
			return -ENOMEM;
		}
		v = w;
		r = decode_suite(p, nl, &v[count]);
		count++;
		if (r < 0) {
			run_jobs_suites_free(v, count);
			return r;
		}
		p = nl + 1;
	}
	run_jobs_suites_free(v, count);
	return -EINVAL;
}

char *run_jobs_rto(const struct report_suite *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < s->n_props; i++) {
		const char *name = s->props[i].name, *v = s->props[i].value;
		size_t len = name ? strlen(name) : 0;

		if (!v || len < 6 || strcmp(name + len - 6, "rto_ms") != 0)
			continue;
		if (len == 6)
			strbuf_appendf(&sb, "%s%sms", sb.len ? ", " : "", v);
		else if (name[len - 7] == '.')
			strbuf_appendf(&sb, "%s%.*s %sms", sb.len ? ", " : "", (int)(len - 7), name,
				       v);
	}
	if (strbuf_failed(&sb) || !sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}
