#!/usr/bin/env bash
# Interrupted drills of every fault family: each round picks a family's shipped drill, a
# signal (SIGINT, SIGTERM, or SIGKILL followed by `chaosdrill gc`) and a moment, at random
# from the printed seed; then checks that nothing is left (namespace, mount, FUSE mount,
# host link, loop device, cgroup, host nftables table, process) and that the reports are
# complete: after SIGINT/SIGTERM a JUnit file valid against the schema that says it was
# interrupted and a result.json with verdict error; after SIGKILL, every report file
# present complete and no temp file left after gc. Prints counts per family and signal.
#
#   scripts/interrupt-drills.sh [--count N] [--seed S] [--families a,b,...] [--max-delay SEC] [BUILD]
# (`make interrupt-long INTERRUPTS=N SEED=S`). Exit 0 clean, 1 on a leftover or a bad
# report, 2 bad usage, 77 when the machine cannot run drills.
set -u
count=100 seed=$(( $(date +%s) % 1000000 )) only= maxdelay=6 build=
usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'H'
Families: kill partition delay seccomp preload faultfs disk-full sqlite redis postgres
(redis and postgres only where installed; a family this machine cannot run is left out and
said so). BUILD defaults to build/ of this checkout.
H
}
while [ $# -gt 0 ]; do
  case $1 in
    --count) count=${2-}; shift $(( $# > 1 ? 2 : 1 )) ;;
    --seed) seed=${2-}; shift $(( $# > 1 ? 2 : 1 )) ;;
    --families) only=${2-}; shift $(( $# > 1 ? 2 : 1 )) ;;
    --max-delay) maxdelay=${2-}; shift $(( $# > 1 ? 2 : 1 )) ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "interrupt-drills: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
for v in "$count" "$seed" "$maxdelay"; do
  case $v in ''|*[!0-9.]*) echo "interrupt-drills: --count, --seed and --max-delay take numbers, not '$v'" >&2; exit 2 ;; esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
build=${build:-$here/build}
bin=$build/harness/chaosdrill
[ -x "$bin" ] || { echo "interrupt-drills: no $bin (make build first)" >&2; exit 2; }
command -v jq >/dev/null || { echo "SKIP: jq is needed to check result.json"; exit 77; }
set -- "$bin" "$(command -v xmllint || echo xmllint)"
. "$here/tests/integration/drills/lib.sh"
cd "$src"

# family -> drill files (one picked at random), and whether this machine runs it
declare -A files=(
  [kill]="scenarios/kvlog-crash-restart.yaml"
  [partition]="scenarios/kvlog-partition-primary.yaml"
  [delay]="scenarios/kvlog-lossy-link.yaml"
  [seccomp]="scenarios/kvlog-enospc.yaml scenarios/kvlog-torn-write.yaml"
  [preload]="tests/fixtures/scenarios/syscall/kvlog-torn-write-preload.yaml"
  [faultfs]="scenarios/kvlog-power-loss.yaml"
  [disk-full]="scenarios/kvlog-disk-full.yaml"
  [sqlite]="scenarios/sqlite-power-loss.yaml scenarios/sqlite-torn-txn.yaml"
  [redis]="scenarios/eriop-redis-kill-everysec.yaml"
  [postgres]="scenarios/eriop-pg-crash.yaml"
)
order="kill partition delay seccomp preload faultfs disk-full sqlite redis postgres"
missing() { # why FAMILY cannot run here, or nothing
  case $1 in
    faultfs|sqlite) [ -c /dev/fuse ] || echo "no /dev/fuse" ;;
    disk-full) [ -e /dev/loop-control ] && command -v mkfs.ext4 >/dev/null || echo "no loop devices or mkfs.ext4" ;;
    redis) command -v redis-server >/dev/null || echo "redis-server not installed" ;;
    postgres) [ -x /usr/lib/postgresql/15/bin/postgres ] && id postgres >/dev/null 2>&1 && [ -x "$build/targets/postgres/pg-adapter" ] ||
      echo "PostgreSQL 15 or pg-adapter missing" ;;
  esac
  case $1 in sqlite) [ -x "$build/targets/sqlite/sqlite-node" ] || echo "sqlite-node not built" ;; esac
}
fams=()
for f in $order; do
  if [ -n "$only" ] && [[ ",$only," != *",$f,"* ]]; then continue; fi
  why=$(missing "$f")
  if [ -n "$why" ]; then echo "# family $f left out: $why"; else fams+=("$f"); fi
