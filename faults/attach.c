/* What attachments add to a node's start: its environment and pre-exec actions (attach.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faults/attach.h"

#define MAX_ENV 32
#define MAX_PRE 8

struct attach_start {
	char *env[MAX_ENV + 1]; /* owned, NULL-terminated */
	size_t n_env;
	struct {
		int (*fn)(void *ud);
		void *ud;
	} pre[MAX_PRE];
	size_t n_pre;
};

int attach_start_new(const char *const *base_env, struct attach_start **out)
{
	struct attach_start *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; base_env && base_env[i]; i++) {
		int k = s->n_env == MAX_ENV ? -E2BIG : 0;

		if (k < 0 || !(s->env[s->n_env] = strdup(base_env[i]))) {
			attach_start_free(s);
			return k < 0 ? k : -ENOMEM;
		}
		s->n_env++;
	}
	*out = s;
	return 0;
}

void attach_start_free(struct attach_start *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_env; i++)
		free(s->env[i]);
	free(s);
}

int attach_start_setenv(struct attach_start *s, const char *name, const char *value, char sep)
{
	size_t len = strlen(name), i;
	char *v;

	for (i = 0; i < s->n_env; i++)
		if (strncmp(s->env[i], name, len) == 0 && s->env[i][len] == '=')
			break;
	if (i == MAX_ENV)
		return -E2BIG;
	if (i < s->n_env && sep) {
		size_t old = strlen(s->env[i]);

		if (!(v = realloc(s->env[i], old + 2 + strlen(value))))
			return -ENOMEM;
		v[old] = sep;
		strcpy(v + old + 1, value);
		s->env[i] = v;
		return 0;
	}
	if (!(v = malloc(len + 2 + strlen(value))))
		return -ENOMEM;
	memcpy(v, name, len);
	v[len] = '=';
	strcpy(v + len + 1, value);
	if (i < s->n_env)
		free(s->env[i]);
	else
		s->n_env++;
	s->env[i] = v;
	return 0;
}

int attach_start_pre_exec(struct attach_start *s, int (*fn)(void *ud), void *ud)
{
	if (s->n_pre == MAX_PRE)
		return -E2BIG;
	s->pre[s->n_pre].fn = fn;
	s->pre[s->n_pre++].ud = ud;
	return 0;
}

const char *const *attach_start_envp(const struct attach_start *s)
{
	return (const char *const *)s->env;
}

bool attach_start_has_pre_exec(const struct attach_start *s)
{
	return s->n_pre > 0;
}

int attach_start_pre_exec_all(void *p)
{
	const struct attach_start *s = p;

	for (size_t i = 0; i < s->n_pre; i++) {
		int k = s->pre[i].fn(s->pre[i].ud);

		if (k < 0)
			return k;
	}
	return 0;
}
