/* Unit tests of the engine's connections (harness/run/conn.h), the protocol-independent
 * part of talking to a target, against a fake driver (fake_driver.h). The far end is the
 * test itself, over a socketpair or pipes (conn_adopt), or a forked server on loopback
 * (conn_open, conn_read_all). No privileges needed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/run/conn.h"
#include "tests/unit/harness/fake_driver.h"

/* What done was told, in order. */
struct ended {
	uint64_t tag[512];
	enum target_reply_kind kind[512];
	char reason[512][64];
	int n;
};

static void on_done(void *ud, uint64_t tag, const struct target_reply *r)
{
	struct ended *e = ud;

	assert_true(e->n < 512);
	e->tag[e->n] = tag;
	e->kind[e->n] = r->kind;
	snprintf(e->reason[e->n], sizeof(e->reason[0]), "%.*s", (int)r->reason_len,
		 r->reason ? r->reason : "");
	e->n++;
}

/* A connection over a socketpair; *peer is the target's end. */
static struct conn *pair(struct ended *e, int *peer)
{
	struct conn *c;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(conn_adopt(&fake_driver, sv[0], sv[0], on_done, e, &c), 0);
	*peer = sv[1];
	return c;
}

static void submit(struct conn *c, uint64_t tag, const char *key)
{
	assert_int_equal(conn_submit_set(c, tag, key, "v", 1), 0);
}

/* Sends what is queued and checks the far end got exactly want. */
static void expect_sent(struct conn *c, int peer, const char *want)
{
	char buf[512];
	size_t n = 0, len = strlen(want);

	assert_int_equal(conn_flush(c), 0);
	assert_false(conn_want_write(c));
	while (n < len) {
		ssize_t k = read(peer, buf + n, sizeof(buf) - 1 - n);

		assert_true(k > 0);
		n += (size_t)k;
	}
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void reply(int peer, const char *s)
{
	assert_int_equal(write(peer, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_in_order(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	submit(c, 1, "a");
	submit(c, 2, "b");
	submit(c, 3, "c");
	assert_int_equal(conn_in_flight(c), 3);
	expect_sent(c, peer, "1 set a v\n2 set b v\n3 set c v\n");
	reply(peer, "= ok\n= fail not the primary\n= unknown quorum lost mid-commit\n");
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.tag[0], 1);
	assert_int_equal(e.kind[0], TARGET_ACKED);
	assert_int_equal(e.tag[1], 2);
	assert_int_equal(e.kind[1], TARGET_REFUSED);
	assert_string_equal(e.reason[1], "not the primary");
	assert_int_equal(e.tag[2], 3);
	assert_int_equal(e.kind[2], TARGET_UNKNOWN); /* the driver says unknown */
	assert_string_equal(e.reason[2], "quorum lost mid-commit");
	assert_int_equal(conn_in_flight(c), 0);
	conn_free(c);
	assert_int_equal(e.n, 3); /* nothing left to end */
	close(peer);
}

static void test_out_of_order(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	for (uint64_t t = 10; t < 14; t++)
		submit(c, t, "k");
	assert_int_equal(conn_flush(c), 0);
	reply(peer, "12 ok\n10 unknown timed out inside\n");
	assert_int_equal(conn_read(c), 0);
	reply(peer, "13 fail full\n= ok\n"); /* the oldest left is 11 */
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(e.n, 4);
	assert_int_equal(e.tag[0], 12);
	assert_int_equal(e.kind[0], TARGET_ACKED);
	assert_int_equal(e.tag[1], 10);
	assert_int_equal(e.kind[1], TARGET_UNKNOWN);
	assert_int_equal(e.tag[2], 13);
	assert_int_equal(e.kind[2], TARGET_REFUSED);
	assert_int_equal(e.tag[3], 11);
	assert_int_equal(e.kind[3], TARGET_ACKED);
	conn_free(c);
	close(peer);
}

/* A reply to an operation not in flight kills the connection: every operation still in
 * flight ends unknown, each once. */
static void test_unknown_tag(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	submit(c, 1, "a");
	submit(c, 2, "b");
	submit(c, 3, "c");
	assert_int_equal(conn_flush(c), 0);
	reply(peer, "2 ok\n7 ok\n3 ok\n");
	assert_int_equal(conn_read(c), -EPROTO);
	assert_non_null(strstr(conn_error(c), "7"));
	assert_int_equal(e.n, 1); /* 2, before the bad line; nothing after it */
	conn_free(c);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.tag[1], 1);
	assert_int_equal(e.kind[1], TARGET_UNKNOWN);
	assert_int_equal(e.tag[2], 3);
	assert_int_equal(e.kind[2], TARGET_UNKNOWN);
	assert_non_null(strstr(e.reason[2], "not in flight"));
	close(peer);
}

static void test_reply_to_nothing(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	reply(peer, "= ok\n");
	assert_int_equal(conn_read(c), -EPROTO);
	assert_string_equal(conn_error(c), "a reply with nothing in flight");
	/* a second reply to the same tag is the same case */
	conn_free(c);
	close(peer);
	c = pair(&e, &peer);
	submit(c, 5, "a");
	assert_int_equal(conn_flush(c), 0);
	reply(peer, "5 ok\n5 ok\n");
	assert_int_equal(conn_read(c), -EPROTO);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.kind[0], TARGET_ACKED);
	conn_free(c);
	close(peer);
}

/* The target goes away with several operations in flight. */
static void test_dies_with_pending(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	for (uint64_t t = 1; t <= 5; t++)
		submit(c, t, "k");
	expect_sent(c, peer, "1 set k v\n2 set k v\n3 set k v\n4 set k v\n5 set k v\n");
	reply(peer, "= ok\n");
	close(peer);
	assert_int_equal(conn_read(c), 0); /* a short read: the end shows at the next one */
	assert_int_equal(e.n, 1);
	assert_int_equal(conn_read(c), -ECONNRESET);
	assert_int_equal(conn_in_flight(c), 4);
	conn_free(c);
	assert_int_equal(e.n, 5);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(e.tag[i], (uint64_t)i + 1); /* oldest first */
		assert_int_equal(e.kind[i], TARGET_UNKNOWN);
		assert_string_equal(e.reason[i], "the target closed the connection");
	}
}

