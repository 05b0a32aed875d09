#!/usr/bin/env bash
# Many drills at once. `run -j 2` over four short kvlog drills (one of them a variant with
# an unsafe kvlog that must fail): the worst exit code, whole prefixed output lines, a
# valid JUnit file with every drill, index.html linking every report. Then the same four
# as two shards (`--shard 1/2`, `--shard 2/2`), each a plain serial `chaosdrill run`, both
# started at once with a `chaosdrill gc` in the middle: each drill's verdict is the one
# it had under -j, labs that lived at the same time had different names and subnets, gc
# touched neither, the shards' JUnit files merge into a valid one. SIGINT of a -j call
# ends its drills with their reports. Nothing is left behind.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"

sed 's/^drill: kvlog-demo$/drill: kvlog-demo-unsafe/; s/^params: {sync: always}$/params: {sync: always, unsafe: ack-before-write}/' \
  scenarios/demo.yaml >"$work/demo-unsafe.yaml"
grep -q "unsafe: ack-before-write" "$work/demo-unsafe.yaml" || bad "could not make the unsafe variant"
files=(scenarios/demo.yaml scenarios/kvlog-torn-tail.yaml scenarios/kvlog-crash-restart.yaml "$work/demo-unsafe.yaml")
names="kvlog-demo kvlog-torn-tail kvlog-crash-restart kvlog-demo-unsafe"
want() { [ "$1" = kvlog-demo-unsafe ] && echo 1 || echo 0; } # each drill's exit code

