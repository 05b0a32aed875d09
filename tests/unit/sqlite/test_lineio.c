/* Unit tests of the SQLite target's line I/O (targets/sqlite/lineio.c): lines come out
 * whole however the bytes arrive, a line over the limit stops the stream, output survives
 * a full pipe, and ADDR:PORT and "ID VERB REST" split as the protocol says. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "targets/sqlite/lineio.h"

static void pipe_nb(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

static void put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_lines_in_pieces(void **state)
{
	struct lineio_in in = { 0 };
	int p[2];

	pipe_nb(p);
	assert_int_equal(lineio_in_fill(&in, p[0]), -EAGAIN);
	put(p[1], "1 pi");
	assert_int_equal(lineio_in_fill(&in, p[0]), 4);
	assert_null(lineio_in_next(&in));
	put(p[1], "ng\r\n2 set k v\n3 re");
	assert_true(lineio_in_fill(&in, p[0]) > 0);
	assert_string_equal(lineio_in_next(&in), "1 ping");
	assert_string_equal(lineio_in_next(&in), "2 set k v");
	assert_null(lineio_in_next(&in));
	put(p[1], "ad_all\n");
	assert_true(lineio_in_fill(&in, p[0]) > 0);
	assert_string_equal(lineio_in_next(&in), "3 read_all");
	put(p[1], "4 tail");
	close(p[1]);
	assert_true(lineio_in_fill(&in, p[0]) > 0);
	assert_null(lineio_in_next(&in));
	assert_int_equal(lineio_in_fill(&in, p[0]), 0);
	assert_string_equal(lineio_in_rest(&in), "4 tail");
	assert_null(lineio_in_rest(&in));
	close(p[0]);
	lineio_in_free(&in);
}

static void test_line_too_long(void **state)
{
	struct lineio_in in = { 0 };
	char *chunk = malloc(64 * 1024 + 1);
	int p[2], r = 0;

	pipe_nb(p);
	memset(chunk, 'x', 64 * 1024);
	chunk[64 * 1024] = '\0';
	/* More than LINEIO_MAX_LINE without a newline: the stream is given up. */
	for (int i = 0; i < LINEIO_MAX_LINE / (64 * 1024) + 2 && r != -E2BIG; i++) {
		put(p[1], chunk);
		r = lineio_in_fill(&in, p[0]);
	}
	assert_int_equal(r, -E2BIG);
	assert_null(lineio_in_next(&in));
	assert_int_equal(lineio_in_fill(&in, p[0]), -E2BIG);
	close(p[0]);
	close(p[1]);
	free(chunk);
	lineio_in_free(&in);
}

static void test_out_full_pipe(void **state)
{
	struct lineio_out out = { 0 };
	struct lineio_in in = { 0 };
	size_t lines = 0;
	int p[2], r;

	pipe_nb(p);
	/* More than a pipe holds: the rest waits for the reader. */
	for (int i = 0; i < 20000; i++)
		assert_int_equal(lineio_out_printf(&out, "%d ok\n", i), 0);
	assert_int_equal(lineio_out_flush(&out, p[1]), -EAGAIN);
	assert_true(lineio_out_pending(&out) > 0);
	do {
		r = lineio_out_flush(&out, p[1]);
		while (lineio_in_fill(&in, p[0]) > 0)
			while (lineio_in_next(&in))
				lines++;
	} while (r == -EAGAIN);
	assert_int_equal(r, 0);
	while (lineio_in_fill(&in, p[0]) > 0)
		while (lineio_in_next(&in))
			lines++;
	assert_int_equal(lines, 20000);
	assert_int_equal(lineio_out_pending(&out), 0);
	close(p[0]);
	assert_int_equal(lineio_out_append(&out, "x\n", 2), 0);
	assert_int_equal(lineio_out_flush(&out, p[1]), -EPIPE);
	close(p[1]);
	lineio_out_free(&out);
	lineio_in_free(&in);
}

static void test_hostport(void **state)
{
	struct sockaddr_in sa;

	assert_int_equal(lineio_parse_hostport("10.213.0.2:7800", &sa), 0);
	assert_int_equal(ntohs(sa.sin_port), 7800);
	assert_int_equal(ntohl(sa.sin_addr.s_addr), 0x0ad50002);
	assert_int_equal(lineio_parse_hostport("10.213.0.2", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport(":7800", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport("10.213.0.2:", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport("10.213.0.2:0", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport("10.213.0.2:65536", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport("10.213.0.2:78x", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport("localhost:7800", &sa), -EINVAL);
	assert_int_equal(lineio_parse_hostport(NULL, &sa), -EINVAL);
}

static void test_split(void **state)
{
	char a[] = "7 set w1 1:abc:xyz", b[] = "8 read_all", c[] = "9", d[] = " ping", e[] = "9 ";
	char *id, *verb, *rest;

	assert_int_equal(lineio_split(a, &id, &verb, &rest), 0);
	assert_string_equal(id, "7");
	assert_string_equal(verb, "set");
	assert_string_equal(rest, "w1 1:abc:xyz");
	assert_int_equal(lineio_split(b, &id, &verb, &rest), 0);
	assert_string_equal(verb, "read_all");
	assert_string_equal(rest, "");
	assert_int_equal(lineio_split(c, &id, &verb, &rest), -EINVAL);
	assert_int_equal(lineio_split(d, &id, &verb, &rest), -EINVAL);
	assert_int_equal(lineio_split(e, &id, &verb, &rest), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_in_pieces), cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_out_full_pipe),	cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_split),
	};

	/* As in sqlite-node and line-relay: a closed reader is -EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
