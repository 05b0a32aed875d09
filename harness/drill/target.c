/* Loading targets/NAME/target.yaml: see target.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "harness/drill/target.h"
#include "scenarios/parser/yaml_load.h"

static const char *const target_keys[] = { "target", "description", "driver", "user",
					   "port",   "params",	    "start",  "probe",
					   "check",  "client",	    NULL };
static const char *const param_keys[] = { "default", "values", NULL };
static const char *const probe_keys[] = { "ready", "leader", NULL };

const char *target_src_root(void)
{
	const char *e = getenv("CHAOSDRILL_TARGETS");

	return e && *e ? e : CHAOSDRILL_TARGETS_SRC;
}

const char *target_bin_root(void)
{
	const char *e = getenv("CHAOSDRILL_TARGETS_BIN");

	return e && *e ? e : CHAOSDRILL_TARGETS_BIN;
}

static int parse_argv(const struct cfg_node *v, const char *what, struct target_argv *out,
		      struct cd_error *err)
{
	int r = cfg_expect(v, CFG_SEQ, what, err);

	if (r < 0)
		return r;
	if (v->n == 0)
		return cfg_error(v, err, "%s must not be empty", what);
	out->argv = calloc(v->n + 1, sizeof(*out->argv));
	if (!out->argv)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		r = cfg_string(v->items[i], &out->argv[i], err);
		if (r < 0)
			return r;
	}
	out->argc = v->n;
	return 0;
}

static int parse_param(struct target_param_def *p, const struct cfg_node *key,
		       const struct cfg_node *v, struct cd_error *err)
{
	const struct cfg_node *vals;
	const char **list;
	int r;

	p->name = key->scalar;
	p->pos = key;
	if ((r = cfg_expect(v, CFG_MAP, "a target param", err)) < 0 ||
	    (r = cfg_check_keys(v, param_keys, "a target param", err)) < 0 ||
	    (r = cfg_get_string(v, "default", false, &p->def, err)) < 0)
		return r;
	vals = cfg_get(v, "values");
	if (!vals)
		return 0;
	if ((r = cfg_expect(vals, CFG_SEQ, "param values", err)) < 0)
		return r;
	list = calloc(vals->n + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	p->values = list;
	for (size_t i = 0; i < vals->n; i++)
		if ((r = cfg_string(vals->items[i], &list[i], err)) < 0)
			return r;
	if (p->def) {
		for (size_t i = 0; list[i]; i++)
			if (strcmp(list[i], p->def) == 0)
				return 0;
		return cfg_error(cfg_get(v, "default"), err,
				 "default '%s' is not one of the values", p->def);
	}
	return 0;
}

static int parse_params(struct target_def *t, const struct cfg_node *v, struct cd_error *err)
{
	int r = cfg_expect(v, CFG_MAP, "params", err);

	if (r < 0)
		return r;
	t->params = calloc(v->n ? v->n : 1, sizeof(*t->params));
	if (!t->params)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		r = parse_param(&t->params[i], v->keys[i], v->items[i], err);
		t->n_params = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

/* client: [argv], the adapter program, required by driver lines and only there. */
static int parse_client(struct target_def *t, const struct cfg_node *root, struct cd_error *err)
{
	const struct cfg_node *v = cfg_get(root, "client");
	bool lines = strcmp(t->driver, "lines") == 0;

	if (!v && lines)
		return cfg_error(
			cfg_get(root, "driver"), err,
			"driver lines needs the key 'client' (argv of the adapter program)");
	if (v && !lines)
		return cfg_error(v, err,
				 "'client' is for driver lines (an adapter program), not driver %s",
				 t->driver);
	return v ? parse_argv(v, "client", &t->client, err) : 0;
}

