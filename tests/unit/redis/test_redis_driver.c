/* Unit tests of the Redis driver (targets/redis/redis_driver.c): SET and the read-all EVAL
 * are RESP arrays of bulk strings; replies decode one at a time from any prefix (0 until
 * whole), errors say whether Redis refused the write, and the read-all reply (one array
 * k1, v1, ..., N) comes apart into one KV per call and its end. hiredis's reader, the
 * reference parser, checks that the bytes are what the driver takes them for. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h> /* redisReaderCreate: the reader with hiredis's reply objects */

#include "targets/driver.h"

static const struct target_driver *d;

static int setup(void **state)
{
	d = target_driver_lookup("redis");
	return d ? 0 : -1;
}

/* The one whole reply hiredis reads from buf[0..len), which must hold exactly it. */
static void *hiredis_one(const char *buf, size_t len, redisReader **out)
{
	redisReader *r = redisReaderCreate();
	void *reply = NULL;

	assert_non_null(r);
	assert_int_equal(redisReaderFeed(r, buf, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
	assert_non_null(reply);
	assert_int_equal(r->pos, r->len); /* nothing left over */
	*out = r;
	return reply;
}

static void test_encode_set(void **state)
{
	static const char want[] = "*3\r\n$3\r\nSET\r\n$2\r\nw1\r\n$5\r\na\r\nb\0\r\n";
	char buf[64];
	ssize_t n = d->encode_set(NULL, 0, 7, "w1", "a\r\nb", 5); /* binary, CRLF inside */
	redisReader *r;
	redisReply *rep;

	assert_int_equal(n, sizeof(want) - 1); /* the length, nothing written */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(d->encode_set(buf, (size_t)n - 1, 7, "w1", "a\r\nb", 5), n);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(d->encode_set(buf, sizeof(buf), 7, "w1", "a\r\nb", 5), n);
	assert_memory_equal(buf, want, (size_t)n);
	rep = hiredis_one(buf, (size_t)n, &r);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 3);
	assert_int_equal(rep->element[2]->len, 5);
	assert_memory_equal(rep->element[2]->str, "a\r\nb", 5);
	freeReplyObject(rep);
	redisReaderFree(r);
	assert_int_equal(d->encode_set(buf, sizeof(buf), 7, "", "abc", 3), -EINVAL);
}

static void test_encode_read_all(void **state)
{
	char buf[1024];
	ssize_t n = d->encode_read_all(NULL, 0, 1);
	redisReader *r;
	redisReply *rep;

	assert_true(n > 0 && (size_t)n <= sizeof(buf));
	assert_int_equal(d->encode_read_all(buf, sizeof(buf), 1), n);
	rep = hiredis_one(buf, (size_t)n, &r);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 3);
	assert_string_equal(rep->element[0]->str, "EVAL");
	assert_non_null(strstr(rep->element[1]->str, "redis.call('KEYS', '*')"));
	assert_string_equal(rep->element[2]->str, "0"); /* no KEYS arguments */
	freeReplyObject(rep);
	redisReaderFree(r);
}

/* decode_reply on s: 0 for every proper prefix, then its whole length. */
static void decode_whole(const char *s, struct target_reply *out)
{
	size_t len = strlen(s);

	for (size_t k = 0; k < len; k++)
		assert_int_equal(d->decode_reply(s, k, out), 0);
	assert_int_equal(d->decode_reply(s, len, out), (ssize_t)len);
	assert_true(out->oldest);
}

static void test_replies(void **state)
{
	static const struct {
		const char *reply;
		enum target_reply_kind kind;
		int err;
	} cases[] = {
		{ "+OK\r\n", TARGET_ACKED, 0 },
		{ "-READONLY You can't write against a read only replica.\r\n", TARGET_REFUSED,
		  EROFS },
		{ "-LOADING Redis is loading the dataset in memory\r\n", TARGET_REFUSED, EAGAIN },
		{ "-MISCONF Errors writing to the AOF file: No space left on device\r\n",
		  TARGET_REFUSED, EIO },
		{ "-OOM command not allowed when used memory > 'maxmemory'.\r\n", TARGET_REFUSED,
		  ENOMEM },
		{ "-ERR wrong number of arguments for 'set' command\r\n", TARGET_REFUSED, EINVAL },
		{ "-ERRX not a word Redis uses\r\n", TARGET_UNKNOWN, EIO },
		{ "-SOMETHING new\r\n", TARGET_UNKNOWN, EIO },
	};
	struct target_reply r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode_whole(cases[i].reply, &r);
		assert_int_equal(r.kind, cases[i].kind);
		if (cases[i].kind == TARGET_ACKED)
			continue;
		assert_int_equal(r.err, cases[i].err);
		/* the reason is Redis's line, borrowed from the buffer, without '-' and CRLF */
		assert_ptr_equal(r.reason, cases[i].reply + 1);
		assert_int_equal(r.reason_len, strlen(cases[i].reply) - 3);
	}
	/* two replies in one buffer: the first only */
	assert_int_equal(d->decode_reply("+OK\r\n+OK\r\n", 10, &r), 5);
	/* not replies to a SET, or not RESP at all */
	assert_int_equal(d->decode_reply(":1\r\n", 4, &r), -EPROTO);
	assert_int_equal(d->decode_reply("$2\r\nOK\r\n", 8, &r), -EPROTO);
	assert_int_equal(d->decode_reply("+OK\n", 4, &r), -EPROTO);
	assert_int_equal(d->decode_reply("HTTP/1.1 400\r\n", 14, &r), -EPROTO);
}