/* Freed by the engine (a timeout, a retarget) while operations are in flight. */
static void test_closed_by_engine(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	submit(c, 1, "a");
	submit(c, 2, "b");
	conn_free(c);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.kind[0], TARGET_UNKNOWN);
	assert_int_equal(e.kind[1], TARGET_UNKNOWN);
	close(peer);
}

static void test_partial_and_undecodable(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	submit(c, 1, "a");
	submit(c, 2, "b");
	assert_int_equal(conn_flush(c), 0);
	reply(peer, "1 o");
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(e.n, 0);
	reply(peer, "k\ngarbage\n");
	assert_int_equal(conn_read(c), -EBADMSG);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(conn_error(c), "'garbage' is not a reply"));
	conn_free(c);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.kind[1], TARGET_UNKNOWN);
	close(peer);
}

/* A key/value where a set's reply is due is a protocol error, not a reply. */
static void test_kv_out_of_place(void **state)
{
	struct ended e = { 0 };
	int peer;
	struct conn *c = pair(&e, &peer);

	submit(c, 1, "a");
	assert_int_equal(conn_flush(c), 0);
	reply(peer, "1 kv a v\n");
	assert_int_equal(conn_read(c), -EPROTO);
	conn_free(c);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.kind[0], TARGET_UNKNOWN);
	close(peer);
}

/* Requests larger than the queue's first allocation, and more of them than its first
 * tag array; a driver refusing to encode leaves nothing queued. */
static void test_growth(void **state)
{
	static char big[100000];
	static struct ended e;
	int peer;
	struct conn *c = pair(&e, &peer);
	size_t n = 0, total = strlen("1 set big ") + sizeof(big) - 1 + 1;
	char *got = malloc(total);

	memset(big, 'x', sizeof(big) - 1);
	assert_int_equal(conn_submit_set(c, 1, "big", big, sizeof(big) - 1), 0);
	while (n < total) {
		ssize_t k;

		assert_true(conn_flush(c) >= 0);
		k = read(peer, got + n, total - n);
		assert_true(k > 0);
		n += (size_t)k;
	}
	assert_false(conn_want_write(c));
	assert_memory_equal(got, "1 set big xxx", 13);
	assert_int_equal(got[total - 1], '\n');
	free(got);
	for (uint64_t t = 2; t < 300; t++)
		submit(c, t, "k");
	assert_int_equal(conn_in_flight(c), 299);
	assert_int_equal(conn_submit_set(c, 300, "", "v", 1), -EINVAL);
	assert_int_equal(conn_in_flight(c), 299);
	assert_true(conn_want_write(c));
	conn_free(c);
	assert_int_equal(e.n, 299);
	assert_int_equal(e.tag[298], 299);
	close(peer);
}

