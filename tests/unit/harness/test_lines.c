/* Unit tests of the reader of client adapters: the engine's connection (conn.h) speaking
 * the line protocol (targets/lines/lines.h) over a pipe pair that the test feeds as the
 * adapter would, and real adapter processes (adapter.h) that crash or hang. Each
 * misbehaviour of docs/adapters.md must leave the operations it concerns unknown, never
 * acknowledged, and kill the connection with words that say what happened. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/run/adapter.h"
#include "harness/run/conn.h"
#include "targets/lines/lines.h"

#define MAX_ENDED 64

/* What done was told, in order. */
struct ended {
	uint64_t tag[MAX_ENDED];
	enum target_reply_kind kind[MAX_ENDED];
	char reason[MAX_ENDED][64];
	int n;
};

static void on_done(void *ud, uint64_t tag, const struct target_reply *r)
{
	struct ended *e = ud;

	assert_true(e->n < MAX_ENDED);
	e->tag[e->n] = tag;
	e->kind[e->n] = r->kind;
	snprintf(e->reason[e->n], sizeof(e->reason[0]), "%.*s", (int)r->reason_len,
		 r->reason ? r->reason : "");
	e->n++;
}

/* The kind tag ended with; fails if it did not end exactly once. */
static enum target_reply_kind ended_as(const struct ended *e, uint64_t tag)
{
	int found = -1;

	for (int i = 0; i < e->n; i++) {
		if (e->tag[i] != tag)
			continue;
		assert_int_equal(found, -1);
		found = i;
	}
	assert_int_not_equal(found, -1);
	return e->kind[found];
}

/* The engine's end of an adapter spoken to over pipes: *in is what the adapter reads
 * (requests), *out what it writes (replies). */
static struct conn *adapter_pipes(struct ended *e, int *in, int *out)
{
	int req[2], rep[2];
	struct conn *c;

	assert_int_equal(pipe2(req, O_CLOEXEC), 0);
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	assert_int_equal(conn_adopt(&lines_driver, rep[0], req[1], on_done, e, &c), 0);
	*in = req[0];
	*out = rep[1];
	return c;
}

