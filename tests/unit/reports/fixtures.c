/* The drills behind the golden files (see fixtures.h). Figures are made up but consistent:
 * the fault at 2.000s, RTO measured from it. */
#include <stddef.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "tests/unit/reports/fixtures.h"

#define MS(x) ((int64_t)(x)*NSEC_PER_MSEC)
#define T0 (1795329888LL * NSEC_PER_SEC + MS(123)) /* 2026-11-22T06:44:48.123Z */

/* ---- pass ---- */

static const struct report_property pass_kill_props[] = { { "node", "n1", REPORT_TEXT },
							  { "signal", "SIGKILL", REPORT_TEXT } };
static const struct report_property pass_rto_props[] = {
	{ "rto_ms", "1250", REPORT_NUMBER },	  { "target_ms", "2000", REPORT_NUMBER },
	{ "detection_ms", "12", REPORT_NUMBER },  { "first_success_ms", "1180", REPORT_NUMBER },
	{ "consecutive_ok", "3", REPORT_NUMBER },
};
static const struct report_property pass_rpo_props[] = { { "rpo_lost_writes", "0", REPORT_NUMBER },
							 { "rpo_window_ms", "0", REPORT_NUMBER },
							 { "unknown_writes", "1", REPORT_NUMBER } };
static const struct report_property pass_int_props[] = {
	{ "values_checked", "18342", REPORT_NUMBER }, { "kvlog_check", "ok", REPORT_TEXT }
};
static const struct report_property pass_props[] = {
	{ "rto_ms", "1250", REPORT_NUMBER },
	{ "rpo_lost_writes", "0", REPORT_NUMBER },
	{ "ops_total", "24117", REPORT_NUMBER },
	{ "ops_failed", "31", REPORT_NUMBER },
	{ "rto_error_bound_ms", "1.6", REPORT_NUMBER },
	{ "recovered", "true", REPORT_FLAG },
	{ "integrity", "true", REPORT_FLAG },
	{ "latency_p50_ms_during", NULL, REPORT_NUMBER },
};
static const struct report_case pass_cases[] = {
	{ .kind = REPORT_CASE_FAULT,
	  .id = "fault.1.kill",
	  .name = "kill -9 n1 at 2.000s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(3),
	  .status = REPORT_PASS,
	  .props = pass_kill_props,
	  .n_props = ARRAY_SIZE(pass_kill_props) },
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.1.restart",
	  .name = "restart n1",
	  .start_ns = MS(2003),
	  .duration_ns = MS(850),
	  .status = REPORT_PASS,
	  .output = "kvlog: replaying log (4096 records)\nkvlog: listening on 127.0.0.1:7001\n" },
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.2.wait",
	  .name = "wait until n1 is ready",
	  .start_ns = MS(2853),
	  .duration_ns = MS(397),
	  .status = REPORT_PASS },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rto",
	  .name = "rto <= 2s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(1250),
	  .status = REPORT_PASS,
	  .props = pass_rto_props,
	  .n_props = ARRAY_SIZE(pass_rto_props) },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rpo",
	  .name = "rpo = 0",
	  .start_ns = MS(10000),
	  .duration_ns = MS(41),
	  .status = REPORT_PASS,
	  .props = pass_rpo_props,
	  .n_props = ARRAY_SIZE(pass_rpo_props) },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.integrity",
	  .name = "integrity",
	  .start_ns = MS(10041),
	  .duration_ns = MS(2304),
	  .status = REPORT_PASS,
	  .props = pass_int_props,
	  .n_props = ARRAY_SIZE(pass_int_props) },
};
const struct report_suite fixture_pass = {
	.name = "kvlog-kill-restart",
	.description = "kill -9 the only kvlog node, restart it",
	.target = "kvlog",
	.runbook = "runbooks/kvlog-restart.md",
	.seed = 42,
	.started_real_ns = T0,
	.duration_ns = MS(12345),
	.hostname = "ci-runner-7",
	.run_dir = "runs/kvlog-kill-restart-20261122T064448Z",
	.exit_code = 0,
	.props = pass_props,
	.n_props = ARRAY_SIZE(pass_props),
	.cases = pass_cases,
	.n_cases = ARRAY_SIZE(pass_cases),
};

/* ---- rto_miss ---- */

static const struct report_property miss_rto_props[] = {
	{ "rto_ms", "2400", REPORT_NUMBER },	  { "target_ms", "2000", REPORT_NUMBER },
	{ "detection_ms", "12", REPORT_NUMBER },  { "first_success_ms", "2100", REPORT_NUMBER },
	{ "consecutive_ok", "3", REPORT_NUMBER },
};
static const struct report_property miss_props[] = { { "rto_ms", "2400", REPORT_NUMBER },
						     { "rpo_lost_writes", "0", REPORT_NUMBER } };
