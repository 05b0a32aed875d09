#!/usr/bin/env bash
# The nemesis drill (scenarios/kvlog-nemesis.yaml): its seeded schedule of kills, torn
# writes and power cuts passes on safe kvlog and fails on sync=never; the same seed gives
# the same schedule; `chaosdrill shrink` finds a smaller schedule that still loses
# acknowledged writes, written as a drill file that validates and fails when run.
# The shipped drill's nemesis cut to 10 s (faults every 1-2 s) to keep the suite short:
# about 60 s (three 11 s drills and three shorter ones): labelled nosan.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"
nemesis=$work/kvlog-nemesis.yaml
sed 's/^  until: 20s$/  until: 11s/; s/^  every: 2s\.\.3s$/  every: 1s..2s/' scenarios/kvlog-nemesis.yaml >"$nemesis"
grep -q '^  until: 11s$' "$nemesis" && grep -q '^  every: 1s\.\.2s$' "$nemesis" || { echo "FAIL: cannot shorten $nemesis"; exit 1; }

# faults of a run directory's schedule.json, one per line
faults_of() { grep -c '"kind": ' "$1/schedule.json"; }

drill 0 "$nemesis"
expect_out "kvlog-nemesis: PASS (exit 0)"
safe=$(ls -td "$work"/runs/kvlog-nemesis-*/ | head -1)
n=$(faults_of "$safe")
[ "$n" -ge 6 ] && [ "$n" -le 10 ] && ok "the nemesis scheduled $n faults" || bad "the nemesis scheduled $n faults, want 6 to 10"
kinds=$(sed -n 's/.*"kind": "\([a-z-]*\)".*/\1/p' "$safe/schedule.json" | sort -u | paste -sd' ')
[ "$kinds" = "kill power-cut syscall" ] && ok "kills, power cuts and torn writes: $kinds" || bad "kinds scheduled: '$kinds'"
cases=$(grep -c 'classname="kvlog-nemesis.fault"' "$work/junit.xml")
[ "$cases" -eq "$n" ] && ok "one JUnit testcase per injection ($cases)" || bad "$cases fault testcases for $n faults"

drill 1 "$nemesis" --param sync=never
expect_out "acknowledged writes lost"
expect_out "kvlog-nemesis: FAIL (exit 1)"
unsafe=$(ls -td "$work"/runs/kvlog-nemesis-*/ | head -1)
grep -q '^# --param sync=never$' "$unsafe/scenario.yaml" && ok "the run directory records --param" || bad "scenario.yaml lacks '# --param sync=never'"
# the same seed, the same schedule
if diff <(grep -v '"params"' "$safe/schedule.json") <(grep -v '"params"' "$unsafe/schedule.json") >"$work/diff"; then
  ok "the same seed gives the same schedule"
else bad "the schedules of one seed differ:"; sed 's/^/  | /' "$work/diff"; fi

# shrink, with few runs: the original again, then the last half dropped, then a quarter
"$cd_bin" shrink --out "$work/shrink" --max-runs 3 "$unsafe" >"$work/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "shrink exits 0" || { bad "shrink exit $rc"; sed 's/^/  | /' "$work/out"; }
expect_out "candidate 1: faults $n, verdict fail (rpo <= 0), kept: the original schedule"
expect_out "candidate 3: faults "
expect_out "minimal drill: $work/shrink/minimal.yaml"
after=$(sed -n 's/^shrink: faults [0-9]* -> \([0-9]*\) in 3 runs.*/\1/p' "$work/out")
[ -n "$after" ] && [ "$after" -lt "$n" ] && ok "shrink: faults $n -> $after" || { bad "shrink did not shrink: '$after' of $n"; sed 's/^/  | /' "$work/out"; }
min=$work/shrink/minimal.yaml
[ "$(grep -c '^  - at: ' "$min")" = "$after" ] && ok "minimal.yaml holds $after explicit faults" || bad "minimal.yaml: $(grep -c '^  - at: ' "$min") faults, want $after"
grep -q '^seed: ' "$min" && grep -q 'sync: never' "$min" && ! grep -q '^nemesis:' "$min" &&
  ok "minimal.yaml pins the seed and the param, without nemesis:" || bad "minimal.yaml: $(cat "$min")"
"$cd_bin" validate "$min" >"$work/out" 2>&1 && ok "minimal.yaml validates" || { bad "minimal.yaml does not validate"; sed 's/^/  | /' "$work/out"; }
drill 1 "$min"
expect_out "acknowledged writes lost"

# a failure that does not come back: the minimal drill's run, its param made safe again
# (as if the bug were fixed since): shrink says so and exits 1
fixed=$work/fixed-run
cp -r "$(ls -td "$work"/runs/kvlog-nemesis-*/ | head -1)" "$fixed"
sed -i 's/^  sync: never$/  sync: always/' "$fixed/scenario.yaml"
"$cd_bin" shrink --out "$work/shrink-fixed" "$fixed" >"$work/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && ok "shrink of a failure that does not come back exits 1" || { bad "shrink of a fixed run: exit $rc, want 1"; sed 's/^/  | /' "$work/out"; }
expect_out "candidate 1: faults $after, verdict pass, dropped: the original schedule"
expect_out "shrink: the original schedule does not fail again"

# bad input: exit 2, saying why
"$cd_bin" shrink "$work/nonexistent" >"$work/out" 2>&1
[ $? -eq 2 ] && ok "shrink of no run directory exits 2" || bad "shrink of no run directory: not exit 2"
expect_out "cannot read $work/nonexistent/scenario.yaml"
"$cd_bin" shrink "$safe" >"$work/out" 2>&1
[ $? -eq 2 ] && ok "shrink of a passed run exits 2" || bad "shrink of a passed run: not exit 2"
expect_out "the run did not fail: nothing to shrink"

check_clean "$work/before" "the nemesis drills and shrink"
finish