/* Pipes, as for an adapter program spoken to over its stdin and stdout. */
static void test_pipes(void **state)
{
	struct ended e = { 0 };
	int to[2], from[2];
	struct conn *c;
	char buf[64];

	assert_int_equal(pipe2(to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from, O_CLOEXEC), 0);
	assert_int_equal(conn_adopt(&fake_driver, from[0], to[1], on_done, &e, &c), 0);
	submit(c, 4, "p");
	assert_int_equal(conn_flush(c), 0);
	assert_int_equal(read(to[0], buf, sizeof(buf)), 10);
	reply(from[1], "4 ok\n");
	assert_int_equal(conn_read(c), 0);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.kind[0], TARGET_ACKED);
	close(from[1]);
	assert_int_equal(conn_read(c), -ECONNRESET);
	conn_free(c);
	close(to[0]);
}

static int listener(uint16_t *port)
{
	int fd = fake_target_listen(port);

	assert_true(fd >= 0);
	return fd;
}

/* Nobody listens: what was queued was never sent. */
static void test_never_connected(void **state)
{
	struct ended e = { 0 };
	uint16_t port;
	int fd = listener(&port), r;
	struct conn *c;
	struct pollfd p;

	close(fd); /* the port is now closed */
	assert_int_equal(conn_open(&fake_driver, "127.0.0.1", port, on_done, &e, &c), 0);
	submit(c, 1, "a");
	assert_false(conn_connected(c));
	assert_true(conn_want_write(c));
	p = (struct pollfd){ .fd = conn_wfd(c), .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 5000), 1);
	r = conn_flush(c);
	assert_int_equal(r, -ECONNREFUSED);
	assert_false(conn_connected(c));
	conn_free(c);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.kind[0], TARGET_REFUSED);
	assert_int_equal(conn_open(&fake_driver, "not-an-address", port, on_done, &e, &c), -EINVAL);
}

/* A forked target: accepts one connection, reads the request, writes each of the
 * replies, then closes the connection or (hang) keeps it open, silent. */
static pid_t serve(int lfd, const char *const *replies, bool hang)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);
		char buf[256];

		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
			_exit(1);
		for (; *replies; replies++) {
			if (write(fd, *replies, strlen(*replies)) < 0)
				_exit(1);
			usleep(2000);
		}
		if (hang)
			pause();
		_exit(0);
	}
	return pid;
}

struct keys {
	char seen[256];
	int n, stop_at;
};

static int on_kv(void *ud, const char *key, size_t klen, const void *val, size_t vlen)
{
	struct keys *k = ud;

	k->n++;
	snprintf(k->seen + strlen(k->seen), sizeof(k->seen) - strlen(k->seen), "%.*s=%.*s;",
		 (int)klen, key, (int)vlen, (const char *)val);
	return k->n == k->stop_at ? -ECANCELED : 0;
}

/* conn_read_all against a target answering with replies; returns its result. */
static int read_all(const char *const *replies, bool hang, struct keys *k, int timeout_ms)
{
	uint16_t port;
	int lfd = listener(&port), r;
	pid_t pid = serve(lfd, replies, hang);

	r = conn_read_all(&fake_driver, "127.0.0.1", port, timeout_ms, on_kv, k);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(lfd);
	return r;
}

static void test_read_all(void **state)
{
	const char *const whole[] = { "0 kv a 1\n0 kv b", " 2\n", "0 ok\n0 kv late x\n", NULL };
	const char *const refused[] = { "0 kv a 1\n0 fail not now\n", NULL };
	const char *const cut[] = { "0 kv a 1\n", NULL };
	const char *const mute[] = { NULL };
	struct keys k = { 0 };
	uint16_t port;
	int lfd;

	assert_int_equal(read_all(whole, true, &k, 5000), 0);
	assert_string_equal(k.seen, "a=1;b=2;"); /* nothing read after the end */
	k = (struct keys){ 0 };
	assert_int_equal(read_all(refused, true, &k, 5000), -EIO);
	assert_int_equal(k.n, 1);
	k = (struct keys){ 0 };
	assert_int_equal(read_all(cut, false, &k, 5000), -ECONNRESET);
	k = (struct keys){ .stop_at = 1 };
	assert_int_equal(read_all(whole, true, &k, 5000), -ECANCELED);
	k = (struct keys){ 0 };
	assert_int_equal(read_all(mute, true, &k, 100), -ETIMEDOUT);
	lfd = listener(&port);
	close(lfd);
	assert_int_equal(conn_read_all(&fake_driver, "127.0.0.1", port, 1000, on_kv, &k),
			 -ECONNREFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_unknown_tag),
		cmocka_unit_test(test_reply_to_nothing),
		cmocka_unit_test(test_dies_with_pending),
		cmocka_unit_test(test_closed_by_engine),
		cmocka_unit_test(test_partial_and_undecodable),
		cmocka_unit_test(test_kv_out_of_place),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_never_connected),
		cmocka_unit_test(test_read_all),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
