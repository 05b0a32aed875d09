/* Unit test of the workload engine (harness/run/workload.h) with client adapters: shell
 * scripts that speak the line protocol (docs/adapters.md) well, garble a line, never
 * answer ping, or log the connect they are sent. What they do must end in the ledger as
 * the protocol says (a garbled reply: unknown, never ok), in a note for the timeline, and
 * in a restart; an adapter that never answers ping is fatal. Skips (77) where io_uring
 * is not available. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "common/units.h"
#include "harness/run/adapter.h"
#include "harness/run/workload.h"

/* Answers every request ok; logs connect lines on stderr. */
#define GOOD                                                                            \
	"while read id verb rest; do "                                                  \
	"[ \"$verb\" = connect ] && echo \"connect $rest node $CHAOSDRILL_NODE\" >&2; " \
	"echo \"$id ok\"; done"
/* The same, but the 4th line it reads (the 3rd set) is answered with garbage. */
#define GARBLE                                          \
	"n=0; while read id verb rest; do n=$((n+1)); " \
	"if [ $n = 4 ]; then echo xyz; else echo \"$id ok\"; fi; done"
/* Reads and never answers. */
#define MUTE "echo mute >&2; exec 3>&1; exec cat >/dev/null" /* stdout kept open: fd 3 */

struct fixture {
	const char *script;
	char *argv[4];
	char dir[64];
	struct workload_adapters a;
	char notes[4096];
	int n_notes, n_fatal;
};

static char *const *argv_of(void *ud, const char *host, uint16_t port)
{
	struct fixture *f = ud;

	return f->argv;
}

static void note(void *ud, unsigned client, bool fatal, const char *text)
{
	struct fixture *f = ud;
	size_t len = strlen(f->notes);

	snprintf(f->notes + len, sizeof(f->notes) - len, "%s\n", text);
	f->n_notes++;
	f->n_fatal += fatal;
}

static void setup_fixture(struct fixture *f, const char *script)
{
	*f = (struct fixture){ .script = script };
	f->argv[0] = (char *)"sh";
	f->argv[1] = (char *)"-c";
	f->argv[2] = (char *)script;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_wl_adapters.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->a = (struct workload_adapters){ .argv = argv_of,
					   .note = note,
					   .ud = f,
					   .stderr_dir = f->dir,
					   .ping_timeout_ns = 3 * NSEC_PER_SEC };
}

static void cleanup_fixture(struct fixture *f)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

struct run {
	struct loop *l;
	struct ledger *led;
	struct workload *w;
};

static void start(struct run *r, struct fixture *f, unsigned clients)
{
	struct workload_config cfg = { .rate = 200,
				       .clients = clients,
				       .timeout_ns = 2 * NSEC_PER_SEC,
				       .t0_ns = time_mono_ns(),
				       .adapters = &f->a };

	r->led = ledger_new(1, 40);
	assert_int_equal(loop_new(&r->l), 0);
	assert_int_equal(workload_new(r->l, &cfg, r->led, &r->w), 0);
	assert_int_equal(workload_start(r->w, "127.0.0.1", 7), 0);
}

/* Steps the loop until ops operations were issued (0: until none is pending). */
static void step(struct run *r, size_t ops)
{
	int64_t deadline = time_mono_ns() + 10 * NSEC_PER_SEC;

	while ((ops ? r->led->n < ops : workload_pending(r->w) > 0) && time_mono_ns() < deadline)
		assert_true(loop_step(r->l, 10 * NSEC_PER_MSEC) >= 0);
}

static void finish(struct run *r)
{
	workload_stop(r->w);
	step(r, 0);
	assert_int_equal(workload_pending(r->w), 0);
}

static void stop(struct run *r)
{
	workload_free(r->w);
	loop_free(r->l);
	ledger_free(r->led);
}

static void test_good(void **state)
{
	struct fixture f;
	struct run r;

	setup_fixture(&f, GOOD);
	start(&r, &f, 2);
	step(&r, 40);
	assert_true(workload_ready(r.w));
	finish(&r);
	for (size_t i = 0; i < r.led->n; i++)
		assert_int_equal(r.led->ops[i].outcome, LEDGER_OK);
	assert_int_equal(workload_stats(r.w).connects, 2);
	assert_int_equal(f.n_notes, 0);
	stop(&r);
	cleanup_fixture(&f);
}

