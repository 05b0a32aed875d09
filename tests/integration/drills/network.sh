#!/usr/bin/env bash
# Failover drills through network partitions: a sync primary isolated and replaced loses
# nothing; an async one loses the writes it acknowledged but never shipped, which a
# `rpo: 2s` drill accepts and a `rpo: 0` drill rejects by name.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"

drill 0 scenarios/kvlog-partition-primary.yaml
expect_out "fault isolate: primary is p1 (its leader probe passed); partition"
expect_out "heal isolate: healed: deleted the 4 routes"
expect_out " 0 of "
# isolate: leader when two nodes claim to lead: the fault fails saying so.
drill 1 tests/fixtures/scenarios/net/isolate-leader-ambiguous.yaml
expect_out "fault isolate FAILED: isolate leader: more than one node's leader probe passed"

drill 0 scenarios/kvlog-async-failover.yaml
lost=$(sed -n 's/.*rpo <= 2.000s *ok *\([0-9]*\) of .*/\1/p' "$work/out")
[ -n "$lost" ] && [ "$lost" -gt 0 ] && ok "async failover measured $lost lost writes" ||
  bad "async failover should measure lost writes, got '$lost'"

drill 1 tests/fixtures/scenarios/async-failover-rpo0.yaml
expect_out "acknowledged writes lost: w"

# Loss and delay into the primary: nothing lost, and the latency shift is measured.
drill 0 scenarios/kvlog-lossy-link.yaml
expect_out "heal delay: healed: deleted table ip chaosdrill_delay"
before=$(sed -n 's/.*p50\/p99 ms: before \([0-9]*\)\..*/\1/p' "$work/out")
during=$(sed -n 's/.*, during \([0-9]*\)\..*/\1/p' "$work/out")
[ -n "$during" ] && [ "$during" -ge $((before + 40)) ] && ok "p50 latency ${before} ms before, ${during} ms during the 50 ms delay" ||
  bad "latency shift not measured: before '$before' during '$during'"

check_clean "$work/before" "network drills"
finish
