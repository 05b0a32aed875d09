#!/usr/bin/env bash
# The Raft ledger runbook drilled on a real etcd cluster (scenarios/etcd-*.yaml, issue 16):
# each drill passes as shipped; the power cut fails RPO with --unsafe-no-fsync and names
# the lost writes; the runbook's quorum recovery from a stale survivor fails, counting and
# naming what it lost and saying it chose the wrong survivor, while the corrected step
# passes; the restore from a snapshot loses exactly the writes acknowledged after it.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
for p in etcd etcdctl python3; do
  command -v $p >/dev/null || { echo "SKIP: $p is not installed (scripts/install-deps.sh: etcd-server etcd-client)"; exit 77; }
done
[ -e /dev/fuse ] || { echo "SKIP: no /dev/fuse (the power-cut drill needs the fault file system)"; exit 77; }
snapshot >"$work/before"
last_run() { ls -td "$work"/runs/"$1"-*/ | head -1; }
junit_has() { # junit_has RUN_DIR TEXT
  if python3 -c 'import html,sys; sys.exit(sys.argv[2] not in html.unescape(open(sys.argv[1]).read()))' "$1/junit.xml" "$2"
  then ok "junit says '$2'"; else bad "junit of $1 lacks '$2'"; fi
}
checks_ok() { # every member's hashkv agreed and every db passed snapshot status
  if grep -q 'check-online on .* FAIL' "$work/out"; then bad "check-online failed"; else ok "check-online (hashkv) passed on every member"; fi
}

# single node failure: follower, then leader (election + failover), then the member replaced
drill 0 scenarios/etcd-node-failure.yaml
expect_out "rpo <= 0               ok   0 of "
expect_out "integrity              ok"
checks_ok
r=$(rto_ms); echo "  leader kill RTO ${r}ms"
[ "${r:-0}" -ge 500 ] && [ "${r:-99999}" -le 10000 ] && ok "leader kill RTO ${r}ms: an election (1s timeout) plus failover" || bad "leader kill RTO '${r}'ms"

drill 0 scenarios/etcd-leader-isolated.yaml
expect_out "its leader probe passed"
expect_out "rpo <= 0               ok   0 of "
checks_ok

# power cut of every member: safe passes; --unsafe-no-fsync loses acknowledged writes
drill 0 scenarios/etcd-power-loss.yaml
expect_out "rpo <= 0               ok   0 of "
drill 1 scenarios/etcd-power-loss.yaml --param unsafe-no-fsync=true
expect_out "acknowledged writes lost: w"
expect_out "etcd-power-loss: FAIL (exit 1)"

drill 0 scenarios/etcd-quorum-loss.yaml
expect_out "params force-new-cluster=true"
expect_out "rpo <= 0               ok   0 of "
checks_ok

# the runbook as written, from the stale survivor: fails, naming the lost writes
drill 1 scenarios/etcd-quorum-loss-wrong-survivor.yaml
expect_out "acknowledged writes lost: w"
expect_out "the runbook chose the survivor with the highest raft index FAIL exec sh on n1: exit 1, expected 0: the runbook chose the wrong survivor: n1 had raft index"
junit_has "$(last_run etcd-quorum-loss-wrong-survivor)" "the runbook chose the wrong survivor: n1 had raft index"
drill 0 scenarios/etcd-quorum-loss-highest-index.yaml
expect_out "rpo <= 0               ok   0 of "
checks_ok

# total loss: what is lost is exactly what was acknowledged after the snapshot
drill 0 scenarios/etcd-total-loss.yaml
expect_out "rpo <= 2.000s          ok"
rd=$(last_run etcd-total-loss)
lost=$(sed -n 's/.*rpo <= 2.000s *ok *\([0-9]*\) of .*/\1/p' "$work/out")
# the snapshot (the first step to start: the action at 1s) and the first fault, from the timeline
snap_start=$(grep -m1 '"event":"step_started"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
snap_end=$(grep -m1 '"event":"step_ended"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
fault=$(grep -m1 '"event":"fault_injected"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
read -r after during <<<"$(awk -v s="$snap_start" -v e="$snap_end" -v f="$fault" '
  $5 == "ok" && $2 > e && $3 < f { a++ } $5 == "ok" && $2 <= e && $3 >= s { d++ }
  END { print a + 0, d + 0 }' "$rd/ledger")"
if [ -n "$lost" ] && [ "$lost" -ge "$after" ] && [ "$lost" -le $((after + during)) ] && [ "$after" -gt 100 ]; then
  ok "lost $lost writes: the $after acknowledged after the snapshot (+ at most the $during in flight during it)"
else bad "lost '$lost' writes; $after acknowledged after the snapshot, $during during it"; fi

drill 0 scenarios/etcd-corruption.yaml
expect_out "torn write of member/wal/"
expect_out "rpo <= 0               ok   0 of "
checks_ok
# etcd's own words for the data it refuses: its fatal log line in the step's output. Mostly
# "walpb: crc mismatch"; where the tear fell decides (a record cut short reads as an
# unexpected EOF): any fatal error about the WAL will do, and the test prints it.
why=$(python3 - "$(last_run etcd-corruption)/junit.xml" <<'PY'
import html, json, re, sys
t = html.unescape(open(sys.argv[1]).read())
i = t.find('n3 refuses to start on its WAL" classname')
for line in t[i:t.find('</system-out>', i)].splitlines():
    if '"level":"fatal"' in line:
        print(json.loads(line).get("error", "")); break
PY
)
if [[ $why =~ crc|wal|EOF|corrupt ]]; then ok "n3 refused its WAL, etcd said: $why"
else bad "n3's refusal has no fatal WAL error in the JUnit file (got '$why')"; fi

check_clean "$work/before" "the etcd drills"
finish