static const struct report_case rto_miss_cases[] = {
	{ .kind = REPORT_CASE_FAULT,
	  .id = "fault.1.kill",
	  .name = "kill -9 n1 at 2.000s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(2),
	  .status = REPORT_PASS,
	  .props = pass_kill_props,
	  .n_props = ARRAY_SIZE(pass_kill_props) },
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.1.restart",
	  .name = "restart n1",
	  .start_ns = MS(2002),
	  .duration_ns = MS(1950),
	  .status = REPORT_PASS,
	  .output = "kvlog: replaying log (262144 records)\nkvlog: listening on 127.0.0.1:7001\n" },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rto",
	  .name = "rto <= 2s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(2400),
	  .status = REPORT_FAIL,
	  .message = "RTO 2.400s > target 2s",
	  .details = "RTO 2.400s exceeds the 2s target by 0.400s.\n"
		     "first failed operation at 2.012s (detection 12ms); first success at 4.100s;\n"
		     "3 consecutive successes from 4.400s; restart n1 took 1.950s.",
	  .props = miss_rto_props,
	  .n_props = ARRAY_SIZE(miss_rto_props) },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rpo",
	  .name = "rpo = 0",
	  .start_ns = MS(10000),
	  .duration_ns = MS(39),
	  .status = REPORT_PASS,
	  .props = pass_rpo_props,
	  .n_props = ARRAY_SIZE(pass_rpo_props) },
};
const struct report_suite fixture_rto_miss = {
	.name = "kvlog-slow-replay",
	.description = "restart with a long log to replay",
	.target = "kvlog",
	.seed = 7,
	.started_real_ns = T0,
	.duration_ns = MS(11002),
	.hostname = "ci-runner-7",
	.run_dir = "runs/kvlog-slow-replay-20261122T064448Z",
	.exit_code = 1,
	.props = miss_props,
	.n_props = ARRAY_SIZE(miss_props),
	.cases = rto_miss_cases,
	.n_cases = ARRAY_SIZE(rto_miss_cases),
};

/* ---- rpo_miss ---- */

static const struct report_property cut_props[] = { { "node", "n1", REPORT_TEXT },
						    { "keep_bytes", "0", REPORT_NUMBER } };
static const struct report_property lost_props[] = { { "rpo_lost_writes", "3", REPORT_NUMBER },
						     { "rpo_window_ms", "88", REPORT_NUMBER },
						     { "unknown_writes", "2", REPORT_NUMBER } };
static const struct report_property rpo_props[] = { { "rto_ms", "640", REPORT_NUMBER },
						    { "rpo_lost_writes", "3", REPORT_NUMBER },
						    { "rpo_window_ms", "88", REPORT_NUMBER } };
static const struct report_case rpo_miss_cases[] = {
	{ .kind = REPORT_CASE_FAULT,
	  .id = "fault.1.power-cut",
	  .name = "power cut n1 at 2.000s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(5),
	  .status = REPORT_PASS,
	  .props = cut_props,
	  .n_props = ARRAY_SIZE(cut_props) },
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.1.restart",
	  .name = "restart n1",
	  .start_ns = MS(2005),
	  .duration_ns = MS(600),
	  .status = REPORT_PASS },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rto",
	  .name = "rto <= 2s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(640),
	  .status = REPORT_PASS },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rpo",
	  .name = "rpo = 0",
	  .start_ns = MS(9000),
	  .duration_ns = MS(44),
	  .status = REPORT_FAIL,
	  .message = "3 acknowledged writes lost (window 88ms)",
	  .details = "acknowledged writes missing from the final read:\n"
		     "  w-000417 acknowledged at 1.912s\n"
		     "  w-000418 acknowledged at 1.950s\n"
		     "  w-000419 acknowledged at 1.990s\n"
		     "window: fault at 2.000s - oldest lost acknowledgement at 1.912s = 88ms\n"
		     "2 writes with unknown outcome (timed out) are not counted",
	  .props = lost_props,
	  .n_props = ARRAY_SIZE(lost_props) },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.integrity",
	  .name = "integrity",
	  .start_ns = MS(9044),
	  .duration_ns = MS(800),
	  .status = REPORT_PASS },
};
const struct report_suite fixture_rpo_miss = {
	.name = "kvlog-fsync-never-power-cut",
	.description = "kvlog with fsync=never loses acknowledged writes on a power cut",
	.target = "kvlog",
	.runbook = "runbooks/kvlog-restart.md",
	.seed = 1234567,
	.started_real_ns = T0,
	.duration_ns = MS(9844),
	.hostname = "ci-runner-7",
	.run_dir = "runs/kvlog-fsync-never-power-cut-20261122T064448Z",
	.exit_code = 1,
	.props = rpo_props,
	.n_props = ARRAY_SIZE(rpo_props),
	.cases = rpo_miss_cases,
	.n_cases = ARRAY_SIZE(rpo_miss_cases),
};

/* ---- aborted ---- */

