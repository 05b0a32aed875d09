#!/usr/bin/env bash
# The set-up walk: every step chaosdrill takes to set a drill up is made to fail in turn,
# on a drill that uses every fault family (tests/fixtures/scenarios/walk/every-family.yaml),
# through the test-only CHAOSDRILL_FAILPOINT (common/failpoint.h). Each failure must end
# with exit 3 and a sentence saying what failed, complete and valid reports (JUnit against
# the schema, result.json and timeline.jsonl that parse), and nothing left behind: no
# cgroup, process, loop device or mount of that run. Steps of the drill itself are walked
# too: a fault family that cannot set itself up at injection (nftables, the NFQUEUE delay
# queue) is exit 3 as well; a restart that fails in recovery is a failed step (exit 1).
#
# The drill is first run as it is (it must pass) with CHAOSDRILL_FAILPOINT_LOG, which
# lists every point it reaches; then once per point and occurrence, NAME:K.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
command -v jq >/dev/null || { echo "SKIP: jq is needed to check result.json (scripts/install-deps.sh installs it)"; exit 77; }
build=${CHAOSDRILL_BUILD:-$(cd "$(dirname "$real_cd_bin")/.." && pwd)}
file=tests/fixtures/scenarios/walk/every-family.yaml
snapshot >"$work/before"

# What one run (harness pid $1) could have left: its labs' cgroups and the processes in
# them, loop devices on images under $work, processes of this build or working in $work,
# and host mounts under $work.
leftovers() {
  local pid=$1 p exe cwd
  find /sys/fs/cgroup -maxdepth 4 -type d -path "*chaosdrill/cd-$pid-*" 2>/dev/null
  losetup -a 2>/dev/null | grep -F "$work" || true
  awk -v w="$work" 'index($2, w) == 1 {print "mount " $2}' /proc/mounts
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    [ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] && continue
    exe=$(readlink "$p/exe" 2>/dev/null) cwd=$(readlink "$p/cwd" 2>/dev/null)
    case "$exe" in "$build"/*) echo "process ${p#/proc/} $exe"; continue ;; esac
    case "$cwd" in "$work"/*) echo "process ${p#/proc/} in $cwd ($exe)" ;; esac
  done
}

# Checks the reports of the last run: the --junit file, and the run directory if one was
# made (all but a failure to make it).
reports_ok() {
  local what=$1 dir
  "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null || { echo "--junit file invalid"; return 1; }
  dir=$(ls -d "$work"/runs/every-family-* 2>/dev/null | head -1)
  if [ -z "$dir" ]; then
    [ "$what" = run.dir ] && return 0
    echo "no run directory"; return 1
  fi
  [ "$what" = run.dir ] && { echo "a run directory although making it failed"; return 1; }
  for f in scenario.yaml schedule.json timeline.jsonl ledger result.json junit.xml report.html; do
    [ -s "$dir/$f" ] || { echo "run directory lacks $f"; return 1; }
  done
  jq -e '.verdict' "$dir/result.json" >/dev/null || { echo "result.json does not parse"; return 1; }
  jq -e . "$dir/schedule.json" >/dev/null || { echo "schedule.json does not parse"; return 1; }
  jq -ce . "$dir/timeline.jsonl" >/dev/null || { echo "timeline.jsonl does not parse"; return 1; }
  "$xmllint" --noout --schema "$schema" "$dir/junit.xml" 2>/dev/null || { echo "junit.xml invalid"; return 1; }
}

# run_case SPEC: runs the drill with SPEC failing; sets rc, pid; the run's points in $work/log.
run_case() {
  rm -rf "$work/runs" "$work/junit.xml" "$work/log"
  CHAOSDRILL_FAILPOINT=$1 CHAOSDRILL_FAILPOINT_LOG=$work/log \
    "$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" "$file" >"$work/out" 2>&1 &
  pid=$!
  wait "$pid"; rc=$?
}

# 1. As it is: it passes, and says which points it reaches.
rm -f "$work/log"
CHAOSDRILL_FAILPOINT_LOG=$work/log drill 0 "$file"
awk '/^# steady/ { next } { n[$1]++; print $1 ":" n[$1] }' "$work/log" >"$work/points"
total=$(wc -l <"$work/points")
[ "$total" -ge 30 ] && ok "the drill reaches $total points" || bad "only $total points reached: $(tr '\n' ' ' <"$work/points")"
for family in lab.holder node.holder disk.loop disk.mount seccomp.install seccomp.listener shim.block faultfs.mount net.nft net.nfqueue clock.timens workload.start report.write; do
  grep -q "^$family:" "$work/points" || bad "the walk does not reach $family"
done

# 2. Each point in turn.
walked=0 setup=0
while IFS= read -r spec; do
  name=${spec%:*} k=${spec##*:}
  run_case "$spec"
  # Where it fired, from this run's own log: set-up (before steady state) or the drill.
  before=$(awk -v n="$name" '/^# steady/ { exit } $1 == n { c++ } END { print c + 0 }' "$work/log")
  reached=$(grep -cx -- "$name" "$work/log")
  if [ "$reached" -lt "$k" ]; then
    ok "$spec: not reached in this run (exit $rc)"
    continue
  fi
  walked=$((walked + 1))
  if [ "$before" -ge "$k" ]; then phase=setup setup=$((setup + 1)); else phase=drill; fi
  case "$phase:$name" in
    drill:node.spawn|drill:probe.start|drill:clock.timens) want=1 ;; # a recovery step failed: the runbook's verdict
    *) want=3 ;;
  esac
  why=$(sed -n 's/^  error: //p' "$work/out" | head -1)
  [ "$want" = 1 ] && why=$(grep -m1 'FAILED' "$work/out" | sed 's/^ *//')
  problems=""
  [ "$rc" -eq "$want" ] || problems="exit $rc, want $want; "
  [ -n "$why" ] || problems="${problems}no sentence; "
  r=$(reports_ok "$name") || problems="${problems}$r; "
  left=$(leftovers "$pid")
  [ -z "$left" ] || problems="${problems}left behind: $(echo "$left" | tr '\n' ' '); "
  if [ -z "$problems" ]; then
    ok "$phase $spec: exit $rc, reports valid, nothing left: $why"
  else
    bad "$phase $spec: $problems"
    sed 's/^/  | /' "$work/out"
  fi
done <"$work/points"
[ "$walked" -ge "$((total * 9 / 10))" ] && ok "walked $walked of $total points ($setup in set-up)" ||
  bad "walked only $walked of $total points"
check_clean "$work/before" "the whole walk"
finish
