/* Unit tests of kvlog's wire protocol and byte buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targets/kvlog/kvlog_proto.h"

static void test_frames(void **state)
{
	struct kvlog_buf b = KVLOG_BUF_INIT;
	struct kvp_frame f;
	const char *key;
	const void *val;
	size_t klen, vlen;
	uint64_t v;
	char msg[16];
	int code;
	ssize_t n;

	assert_int_equal(kvp_put_kv(&b, KVP_SET, "key", 3, "a\0b", 3), 0);
	assert_int_equal(kvp_put_u64(&b, KVP_OK, 99), 0);
	assert_int_equal(kvp_put_err(&b, -EROFS, "read-only replica"), 0);
	/* a partial frame is incomplete, never an error */
	for (size_t k = 0; k < 13; k++)
		assert_int_equal(kvp_parse(kvlog_buf_data(&b), k, &f), 0);
	n = kvp_parse(kvlog_buf_data(&b), kvlog_buf_size(&b), &f);
	assert_int_equal(n, 4 + 1 + 2 + 3 + 3);
	assert_int_equal(f.type, KVP_SET);
	assert_int_equal(kvp_get_kv(&f, &key, &klen, &val, &vlen), 0);
	assert_int_equal(klen, 3);
	assert_memory_equal(key, "key", 3);
	assert_int_equal(vlen, 3);
	assert_memory_equal(val, "a\0b", 3);
	kvlog_buf_consume(&b, (size_t)n);
	n = kvp_parse(kvlog_buf_data(&b), kvlog_buf_size(&b), &f);
	assert_int_equal(f.type, KVP_OK);
	assert_int_equal(kvp_get_u64(&f, &v), 0);
	assert_int_equal(v, 99);
	kvlog_buf_consume(&b, (size_t)n);
	n = kvp_parse(kvlog_buf_data(&b), kvlog_buf_size(&b), &f);
	assert_int_equal(kvp_get_err(&f, &code, msg, sizeof(msg)), 0);
	assert_int_equal(code, EROFS);
	assert_string_equal(msg, "read-only repli"); /* truncated to the buffer */
	kvlog_buf_consume(&b, (size_t)n);
	assert_int_equal(kvlog_buf_size(&b), 0);
	kvlog_buf_release(&b);
}

static void test_bad_frames(void **state)
{
	unsigned char p[8] = { 0 };
	struct kvp_frame f;

	assert_int_equal(kvp_parse(p, 5, &f), -EBADMSG); /* zero length */
	kvlog_put_u32(p, KVP_MAX_FRAME + 1);
	assert_int_equal(kvp_parse(p, 5, &f), -EBADMSG);
	f = (struct kvp_frame){ .type = KVP_KV, .body = p, .len = 1 };
	assert_int_equal(kvp_get_kv(&f, &(const char *){ NULL }, &(size_t){ 0 },
				    &(const void *){ NULL }, &(size_t){ 0 }),
			 -EBADMSG);
}

static void test_buf_big(void **state)
{
	struct kvlog_buf b = KVLOG_BUF_INIT;
	static unsigned char val[70000];
	struct kvp_frame f;
	ssize_t n;

	memset(val, 0xab, sizeof(val));
	for (int i = 0; i < 3; i++)
		assert_int_equal(kvp_put_kv(&b, KVP_SET, "k", 1, val, sizeof(val)), 0);
	for (int i = 0; i < 3; i++) {
		n = kvp_parse(kvlog_buf_data(&b), kvlog_buf_size(&b), &f);
		assert_true(n > 70000);
		assert_int_equal(f.len, 2 + 1 + sizeof(val));
		kvlog_buf_consume(&b, (size_t)n);
	}
	kvlog_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_buf_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
