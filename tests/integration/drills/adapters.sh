#!/usr/bin/env bash
# Client adapters (docs/adapters.md): the demo drill through the Python adapter of
# targets/examples/kvlog-py gives the native driver's verdicts, safe and unsafe; an adapter
# that crashes, garbles a line or hangs mid-drill is named in the timeline, restarted, and
# the drill still gives its verdict; one that cannot start or never answers ping ends the
# drill with exit 3 and its stderr.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
if ! command -v python3 >/dev/null; then echo "SKIP: python3 is not installed (scripts/install-deps.sh)"; exit 77; fi
snapshot >"$work/before"

drill 0 scenarios/kvlog-py-demo.yaml
expect_out "rpo <= 0               ok   0 of "
expect_out "kvlog-py-demo: PASS (exit 0)"
run_dir=$(ls -td "$work"/runs/kvlog-py-demo-*/ | head -1)
[ -e "$run_dir/adapters/c0.stderr" ] && ok "adapter stderr in the run directory" || bad "no adapters/c0.stderr in $run_dir"
# (a write that times out restarts its adapter, as it reconnects the native driver: on a
# busy machine the first writes may; nothing else may happen to a well-behaved adapter)
if grep '"event":"adapter"' "$run_dir/timeline.jsonl" | grep -v 'no reply to operation'; then bad "a well-behaved adapter misbehaved"
else ok "a well-behaved adapter did nothing wrong"; fi
acked=$(sed -n 's/.*0 of \([0-9]*\) acknowledged writes lost.*/\1/p' "$work/out")
[ "${acked:-0}" -gt 1000 ] && ok "$acked writes acknowledged through the adapter" || bad "only '${acked}' writes acknowledged"

drill 1 scenarios/kvlog-py-demo.yaml --param unsafe=ack-before-write
expect_out "acknowledged writes lost: w"
expect_out "kvlog-py-demo: FAIL (exit 1)"

# A workload step moves the clients: live adapters get 'connect', none is restarted.
drill 0 tests/fixtures/scenarios/adapters/promote.yaml
expect_out "workload now writes to r1"
expect_out "rpo <= 0               ok   0 of "
rd=$(ls -td "$work"/runs/kvlog-py-replica-promote-*/ | head -1)
r1=$(sed -n 's/.*workload now writes to r1 (\([0-9.:]*\)).*/\1/p' "$work/out")
moved=$(grep -l "adapter.py: now talking to ${r1:-?}\$" "$rd"/adapters/c*.stderr | wc -l)
[ "$moved" = 4 ] && ok "the move sent connect to the 4 live adapters" || bad "$moved of 4 adapters were told to connect"
if grep '"event":"adapter"' "$rd/timeline.jsonl" | grep -v 'no reply to operation'; then bad "an adapter misbehaved"
else ok "no adapter misbehaved"; fi
[ -e "$rd/adapters/final-read.stderr" ] && ok "the final read went through an adapter" || bad "no final-read adapter in $rd"

# node: [p1, r1]: the clients of the replica r1 see their writes refused, those of p1 get
# theirs acknowledged; the final read is p1's.
drill 0 tests/fixtures/scenarios/adapters/multi-node.yaml
expect_out "rpo <= 0               ok   0 of "
rd=$(ls -td "$work"/runs/kvlog-py-multi-node-*/ | head -1)
failed=$(sed -n 's/.*"failed": \([0-9]*\).*/\1/p' "$rd/result.json" | head -1)
acked=$(sed -n 's/.*0 of \([0-9]*\) acknowledged writes lost.*/\1/p' "$work/out")
if [ "${failed:-0}" -gt 100 ] && [ "${acked:-0}" -gt 100 ]; then ok "two nodes written: $acked acknowledged (p1), $failed refused (r1)"
else bad "node: [p1, r1]: acknowledged '${acked}', refused '${failed}': want both"; fi

export CHAOSDRILL_TARGETS=$src/tests/fixtures/targets
faulty=tests/fixtures/scenarios/adapters/faulty.yaml
# misbehave MODE TEXT: the drill goes on and passes; the timeline names what the adapter did.
misbehave() {
  drill 0 "$faulty" --param misbehave="$1"
  expect_out "adapter client "
  expect_out "$2"
  expect_out "restarted"
  expect_out "rpo <= 0               ok"
  local rd; rd=$(ls -td "$work"/runs/adapter-faulty-*/ | head -1)
  if grep '"event":"adapter"' "$rd/timeline.jsonl" | grep -qF "$2"; then ok "timeline: $2"
  else bad "timeline.jsonl lacks an adapter event with '$2'"; fi
}
misbehave crash "EOF on its stdout; exited with status 1;"
misbehave garble "'xyz garbage' is not a reply"
misbehave hang "within 500 ms; killed by the harness;"

drill 3 "$faulty" --param misbehave=nostart
expect_out "did not answer ping: EOF on its stdout; exited with status 2; stderr: faulty adapter: told not to start"
drill 3 "$faulty" --param misbehave=noping
expect_out "did not answer ping: no answer to ping in time; killed by the harness; stderr: faulty adapter: reading, never answering"
unset CHAOSDRILL_TARGETS

check_clean "$work/before" "the adapter drills"
finish
