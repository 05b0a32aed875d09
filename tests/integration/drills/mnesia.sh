#!/usr/bin/env bash
# The Mnesia target (targets/mnesia: Erlang nodes running cdmnesia, line-relay as the
# adapter) in the messaging runbooks' drills (scenarios/iris-*.yaml): a core kill and a
# complete cluster failure lose nothing and load their tables in well under the runbook's
# "sleep 10"; a split brain recovered as the runbook says (master by table size) loses the
# other side's acknowledged writes, named, and with majority checking loses nothing; a
# restore from backup loses the window since the backup, and the runbook's backup line as
# written writes a file literally named mnesia_$(date +%Y%m%d).bak and the restore fails;
# a kill -9 of a lone node loses nothing with ack=sync and fails RPO with ack=commit;
# a power cut loses nothing with ack=sync and fails RPO with ack=sync-log and ack=commit.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
command -v erl >/dev/null || { echo "SKIP: no erl (Debian's erlang-base and erlang-mnesia): the Mnesia target needs Erlang/OTP"; exit 77; }
[ -x /usr/lib/erlang/bin/erl_call ] || command -v erl_call >/dev/null || { echo "SKIP: no erl_call (erlang-base)"; exit 77; }
erl -noshell -eval 'case code:which(mnesia) of non_existing -> halt(1); _ -> halt(0) end.' ||
	{ echo "SKIP: Erlang has no Mnesia (Debian's erlang-mnesia)"; exit 77; }
tbin=$(dirname "$real_cd_bin")/../targets
[ -f "$tbin/mnesia/cdmnesia.beam" ] && [ -x "$tbin/sqlite/line-relay" ] ||
	{ echo "SKIP: the Mnesia target is not built ($tbin/mnesia/cdmnesia.beam, $tbin/sqlite/line-relay)"; exit 77; }
snapshot >"$work/before"

expect_re() { # expect_re REGEX: the last drill's output has a line matching REGEX
	if grep -qE -- "$1" "$work/out"; then ok "says /$1/"; else bad "output lacks /$1/"; sed 's/^/  | /' "$work/out"; fi
}
junit_re() { # junit_re REGEX: the last drill's JUnit report (steps' output) matches REGEX
	if grep -qE -- "$1" "$work/junit.xml"; then ok "report says /$1/"; else bad "report lacks /$1/"; fi
}
agree() { # check-online passed on every node: their copies of kv are the same
	if grep -qE 'check-online on .* FAIL' "$work/out"; then bad "check-online failed"; sed 's/^/  | /' "$work/out"
	elif grep -qE 'check-online on .* ok' "$work/out"; then ok "check-online: every node holds the same kv"
	else bad "no check-online verdict"; fi
}
# diverges FILE: with majority=false the replicas differ after a coordinator kill in about
# half the runs here (11 of 19; 0 of 8 once in CI): a race in Mnesia, not a verdict of the
# drill's (the drill's unsafe variants that must fail are ack=commit and ack=sync-log under
# the power cut, below). Up to 5 tries to see it; when it shows, check-online must name the
# missing write and fail; when it does not, the test says so (a note, not a pass).
diverges() {
	local i div=0
	for i in 1 2 3 4 5; do
		"$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" --param majority=false "$1" >"$work/out" 2>&1
		if grep -q "missing on chaosdrill@" "$work/junit.xml"; then div=$i; break; fi
	done
	if [ $div -gt 0 ]; then
		ok "$(basename "$1") majority=false: the replicas diverged (run $div): $(grep -o 'w[0-9]* missing on [^<]*' "$work/junit.xml" | head -1)"
		expect_re "check-online on .* FAIL"
		show "rpo"
	else echo "# note: $(basename "$1") majority=false: the replicas agreed in 5 runs of 5 (the race did not show; nothing checked)"; fi
}
show() { grep -E -- "$1" "$work/out" | sed 's/^/  > /'; }

# Single core node failure: the runbook's "sleep 10" is a probe; its duration is the load.
drill 0 scenarios/iris-edge-failure.yaml
agree
expect_re "rpo <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
show "rto|rpo"
# (without majority this drill too can leave the replicas different and lose a write the
# restarted edge acknowledged, but in 5 runs of 12 only: too rare to assert here)
drill 0 scenarios/iris-core-failure.yaml
agree
expect_re "rpo <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "integrity +ok"
load=$(sed -n 's/.*step 2 wait ok (\([^)]*\)).*/\1/p' "$work/out")
echo "  core's table load after kill -9 and restart: $load (the runbook sleeps 10s)"
show "rto|rpo"
junit_re "where kv is read from: \{ok, \{\[[a-z, ]*\], &apos;chaosdrill@"
diverges scenarios/iris-core-failure.yaml

