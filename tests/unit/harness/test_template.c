/* Unit tests of {placeholder} expansion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "harness/drill/template.h"

static void test_expand(void **state)
{
	struct template_vars v = { 0 };
	const char *bad = NULL;
	char *out = NULL, **argv = NULL;
	const char *tmpl[] = { "{bin}/kvlog-server", "--listen", "{addr}:{port}",
			       "{replicas}",	     "{{x}}",	 NULL };

	assert_int_equal(template_set(&v, "bin", "/b"), 0);
	assert_int_equal(template_set(&v, "addr", "10.213.0.2"), 0);
	assert_int_equal(template_set(&v, "port", "7700"), 0);
	assert_int_equal(template_set(&v, "replicas", ""), 0);
	assert_int_equal(template_set(&v, "port", "7701"), 0); /* replaces */
	assert_int_equal(template_expand_argv(tmpl, &v, &argv, &bad), 0);
	assert_string_equal(argv[0], "/b/kvlog-server");
	assert_string_equal(argv[2], "10.213.0.2:7701");
	assert_string_equal(argv[3], ""); /* kept: an empty value is still an argument */
	assert_string_equal(argv[4], "{x}");
	assert_null(argv[5]);
	template_argv_free(argv);

	assert_int_equal(template_expand("{n2.addr}", &v, &out, &bad), -ENOENT);
	assert_string_equal(bad, "n2.addr");
	assert_int_equal(template_expand("a{unclosed", &v, &out, &bad), -EINVAL);
	assert_int_equal(template_expand("", &v, &out, &bad), 0);
	assert_string_equal(out, "");
	free(out);
	template_vars_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_expand) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