static void test_garbled_line(void **state)
{
	struct fixture f;
	struct run r;
	size_t unknown = 0, ok_after = 0;

	setup_fixture(&f, GARBLE);
	start(&r, &f, 1);
	step(&r, 20);
	finish(&r);
	/* 1 client: ping, then ops 1 and 2 ok; op 3 was answered 'xyz': unknown, and the
	 * adapter restarted (its next garbling is 3 sets later) */
	assert_int_equal(r.led->ops[0].outcome, LEDGER_OK);
	assert_int_equal(r.led->ops[1].outcome, LEDGER_OK);
	assert_int_equal(r.led->ops[2].outcome, LEDGER_UNKNOWN);
	for (size_t i = 0; i < r.led->n; i++) {
		assert_int_not_equal(r.led->ops[i].outcome, LEDGER_FAILED);
		unknown += r.led->ops[i].outcome == LEDGER_UNKNOWN;
		ok_after += i > 2 && r.led->ops[i].outcome == LEDGER_OK;
	}
	assert_true(unknown >= 1);
	assert_true(ok_after >= 2);
	assert_true(workload_stats(r.w).connects >= 2);
	assert_true(f.n_notes >= 1);
	assert_int_equal(f.n_fatal, 0);
	assert_non_null(strstr(f.notes, "adapter client 0 (pid "));
	assert_non_null(strstr(f.notes, "'xyz' is not a reply"));
	assert_non_null(strstr(f.notes, "restarted"));
	stop(&r);
	cleanup_fixture(&f);
}

static void test_no_ping(void **state)
{
	int64_t deadline = time_mono_ns() + 5 * NSEC_PER_SEC;
	struct fixture f;
	struct run r;

	setup_fixture(&f, MUTE);
	f.a.ping_timeout_ns = NSEC_PER_SEC; /* time enough for sh to say "mute" on a busy machine */
	start(&r, &f, 1);
	while (!f.n_fatal && time_mono_ns() < deadline)
		assert_true(loop_step(r.l, 10 * NSEC_PER_MSEC) >= 0);
	assert_int_equal(f.n_fatal, 1);
	assert_false(workload_ready(r.w));
	if (!strstr(f.notes, "killed by the harness; stderr: mute"))
		print_message("notes: %s\n", f.notes);
	assert_non_null(strstr(f.notes, "did not answer ping: no answer to ping in time; "
					"killed by the harness; stderr: mute"));
	workload_abandon(r.w);
	for (size_t i = 0; i < r.led->n; i++)
		assert_int_equal(r.led->ops[i].outcome, LEDGER_UNKNOWN);
	stop(&r);
	cleanup_fixture(&f);
}

static void test_retarget_connects(void **state)
{
	struct fixture f;
	struct run r;
	char path[128], tail[512];

	setup_fixture(&f, GOOD);
	start(&r, &f, 1);
	step(&r, 10);
	assert_int_equal(workload_retarget(r.w, "127.0.0.9", 8), 0);
	step(&r, 20);
	finish(&r);
	for (size_t i = 0; i < r.led->n; i++)
		assert_int_equal(r.led->ops[i].outcome, LEDGER_OK);
	assert_int_equal(workload_stats(r.w).connects, 1); /* told, not restarted */
	assert_int_equal(f.n_notes, 0);
	snprintf(path, sizeof(path), "%s/c0.stderr", f.dir);
	assert_string_equal(adapter_stderr_tail(path, tail, sizeof(tail)),
			    "connect 127.0.0.9:8 node 127.0.0.1:7");
	stop(&r);
	cleanup_fixture(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_garbled_line),
		cmocka_unit_test(test_no_ping),
		cmocka_unit_test(test_retarget_connects),
	};
	struct loop *probe;
	int r = loop_new(&probe);

	if (r < 0) {
		fprintf(stderr, "skip: io_uring is not available here (%s)\n", strerror(-r));
		return 77;
	}
	loop_free(probe);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
