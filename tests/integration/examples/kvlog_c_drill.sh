#!/usr/bin/env bash
# The demo drill through the C example adapter (scenarios/kvlog-c-demo.yaml, target
# kvlog-c): the verdicts are those of the native driver. Safe: exit 0, nothing lost, and
# the adapter never misbehaved in the engine's eyes (no 'adapter' event in the timeline:
# every reply it gave parsed and answered a request in flight). With
# --param unsafe=ack-before-write: exit 1, naming the lost writes.
#
# The replica-promote drill through it too, where the adapters are moved to another node.
#
#   kvlog_c_drill.sh CHAOSDRILL XMLLINT   (through ctest)
set -u
. "$(dirname "$0")/../drills/lib.sh"
cd "$src"
[ -x "$CHAOSDRILL_BUILD/targets/examples/kvlog-c/kvlog-c-adapter" ] ||
  { echo "SKIP: kvlog-c-adapter not built"; exit 77; }
snapshot >"$work/before"

drill 0 scenarios/kvlog-c-demo.yaml
expect_out "kill: SIGKILL to the pid-namespace init of n1"
expect_out "rpo <= 0               ok   0 of "
expect_out "kvlog-c-demo: PASS (exit 0)"
run_dir=$(ls -d "$work"/runs/kvlog-c-demo-* | head -1)
grep -q '"verdict": "pass"' "$run_dir/result.json" && ok "result.json says pass" || bad "result.json verdict"
acked=$(awk '$5 == "ok"' "$run_dir/ledger" | wc -l)
[ "$acked" -gt 1000 ] && ok "$acked writes acknowledged through the adapter" || bad "only $acked writes acknowledged"
if grep -q '"event":"adapter' "$run_dir/timeline.jsonl"; then
  bad "the engine saw the adapter misbehave:"; grep '"event":"adapter' "$run_dir/timeline.jsonl" | head -5 | sed 's/^/  | /'
else ok "no adapter misbehaviour in the timeline"; fi
for f in "$run_dir"/adapters/c*.stderr; do
  [ -s "$f" ] && { bad "adapter wrote to stderr ($f):"; head -5 "$f" | sed 's/^/  | /'; }
done
sed -n '/rto <=/,/integrity/p' "$work/out" | sed 's/^/  /'

# Failover: the workload step moves every adapter to the promoted replica (connect lines).
drill 0 tests/fixtures/scenarios/kvlog-c-replica-promote.yaml
expect_out "workload now writes to r1"
expect_out "kvlog-c-replica-promote: PASS (exit 0)"
run_dir=$(ls -d "$work"/runs/kvlog-c-replica-promote-* | head -1)
! grep -q '"event":"adapter' "$run_dir/timeline.jsonl" && ok "no adapter misbehaviour across the move" ||
  bad "the engine saw the adapter misbehave: $(grep '"event":"adapter' "$run_dir/timeline.jsonl" | head -3)"
after=$(awk -v t="$(sed -n 's/.*"t_ns":\([0-9]*\),"event":"step_ended".*workload.*/\1/p' \
  "$run_dir/timeline.jsonl" | head -1)" '$5 == "ok" && t != "" && $2 > t' "$run_dir/ledger" | wc -l)
[ "$after" -gt 100 ] && ok "$after writes acknowledged by r1 after the move" ||
  bad "only $after writes acknowledged after the move"

# ack-before-write loses the acknowledged writes still in flight to the disk at the kill;
# nearly every kill lands while some are, so up to three tries.
for i in 1 2 3; do
  "$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" --param unsafe=ack-before-write \
    scenarios/kvlog-c-demo.yaml >"$work/out" 2>&1
  rc=$?
  grep -q "acknowledged writes lost: w" "$work/out" && break
done
[ "$rc" = 1 ] && ok "unsafe=ack-before-write exits 1 (try $i)" ||
  { bad "unsafe=ack-before-write: exit $rc, want 1"; sed 's/^/  | /' "$work/out"; }
"$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null && ok "junit valid" || bad "junit.xml not valid"
expect_out "acknowledged writes lost: w"
expect_out "kvlog-c-demo: FAIL (exit 1)"
grep 'rpo <=' "$work/out" | sed 's/^/  /'

check_clean "$work/before" "the kvlog-c drills"
finish
