/* {placeholder} expansion for argv templates of target.yaml and recovery steps:
 * "{bin}/kvlog-server" → "/path/build/targets/kvlog/kvlog-server". "{{" and "}}" stand for
 * literal braces. An unknown name is an error naming it. Pure. */
#ifndef CHAOSDRILL_HARNESS_TEMPLATE_H
#define CHAOSDRILL_HARNESS_TEMPLATE_H

#include <stddef.h>

/* A variable table: parallel arrays of names and values, borrowed. */
struct template_vars {
	const char **names;
	const char **values;
	size_t n, cap;
};

/* Sets name (replacing an earlier value); name and value must outlive vars. */
int template_set(struct template_vars *v, const char *name, const char *value);
const char *template_get(const struct template_vars *v, const char *name);
void template_vars_release(struct template_vars *v);

/* *out (caller frees) is tmpl with every {name} replaced. On an unknown name, returns
 * -ENOENT and points *bad (borrowed from nothing: a static buffer per thread) at it. */
int template_expand(const char *tmpl, const struct template_vars *v, char **out, const char **bad);
/* Expands each of argv (NULL-terminated); *out is a NULL-terminated array of owned strings,
 * freed with template_argv_free. */
int template_expand_argv(const char *const *argv, const struct template_vars *v, char ***out,
			 const char **bad);
void template_argv_free(char **argv);

#endif