/* A read-all reply as Redis sends it for the script: k1, v1, ..., N. */
static size_t read_all_reply(char *buf, size_t cap, size_t n, const char *const *kv)
{
	size_t off = (size_t)snprintf(buf, cap, "*%zu\r\n", 2 * n + 1);

	for (size_t i = 0; i < 2 * n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "$%zu\r\n%s\r\n", strlen(kv[i]),
					kv[i]);
	off += (size_t)snprintf(buf + off, cap - off, ":%zu\r\n", n);
	assert_true(off < cap);
	return off;
}

static void test_read_all(void **state)
{
	static const char *const kv[] = { "w1", "v-one", "w22", "", "w3", "x\r\ny" };
	char buf[256];
	size_t len = read_all_reply(buf, sizeof(buf), 3, kv), off = 0, i = 0;
	struct target_reply r;
	redisReader *rd;
	redisReply *rep;

	/* hiredis: one array of 7, the last the count */
	rep = hiredis_one(buf, len, &rd);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 7);
	assert_int_equal(rep->element[6]->type, REDIS_REPLY_INTEGER);
	assert_int_equal(rep->element[6]->integer, 3);
	/* the driver: three KV, one per call, then the end; 0 on every proper prefix */
	for (;;) {
		ssize_t n = 0;
		size_t k;

		for (k = 1; k <= len - off && (n = d->decode_read_all(buf + off, k, &r)) == 0; k++)
			;
		assert_true(n > 0);
		assert_int_equal((size_t)n, k); /* whole just when its last byte came */
		assert_true(r.oldest);
		off += (size_t)n;
		if (r.kind != TARGET_KV)
			break;
		assert_int_equal(r.klen, rep->element[2 * i]->len);
		assert_memory_equal(r.key, rep->element[2 * i]->str, r.klen);
		assert_int_equal(r.vlen, rep->element[2 * i + 1]->len);
		assert_memory_equal(r.val, rep->element[2 * i + 1]->str, r.vlen);
		i++;
	}
	assert_int_equal(i, 3);
	assert_int_equal(off, len);
	assert_int_equal(r.kind, TARGET_ACKED);
	assert_true(r.has_count);
	assert_int_equal(r.count, 3);
	freeReplyObject(rep);
	redisReaderFree(rd);
}

static void test_read_all_edges(void **state)
{
	struct target_reply r;

	/* no keys: the count alone */
	assert_int_equal(d->decode_read_all("*1\r\n", 4, &r), 0);
	assert_int_equal(d->decode_read_all("*1\r\n:0", 6, &r), 0);
	assert_int_equal(d->decode_read_all("*1\r\n:0\r\n", 8, &r), 8);
	assert_int_equal(r.kind, TARGET_ACKED);
	assert_true(r.has_count);
	assert_int_equal(r.count, 0);
	/* refused: still loading the AOF */
	assert_int_equal(d->decode_read_all("-LOADING Redis is loading\r\n", 27, &r), 27);
	assert_int_equal(r.kind, TARGET_REFUSED);
	assert_int_equal(r.err, EAGAIN);
	/* not the script's answer */
	assert_int_equal(d->decode_read_all("*2\r\n$1\r\na\r\n$1\r\nb\r\n", 18, &r), -EPROTO);
	assert_int_equal(d->decode_read_all("*0\r\n", 4, &r), -EPROTO);
	assert_int_equal(d->decode_read_all("*-1\r\n", 5, &r), -EPROTO);
	assert_int_equal(d->decode_read_all("$-1\r\n$1\r\nx\r\n", 12, &r), -EPROTO); /* nil key */
	assert_int_equal(d->decode_read_all("$1\r\nk\r\n$-1\r\n", 12, &r), -EPROTO); /* nil value */
	assert_int_equal(d->decode_read_all("$2\r\nabXY", 8, &r), -EPROTO); /* no CRLF after */
	assert_int_equal(d->decode_read_all("$x\r\n", 4, &r), -EPROTO);
	assert_int_equal(d->decode_read_all(":-1\r\n", 5, &r), -EPROTO);
	assert_int_equal(d->decode_read_all("+OK\r\n", 5, &r), -EPROTO);
	assert_int_equal(d->decode_read_all("$99999999999999999999\r\n", 23, &r), -EPROTO);
	/* incomplete is never an error */
	assert_int_equal(d->decode_read_all("$5\r\nab", 6, &r), 0);
	assert_int_equal(d->decode_read_all("$1\r\nk\r\n$3\r\nv", 12, &r), 0);
	assert_int_equal(d->decode_read_all("", 0, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_set),     cmocka_unit_test(test_encode_read_all),
		cmocka_unit_test(test_replies),	       cmocka_unit_test(test_read_all),
		cmocka_unit_test(test_read_all_edges),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
