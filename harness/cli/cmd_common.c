/* Pieces shared by the subcommands: see cmd_common.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cmd_common.h"

int cli_params_add(struct cli_params *p, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char **v;

	if (!eq || eq == kv) {
		fprintf(stderr, "chaosdrill: --param '%s': expected KEY=VALUE\n", kv);
		return -EINVAL;
	}
	v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	if (!(v[p->n] = strdup(kv)))
		return -ENOMEM;
	p->n++;
	return 0;
}

void cli_params_release(struct cli_params *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

int drill_names_check(struct drill_names *seen, const struct drill *d, struct cd_error *err)
{
	const struct scenario *sc = d->sc;
	char **names, **where;

	for (size_t i = 0; i < seen->n; i++)
		if (strcmp(seen->name[i], sc->drill) == 0)
			return cd_error_set(
				err, EINVAL, sc->file, sc->drill_pos.line, sc->drill_pos.col,
				"duplicate drill name '%s' (also at %s); drill names must be unique",
				sc->drill, seen->where[i]);
	names = realloc(seen->name, (seen->n + 1) * sizeof(*names));
	if (names)
		seen->name = names;
	where = realloc(seen->where, (seen->n + 1) * sizeof(*where));
	if (where)
		seen->where = where;
	if (!names || !where || !(names[seen->n] = strdup(sc->drill)))
		return -ENOMEM;
	if (asprintf(&where[seen->n], "%s:%d:%d", sc->file, sc->drill_pos.line, sc->drill_pos.col) <
	    0) {
		free(names[seen->n]);
		return -ENOMEM;
	}
	seen->n++;
	return 0;
}

void drill_names_release(struct drill_names *seen)
{
	for (size_t i = 0; i < seen->n; i++) {
		free(seen->name[i]);
		free(seen->where[i]);
	}
	free(seen->name);
	free(seen->where);
	memset(seen, 0, sizeof(*seen));
}