static const struct report_case aborted_cases[] = {
	{ .kind = REPORT_CASE_FAULT,
	  .id = "fault.1.kill",
	  .name = "kill -9 n1 at 2.000s",
	  .start_ns = MS(2000),
	  .duration_ns = MS(3),
	  .status = REPORT_PASS },
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.1.restart",
	  .name = "restart n1",
	  .start_ns = MS(2003),
	  .duration_ns = MS(120),
	  .status = REPORT_ERROR,
	  .message = "restart n1: kvlog exited with status 1",
	  .details = "the step's command exited with status 1 after 0.120s",
	  .output = "kvlog: open data/log: Permission denied\n" },
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.2.wait",
	  .name = "wait until n1 is ready",
	  .start_ns = -1,
	  .duration_ns = 0,
	  .status = REPORT_SKIP,
	  .message = "not reached: drill aborted" },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = "expect.rto",
	  .name = "rto <= 2s",
	  .start_ns = -1,
	  .status = REPORT_SKIP,
	  .message = "not reached: drill aborted" },
};
const struct report_suite fixture_aborted = {
	.name = "kvlog-kill-restart",
	.target = "kvlog",
	.seed = 42,
	.started_real_ns = T0,
	.duration_ns = MS(2500),
	.hostname = "ci-runner-7",
	.run_dir = "runs/kvlog-kill-restart-20261122T064448Z",
	.error = "aborted: recovery step step.1.restart could not be carried out",
	.exit_code = 3,
	.cases = aborted_cases,
	.n_cases = ARRAY_SIZE(aborted_cases),
};

/* ---- nasty ---- */

#define NASTY "\x1b[31mred\x1b[0m ]]> <&\"'> bad\xff\xfe\xc3( ctl\x01\x7f tab\tnl\ncr\r."
static const struct report_property nasty_props[] = {
	{ "a<&>\"'b", "\x1b[1m]]>\x1b[m", REPORT_TEXT },
	{ "no-value", NULL, REPORT_TEXT },
	{ NULL, "no-name", REPORT_TEXT },
	{ "c1",
	  "\xc2\x9b"
	  "2J U+FFFE\xef\xbf\xbe ok:\xe2\x9c\x93",
	  REPORT_TEXT },
	/* typed values that are not what their type says stay strings: valid JSON */
	{ "not_a_number_ms", "1,5", REPORT_NUMBER },
	{ "leading_zero", "012", REPORT_NUMBER },
	{ "not_a_flag", "yes", REPORT_FLAG },
	{ "flag_false", "false", REPORT_FLAG },
	{ "not_measured_ms", NULL, REPORT_NUMBER },
};
static const struct report_case nasty_cases[] = {
	{ .kind = REPORT_CASE_STEP,
	  .id = "step.1.<&>",
	  .name = NASTY,
	  .start_ns = MS(1),
	  .duration_ns = MS(2),
	  .status = REPORT_FAIL,
	  .message = NASTY,
	  .details = NASTY,
	  .output = "\x1b]0;title\x07progress 10%\r\x1b[2Kprogress 100%\n]]>]]]>\x1b"
		    "7done\x1b",
	  .props = nasty_props,
	  .n_props = ARRAY_SIZE(nasty_props) },
	{ .kind = REPORT_CASE_EXPECT,
	  .id = NULL,
	  .name = NULL,
	  .start_ns = MS(3),
	  .duration_ns = MS(1),
	  .status = REPORT_ERROR,
	  .message = NULL,
	  .details = NULL },
};
const struct report_suite fixture_nasty = {
	.name = "nasty-\x1b[31mred\x1b[0m-<&\"'>",
	.description = NASTY,
	.target = NASTY,
	.runbook = "]]>",
	.seed = UINT64_MAX,
	.started_real_ns = T0,
	.duration_ns = MS(3),
	.hostname = "host\x1b[0m\xff",
	.run_dir = "runs/\t\n",
	.error = NASTY,
	.exit_code = 3,
	.props = nasty_props,
	.n_props = ARRAY_SIZE(nasty_props),
	.cases = nasty_cases,
	.n_cases = ARRAY_SIZE(nasty_cases),
};

/* ---- empty ---- */

const struct report_suite fixture_empty = { .name = NULL };

/* ---- repeat ---- */

const struct report_suite fixture_repeat[2] = {
	{ .name = "kvlog-kill-restart#1",
	  .target = "kvlog",
	  .seed = 42,
	  .started_real_ns = T0,
	  .duration_ns = MS(12345),
	  .hostname = "ci-runner-7",
	  .run_dir = "runs/kvlog-kill-restart-20261122T064448Z-1",
	  .exit_code = 0,
	  .props = pass_props,
	  .n_props = ARRAY_SIZE(pass_props),
	  .cases = pass_cases,
	  .n_cases = ARRAY_SIZE(pass_cases) },
	{ .name = "kvlog-kill-restart#2",
	  .target = "kvlog",
	  .seed = 43,
	  .started_real_ns = T0 + MS(13000),
	  .duration_ns = MS(11002),
	  .hostname = "ci-runner-7",
	  .run_dir = "runs/kvlog-kill-restart-20261122T064501Z-2",
	  .exit_code = 1,
	  .props = miss_props,
	  .n_props = ARRAY_SIZE(miss_props),
	  .cases = rto_miss_cases,
	  .n_cases = ARRAY_SIZE(rto_miss_cases) },
};
