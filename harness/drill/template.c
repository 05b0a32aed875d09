/* {placeholder} expansion: see template.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "harness/drill/template.h"

int template_set(struct template_vars *v, const char *name, const char *value)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->names[i], name) == 0) {
			v->values[i] = value;
			return 0;
		}
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		const char **n = realloc(v->names, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->names = n;
		n = realloc(v->values, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->values = n;
		v->cap = cap;
	}
	v->names[v->n] = name;
	v->values[v->n++] = value;
	return 0;
}

const char *template_get(const struct template_vars *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], name) == 0)
			return v->values[i];
	return NULL;
}

void template_vars_release(struct template_vars *v)
{
	free(v->names);
	free(v->values);
	memset(v, 0, sizeof(*v));
}

int template_expand(const char *tmpl, const struct template_vars *v, char **out, const char **bad)
{
	static __thread char name[128];
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = tmpl; *p; p++) {
		const char *end, *val;

		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			strbuf_appendc(&sb, *p++);
			continue;
		}
		if (*p != '{') {
			strbuf_appendc(&sb, *p);
			continue;
		}
		end = strchr(p, '}');
		if (!end || (size_t)(end - p - 1) >= sizeof(name)) {
			strbuf_release(&sb);
			*bad = p;
			return -EINVAL;
		}
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = '\0';
		val = template_get(v, name);
		if (!val) {
			strbuf_release(&sb);
			*bad = name;
			return -ENOENT;
		}
		strbuf_append(&sb, val);
		p = end;
	}
	if (strbuf_failed(&sb)) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	*out = strbuf_detach(&sb);
	return *out ? 0 : -ENOMEM;
}

int template_expand_argv(const char *const *argv, const struct template_vars *v, char ***out,
			 const char **bad)
{
	size_t n = 0;
	char **res;

	while (argv[n])
		n++;
	res = calloc(n + 1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = template_expand(argv[i], v, &res[i], bad);

		if (r < 0) {
			template_argv_free(res);
			return r;
		}
	}
	*out = res;
	return 0;
}

void template_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}
