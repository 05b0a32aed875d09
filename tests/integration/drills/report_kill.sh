#!/usr/bin/env bash
# Reports are written atomically: SIGKILL lands on the harness many times while it writes
# its reports (each atomic write held open 150 ms between its fsync and its rename by the
# test-only CHAOSDRILL_FAILPOINT_PAUSE=fs.atomic:150, so kills fall inside writes and
# between files), at moments spread over the report phase. Each report file of the run
# directory (timeline.jsonl, ledger, result.json, junit.xml, report.html) and the --junit
# file of the call must be absent or complete and valid, never torn; the temp files the
# kill left are removed by `chaosdrill gc --out DIR` (odd rounds) or by the next run into
# the same --out and --junit (even rounds); at the end none is left, nor anything else.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
command -v jq >/dev/null || { echo "SKIP: jq is needed to check result.json"; exit 77; }
file=tests/fixtures/scenarios/harden/short-kill.yaml
rounds=${REPORT_KILL_ROUNDS:-10}
snapshot >"$work/before"
mid=0 torn=0
declare -A present

for ((i = 0; i < rounds; i++)); do
  mkdir -p "$work/runs"; touch "$work/mark"; sleep 0.01
  CHAOSDRILL_FAILPOINT_PAUSE=fs.atomic:150 "$cd_bin" run --quiet --out "$work/runs" --junit "$work/junit.xml" "$file" >"$work/out" 2>&1 &
  pid=$!
  # the report phase starts with timeline.jsonl's temp file (in this run's directory)
  for ((w = 0; w < 1500; w++)); do
    [ -n "$(find "$work/runs" -mindepth 2 -maxdepth 2 -name 'timeline.jsonl*' -newer "$work/mark" 2>/dev/null)" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  # then kill at a moment spread over the ~1 s the six writes take
  sleep "$(awk -v i="$i" 'BEGIN { printf "%.2f", (i % 8) * 0.15 + 0.02 }')"
  kill -KILL "$pid" 2>/dev/null
  { wait "$pid"; rc=$?; } 2>/dev/null
  dir=$(find "$work/runs" -mindepth 1 -maxdepth 1 -type d -newer "$work/mark" | head -1)/
  [ "$dir" != / ] || { bad "round $i: no run directory"; continue; }
  compgen -G "$dir/*.tmp.*" >/dev/null || compgen -G "$work/junit.xml.tmp.*" >/dev/null && mid=$((mid + 1))
  for f in timeline.jsonl ledger result.json junit.xml report.html; do
    [ -e "$dir/$f" ] && present[$f]=$(( ${present[$f]:-0} + 1 ))
  done
  # complete or absent (temp files are expected until the clean-up)
  why=$(reports_complete "$dir" | grep -v '^temp file left')
  if [ -e "$work/junit.xml" ] && ! "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null; then
    why+=" --junit file torn"
  fi
  if [ -n "$why" ]; then torn=$((torn + 1)); bad "round $i (exit $rc): $why"; fi
  if [ $((i % 2)) -eq 1 ]; then
    "$cd_bin" gc --out "$work/runs" >"$work/gc" 2>&1 || bad "gc failed: $(cat "$work/gc")"
    grep -q 'temp file' "$work/gc" && echo "  # round $i: gc: $(grep -c 'temp file' "$work/gc") temp file(s) removed"
    left=$(compgen -G "$work/runs/*/*.tmp.*")
    [ -z "$left" ] && ok "round $i: no temp file in the run directories after gc" || bad "round $i: left after gc: $left"
  fi
done
[ "$torn" -eq 0 ] && ok "$rounds kills in the report phase: every report present was complete"
for f in timeline.jsonl ledger result.json junit.xml report.html; do echo "  # $f present after ${present[$f]:-0} of $rounds kills"; done
[ "$mid" -gt 0 ] && ok "$mid of $rounds kills landed while a temp file existed (mid-write)" ||
  bad "no kill landed mid-write: the test did not test the atomic writes"

# The next run into the same --out and --junit removes what the killed ones left (here
# made sure of: temp files of a dead writer beside a report and beside the --junit file).
true & dead=$!; wait "$dead"
d=$(ls -d "$work"/runs/*/ | head -1)
echo '{"verd' >"${d}result.json.tmp.$dead"
echo '<testsu' >"$work/junit.xml.tmp.$dead"
"$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" "$file" >"$work/out" 2>&1 || bad "the clean run failed: $(tail -3 "$work/out")"
left=$(compgen -G "$work/runs/*/*.tmp.*"; compgen -G "$work/junit.xml.tmp.*")
[ -z "$left" ] && ok "the next run removed every temp file" || bad "temp files left after the next run: $left"
[ "$(grep -c "temp file a killed chaosdrill left" "$work/out")" -ge 2 ] && ok "and says so" ||
  bad "the next run does not say what it removed: $(cat "$work/out")"
# A temp file whose writer lives is not touched (a concurrent harness writing into --out).
sleep 30 & alive=$!
d=$(ls -d "$work"/runs/*/ | head -1)
echo partial >"${d}result.json.tmp.$alive"
echo other >"${d}notes.tmp.99999999"
"$cd_bin" gc --out "$work/runs" >"$work/gc" 2>&1
[ -e "${d}result.json.tmp.$alive" ] && ok "gc leaves a live writer's temp file" || bad "gc removed a live writer's temp file"
[ -e "${d}notes.tmp.99999999" ] && ok "gc leaves files that are not reports" || bad "gc removed a file that is not a report's"
kill "$alive"; wait "$alive" 2>/dev/null
"$cd_bin" gc --out "$work/runs" >"$work/gc" 2>&1
[ ! -e "${d}result.json.tmp.$alive" ] && ok "gc removes it once its writer is dead" || bad "a dead writer's temp file stays after gc"
rm -f "${d}notes.tmp.99999999"
check_clean "$work/before" "kills in the report phase"
finish
