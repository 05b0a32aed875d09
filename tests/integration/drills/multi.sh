#!/usr/bin/env bash
# A drill holding nodes of two targets (scenarios/platform-power-loss.yaml: a kvlog node and
# a SQLite node whose power is cut at once, then restarted): each target has its own
# workload, ledger, final read and verdicts, named after it on stdout and in the JUnit
# report; an unsafe setting of one target (kvlog sync=never, then SQLite synchronous=off)
# fails that target's rpo while the other's passes, and the drill exits 1.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse: the power cut needs the fault file system (FUSE)"; exit 77; }
bin=$(dirname "$real_cd_bin")/../targets/sqlite
[ -x "$bin/sqlite-node" ] && [ -x "$bin/line-relay" ] || { echo "SKIP: the SQLite target is not built ($bin)"; exit 77; }
snapshot >"$work/before"
f=scenarios/platform-power-loss.yaml

expect_re() { # expect_re REGEX: the last drill's output has a line matching REGEX
	if grep -qE -- "$1" "$work/out"; then ok "says /$1/"; else bad "output lacks /$1/"; sed 's/^/  | /' "$work/out"; fi
}
# junit_case NAME WANT: the testcase NAME of the last drill has WANT (0 or 1) <failure>s
junit_case() {
	local n
	n=$("$xmllint" --xpath "count(//testcase[@name='$1']/failure)" "$work/junit.xml" 2>/dev/null)
	if ! "$xmllint" --xpath "//testcase[@name='$1']" "$work/junit.xml" >/dev/null 2>&1; then
		bad "junit has no testcase '$1'"
	elif [ "$n" = "$2" ]; then ok "junit: '$1' has $2 failure(s)"
	else bad "junit: '$1' has $n failure(s), want $2"; fi
}
junit_prop() { # junit_prop NAME REGEX: a property NAME of the last drill matches REGEX
	local v
	v=$("$xmllint" --xpath "string(//testsuite/properties/property[@name='$1']/@value)" "$work/junit.xml" 2>/dev/null)
	if [[ $v =~ $2 ]]; then ok "junit: $1=$v"; else bad "junit: $1='$v', want /$2/"; fi
}
run_dir() { sed -n 's/^  run directory: //p' "$work/out"; }

drill 0 "$f"
expect_out "chaosdrill: drill platform-power-loss (targets kvlog, sqlite,"
expect_re "steady state \[kvlog\]: 300 writes/s from 2 clients to db1"
expect_re "steady state \[sqlite\]: 200 writes/s from 2 clients to cache1"
expect_re "killed the node, then power-cut keep=none on db1: ok"
expect_re "killed the node, then power-cut keep=none on cache1: ok"
expect_re "rto \[kvlog\] <= 2.000s +ok +RTO"
expect_re "rpo \[kvlog\] <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "integrity \[kvlog\] +ok +[0-9]+ values intact"
expect_re "rto \[sqlite\] <= 3.000s +ok +RTO" # its own expect: overrides the drill's rto
expect_re "rpo \[sqlite\] <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "integrity \[sqlite\] +ok +[0-9]+ values intact"
expect_re "^platform-power-loss: PASS \(exit 0\)"
junit_case "rpo [kvlog] <= 0" 0
junit_case "rpo [sqlite] <= 0" 0
junit_prop kvlog.rpo_lost_writes '^0$'
junit_prop sqlite.rpo_lost_writes '^0$'
junit_prop kvlog.acknowledged '^[1-9][0-9]+$'
junit_prop sqlite.acknowledged '^[1-9][0-9]+$'
d=$(run_dir)
if [ -s "$d/ledger.kvlog" ] && [ -s "$d/ledger.sqlite" ] && [ ! -e "$d/ledger" ]; then ok "one ledger per target"
else bad "run directory $d lacks ledger.kvlog and ledger.sqlite: $(ls "$d" 2>&1)"; fi
if grep -q '"\[kvlog\] 300/s from 2 clients"' "$d/timeline.jsonl" &&
   grep -q '"\[sqlite\] [0-9]* keys in' "$d/timeline.jsonl"; then ok "timeline events name their target"
else bad "timeline events do not name their target"; grep -E 'steady|final' "$d/timeline.jsonl" | sed 's/^/  | /'; fi
if grep -q '"kvlog.rpo_lost_writes": 0,' "$d/result.json" && grep -q '"sqlite.rpo_lost_writes": 0,' "$d/result.json"; then ok "result.json names each target's figures"
else bad "result.json lacks kvlog.rpo_lost_writes and sqlite.rpo_lost_writes"; fi

# kvlog never syncs: its acknowledged writes go with the power; SQLite's stay.
drill 1 "$f" --param kvlog.sync=never
expect_re "rpo \[kvlog\] <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"
expect_re "rpo \[sqlite\] <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "^platform-power-loss: FAIL \(exit 1\)"
junit_case "rpo [kvlog] <= 0" 1
junit_case "rpo [sqlite] <= 0" 0
junit_prop kvlog.rpo_lost_writes '^[1-9]'
junit_prop sqlite.rpo_lost_writes '^0$'
if grep -q '^# --param kvlog.sync=never$' "$(run_dir)/scenario.yaml"; then ok "scenario.yaml keeps --param kvlog.sync=never"
else bad "scenario.yaml lacks '# --param kvlog.sync=never'"; fi

# The other way round: SQLite without fsync loses, kvlog does not.
drill 1 "$f" --param sqlite.synchronous=off
expect_re "rpo \[kvlog\] <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "rpo \[sqlite\] <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"
junit_case "rpo [kvlog] <= 0" 0
junit_case "rpo [sqlite] <= 0" 1

# One target without a workload: its rto from the fault to ready, its checker on its own;
# the other's writes never suffered from a fault on that node (no casualty).
drill 0 tests/fixtures/scenarios/multi-mixed.yaml
expect_re "rto \[kvlog\] <= 2.000s +ok +RTO 0ms <= target 2.000s \(no casualty\)"
expect_re "rpo \[kvlog\] <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "rto \[sqlite\] <= 2.000s +ok +RTO [0-9.]+m?s <= target 2.000s \(no workload: from the fault to ready\)"
expect_re "check on c1 +ok"
if grep -qE "bin=[^ ]*/targets/sqlite nodes=c1=[0-9.]+:[0-9]+ db1=[0-9.]+:[0-9]+" "$work/junit.xml"; then
	ok "a step on c1: {bin} and {nodes} of sqlite, {db1.hostport} across targets"
else bad "the exec step's output: $(grep -o 'bin=[^<]*' "$work/junit.xml")"; fi

# A param no target declares is bad input, before any lab.
"$cd_bin" run --out "$work/runs" "$f" --param nosuch=1 >"$work/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ]; then ok "--param nosuch=1 exits 2"; else bad "--param nosuch=1: exit $rc, want 2"; fi
expect_re "no target of the drill \(kvlog, sqlite\) has a param 'nosuch'"

check_clean "$work/before" "the drills of two targets"
finish
