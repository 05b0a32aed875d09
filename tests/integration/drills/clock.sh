#!/usr/bin/env bash
# Clock faults: a replica restarted with CLOCK_REALTIME 30 s ahead and CLOCK_MONOTONIC 10 s
# ahead says so at its start (kvlog-server prints the clocks it sees), and the drill passes;
# a clock fault on a node that never restarts had no effect (exit 1); one the machine or
# the program cannot take is exit 3 before the drill starts, naming what is missing.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
if ! unshare -T true 2>/dev/null; then echo "SKIP: no time namespaces (Linux 5.6)"; exit 77; fi
snapshot >"$work/before"

drill 0 scenarios/kvlog-clock-skew.yaml
expect_out "r1 started with its clocks skewed: realtime 30.000s ahead, monotonic and boottime 10.000s ahead"
d=$(ls -td "$work"/runs/kvlog-clock-skew-*/ | head -1)
# the first incarnation's clocks, then the second's (true clocks + 30 s and + 10 s)
mapfile -t lines < <(grep -o 'clocks at start: .*' "$d/nodes/r1/stderr.log")
field() { echo "${lines[$1]}" | sed -n "s/.*$2 \([0-9.]*\).*/\1/p"; }
if [ "${#lines[@]}" -eq 2 ]; then
  rt=$(awk -v a="$(field 0 realtime)" -v b="$(field 1 realtime)" 'BEGIN { printf "%.3f", b - a }')
  mono=$(awk -v a="$(field 0 monotonic)" -v b="$(field 1 monotonic)" 'BEGIN { printf "%.3f", b - a }')
  boot=$(awk -v a="$(field 0 boottime)" -v b="$(field 1 boottime)" 'BEGIN { printf "%.3f", b - a }')
  # the true time between the two starts is under 5 s (restart at 0.5 s after a 1 s warm-up)
  awk -v x="$rt" 'BEGIN { exit !(x >= 30 && x < 35) }' && ok "realtime moved ${rt}s between r1's starts (30 s skew)" ||
    bad "realtime moved ${rt}s between r1's starts, want 30..35"
  awk -v x="$mono" -v y="$boot" 'BEGIN { exit !(x >= 10 && x < 15 && y >= 10 && y < 15) }' &&
    ok "monotonic moved ${mono}s, boottime ${boot}s (10 s skew)" || bad "monotonic ${mono}s, boottime ${boot}s, want 10..15"
else
  bad "r1 started ${#lines[@]} times, want 2"; sed 's/^/  | /' "$d/nodes/r1/stderr.log"
fi

drill 1 tests/fixtures/scenarios/clock/no-restart.yaml
expect_out "clock n1: armed, but no incarnation of the node started while it was in"

CHAOSDRILL_FAKETIME=/nonexistent/libfaketime.so.1 drill 3 tests/fixtures/scenarios/clock/no-restart.yaml
expect_out "install the Debian package libfaketime"
if [ -x "$(dirname "$real_cd_bin")/../tests/integration/sysfaults/sys_probe_static" ]; then
  CHAOSDRILL_TARGETS=$src/tests/fixtures/targets drill 3 tests/fixtures/scenarios/clock/static.yaml
  expect_out "libfaketime cannot reach"
  expect_out "sys_probe_static: it is statically linked"
fi
check_clean "$work/before" "clock drills"
finish
