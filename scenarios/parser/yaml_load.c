/* YAML → located configuration tree, on libyaml's event API: see yaml_load.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "scenarios/parser/yaml_load.h"

#define MAX_DEPTH 64

struct loader {
	yaml_parser_t parser;
	const char *file; /* borrowed from root->owned_file */
	struct cfg_node *root;
	struct cfg_node *stack[MAX_DEPTH];
	struct cfg_node *pending_key[MAX_DEPTH]; /* a map's key awaiting its value */
	int depth;
	int docs;
	struct cd_error *err;
};

static int at_mark(struct loader *l, const yaml_mark_t *m, const char *msg, const char *arg)
{
	return cd_error_set(l->err, EINVAL, l->file, (int)m->line + 1, (int)m->column + 1, "%s%s",
			    msg, arg);
}

static int check_duplicate(struct loader *l, struct cfg_node *map, struct cfg_node *key)
{
	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i]->scalar, key->scalar) == 0)
			return cd_error_set(l->err, EINVAL, l->file, key->line, key->col,
					    "duplicate key '%s' (first at line %d)", key->scalar,
					    map->keys[i]->line);
	}
	return 0;
}

/* Attaches a finished node to its parent (or makes it the root). Takes ownership of n. */
static int attach(struct loader *l, struct cfg_node *n)
{
	struct cfg_node *parent;
	int r;

	if (l->depth == 0) {
		l->root = n;
		return 0;
	}
	parent = l->stack[l->depth - 1];
	if (parent->type == CFG_SEQ) {
		r = cfg_node_append(parent, NULL, n);
		if (r < 0)
			cfg_node_free(n);
		return r;
	}
	if (!l->pending_key[l->depth - 1]) {
		if (n->type != CFG_SCALAR) {
			r = cd_error_set(l->err, EINVAL, l->file, n->line, n->col,
					 "mapping keys must be plain names, not %s",
					 cfg_type_name(n->type));
			cfg_node_free(n);
			return r;
		}
		r = check_duplicate(l, parent, n);
		if (r < 0) {
			cfg_node_free(n);
			return r;
		}
		l->pending_key[l->depth - 1] = n;
		return 0;
	}
	r = cfg_node_append(parent, l->pending_key[l->depth - 1], n);
	if (r < 0) {
		cfg_node_free(n);
		return r;
	}
	l->pending_key[l->depth - 1] = NULL;
	return 0;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
	struct cfg_node *n = cfg_node_new(CFG_SCALAR, l->file, (int)ev->start_mark.line + 1,
					  (int)ev->start_mark.column + 1);

	if (!n)
		return -ENOMEM;
	n->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
	if (!n->scalar) {
		cfg_node_free(n);
		return -ENOMEM;
	}
	if (strlen(n->scalar) != ev->data.scalar.length) {
		cfg_node_free(n);
		return at_mark(l, &ev->start_mark, "a value holds a NUL character", "");
	}
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	return attach(l, n);
}

static int on_start(struct loader *l, const yaml_event_t *ev, enum cfg_type t)
{
	struct cfg_node *n;

	if (l->depth >= MAX_DEPTH)
		return at_mark(l, &ev->start_mark, "nesting deeper than 64 levels", "");
	n = cfg_node_new(t, l->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1);
	if (!n)
		return -ENOMEM;
	l->pending_key[l->depth] = NULL;
	l->stack[l->depth++] = n;
	return 0;
}

static int on_end(struct loader *l, const yaml_event_t *ev)
{
	struct cfg_node *n = l->stack[--l->depth];

	return attach(l, n);
}

static int on_event(struct loader *l, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++l->docs > 1)
			return at_mark(l, &ev->start_mark,
				       "a drill file holds one YAML document, found a second", "");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(l, ev, CFG_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(l, ev, CFG_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(l, ev);
	case YAML_ALIAS_EVENT:
		return cd_error_set(l->err, EINVAL, l->file, (int)ev->start_mark.line + 1,
				    (int)ev->start_mark.column + 1,
				    "YAML aliases (*%s) are not supported; write the value out",
				    (const char *)ev->data.alias.anchor);
	default:
		return 0;
	}
}

static int parser_error(struct loader *l)
{
	const yaml_mark_t *m = &l->parser.problem_mark;
	const char *ctx = l->parser.context ? l->parser.context : "";

	if (l->parser.error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	return cd_error_set(l->err, EINVAL, l->file, (int)m->line + 1, (int)m->column + 1,
			    "not valid YAML: %s%s%s",
			    l->parser.problem ? l->parser.problem : "error", ctx[0] ? " " : "",
			    ctx);
}

static void loader_unwind(struct loader *l)
{
	while (l->depth > 0) {
		l->depth--;
		cfg_node_free(l->pending_key[l->depth]);
		cfg_node_free(l->stack[l->depth]);
	}
}

static int run_events(struct loader *l)
{
	for (;;) {
		yaml_event_t ev;
		bool done;
		int r;

		if (!yaml_parser_parse(&l->parser, &ev))
			return parser_error(l);
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(l, &ev);
		yaml_event_delete(&ev);
		if (r < 0 || done)
			return r;
	}
}

int yaml_load_string(const char *name, const char *buf, size_t len, struct cfg_node **out,
		     struct cd_error *err)
{
	struct loader l = { .err = err };
	_cleanup_free_ char *file = strdup(name);
	int r;

	if (!file)
		return -ENOMEM;
	l.file = file;
	if (!yaml_parser_initialize(&l.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)buf, len);
	r = run_events(&l);
	yaml_parser_delete(&l.parser);
	loader_unwind(&l);
	if (r < 0) {
		cfg_node_free(l.root);
		return r;
	}
	if (!l.root)
		return cd_error_set(err, EINVAL, name, 1, 1,
				    "the file is empty: expected a drill (drill:, target:, ...)");
	l.root->owned_file = TAKE_PTR(file);
	*out = l.root;
	return 0;
}

int yaml_load_file(const char *path, struct cfg_node **out, struct cd_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = fs_read_all(path, YAML_LOAD_MAX_BYTES, &buf, &len);

	if (r == -EFBIG)
		return cd_error_set(err, EFBIG, path, 1, 1,
				    "file is larger than 4 MiB; not a drill file");
	if (r < 0)
		return cd_error_set(err, -r, path, 1, 1, "cannot read: %s", strerror(-r));
	return yaml_load_string(path, buf, len, out, err);
}
