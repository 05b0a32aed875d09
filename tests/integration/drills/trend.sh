#!/usr/bin/env bash
# `run --history` and `chaosdrill trend` on real drills: a history path that cannot be one
# stops the run before any drill (exit 2); three runs of scenarios/demo.yaml go into the
# history (too few to judge); a run whose append fails exits 3 and leaves the history as it
# was; a run of a copy with a 1 s sleep before the restart (same drill name: an RTO
# regression made on purpose) is flagged (exit 1), and not with a floor above it (exit 0);
# the HTML page is well-formed and marks it; bad input exits 2.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"
h=$work/history.db

expect_rc() { # expect_rc WANT WHAT CMD...: CMD's output in $work/out, its exit code WANT
	local want=$1 what=$2; shift 2
	"$@" >"$work/out" 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$what: exit $rc"
	else bad "$what: exit $rc, want $want"; sed 's/^/  | /' "$work/out"; fi
}

# a history path that cannot be one: bad input, and no drill ran
expect_rc 2 "run --history in a missing directory" \
	"$cd_bin" run --out "$work/runs" --history "$work/no/such/dir/h.db" scenarios/demo.yaml
expect_out "No such file or directory"
if [ -e "$work/runs" ]; then bad "a drill ran despite the bad history path"; else ok "no drill ran"; fi
echo "not a database, but long enough to have a header: ................................" >"$work/text.db"
expect_rc 2 "run --history on a text file" \
	"$cd_bin" run --out "$work/runs" --history "$work/text.db" scenarios/demo.yaml
expect_out "not a chaosdrill history"

# three real runs
expect_rc 0 "three runs with --history" \
	"$cd_bin" run -q --out "$work/runs" --history "$h" --repeat 3 scenarios/demo.yaml
expect_rc 0 "trend over three runs" "$cd_bin" trend "$h"
expect_out "kvlog-demo: 3 runs"
expect_out "too few runs to judge (needs 3)"
expect_out "restart n1"
if [ "$(grep -cE '^  20[0-9-]+ [0-9:]+  [0-9]+ +pass +[0-9.]+m?s ' "$work/out")" -eq 3 ]; then
	ok "a table row per run with date, seed, verdict and RTO"
else bad "not three table rows"; sed 's/^/  | /' "$work/out"; fi
if command -v sqlite3 >/dev/null; then
	n=$(sqlite3 "$h" "SELECT count(*) FROM runs; SELECT count(*) FROM run_faults WHERE fault = 1;
		SELECT count(*) FROM run_cases WHERE case_id = 'step.2.wait' AND duration_ns > 0;" | paste -sd' ')
	if [ "$n" = "3 3 3" ]; then ok "3 runs, each with its fault's RTO and its steps' durations"
	else bad "history rows: $n, want '3 3 3'"; fi
fi

# a run that cannot be appended (test-only failpoint: as if the disk were full): the drill's
# own verdict stands, the command exits 3, and the history is as it was
expect_rc 3 "a run whose append fails" env CHAOSDRILL_FAILPOINT=history.append \
	"$cd_bin" run -q --out "$work/runs" --history "$h" scenarios/demo.yaml
expect_out "cannot append the run: No space left on device"
expect_out "kvlog-demo: PASS (exit 0)"
"$cd_bin" trend "$h" >"$work/out" 2>&1
expect_out "kvlog-demo: 3 runs"

# the regression: a copy of the drill that sleeps 1 s before the restart
# (its RTO target raised so that a loaded machine cannot make this run fail)
sed 's/^  - restart: n1$/  - sleep: 1s\n  - restart: n1/; s/^  rto: 2s$/  rto: 20s/' scenarios/demo.yaml >"$work/demo-slow.yaml"
grep -q 'sleep: 1s' "$work/demo-slow.yaml" && grep -q 'rto: 20s' "$work/demo-slow.yaml" ||
	bad "the slow copy has no sleep step or no raised target"
expect_rc 0 "a slow run with --history" \
	"$cd_bin" run -q --out "$work/runs" --history "$h" "$work/demo-slow.yaml"
expect_rc 1 "trend flags the slow run" "$cd_bin" trend "$h" --html "$work/trend.html"
expect_out "kvlog-demo: 4 runs"
expect_out "REGRESSION   RTO: "
expect_out "kvlog-demo: REGRESSION (1 flagged)"
# well-formed as XML (every tag closed), which HTML parsers read as they should
if "$xmllint" --noout "$work/trend.html" 2>"$work/lint"; then ok "trend.html is well-formed"
else bad "trend.html:"; sed 's/^/  | /' "$work/lint"; fi
if grep -q '<svg' "$work/trend.html" && grep -q '>regression</text>' "$work/trend.html" &&
	! grep -qE '<script|href=|src=' "$work/trend.html"; then
	ok "trend.html: a plot with the regression marked, nothing fetched"
else bad "trend.html lacks the plot or the mark, or fetches something"; fi
# the same figures under a floor above the regression: not flagged
expect_rc 0 "trend with --min-delta 30s" "$cd_bin" trend "$h" --drill kvlog-demo --min-delta 30s
expect_out "kvlog-demo: no regression"

# bad input
expect_rc 2 "trend of a missing file" "$cd_bin" trend "$work/missing.db"
expect_rc 2 "trend --drill of a drill not in it" "$cd_bin" trend "$h" --drill nope
expect_out "no run of drill 'nope'"
expect_rc 2 "trend --last 2" "$cd_bin" trend "$h" --last 2
expect_rc 2 "trend --margin x" "$cd_bin" trend "$h" --margin x
expect_rc 2 "trend --min-delta 5" "$cd_bin" trend "$h" --min-delta 5
expect_rc 0 "trend --help" "$cd_bin" trend --help
expect_out "Exit codes: 0 nothing flagged; 1 a regression flagged"

check_clean "$work/before" "the drills with --history"
finish