static void say(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Sends what is queued; the adapter's end must read exactly want. */
static void expect_requests(struct conn *c, int in, const char *want)
{
	char buf[1024];
	size_t n = 0, len = strlen(want);

	assert_int_equal(conn_flush(c), 0);
	while (n < len) {
		ssize_t k = read(in, buf + n, sizeof(buf) - 1 - n);

		assert_true(k > 0);
		n += (size_t)k;
	}
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* Three sets 1, 2, 3 sent to the adapter. */
static struct conn *three_sets(struct ended *e, int *in, int *out)
{
	struct conn *c = adapter_pipes(e, in, out);

	assert_int_equal(conn_submit_ping(c, 100), 0);
	assert_int_equal(conn_submit_set(c, 1, "w1", "v1", 2), 0);
	assert_int_equal(conn_submit_set(c, 2, "w2", "v2", 2), 0);
	assert_int_equal(conn_submit_set(c, 3, "w3", "v3", 2), 0);
	expect_requests(c, *in, "100 ping\n1 set w1 v1\n2 set w2 v2\n3 set w3 v3\n");
	return c;
}

/* After the misbehaviour: the connection is dead with why, and freeing it leaves every
 * operation still in flight unknown. */
static void expect_dead(struct conn *c, struct ended *e, int got, int err, const char *why)
{
	assert_int_equal(got, err);
	assert_non_null(strstr(conn_error(c), why));
	conn_free(c);
	for (int i = 0; i < e->n; i++)
		if (e->tag[i] != 1 && e->tag[i] != 100) /* the ones that were answered */
			assert_int_equal(e->kind[i], TARGET_UNKNOWN);
}

static void test_replies_any_order(void **state)
{
	struct ended e = { 0 };
	int in, out;
	struct conn *c = three_sets(&e, &in, &out);

	say(out, "3 fail read-only replica\n100 ok\n2 unknown node went away\n1 ok\n");
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(ended_as(&e, 100), TARGET_ACKED);
	assert_int_equal(ended_as(&e, 1), TARGET_ACKED);
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
	assert_int_equal(ended_as(&e, 3), TARGET_REFUSED);
	assert_string_equal(e.reason[0], "read-only replica");
	assert_int_equal(conn_in_flight(c), 0);
	assert_int_equal(conn_submit_connect(c, 101, "10.0.0.3:7700"), 0);
	expect_requests(c, in, "101 connect 10.0.0.3:7700\n");
	say(out, "101 ok\n");
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(ended_as(&e, 101), TARGET_ACKED);
	conn_free(c);
	close(in);
	close(out);
}

static void test_line_does_not_parse(void **state)
{
	static const char *const bad[] = {
		"xyz\n",	"1 okay\n", "1 ok 5\n", /* a count is no reply to a set */
		"1\n",		"-1 ok\n",  "1  ok\n",	"99999999999999999999999 ok\n",
		"1 kv w1 v1\n", /* a key/value is no reply to a set */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ended e = { 0 };
		int in, out;
		struct conn *c = three_sets(&e, &in, &out);

		say(out, "100 ok\n");
		say(out, bad[i]);
		say(out, "2 ok\n"); /* after the bad line: not to be believed */
		expect_dead(c, &e, conn_read(c), -EBADMSG, "is not a reply");
		assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
		assert_int_equal(ended_as(&e, 3), TARGET_UNKNOWN);
		close(in);
		close(out);
	}
}

static void test_line_quoted(void **state)
{
	struct ended e = { 0 };
	int in, out;
	struct conn *c = three_sets(&e, &in, &out);

	say(out, "100 ok\n1 ok\nxyz\x01\n");
	expect_dead(c, &e, conn_read(c), -EBADMSG, "'xyz\\x01' is not a reply");
	assert_int_equal(ended_as(&e, 1), TARGET_ACKED);
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
	close(in);
	close(out);
}

static void test_unknown_id(void **state)
{
	struct ended e = { 0 };
	int in, out;
	struct conn *c = three_sets(&e, &in, &out);

	say(out, "100 ok\n1 ok\n7 ok\n2 ok\n");
	expect_dead(c, &e, conn_read(c), -EPROTO, "a reply to 7, which is not in flight");
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
	assert_int_equal(ended_as(&e, 3), TARGET_UNKNOWN);
	close(in);
	close(out);
}

static void test_second_reply(void **state)
{
	struct ended e = { 0 };
	int in, out;
	struct conn *c = three_sets(&e, &in, &out);

	say(out, "100 ok\n1 ok\n1 fail changed my mind\n2 ok\n");
	expect_dead(c, &e, conn_read(c), -EPROTO, "a reply to 1, which is not in flight");
	assert_int_equal(ended_as(&e, 1), TARGET_ACKED); /* the first reply stands */
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
	assert_int_equal(ended_as(&e, 3), TARGET_UNKNOWN);
	close(in);
	close(out);
}

static void test_reply_after_timeout(void **state)
{
	struct ended e = { 0 };
	int in, out;
	struct conn *c = three_sets(&e, &in, &out);

	say(out, "100 ok\n1 ok\n");
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(conn_expire(c, 2), 0); /* the engine's timeout */
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
	assert_int_equal(conn_expire(c, 2), -ENOENT);
	say(out, "2 ok\n3 ok\n");
	expect_dead(c, &e, conn_read(c), -EPROTO, "a reply to 2 after its timeout");
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN); /* still, and only once */
	assert_int_equal(ended_as(&e, 3), TARGET_UNKNOWN);
	close(in);
	close(out);
}

static void test_eof(void **state)
{
	struct ended e = { 0 };
	int in, out;
	struct conn *c = three_sets(&e, &in, &out);

	say(out, "100 ok\n1 ok\n2 o"); /* half a line, then the adapter's stdout closes */
	close(out);
	assert_int_equal(conn_read(c), 0); /* the bytes first; the poll after them sees EOF */
	expect_dead(c, &e, conn_read(c), -ECONNRESET, "closed");
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
	assert_int_equal(ended_as(&e, 3), TARGET_UNKNOWN);
	close(in);
}

static void test_line_too_long(void **state)
{
	struct ended e = { 0 };
	int in, out, k = 0;
	struct conn *c = three_sets(&e, &in, &out);
	char *junk = malloc(LINES_MAX_LINE);

	assert_non_null(junk);
	memset(junk, 'a', LINES_MAX_LINE);
	fcntl(out, F_SETFL, O_NONBLOCK);
	/* feed and read in turns: the pipe holds less than a line */
	for (size_t off = 0; off < LINES_MAX_LINE && k == 0;) {
		ssize_t n = write(out, junk + off, LINES_MAX_LINE - off);

		if (n > 0)
			off += (size_t)n;
		k = conn_read(c);
	}
	expect_dead(c, &e, k, -EMSGSIZE, "is not a reply");
	assert_int_equal(ended_as(&e, 1), TARGET_UNKNOWN);
	free(junk);
	close(in);
	close(out);
}

struct keys {
	int n;
	char last[64];
};

static int on_kv(void *ud, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct keys *k = ud;

	k->n++;
	snprintf(k->last, sizeof(k->last), "%.*s=%.*s", (int)klen, key, (int)vlen,
		 (const char *)val);
	return 0;
}

/* A final read answered by a forked "adapter" with reply; returns conn_read_all_adopt's. */
static int read_all_answered(const char *reply, struct keys *k, char *why, size_t len)
{
	int req[2], rep[2], r, st;
	pid_t pid;

	assert_int_equal(pipe2(req, O_CLOEXEC), 0);
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[64];

		close(rep[0]);
		close(req[1]);
		if (read(req[0], buf, sizeof(buf)) <= 0 || strncmp(buf, "0 read_all\n", 11) != 0)
			_exit(2);
		if (write(rep[1], reply, strlen(reply)) < 0)
			_exit(3);
		read(req[0], buf, sizeof(buf)); /* then wait for the engine to hang up */
		_exit(0);
	}
	close(req[0]);
	close(rep[1]);
	r = conn_read_all_adopt(&lines_driver, rep[0], req[1], 2000, on_kv, k, why, len);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	return r;
}