static int parse_target(struct target_def *t, const struct cfg_node *root, struct cd_error *err)
{
	const struct cfg_node *v;
	uint64_t port;
	int r;

	if ((r = cfg_expect(root, CFG_MAP, "target.yaml", err)) < 0 ||
	    (r = cfg_check_keys(root, target_keys, "target.yaml", err)) < 0 ||
	    (r = cfg_get_string(root, "target", true, &t->name, err)) < 0 ||
	    (r = cfg_get_string(root, "description", false, &t->description, err)) < 0 ||
	    (r = cfg_get_string(root, "driver", true, &t->driver, err)) < 0 ||
	    (r = cfg_get_string(root, "user", false, &t->user, err)) < 0 ||
	    (r = cfg_get_uint(root, "port", true, 1, 65535, &port, err)) < 0)
		return r;
	t->port = (uint16_t)port;
	if ((v = cfg_get(root, "params")) && (r = parse_params(t, v, err)) < 0)
		return r;
	if (!(v = cfg_get(root, "start")))
		return cfg_error(root, err, "missing required key 'start' (argv of a node)");
	if ((r = parse_argv(v, "start", &t->start, err)) < 0)
		return r;
	if (!(v = cfg_get(root, "probe")))
		return cfg_error(root, err,
				 "missing required key 'probe' (probe: {ready: [argv]})");
	if ((r = cfg_expect(v, CFG_MAP, "probe", err)) < 0 ||
	    (r = cfg_check_keys(v, probe_keys, "probe", err)) < 0)
		return r;
	if (!cfg_get(v, "ready"))
		return cfg_error(v, err, "missing required key 'ready'");
	if ((r = parse_argv(cfg_get(v, "ready"), "probe ready", &t->probe_ready, err)) < 0)
		return r;
	if (cfg_get(v, "leader") &&
	    (r = parse_argv(cfg_get(v, "leader"), "probe leader", &t->probe_leader, err)) < 0)
		return r;
	if ((v = cfg_get(root, "check")) && (r = parse_argv(v, "check", &t->check, err)) < 0)
		return r;
	return parse_client(t, root, err);
}

static bool valid_target_name(const char *name)
{
	if (!*name || strlen(name) > 64 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

/* Where a target lives under target_src_root(): NAME/ (its own folder), or
 * examples/NAME/ (an example, e.g. a client adapter in another language). The prefix
 * ("" or "examples/"), with path set to its target.yaml; NULL when neither has one. */
static const char *target_dir(const char *name, char *path, size_t len)
{
	static const char *const dirs[] = { "", "examples/" };
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, len, "%s/%s%s/target.yaml", target_src_root(), dirs[i], name);
		if (stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR))
			return dirs[i];
	}
	return NULL;
}

int target_load(const char *name, struct target_def **out, struct cd_error *err)
{
	_cleanup_free_ struct target_def *t = NULL;
	char path[PATH_MAX];
	struct cfg_node *tree;
	const char *dir;
	int r;

	if (!valid_target_name(name) || !(dir = target_dir(name, path, sizeof(path))))
		return cd_error_set(err, ENOENT, "", 0, 0, "unknown target '%s'", name);
	if (access(path, R_OK) < 0) /* there, but not for us: say so, not "unknown" */
		return cd_error_set(err, errno, "", 0, 0, "target '%s': cannot read %s: %s", name,
				    path, strerror(errno));
	if ((r = yaml_load_file(path, &tree, err)) < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t) {
		cfg_node_free(tree);
		return -ENOMEM;
	}
	t->tree = tree;
	r = parse_target(t, tree, err);
	if (r >= 0 && strcmp(t->name, name) != 0)
		r = cfg_error(cfg_get(tree, "target"), err,
			      "target.yaml names '%s', but lives in %s/", t->name, name);
	if (r >= 0 && (asprintf(&t->src_dir, "%s/%s%s", target_src_root(), dir, name) < 0 ||
		       asprintf(&t->bin_dir, "%s/%s%s", target_bin_root(), dir, name) < 0))
		r = -ENOMEM;
	if (r < 0) {
		target_free(TAKE_PTR(t));
		return r;
	}
	*out = TAKE_PTR(t);
	return 0;
}

void target_free(struct target_def *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_params; i++)
		free((void *)t->params[i].values);
	free(t->params);
	free(t->start.argv);
	free(t->probe_ready.argv);
	free(t->probe_leader.argv);
	free(t->check.argv);
	free(t->client.argv);
	free(t->src_dir);
	free(t->bin_dir);
	cfg_node_free(t->tree);
	free(t);
}

const struct target_param_def *target_param(const struct target_def *t, const char *name)
{
	for (size_t i = 0; i < t->n_params; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return &t->params[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends to *v the names of the folders under root/sub that hold a target.yaml. */
static int list_dir(const char *sub, char ***v, size_t *cnt)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", target_src_root(), sub);
	if (!(d = opendir(dir)))
		return -errno;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		char **nv;

		snprintf(path, sizeof(path), "%s/%s/target.yaml", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) < 0)
			continue;
		nv = realloc(*v, (*cnt + 1) * sizeof(**v));
		if (!nv || !(nv[*cnt] = strdup(e->d_name))) {
			*v = nv ? nv : *v;
			break;
		}
		*v = nv;
		(*cnt)++;
	}
	closedir(d);
	return 0;
}

int target_list(char ***names, size_t *n)
{
	char **v = NULL;
	size_t cnt = 0;
	int r = list_dir("", &v, &cnt);

	if (r < 0)
		return r;
	list_dir("examples", &v, &cnt); /* examples are optional */
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}
