#!/usr/bin/env bash
# Every shipped kvlog drill passes, and every unsafe mode of kvlog makes the drill that is
# meant to catch it fail with exit 1, naming what was lost or corrupted.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"

drill 0 scenarios/demo.yaml --repeat 2
grep -q 'testsuite name="kvlog-demo#1"' "$work/junit.xml" && grep -q 'testsuite name="kvlog-demo#2"' "$work/junit.xml" &&
  ok "--repeat 2: two suites" || bad "--repeat 2 did not give suites kvlog-demo#1 and #2"
expect_out "kvlog-demo: 2 runs, 2 passed; RTO "
expect_out "kill: SIGKILL to the pid-namespace init of n1"
expect_out "RTO "
expect_out "0 of "
expect_out "run directory: $work/runs/kvlog-demo-"
run_dir=$(ls -d "$work"/runs/kvlog-demo-* | head -1)
for f in scenario.yaml schedule.json timeline.jsonl ledger result.json junit.xml nodes/n1/stderr.log; do
  [ -e "$run_dir/$f" ] && ok "run directory has $f" || bad "run directory lacks $f"
done
grep -q '"verdict": "pass"' "$run_dir/result.json" && ok "result.json says pass" || bad "result.json verdict"
grep -q '"event":"fault_injected"' "$run_dir/timeline.jsonl" && ok "timeline has the fault" || bad "timeline lacks the fault"

drill 1 scenarios/demo.yaml --param unsafe=ack-before-write
expect_out "acknowledged writes lost: w"
expect_out "kvlog-demo: FAIL (exit 1)"

drill 0 scenarios/kvlog-torn-tail.yaml
drill 1 scenarios/kvlog-torn-tail.yaml --param unsafe=no-crc
expect_out "integrity violated"
expect_out "corrupt value at key"
drill 1 scenarios/kvlog-torn-tail.yaml --param unsafe=no-truncate
expect_out "integrity violated"
expect_out "kvlog-check on n1: exit 1"

drill 0 scenarios/kvlog-crash-restart.yaml
drill 0 scenarios/kvlog-replica-promote.yaml

# stop/heal: the node is frozen 800 ms; writes time out, then succeed after the thaw. Also
# every kind of wait, a sleep, and an exec whose exit code (3) is the expected one.
drill 0 tests/fixtures/scenarios/freeze.yaml --subnet 10.213.0.0/16 # its exec step prints n1's address
expect_out "froze n1 through"
expect_out "thawed n1 through"
# The RTO ends at the first on-time acknowledgement after the thaw (DESIGN §6), under a real
# 500 ms timeout: never below the freeze (fault to heal in the timeline), and at most the
# error bound the report states above it.
rd=$(ls -td "$work"/runs/freeze-thaw-*/ | head -1)
inj=$(sed -n 's/.*"t_ns":\([0-9]*\),"event":"fault_injected".*/\1/p' "$rd/timeline.jsonl")
heal=$(sed -n 's/.*"t_ns":\([0-9]*\),"event":"fault_healed".*/\1/p' "$rd/timeline.jsonl")
rto_us=$(sed -n 's/.*"rto_us": \([0-9]*\).*/\1/p' "$rd/result.json" | head -1)
bound=$(sed -n 's/.*"rto_error_bound_ms": \([0-9.]*\).*/\1/p' "$rd/result.json" | head -1)
if [ -n "$rto_us" ] && [ -n "$bound" ] && awk -v r="$rto_us" -v t="$(( (heal - inj) / 1000 ))" -v b="$bound" \
     'BEGIN { exit !(t >= 790000 && r >= t && r <= t + b * 1000) }'; then
  ok "RTO $((rto_us / 1000))ms for a freeze of $(( (heal - inj) / 1000000 ))ms, within +${bound}ms"
else bad "RTO '${rto_us}'us for a freeze of $(( (heal - inj) / 1000 ))us: want no less, and at most ${bound}ms more"; sed 's/^/  | /' "$work/out"; fi
grep -q "acknowledged late after waiting out the outage (wait median" "$rd/result.json" &&
  ok "the writes that waited out the freeze are shown" || bad "result.json lacks the writes that waited out the freeze"
grep -q "checked 10.213.0.2:7700" "$work/junit.xml" && ok "exec output in the JUnit file" || bad "exec output missing from junit"
grep -q "pid 1 is [^ ]*/kvlog-server --data" "$work/junit.xml" && grep -q "pid 1 signalled" "$work/junit.xml" &&
  ok "an exec step runs among the node's processes (its pid 1 is kvlog-server, signalled)" ||
  bad "an exec step does not see the node's processes: $(grep -o 'pid 1 [^<]*' "$work/junit.xml")"

# A target that never starts: exit 3, saying what the node printed.
export CHAOSDRILL_TARGETS=$src/tests/fixtures/targets
drill 3 tests/fixtures/scenarios/never-starts.yaml
unset CHAOSDRILL_TARGETS
expect_out "node n1 never became ready"
expect_out "cannot open /nonexistent/config"

check_clean "$work/before" "every drill"
finish
