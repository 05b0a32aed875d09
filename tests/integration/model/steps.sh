#!/usr/bin/env bash
# The node recovery steps in a real drill on a node that only sleeps
# (tests/fixtures/targets/sleeper, no workload): signal, kill, one incarnation with other
# params then a plain restart back to the drill's, a shutdown that escalates to SIGKILL;
# each step's line, the timeline's node events and the JUnit testcases.
set -u
. "$(dirname "$0")/../drills/lib.sh"
cd "$src"
export CHAOSDRILL_TARGETS=$src/tests/fixtures/targets
snapshot >"$work/before"

tl_has() { # tl_has TEXT: the last drill's timeline holds TEXT
  local tl
  tl=$(ls -td "$work"/runs/*/ | head -1)timeline.jsonl
  if grep -qF -- "$1" "$tl"; then ok "timeline: $1"; else bad "timeline lacks '$1'"; sed 's/^/  | /' "$tl"; fi
}

drill 0 tests/fixtures/scenarios/model/sleeper-steps.yaml
expect_out "step 1 signal ok"
expect_out "SIGUSR1 to pid"
expect_out "step 2 kill ok"
expect_out "killed by signal 9 (KILL), down after"
expect_out "step 3 restart ok"
expect_out "incarnation 2, pid"
expect_out ", params secs=0.2"
expect_out "step 5 restart ok"
expect_out "incarnation 3, pid"
expect_out "step 7 shutdown ok"
expect_out "did not stop within 300ms of SIGTERM: SIGKILL, killed by signal 9 (KILL)"
expect_out "step 8 exec ok"
run=$(ls -td "$work"/runs/*/ | head -1)
[ "$(grep -c '^env GREETING=hello n1$' "$run/nodes/n1/stderr.log")" = 4 ] &&
  ok "env: reached each of the 4 incarnations" || bad "env: not in every incarnation: $(cat "$run/nodes/n1/stderr.log")"
# the params incarnation ended by itself (sleep 0.2 exits 0); the plain one did not
tl_has '"event":"node_exited","node":"n1","status":0,"detail":"exited with 0"'
tl_has '"detail":"still running 300ms after SIGTERM: SIGKILL"'
expect_out "check-online on n1     ok   sh passed on n1"
expect_out "check on n1            ok   sh passed on n1"
grep -q '<testcase name="check-online on n1"' "$work/junit.xml" && ok "junit: check-online testcase" || bad "junit lacks check-online"
grep -q '<testcase name="shutdown n1"' "$work/junit.xml" && ok "junit: shutdown testcase" || bad "junit lacks the shutdown testcase"
grep -q '<testcase name="signal USR1 n1"' "$work/junit.xml" && ok "junit: signal testcase" || bad "junit lacks the signal testcase"

# check-online and check are verdicts: a checker that fails fails the drill, with its output.
drill 1 tests/fixtures/scenarios/model/sleeper-steps.yaml --param online-exit=3
expect_out "check-online on n1     FAIL sh on n1: exit 3"
expect_out "check on n1            ok"
grep -q "online check of n1" "$work/junit.xml" && ok "junit: check-online's output" || bad "junit lacks check-online's output"
drill 1 tests/fixtures/scenarios/model/sleeper-steps.yaml --param check-exit=2
expect_out "check-online on n1     ok"
expect_out "check on n1            FAIL sh on n1: exit 2"
tl_has '"event":"check","node":"n1","status":0,"detail":"check-online exited"'

# A node that is down: kill, signal and shutdown fail their step and say why.
cat >"$work/down.yaml" <<'YAML'
drill: sleeper-down
target: sleeper
workload: none
recovery:
  - kill: n1
  - signal: {node: n1, signal: HUP}
YAML
drill 1 "$work/down.yaml"
expect_out "step 2 signal FAILED"
expect_out "node n1 is not running"
expect_out "check-online on n1     FAIL sh on n1: the node was not running"

# Actions at their own times beside the faults and the recovery: in the timeline, the
# output and JUnit (classname .action), in their time order; the drill waits for the last.
drill 0 tests/fixtures/scenarios/model/sleeper-actions.yaml
expect_out "action 3 signal ok"
expect_out "action 1 exec ok"
expect_out "action 2 exec ok"
grep -q '<testcase name="mark the data while the recovery sleeps" classname="sleeper-actions.action"' "$work/junit.xml" &&
  ok "junit: the action's testcase" || bad "junit lacks the action's testcase"
run=$(ls -td "$work"/runs/*/ | head -1)
grep -q '<td>action</td><td>mark the data' "$run/report.html" && ok "html: the action" || bad "report.html lacks the action"
# their times: each started at its at: after steady state (within 50ms), not before
awk -F'[:,]' '/"event":"steady"/ {s=$2} /"event":"step_started","index":[234],/ {print $6, ($2 - s) / 1e6}' "$run/timeline.jsonl" >"$work/at"
while read -r idx ms; do
  case $idx in 2) want=300 ;; 3) want=1500 ;; 4) want=200 ;; esac
  if awk -v m="$ms" -v w="$want" 'BEGIN { exit !(m >= w && m < w + 50) }'; then ok "action index $idx at ${ms}ms (at: ${want}ms)"
  else bad "action index $idx started at ${ms}ms, want ${want}ms"; fi
done <"$work/at"
[ "$(wc -l <"$work/at")" = 3 ] && ok "3 actions started" || bad "actions started: $(cat "$work/at")"
# an action that fails fails the drill, and the drill goes on
sed 's/exit 4.\], exit: 4}/echo; echo the marker said hello n1; echo; exit 5'"'"'], exit: 4}/' tests/fixtures/scenarios/model/sleeper-actions.yaml >"$work/act-fail.yaml"
drill 1 "$work/act-fail.yaml"
expect_out "action 2 exec FAILED"
# (with the last line the command printed: what a failing check says last)
expect_out "exit 5, expected 4: the marker said hello n1"

# RTO without a workload: from the fault to ready, about the recovery's 1s sleep.
drill 0 tests/fixtures/scenarios/model/sleeper-rto.yaml
expect_out "(no workload: from the fault to ready)"
ms=$(rto_ms)
[ -n "$ms" ] && [ "$ms" -ge 1000 ] && [ "$ms" -lt 1500 ] && ok "RTO ${ms}ms: the 1s outage" || bad "RTO '$ms' ms, want 1000..1500"
sed 's/rto: 3s/rto: 500ms/' tests/fixtures/scenarios/model/sleeper-rto.yaml >"$work/rto-miss.yaml"
drill 1 "$work/rto-miss.yaml"
expect_out "> target 500ms (no workload: from the fault to ready)"

# {nodes} and {timeout_ms}: in start (through env:), in exec steps in the lab and on a node.
drill 0 tests/fixtures/scenarios/model/sleeper-placeholders.yaml --subnet 10.213.0.0/16 # it checks the addresses
expect_out "step 1 exec ok"
expect_out "step 2 exec ok"
run=$(ls -td "$work"/runs/*/ | head -1)
grep -qx "cluster a=10.213.0.2:7700,b=10.213.0.3:7700 timeout 500" "$run/nodes/a/stderr.log" &&
  ok "{nodes} and {timeout_ms} in start" || bad "start's placeholders: $(cat "$run/nodes/a/stderr.log")"

check_clean "$work/before" "the node step drills"
finish
