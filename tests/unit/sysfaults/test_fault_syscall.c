/* Unit tests of the `syscall` fault kind's own keys: node and mechanism (seccomp, the
 * default, or preload), and what the preload shim cannot do refused where it was written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faults/sys/syscall.h"
#include "scenarios/parser/yaml_load.h"

static const char *const names[] = { "n1", "n2" };

/* *tree: the caller frees it after the state, which borrows the node's name from it. */
static int parse(const char *yaml, struct cfg_node **tree, void **st, struct cd_error *err)
{
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 2 };

	memset(err, 0, sizeof(*err));
	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), tree, err), 0);
	*st = NULL;
	return fault_syscall_ops.parse(*tree, &ctx, st, err);
}

static enum fault_syscall_mechanism mechanism_of(const char *yaml)
{
	enum fault_syscall_mechanism m;
	struct cfg_node *tree;
	struct cd_error err;
	void *st;

	if (parse(yaml, &tree, &st, &err) < 0)
		fail_msg("%s: %d:%d: %s", yaml, err.line, err.col, err.msg);
	m = fault_syscall_mechanism(st);
	assert_string_equal(fault_syscall_node(st), "n2");
	assert_int_equal(fault_syscall_rules(st)->n, 1);
	fault_syscall_ops.free(st);
	cfg_node_free(tree);
	return m;
}

static void test_mechanism(void **unused)
{
	assert_int_equal(mechanism_of("{node: n2, rules: [{calls: write, errno: EIO}]}"),
			 FAULT_SYSCALL_SECCOMP);
	assert_int_equal(
		mechanism_of("{node: n2, mechanism: seccomp, rules: [{calls: write, errno: EIO}]}"),
		FAULT_SYSCALL_SECCOMP);
	assert_int_equal(
		mechanism_of(
			"{node: n2, mechanism: preload, rules: [{calls: [write, pwrite, writev, fsync, fdatasync, rename, openat, ftruncate, read, pread, unlink], errno: EIO}]}"),
		FAULT_SYSCALL_PRELOAD);
	/* what kvlog-torn-write asks for */
	assert_int_equal(
		mechanism_of(
			"{node: n2, mechanism: preload, rules: [{calls: [write], path: txn.log, nth: 500, torn: {keep: random, rest: zeros}, then: crash}]}"),
		FAULT_SYSCALL_PRELOAD);
	assert_int_equal(
		mechanism_of(
			"{node: n2, mechanism: preload, io_uring: allow, rules: [{calls: write, errno: EIO}]}"),
		FAULT_SYSCALL_PRELOAD);
	assert_string_equal(fault_syscall_mechanism_name(FAULT_SYSCALL_PRELOAD), "preload");
	assert_string_equal(fault_syscall_mechanism_name(FAULT_SYSCALL_SECCOMP), "seccomp");
}

static void error_is(const char *yaml, int line, int col, const char *want)
{
	struct cfg_node *tree;
	struct cd_error err;
	void *st;

	assert_int_equal(parse(yaml, &tree, &st, &err), -EINVAL);
	cfg_node_free(tree);
	assert_null(st);
	assert_string_equal(err.file, "t.yaml");
	if (!strstr(err.msg, want) || err.line != line || err.col != col)
		fail_msg("%s: got %d:%d '%s', want %d:%d '%s'", yaml, err.line, err.col, err.msg,
			 line, col, want);
}

static void test_errors(void **unused)
{
	error_is("node: n1\nmechanism: ptrace\nrules: [{calls: write, errno: EIO}]\n", 2, 12,
		 "unknown value 'ptrace'; expected one of: seccomp, preload");
	error_is("node: n1\nmechanism: prelaod\nrules: [{calls: write, errno: EIO}]\n", 2, 12,
		 "did you mean 'preload'");
	error_is("node: n1\nmechanism: [preload]\nrules: [{calls: write, errno: EIO}]\n", 2, 12,
		 "");
	error_is(
		"node: n1\nmechanism: preload\nio_uring: enosys\nrules: [{calls: write, errno: EIO}]\n",
		3, 11, "io_uring: enosys needs mechanism: seccomp");
	error_is("node: n1\nmechanism: preload\nrules:\n"
		 "  - {calls: write, errno: EIO}\n"
		 "  - {calls: [write, pwritev], errno: EIO}\n",
		 5, 13,
		 "the preload shim does not wrap pwritev (it wraps write, pwrite, writev, fsync");
	error_is("node: n1\nmechanism: preload\nrules: [{calls: sync_file_range, crash: before}]\n",
		 3, 17, "does not wrap sync_file_range");
	error_is("node: n1\nmechanism: preload\nrules: [{calls: fallocate, errno: ENOSPC}]\n", 3,
		 17, "use mechanism: seccomp");
	/* the rules are checked before the mechanism's limits */
	error_is("node: n1\nmechanism: preload\nrules: [{calls: pwritev, errno: ENOPE}]\n", 3, 33,
		 "unknown errno 'ENOPE'");
	error_is("node: n3\nmechanism: preload\nrules: [{calls: write, errno: EIO}]\n", 1, 7,
		 "no node named 'n3'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechanism),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
