#!/usr/bin/env bash
# chaosdrill replay RUNDIR --check: a passing and a failing kvlog torn-write drill replayed
# from their run directories alone give identical seed-decided events (the torn call, the
# bytes kept) and the same verdict; a run directory whose seed or params were tampered
# with is reported as differing (exit 1).
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"

last_run() { ls -dt "$work/runs/$1"-*/ | head -1 | sed 's:/$::'; }

# replay WANT_RC RUNDIR: replays it with --check, output in $work/out
replay() {
  local want=$1 dir=$2
  rm -f "$work/replay-junit.xml"
  "$cd_bin" replay -q --check --junit "$work/replay-junit.xml" "$dir" >"$work/out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$want" ]; then ok "replay --check $(basename "$dir") exits $rc"
  else bad "replay --check $(basename "$dir"): exit $rc, want $want"; sed 's/^/  | /' "$work/out"; fi
  if "$xmllint" --noout --schema "$schema" "$work/replay-junit.xml" 2>/dev/null; then ok "replay's junit valid"
  else bad "replay's junit.xml of $(basename "$dir") is missing or not valid"; fi
}

"$cd_bin" replay --help | grep -q -- "--check" && ok "replay --help documents --check" ||
  bad "replay --help lacks --check"
"$cd_bin" replay "$work/no-such-run" >"$work/out" 2>&1
[ $? -eq 2 ] && ok "replay of a missing run directory exits 2" || bad "missing run dir: not exit 2"

for mode in pass fail; do
  rm -rf "$work/runs"
  if [ $mode = pass ]; then drill 0 scenarios/kvlog-torn-write.yaml; want=0; missed="missed -"
  else drill 1 scenarios/kvlog-torn-write.yaml --param unsafe=no-truncate; want=1; missed="missed expect.integrity"; fi
  old=$(last_run kvlog-torn-write)
  # the replay needs nothing but the run directory
  mv "$old" "$work/moved-$mode"; old=$work/moved-$mode
  replay $want "$old"
  expect_out "identical fault 1 syscall: what=syscall rule=1 action=torn call=write file=txn.log nth^500 kept^"
  expect_out "seed-decided: 3 events identical, 0 differ"
  expect_out "(exit $want, $missed), new"
  expect_out "(exit $want, $missed): same"
  expect_out "timing: fault 1 schedule injected_ms: old "
done

# The failing run's replay keeps its --param: the replay's scenario.yaml says so, once.
new=$(ls -dt "$work"/kvlog-torn-write-*/ | head -1)
n=$(grep -c '^# --param unsafe=no-truncate$' "$new/scenario.yaml")
[ "$n" = 1 ] && ok "the replay's scenario.yaml keeps --param unsafe=no-truncate once" ||
  bad "the replay's scenario.yaml has '# --param unsafe=no-truncate' $n times"

# The replay's schedule.json still names the original drill file, not the copy it ran.
grep -q "\"file\": \"$src/scenarios/kvlog-torn-write.yaml\"" "$new/schedule.json" &&
  ok "the replay's schedule.json names the original drill file" ||
  bad "the replay's schedule.json: $(grep '"file"' "$new/schedule.json")"

# A dropped --param: the same seed-decided events, but the verdict is not the old one.
sed -i 's/"params": {[^}]*}/"params": {}/' "$work/moved-fail/schedule.json"
replay 1 "$work/moved-fail"
expect_out "seed-decided: 3 events identical, 0 differ"
expect_out "new PASS (exit 0, missed -): DIFFERS"
expect_out "replay differs: the verdict is not the old run's"

# A timeline from before replay --check (no seeded or verdict events): bad input, said so.
cp -r "$work/moved-pass" "$work/old-style"
grep -v '"event":"seeded"\|"event":"verdict"' "$work/moved-pass/timeline.jsonl" >"$work/old-style/timeline.jsonl"
replay 2 "$work/old-style"
expect_out "has no seeded or verdict events"

# Tampered seed: the seed decides the torn byte, so the replay must differ, and say where.
sed -i 's/"seed": "500"/"seed": "7"/' "$work/moved-pass/schedule.json"
replay 1 "$work/moved-pass"
expect_out "seed-decided DIFFERS: drill seed: old 500, new 7"
expect_out "seed-decided DIFFERS: fault 1 syscall kept: old "
expect_out "replay differs: "

check_clean "$work/before" "replay drills"
finish