static void test_read_all(void **state)
{
	struct keys k = { 0 };
	char why[160] = "";

	assert_int_equal(
		read_all_answered("0 kv w1 v1\n0 kv w2 v2\n0 ok 2\n", &k, why, sizeof(why)), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.last, "w2=v2");
	/* the count must match what came */
	memset(&k, 0, sizeof(k));
	assert_int_equal(read_all_answered("0 kv w1 v1\n0 ok 2\n", &k, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "ended with 2 keys, but 1 came"));
	/* a key/value with another id is not part of it */
	memset(&k, 0, sizeof(k));
	assert_int_equal(read_all_answered("5 kv w1 v1\n0 ok 1\n", &k, why, sizeof(why)), -EPROTO);
	assert_int_equal(k.n, 0);
	/* ok without a count does not end a read_all */
	assert_int_equal(read_all_answered("0 ok\n", &k, why, sizeof(why)), -EBADMSG);
	/* the adapter says it cannot */
	assert_int_equal(read_all_answered("0 fail node is down\n", &k, why, sizeof(why)), -EIO);
	assert_string_equal(why, "refused: node is down"); /* its words reach the verdict */
	assert_int_equal(read_all_answered("0 unknown timed out\n", &k, why, sizeof(why)), -EIO);
	assert_string_equal(why, "unknown: timed out");
}

static void test_encode(void **state)
{
	char buf[128];
	ssize_t n;

	n = lines_driver.encode_set(buf, sizeof(buf), 42, "w42", "abc", 3);
	assert_int_equal(n, 15);
	assert_memory_equal(buf, "42 set w42 abc\n", 15);
	assert_int_equal(lines_driver.encode_set(NULL, 0, 42, "w42", "abc", 3), 15);
	assert_int_equal(lines_driver.encode_set(buf, sizeof(buf), 1, "a b", "v", 1), -EINVAL);
	assert_int_equal(lines_driver.encode_set(buf, sizeof(buf), 1, "a", "v\n", 2), -EINVAL);
	assert_int_equal(lines_driver.encode_set(buf, sizeof(buf), 1, "", "v", 1), -EINVAL);
	assert_int_equal(lines_driver.encode_connect(buf, sizeof(buf), 7, "bad node"), -EINVAL);
	n = lines_driver.encode_read_all(buf, sizeof(buf), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "0 read_all\n", 11);
}