valid() { # valid FILE WHAT
  if "$xmllint" --noout --schema "$schema" "$1" 2>/dev/null; then ok "$2: valid JUnit"
  else bad "$2: not valid against the schema"; "$xmllint" --noout --schema "$schema" "$1" 2>&1 | head -5; fi
}
# exit_code property of each suite of a JUnit file: "NAME CODE" lines, sorted
codes() {
  awk '/<testsuite name=/ { match($0, /name="[^"]*"/); n = substr($0, RSTART + 6, RLENGTH - 7) }
       /<property name="exit_code"/ { match($0, /value="[^"]*"/); print n, substr($0, RSTART + 7, RLENGTH - 8) }' "$1" | sort
}
# "START END LAB SUBNET DIR" (wall-clock ms) of each run directory under $1
labs() {
  for t in "$1"/*/timeline.jsonl; do
    awk -v d="$(dirname "$t")" '
      !t0 && /t_ns 0 is CLOCK_REALTIME [0-9]/ { match($0, /REALTIME [0-9]+/); t0 = substr($0, RSTART + 9, RLENGTH - 9) }
      /"detail":"lab cd-/ { match($0, /lab cd-[0-9]+-[0-9]+, subnet [0-9.\/]+/); split(substr($0, RSTART, RLENGTH), f, /[ ,]+/); lab = f[2]; net = f[4] }
      { match($0, /"t_ns":[0-9]+/); last = substr($0, RSTART + 7, RLENGTH - 7) }
      END { s = substr(t0, 1, length(t0) - 6) + 0; printf "%.0f %.0f %s %s %s\n", s, s + last / 1e6, lab, net, d }' "$t"
  done
}
# Labs that lived at the same time must differ in name and subnet; says how many overlapped.
no_collision() { # no_collision DIR WHAT
  labs "$1" >"$work/labs"
  local overlaps
  overlaps=$(awk '{ s[NR] = $1; e[NR] = $2; l[NR] = $3; n[NR] = $4 }
    END { o = 0; for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
            if (s[i] < e[j] && s[j] < e[i]) { o++; if (l[i] == l[j] || n[i] == n[j]) { print "COLLISION", l[i], n[i], l[j], n[j]; exit 1 } }
          print o }' "$work/labs")
  if [ $? -eq 0 ] && [ "${overlaps:-0}" -ge 1 ]; then
    ok "$2: $overlaps pairs of labs lived at once, each pair with two names and two subnets"
  else bad "$2: $overlaps"; sed 's/^/  | /' "$work/labs"; fi
  # the labs of -j children are cd-CHILDPID-N: ours, for the leftover check
  sed -n 's/.* cd-\([0-9]*\)-[0-9]* .*/\1/p' "$work/labs" >>"$work/pids"
}

# 1. -j 2: four drills, two at a time; a gc while the first two run.
"$cd_bin" run -j 2 --out "$work/runs-j" --junit "$work/j.xml" "${files[@]}" >"$work/out-j" 2>&1 &
pj=$!
sleep 3
"$cd_bin" gc >"$work/gc-j" 2>&1 || bad "gc during -j 2: $(cat "$work/gc-j")"
wait "$pj"; rc=$?
live=$(sed -n 's/.*lab \(cd-[0-9]*-[0-9]*\) up.*/\1/p' "$work/out-j")
touched=$(for l in $live; do grep -F "$l" "$work/gc-j"; done)
[ -n "$live" ] && [ -z "$touched" ] && ok "gc during -j 2 left its labs alone" || bad "gc touched labs of -j 2: $touched"
[ "$rc" -eq 1 ] && ok "-j 2 exits 1, the worst of 0, 0, 0, 1" || { bad "-j 2: exit $rc, want 1"; sed 's/^/  | /' "$work/out-j"; }
valid "$work/j.xml" "-j 2"
for n in $names; do
  grep -q "^\[$n\] $n: $([ "$(want "$n")" = 0 ] && echo PASS || echo FAIL) (exit $(want "$n"))\$" "$work/out-j" &&
    ok "$n: its verdict line, prefixed" || bad "$n: no verdict line '[$n] $n: ... (exit $(want "$n"))'"
done
# every line is whole: a known prefix once, or the call's own summary lines
stray=$(grep -v -E "^\[(kvlog-demo|kvlog-torn-tail|kvlog-crash-restart|kvlog-demo-unsafe)\] |^chaosdrill: 4 drills with -j 2 in |^  kvlog-" "$work/out-j" | head -3)
mixed=$(grep -E "^\[[^]]*\] .*\[(kvlog-demo|kvlog-torn-tail|kvlog-crash-restart|kvlog-demo-unsafe)\] " "$work/out-j" | head -3)
[ -z "$stray$mixed" ] && ok "output lines whole and prefixed, never mixed" || bad "mixed or unprefixed lines: $stray $mixed"
grep -q "chaosdrill: 4 drills with -j 2 in .*: 3 passed, 1 failed, 0 could not run" "$work/out-j" &&
  ok "summary: 3 passed, 1 failed" || bad "no summary line"
[ "$(grep -c '<testsuite ' "$work/j.xml")" -eq 4 ] && ok "JUnit has the 4 suites" || bad "JUnit lacks suites"
idx=$work/runs-j/index.html
if [ -f "$idx" ]; then
  links=$(grep -o 'href="[^"]*"' "$idx" | sed 's/href="//; s/"$//')
  nl=$(echo "$links" | grep -c report.html)
  missing=$(for l in $links; do [ -f "$work/runs-j/$l" ] || echo "$l"; done)
  [ "$nl" -eq 4 ] && [ -z "$missing" ] && ok "index.html links the 4 reports, all there" || bad "index.html: $nl links, missing: $missing"
  grep -q "http" "$idx" && bad "index.html fetches something" || ok "index.html is self-contained"
else bad "no index.html in --out"; fi
no_collision "$work/runs-j" "-j 2"

# 2. Two serial calls at once (the two shards), gc while both run.
"$cd_bin" run --shard 1/2 --out "$work/runs-s" --junit "$work/s1.xml" "${files[@]}" >"$work/out-s1" 2>&1 &
p1=$!
"$cd_bin" run --shard 2/2 --out "$work/runs-s" --junit "$work/s2.xml" "${files[@]}" >"$work/out-s2" 2>&1 &
p2=$!
sleep 3
"$cd_bin" gc >"$work/gc" 2>&1; grc=$?
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?
[ "$grc" -eq 0 ] && ok "gc in the middle exits 0" || bad "gc: exit $grc: $(cat "$work/gc")"
live=$(sed -n 's/.*lab \(cd-[0-9]*-[0-9]*\) up.*/\1/p' "$work/out-s1" "$work/out-s2")
touched=$(for l in $live; do grep -F "$l" "$work/gc"; done)
[ -n "$live" ] && [ -z "$touched" ] && ok "gc left the live labs alone ($(echo $live))" || bad "gc touched live labs: $touched"
# shard 1/2 of the sorted names: kvlog-crash-restart, kvlog-demo-unsafe; 2/2: kvlog-demo, kvlog-torn-tail
[ "$rc1" -eq 1 ] && [ "$rc2" -eq 0 ] && ok "shards exit 1 and 0" || { bad "shards: exit $rc1 and $rc2, want 1 and 0"; sed 's/^/  | /' "$work/out-s1" "$work/out-s2"; }
grep -q "shard 1/2: 2 drills" "$work/out-s1" && grep -q "shard 2/2: 2 drills" "$work/out-s2" && ok "two drills in each shard" || bad "shard sizes"
valid "$work/s1.xml" "shard 1/2"
valid "$work/s2.xml" "shard 2/2"
"$cd_bin" junit-merge "$work/merged.xml" "$work/s1.xml" "$work/s2.xml" >"$work/out-m" 2>&1 &&
  ok "junit-merge exits 0" || bad "junit-merge: $(cat "$work/out-m")"
valid "$work/merged.xml" "merged shards"
codes "$work/j.xml" >"$work/codes-j"
codes "$work/merged.xml" >"$work/codes-s"
for n in $names; do echo "$n $(want "$n")"; done | sort >"$work/codes-want"
if diff "$work/codes-want" "$work/codes-j" >/dev/null && diff "$work/codes-j" "$work/codes-s" >/dev/null; then
  ok "each drill's verdict under -j 2 is its serial one: $(paste -sd, "$work/codes-j")"
else bad "verdicts differ: want / -j / serial:"; paste "$work/codes-want" "$work/codes-j" "$work/codes-s" | sed 's/^/  | /'; fi
no_collision "$work/runs-s" "two concurrent calls"
"$cd_bin" junit-merge "$work/bad.xml" "$work/s1.xml" "$work/demo-unsafe.yaml" >/dev/null 2>"$work/err-m"
[ $? -eq 2 ] && grep -q "demo-unsafe.yaml is not JUnit XML" "$work/err-m" && ok "junit-merge refuses a file that is not JUnit (exit 2)" ||
  bad "junit-merge of a YAML file: $(cat "$work/err-m")"
"$cd_bin" run --shard 3/2 scenarios/demo.yaml >/dev/null 2>&1
[ $? -eq 2 ] && ok "--shard 3/2 is bad input" || bad "--shard 3/2 not refused"

# 3. SIGINT of a -j call: every running drill writes its reports and tears its lab down.
"$cd_bin" run -j 2 --out "$work/runs-i" --junit "$work/i.xml" scenarios/demo.yaml scenarios/kvlog-crash-restart.yaml \
  "$work/demo-unsafe.yaml" >"$work/out-i" 2>&1 &
pi=$!
sleep 2.5
kill -INT "$pi"
wait "$pi"; rc=$?
[ "$rc" -eq 3 ] && ok "SIGINT of -j 2: exit 3" || { bad "SIGINT of -j 2: exit $rc, want 3"; sed 's/^/  | /' "$work/out-i"; }
n_err=$(grep -l '"verdict": "error"' "$work"/runs-i/*/result.json 2>/dev/null | wc -l)
[ "$n_err" -eq 2 ] && ok "both running drills wrote result.json saying error" || bad "$n_err result.json files say error, want 2"
grep -q "kvlog-demo-unsafe .*not started: the call was interrupted" "$work/out-i" && ok "the third was not started, and says so" || bad "no word of the drill not started"
valid "$work/i.xml" "after SIGINT"
[ "$(grep -c 'interrupted' "$work/i.xml")" -ge 3 ] && ok "JUnit says interrupted for all three" || bad "JUnit after SIGINT lacks 'interrupted'"
no_collision "$work/runs-i" "-j 2 interrupted"

check_clean "$work/before" "-j 2, two concurrent calls, gc and SIGINT"
finish