# Complete cluster failure, core first: the runbook's check passes while kv is not loaded.
drill 0 scenarios/iris-cluster-failure.yaml
agree
expect_re "rto <= 300.000s +ok +RTO"
expect_re "rpo <= 0 +ok +0 of"
junit_re "kv is listed but NOT loaded"
show "rto|rpo|step"

# Split brain as the runbook says: the master by table size is the minority's edge2.
drill 1 scenarios/iris-split-brain.yaml
agree
expect_re "step 1 wait ok"
junit_re "inconsistent_database|running_partitioned_network"
junit_re "the runbook&apos;s master \(largest\): edge2"
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w[0-9]+, w"
show "rpo"
grep -o 'table_info(kv, size):[^<]*' "$work/junit.xml" | sed 's/^/  > /'
# The lost writes are the core's: every one named was written by client 0 (the core's), and
# their count is that of the core's acknowledgements from the partition to the core's stop
# (give or take a few at the partition's start: acknowledged just before the cut, or
# in flight across it).
rd=$(ls -td "$work"/runs/iris-split-brain-*/ | head -1)
lost=$(sed -n 's/.*rpo <= 0 *FAIL \([0-9]*\) of.*/\1/p' "$work/out")
fault=$(grep -m1 '"event":"fault_injected"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
stop=$(grep '"event":"step_started"' "$rd/timeline.jsonl" | grep '"detail":"shutdown"' | head -1 | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
core=$(awk -v f="$fault" -v s="$stop" '$5 == "ok" && $4 == 0 && $3 > f && $3 < s { n++ } END { print n + 0 }' "$rd/ledger")
named=$(sed -n 's/.*acknowledged writes lost: \(.*\), \.\.\..*/\1/p' "$work/out" | tr -d 'w ' | tr , '\n')
others=$(for id in $named; do awk -v i="$id" '$1 == i && $4 != 0' "$rd/ledger"; done | wc -l)
if [ -n "$lost" ] && [ "$lost" -le $((core + 10)) ] && [ "$lost" -ge $((core - 10)) ] && [ "$others" -eq 0 ] && [ -n "$named" ]; then
	ok "lost $lost writes: the core's ($core acknowledged by the core from the partition to its stop); every one named is the core client's"
else bad "lost '$lost', the core acknowledged $core from the partition to its stop, $others named writes from edge2's clients"; fi
# With majority checking the minority refuses, and nothing acknowledged is lost.
drill 0 scenarios/iris-split-brain-majority.yaml
agree
expect_re "rpo <= 0 +ok +0 of"
expect_re "integrity +ok"
show "rpo|progress"

# Restore from backup: the window since the backup; the runbook's line as written.
drill 0 scenarios/iris-restore-backup.yaml
agree
expect_re "rpo <= 2.000s +ok +[0-9]+ of [0-9]+ acknowledged writes lost: w.*window 1\.[0-9]+s"
show "rpo|rto"
drill 1 scenarios/iris-restore-backup-as-written.yaml
junit_re 'mnesia_\$\(date \+%Y%m%d\)\.bak'
expect_re "mnesia:restore\(.*mnesia_[0-9]{8}\.bak.*\{aborted, enoent\}"
grep -o '[^>]*mnesia_\$(date +%Y%m%d).bak' "$work/junit.xml" | head -1 | sed 's/^/  > really written: /'

# kill -9 of a lone node: a committed transaction is not even in the kernel yet (alog and
# disk_log's cache): ack=commit loses writes without any power cut, ack=sync nothing.
drill 0 scenarios/iris-node-crash.yaml
expect_re "rpo <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
drill 1 scenarios/iris-node-crash.yaml --param ack=commit
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"
show "rpo"
# ram_copies: a lone node keeps nothing across a kill
drill 1 scenarios/iris-node-crash.yaml --param copies=ram_copies
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w1, w2, w3"

# Power loss: ack=sync passes, sync_log alone and ack-at-commit lose acknowledged writes.
if [ -c /dev/fuse ]; then
	drill 0 scenarios/iris-power-loss.yaml
	expect_re "rpo <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
	drill 1 scenarios/iris-power-loss.yaml --param ack=sync-log
	expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"
	show "rpo"
	drill 1 scenarios/iris-power-loss.yaml --param ack=commit
	expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"
	show "rpo"
else
	echo "SKIP (part): no /dev/fuse: the power-cut drills need the fault file system"
fi

check_clean "$work/before" "the Mnesia drills"
finish
