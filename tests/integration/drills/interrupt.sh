#!/usr/bin/env bash
# Interrupted drills, one of each fault family and every signal: SIGINT and SIGTERM at a
# random moment end a drill alike: exit 3, reports written and complete (a JUnit file valid
# against the schema that says it was interrupted, result.json with verdict error), nothing
# left behind (namespace, mount, FUSE mount, host link or nftables table, loop device,
# cgroup, process). After SIGKILL, `chaosdrill gc` leaves the machine as clean as before and
# every report the harness had written is whole. A signal during the set-up (before the
# lab's event loop exists) interrupts it the same way, and an interrupt ends the whole call,
# not just its drill. scripts/interrupt-drills.sh is the long, random version.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
command -v jq >/dev/null || { echo "SKIP: jq is needed to check result.json"; exit 77; }
seed=${INTERRUPT_SEED:-$RANDOM}
RANDOM=$seed
echo "# seed $seed (INTERRUPT_SEED=$seed to repeat the moments)"
snapshot >"$work/before"
build=$(dirname "$real_cd_bin")/..

# interrupt FILE SIG DELAY: runs FILE, sends SIG after DELAY seconds, checks the ending.
interrupt() {
  local file=$1 sig=$2 delay=$3 what="$(basename "$1") SIG$2 at $3s" rc dir
  rm -rf "$work/runs" "$work/junit.xml"
  "$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" "$file" >"$work/out" 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -"$sig" "$pid"
  { wait "$pid"; rc=$?; } 2>/dev/null
  dir=$(ls -d "$work"/runs/*/ 2>/dev/null | head -1)
  if [ "$sig" = KILL ]; then
    sleep 0.3
    "$cd_bin" gc >"$work/gc" 2>&1 && ok "$what: gc exits 0" || bad "$what: gc failed: $(cat "$work/gc")"
  else
    [ "$rc" -eq 3 ] && ok "$what: exit 3" || { bad "$what: exit $rc, want 3"; sed 's/^/  | /' "$work/out"; }
    grep -q "interrupted by" "$work/out" || bad "$what: does not say it was interrupted"
    "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null && grep -q interrupted "$work/junit.xml" &&
      ok "$what: junit valid, says interrupted" || bad "$what: no valid junit saying interrupted"
    [ -n "$dir" ] && [ "$(jq -r .verdict "$dir/result.json" 2>/dev/null)" = error ] &&
      ok "$what: result.json says error" || bad "$what: result.json after SIG$sig"
  fi
  if [ -n "$dir" ]; then
    reports_complete "$dir" >"$work/why" && ok "$what: every report present is whole" ||
      bad "$what: $(tr '\n' ' ' <"$work/why")"
  fi
  check_clean "$work/before" "$what"
}
moment() { awk -v r=$RANDOM -v lo="$1" -v hi="$2" 'BEGIN { printf "%.2f", lo + r / 32768 * (hi - lo) }'; }

interrupt scenarios/kvlog-crash-restart.yaml INT "$(moment 0.2 4)"
interrupt scenarios/kvlog-partition-primary.yaml TERM "$(moment 1 4)"
interrupt scenarios/kvlog-lossy-link.yaml KILL "$(moment 1 4)"
interrupt scenarios/kvlog-torn-write.yaml INT "$(moment 0.5 3)"
interrupt tests/fixtures/scenarios/syscall/kvlog-torn-write-preload.yaml TERM "$(moment 0.5 3)"
if [ -c /dev/fuse ]; then
  interrupt scenarios/kvlog-power-loss.yaml KILL "$(moment 1 3)"
  if [ -x "$build/targets/sqlite/sqlite-node" ]; then
    interrupt scenarios/sqlite-power-loss.yaml TERM "$(moment 0.5 3)"
  else echo "# (no SQLite drill: sqlite-node not built)"; fi
else echo "# (no faultfs or SQLite drill: no /dev/fuse)"; fi
if [ -e /dev/loop-control ] && command -v mkfs.ext4 >/dev/null; then
  interrupt scenarios/kvlog-disk-full.yaml INT "$(moment 0.5 3)"
else echo "# (no ext4 disk-full drill: no loop devices or mkfs.ext4)"; fi

# SIGTERM during the set-up: as soon as the run directory holds scenario.yaml, the lab is
# being built and no event loop runs yet. The signal waits for it; it neither kills the
# harness without reports nor goes unheard.
rm -rf "$work/runs" "$work/junit.xml"
"$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" scenarios/kvlog-partition-primary.yaml >"$work/out" 2>&1 &
pid=$!
for ((w = 0; w < 2000; w++)); do
  compgen -G "$work/runs/*/scenario.yaml" >/dev/null && break
  sleep 0.005
done
kill -TERM "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
[ "$rc" -eq 3 ] && grep -q "interrupted by Terminated" "$work/out" && ok "SIGTERM in the set-up: exit 3, interrupted" ||
  { bad "SIGTERM in the set-up: exit $rc"; sed 's/^/  | /' "$work/out"; }
"$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null && ok "SIGTERM in the set-up: junit valid" ||
  bad "SIGTERM in the set-up: no valid junit"
check_clean "$work/before" "SIGTERM in the set-up"

# An interrupt ends the call: the second drill is not started.
rm -rf "$work/runs" "$work/junit.xml"
"$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" scenarios/kvlog-crash-restart.yaml scenarios/kvlog-torn-write.yaml >"$work/out" 2>&1 &
pid=$!
sleep 1.5
kill -INT "$pid"
{ wait "$pid"; rc=$?; } 2>/dev/null
n=$(ls -d "$work"/runs/*/ 2>/dev/null | wc -l)
[ "$rc" -eq 3 ] && [ "$n" -eq 1 ] && ok "SIGINT in the first of two drills: exit 3, the second not run" ||
  bad "SIGINT in the first of two drills: exit $rc, $n run directories"
[ "$(grep -c '<testsuite ' "$work/junit.xml" 2>/dev/null)" = 1 ] && ok "the call's junit has the interrupted drill only" ||
  bad "the call's junit after an interrupt: $(grep -c '<testsuite ' "$work/junit.xml" 2>/dev/null) suites"
check_clean "$work/before" "SIGINT in the first of two drills"
finish
