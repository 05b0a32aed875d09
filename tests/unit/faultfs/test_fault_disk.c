/* Unit tests of the fault kinds behind the fault file system: what each asks of the node's
 * faultfs mount (the volatile cache for a power cut; write-through, without the kernel's
 * writeback cache, for bad sectors on writes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "faults/faultfs/attach.h"
#include "faults/faultfs/kinds.h"
#include "scenarios/parser/yaml_load.h"

static const char *const names[] = { "n1" };

/* What a fault parsed from yaml asks of the mount: "volatile", "write-through", both
 * ("volatile write-through") or "". */
static void asks(const struct fault_ops *ops, const char *yaml, const char *want)
{
	struct fault_parse_ctx ctx = { .nodes = names, .n_nodes = 1 };
	struct cd_error err = { 0 };
	struct cfg_node *tree;
	char got[64];
	void *st = NULL;

	assert_int_equal(yaml_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
	assert_int_equal(ops->parse(tree, &ctx, &st, &err), 0);
	cfg_node_free(tree);
	assert_ptr_equal(ops->attach(st), &ffs_attach_ops);
	snprintf(got, sizeof(got), "%s%s%s", ffs_kind_needs_volatile(st) ? "volatile" : "",
		 ffs_kind_needs_volatile(st) && ffs_kind_fails_writes(st) ? " " : "",
		 ffs_kind_fails_writes(st) ? "write-through" : "");
	if (strcmp(got, want))
		fail_msg("%s %s: got '%s', want '%s'", ops->name, yaml, got, want);
	ops->free(st);
}

static void test_mount_needs(void **unused)
{
	asks(&fault_power_cut_ops, "{node: n1}", "volatile");
	asks(&fault_power_cut_ops, "{node: n1, keep: random-sectors}", "volatile");
	asks(&fault_bitrot_ops, "{node: n1, path: a, offset: 0, length: 8, mode: read}", "");
	asks(&fault_bitrot_ops, "{node: n1, path: a, offset: 0, length: 8, mode: rest}", "");
	asks(&fault_bad_sectors_ops, "{node: n1, path: a, offset: 0, length: 512}", "");
	asks(&fault_bad_sectors_ops, "{node: n1, path: a, offset: 0, length: 512, ops: read}", "");
	asks(&fault_bad_sectors_ops, "{node: n1, path: a, offset: 0, length: 512, ops: write}",
	     "write-through");
	asks(&fault_bad_sectors_ops, "{node: n1, path: a, offset: 0, length: 512, ops: rw}",
	     "write-through");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
