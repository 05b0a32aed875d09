#!/usr/bin/env bash
# The SQLite target (targets/sqlite: sqlite-node through the C adapter line-relay) in real
# drills: a power cut loses nothing acknowledged in WAL mode with synchronous=full and
# fails RPO, naming the lost writes, with synchronous=off; a write to kv.db torn in the
# middle of a transaction, then kill -9, corrupts nothing with WAL or a rollback journal and
# fails integrity with journal=off.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse: the power cut needs the fault file system (FUSE)"; exit 77; }
bin=$(dirname "$real_cd_bin")/../targets/sqlite
[ -x "$bin/sqlite-node" ] && [ -x "$bin/line-relay" ] || { echo "SKIP: the SQLite target is not built ($bin)"; exit 77; }
snapshot >"$work/before"

expect_re() { # expect_re REGEX: the last drill's output has a line matching REGEX
	if grep -qE -- "$1" "$work/out"; then ok "says /$1/"; else bad "output lacks /$1/"; sed 's/^/  | /' "$work/out"; fi
}

drill 0 scenarios/sqlite-power-loss.yaml
expect_out "killed the node, then power-cut keep=none on n1: ok"
expect_re "rpo <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "integrity +ok +[0-9]+ values intact; checker passed on every node"
# SQLite never syncs: the cut takes what the page cache held, acknowledged or not.
drill 1 scenarios/sqlite-power-loss.yaml --param synchronous=off
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"

# The safe journals: the torn write really happened, and nothing shows it afterwards.
drill 0 scenarios/sqlite-torn-txn.yaml
expect_re "syscall fault on n1 \(seccomp\): torn pwrite64 of kv.db .* node killed"
expect_re "rpo <= 0 +ok +0 of"
expect_re "integrity +ok +[0-9]+ values intact; checker passed on every node"
drill 0 scenarios/sqlite-torn-txn.yaml --param journal=delete
expect_re "torn pwrite64 of kv.db .* node killed"
expect_re "integrity +ok"
# No journal: the cut leaves the b-tree half written. Mostly SQLite refuses the file
# (sqlite-check exits 1); where the torn page was the transaction's last, its row reads
# back corrupt. Either is an integrity failure; which one is in the JUnit report.
drill 1 scenarios/sqlite-torn-txn.yaml --param journal=off
expect_re "torn pwrite64 of kv.db .* node killed"
expect_re "integrity +FAIL integrity violated"
if grep -q "sqlite-check on n1: exit 1" "$work/junit.xml"; then
	ok "sqlite-check failed: $(grep -o 'sqlite-check: [^<]*' "$work/junit.xml" | head -1)"
	# the verdict line itself says why, not only the JUnit report's details
	expect_re "integrity +FAIL integrity violated: .*sqlite-check on n1: exit 1: .*malformed"
elif grep -q "corrupt value at key" "$work/out"; then
	ok "the torn row reads back corrupt: $(grep -o 'corrupt value at key [^)]*' "$work/out" | head -1)"
else
	bad "journal=off failed integrity, but neither sqlite-check nor a corrupt value says why"
fi

check_clean "$work/before" "the SQLite drills"
finish