done
[ ${#fams[@]} -gt 0 ] || { echo "SKIP: no fault family can run here"; exit 77; }
sigs=(INT TERM KILL)
RANDOM=$seed
echo "# interrupt-drills: seed $seed, $count interrupts, families: ${fams[*]}"
echo "# replay: scripts/interrupt-drills.sh --count $count --seed $seed${only:+ --families $only}"

declare -A n_fam n_sig n_done
leftovers=0 badreports=0
snapshot >"$work/before"
for ((i = 1; i <= count; i++)); do
  fam=${fams[RANDOM % ${#fams[@]}]}
  read -r -a fl <<<"${files[$fam]}"
  file=${fl[RANDOM % ${#fl[@]}]}
  sig=${sigs[RANDOM % 3]}
  delay=$(awk -v r=$RANDOM -v m="$maxdelay" 'BEGIN { printf "%.2f", r / 32768 * m }')
  rm -rf "$work/runs" "$work/junit.xml"
  "$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" "$file" >"$work/out" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -"$sig" "$pid" 2>/dev/null
  { wait "$pid"; rc=$?; } 2>/dev/null
  n_fam[$fam]=$(( ${n_fam[$fam]:-0} + 1 )); n_sig[$sig]=$(( ${n_sig[$sig]:-0} + 1 ))
  what="#$i $fam $(basename "$file") SIG$sig at ${delay}s"
  errs=
  dir=$(ls -d "$work"/runs/*/ 2>/dev/null | head -1)
  if [ "$sig" = KILL ]; then
    if [ "$rc" -ne 137 ]; then # finished first
      n_done[$fam]=$(( ${n_done[$fam]:-0} + 1 ))
      [ "$rc" -le 1 ] || errs+=" ended by itself with exit $rc;"
    fi
    sleep 0.3
    "$cd_bin" gc >"$work/gc" 2>&1 || errs+=" gc failed: $(tr '\n' ' ' <"$work/gc");"
    [ -z "$dir" ] || errs+=$(reports_complete "$dir" | tr '\n' ';')
    [ ! -e "$work/junit.xml" ] || "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null || errs+=" --junit file torn;"
    for t in "$work"/junit.xml.tmp.*; do [ -e "$t" ] && errs+=" temp file $t left;"; done
  elif ! grep -q "interrupted by" "$work/out"; then
    # the drill ended before the signal came: its reports are those of a finished drill
    n_done[$fam]=$(( ${n_done[$fam]:-0} + 1 ))
    [ "$rc" -le 1 ] || errs+=" ended by itself with exit $rc;"
    [ -n "$dir" ] && errs+=$(reports_complete "$dir" | tr '\n' ';')
  else
    [ "$rc" -eq 3 ] || errs+=" exit $rc, want 3;"
    if grep -q "after the reports of" "$work/out"; then n_done[$fam]=$(( ${n_done[$fam]:-0} + 1 ))
    else
      "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null && grep -q interrupted "$work/junit.xml" ||
        errs+=" no valid JUnit saying interrupted;"
      if [ -z "$dir" ]; then errs+=" no run directory;"
      else
        [ "$(jq -r .verdict "$dir/result.json" 2>/dev/null)" = error ] || errs+=" result.json verdict not error;"
        errs+=$(reports_complete "$dir" | tr '\n' ';')
      fi
    fi
  fi
  snapshot >"$work/after"
  left=$(diff "$work/before" "$work/after" | grep '^>' | tr '\n' ' ')
  if [ -n "$left" ]; then
    leftovers=$((leftovers + 1)); echo "LEFTOVER $what: $left"
    snapshot >"$work/before" # count each leftover once
  fi
  if [ -n "$errs" ]; then
    badreports=$((badreports + 1)); echo "BAD REPORT $what (exit $rc):$errs"; sed 's/^/  | /' "$work/out" | tail -8
  else
    echo "ok $what: exit $rc"
  fi
done

echo "# per family (interrupted / ended before the signal):"
for f in "${fams[@]}"; do printf '#   %-10s %3d  (%d ended first)\n' "$f" "${n_fam[$f]:-0}" "${n_done[$f]:-0}"; done
echo "# per signal:"
for s in "${sigs[@]}"; do printf '#   SIG%-7s %3d\n' "$s" "${n_sig[$s]:-0}"; done
echo "# leftovers: $leftovers, bad reports: $badreports (seed $seed, $count interrupts)"
[ "$leftovers" -eq 0 ] && [ "$badreports" -eq 0 ]