/* A real adapter process: ends with what, the connection's reads give err. */
static void run_adapter(const char *script, int poll_ms, int err, const char *how_want)
{
	char *const argv[] = { (char *)"sh", (char *)"-c", (char *)script, NULL };
	struct adapter_spec s = { .argv = argv, .node = "127.0.0.1:1" };
	struct ended e = { 0 };
	struct adapter *a;
	struct conn *c;
	char how[64];
	int k = 0;

	assert_int_equal(adapter_start(&s, &a), 0);
	assert_true(adapter_pid(a) > 0);
	assert_int_equal(conn_adopt(&lines_driver, adapter_take_rfd(a), adapter_take_wfd(a),
				    on_done, &e, &c),
			 0);
	assert_int_equal(conn_submit_ping(c, 100), 0);
	assert_int_equal(conn_submit_set(c, 1, "w1", "v1", 2), 0);
	assert_int_equal(conn_submit_set(c, 2, "w2", "v2", 2), 0);
	assert_int_equal(conn_flush(c), 0);
	for (;;) {
		struct pollfd p = { .fd = conn_rfd(c), .events = POLLIN };

		if (poll(&p, 1, poll_ms) == 0) {
			k = -ETIMEDOUT; /* the engine's timeout: a hang */
			break;
		}
		if ((k = conn_read(c)) < 0)
			break;
	}
	assert_int_equal(k, err);
	adapter_stop(a, 1000, how, sizeof(how));
	assert_string_equal(how, how_want);
	conn_free(c);
	adapter_free(a);
	assert_int_equal(ended_as(&e, 100), TARGET_ACKED);
	assert_int_equal(ended_as(&e, 1), TARGET_ACKED);
	assert_int_equal(ended_as(&e, 2), TARGET_UNKNOWN);
}

static void test_adapter_crash(void **state)
{
	/* answers ping and the first set, then dies with the second in flight */
	run_adapter("read a; echo \"${a%% *} ok\"; read a; echo \"${a%% *} ok\"; kill -SEGV $$",
		    5000, -ECONNRESET, "killed by SIGSEGV");
	run_adapter("read a; echo \"${a%% *} ok\"; read a; echo \"${a%% *} ok\"; exit 3", 5000,
		    -ECONNRESET, "exited with status 3");
}

static void test_adapter_hang(void **state)
{
	run_adapter("read a; echo \"${a%% *} ok\"; read a; echo \"${a%% *} ok\"; exec sleep 60",
		    300, -ETIMEDOUT, "killed by the harness");
}

static void test_adapter_env_and_stderr(void **state)
{
	char path[] = "/tmp/test_lines_stderrXXXXXX", tail[128];
	char *const argv[] = { (char *)"sh", (char *)"-c",
			       (char *)"echo \"node $CHAOSDRILL_NODE\" >&2; echo last >&2", NULL };
	char *const missing[] = { (char *)"/nonexistent/adapter", NULL };
	struct adapter_spec s = { .argv = argv, .node = "10.1.2.3:7700", .stderr_path = path };
	struct adapter *a;
	char how[64];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(adapter_start(&s, &a), 0);
	adapter_stop(a, 2000, how, sizeof(how));
	assert_string_equal(how, "exited with status 0");
	adapter_free(a);
	assert_string_equal(adapter_stderr_tail(path, tail, sizeof(tail)),
			    "node 10.1.2.3:7700\nlast");
	assert_string_equal(adapter_stderr_tail(path, tail, 8), "last"); /* whole lines */
	unlink(path);
	s.argv = missing;
	assert_int_equal(adapter_start(&s, &a), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies_any_order),
		cmocka_unit_test(test_line_does_not_parse),
		cmocka_unit_test(test_line_quoted),
		cmocka_unit_test(test_unknown_id),
		cmocka_unit_test(test_second_reply),
		cmocka_unit_test(test_reply_after_timeout),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_read_all),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_adapter_crash),
		cmocka_unit_test(test_adapter_hang),
		cmocka_unit_test(test_adapter_env_and_stderr),
	};

	signal(SIGPIPE, SIG_IGN); /* as the harness: a dead adapter's stdin is EPIPE */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
