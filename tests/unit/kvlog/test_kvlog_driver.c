/* Unit tests of kvlog's driver (targets/kvlog/kvlog_driver.c): its requests are kvlog's
 * frames, and each answer decodes to what it says, in order (the oldest in flight). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targets/driver.h"
#include "targets/kvlog/kvlog_proto.h"

static const struct target_driver *d;

static int setup(void **state)
{
	d = target_driver_lookup("kvlog");
	return d ? 0 : -1;
}

static void test_encode(void **state)
{
	unsigned char buf[64];
	struct kvp_frame f;
	const char *key;
	const void *val;
	size_t klen, vlen;
	ssize_t n = d->encode_set(NULL, 0, 7, "w1", "abc", 3);

	assert_int_equal(n, KVP_HDR + 2 + 2 + 3); /* the length, nothing written */
	assert_int_equal(d->encode_set(buf, (size_t)n - 1, 7, "w1", "abc", 3), n);
	assert_int_equal(d->encode_set(buf, sizeof(buf), 7, "w1", "abc", 3), n);
	assert_int_equal(kvp_parse(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, KVP_SET);
	assert_int_equal(kvp_get_kv(&f, &key, &klen, &val, &vlen), 0);
	assert_memory_equal(key, "w1", 2);
	assert_memory_equal(val, "abc", 3);
	assert_int_equal(d->encode_set(buf, sizeof(buf), 7, "", "abc", 3), -EINVAL);

	assert_int_equal(d->encode_read_all(NULL, 0, 1), KVP_HDR);
	assert_int_equal(d->encode_read_all(buf, sizeof(buf), 1), KVP_HDR);
	assert_int_equal(kvp_parse(buf, KVP_HDR, &f), KVP_HDR);
	assert_int_equal(f.type, KVP_DUMP);
	assert_int_equal(f.len, 0);
}

static void test_replies(void **state)
{
	struct kvlog_buf b = KVLOG_BUF_INIT;
	struct target_reply r;
	ssize_t n;

	assert_int_equal(kvp_put_u64(&b, KVP_OK, 99), 0);
	assert_int_equal(kvp_put_err(&b, -EROFS, "read-only replica"), 0);
	for (size_t k = 0; k < 13; k++) /* incomplete, never an error */
		assert_int_equal(d->decode_reply(kvlog_buf_data(&b), k, &r), 0);
	n = d->decode_reply(kvlog_buf_data(&b), kvlog_buf_size(&b), &r);
	assert_int_equal(n, 13);
	assert_int_equal(r.kind, TARGET_ACKED);
	assert_true(r.oldest);
	kvlog_buf_consume(&b, (size_t)n);
	n = d->decode_reply(kvlog_buf_data(&b), kvlog_buf_size(&b), &r);
	assert_int_equal(n, (ssize_t)kvlog_buf_size(&b));
	assert_int_equal(r.kind, TARGET_REFUSED);
	assert_true(r.oldest);
	assert_int_equal(r.err, EROFS);
	assert_int_equal(r.reason_len, strlen("read-only replica"));
	assert_memory_equal(r.reason, "read-only replica", r.reason_len);
	kvlog_buf_consume(&b, (size_t)n);
	/* a dump's frames are not replies to a set; nor is a length out of range */
	assert_int_equal(kvp_put_u64(&b, KVP_END, 0), 0);
	assert_int_equal(d->decode_reply(kvlog_buf_data(&b), kvlog_buf_size(&b), &r), -EPROTO);
	kvlog_buf_consume(&b, kvlog_buf_size(&b));
	assert_int_equal(kvp_put(&b, KVP_ERR, "x", 1), 0); /* ERR too short for its errno */
	assert_int_equal(d->decode_reply(kvlog_buf_data(&b), kvlog_buf_size(&b), &r), -EPROTO);
	assert_int_equal(d->decode_reply("\0\0\0\0\x40", 5, &r), -EBADMSG);
	kvlog_buf_release(&b);
}

static void test_read_all(void **state)
{
	struct kvlog_buf b = KVLOG_BUF_INIT;
	struct target_reply r;
	ssize_t n;

	assert_int_equal(kvp_put_kv(&b, KVP_KV, "w1", 2, "v\0v", 3), 0);
	assert_int_equal(kvp_put_u64(&b, KVP_END, 1), 0);
	n = d->decode_read_all(kvlog_buf_data(&b), kvlog_buf_size(&b), &r);
	assert_int_equal(n, KVP_HDR + 2 + 2 + 3);
	assert_int_equal(r.kind, TARGET_KV);
	assert_int_equal(r.klen, 2);
	assert_memory_equal(r.key, "w1", 2);
	assert_int_equal(r.vlen, 3);
	assert_memory_equal(r.val, "v\0v", 3);
	kvlog_buf_consume(&b, (size_t)n);
	n = d->decode_read_all(kvlog_buf_data(&b), kvlog_buf_size(&b), &r);
	assert_int_equal(n, 13);
	assert_int_equal(r.kind, TARGET_ACKED); /* the end */
	assert_true(r.oldest);
	kvlog_buf_consume(&b, (size_t)n);
	assert_int_equal(kvp_put_err(&b, -EBUSY, "later"), 0);
	n = d->decode_read_all(kvlog_buf_data(&b), kvlog_buf_size(&b), &r);
	assert_int_equal(r.kind, TARGET_REFUSED);
	assert_int_equal(r.err, EBUSY);
	kvlog_buf_consume(&b, (size_t)n);
	assert_int_equal(kvp_put_u64(&b, KVP_OK, 1), 0); /* a set's answer is not a dump's */
	assert_int_equal(d->decode_read_all(kvlog_buf_data(&b), kvlog_buf_size(&b), &r), -EPROTO);
	kvlog_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_read_all),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
