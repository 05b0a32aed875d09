#!/usr/bin/env bash
# The platform runbook's PostgreSQL drills (scenarios/eriop-pg-*.yaml, issue 17) on a real
# PostgreSQL 15 through pg-adapter (libpq pipeline mode): each safe drill passes and each
# fails against the unsafe variant it exists to catch (synchronous_commit=off under kill
# -9, fsync=off under a power cut, an asynchronous standby where the drill wants a
# synchronous one); the runbook's steps that fail as written fail with PostgreSQL's (or the
# shell's) words, and the corrected drills pass; what the restore and the reset WAL lose is
# checked against the ledger.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
pgbin=/usr/lib/postgresql/15/bin
for p in postgres initdb pg_ctl pg_isready psql pg_dump pg_restore pg_resetwal pg_amcheck pg_checksums pg_basebackup; do
  [ -x "$pgbin/$p" ] || { echo "SKIP: $pgbin/$p is missing (scripts/install-deps.sh: postgresql)"; exit 77; }
done
id postgres >/dev/null 2>&1 || { echo "SKIP: no user postgres (Debian's postgresql package makes it)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse: the power cut needs the fault file system (FUSE)"; exit 77; }
bin=$(dirname "$real_cd_bin")/../targets/postgres
[ -x "$bin/pg-adapter" ] || { echo "SKIP: pg-adapter is not built ($bin)"; exit 77; }
snapshot >"$work/before"
last_run() { ls -td "$work"/runs/"$1"-*/ | head -1; }
expect_re() { # expect_re REGEX: the last drill's output has a line matching REGEX
  if grep -qE -- "$1" "$work/out"; then ok "says /$1/"; else bad "output lacks /$1/"; sed 's/^/  | /' "$work/out"; fi
}
junit_has() { # junit_has RUN_DIR TEXT
  if python3 -c 'import html,sys; sys.exit(sys.argv[2] not in html.unescape(open(sys.argv[1]).read()))' "$1/junit.xml" "$2"
  then ok "junit says '$2'"; else bad "junit of $1 lacks '$2'"; fi
}
lost() { sed -n 's/.*rpo <= [^ ]* *\(ok\|FAIL\) *\([0-9]*\) of .*/\2/p' "$work/out" | head -1; }
# lost_after_first_step RUN_DIR LOST: the writes lost are those acknowledged after the first
# step started (the backup, the checkpoint) and before the fault, plus at most those in
# flight while that step ran
lost_after_first_step() {
  local rd=$1 n=$2 s e f after during
  s=$(grep -m1 '"event":"step_started"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
  e=$(grep -m1 '"event":"step_ended"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
  f=$(grep -m1 '"event":"fault_injected"' "$rd/timeline.jsonl" | sed 's/.*"t_ns":\([0-9]*\).*/\1/')
  read -r after during <<<"$(awk -v s="$s" -v e="$e" -v f="$f" '
    $5 == "ok" && $2 > e && $3 < f { a++ } $5 == "ok" && $2 <= e && $3 >= s { d++ }
    END { print a + 0, d + 0 }' "$rd/ledger")"
  if [ -n "$n" ] && [ "$n" -ge "$after" ] && [ "$n" -le $((after + during + 4)) ] && [ "$after" -gt 100 ]; then
    ok "lost $n writes: the $after acknowledged after the step (+ at most the $during in flight during it)"
  else bad "lost '$n' writes; $after acknowledged after the step, $during during it"; fi
}

# kill -9 (Complete Infrastructure Failure): synchronous_commit=on loses nothing; off loses
# the commits still in the WAL buffers (shared memory dies with the server)
drill 0 scenarios/eriop-pg-crash.yaml
expect_re "rpo <= 0 +ok +0 of [0-9]+ acknowledged writes lost"
expect_re "integrity +ok +[0-9]+ values intact; checker passed on every node"
expect_out "check-online on n1     ok"
drill 1 scenarios/eriop-pg-crash.yaml --param synchronous_commit=off
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"

# power cut: fsync=on loses nothing; fsync=off loses what was acknowledged since the start
drill 0 scenarios/eriop-pg-power-loss.yaml
expect_out "power-cut keep=none on n1: ok"
expect_re "rpo <= 0 +ok +0 of"
expect_re "integrity +ok"
drill 1 scenarios/eriop-pg-power-loss.yaml --param fsync=off
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w1, w2, "

# WAL corruption: the runbook's pg_resetwal (no -f) refuses; -f brings the server back and
# loses the commits after the checkpoint
drill 1 scenarios/eriop-pg-wal-corruption.yaml
junit_has "$(last_run eriop-pg-wal-corruption)" "docker compose logs postgres - the database won't start"
expect_re "pg_resetwal /var/lib/postgresql/data \(as written\) FAIL exec .*pg_resetwal on n1: exit 1, expected 0: If you want to proceed anyway, use -f to force reset."
if grep -qF "The database server was not shut down cleanly" "$(last_run eriop-pg-wal-corruption)/junit.xml"; then
  ok "junit has pg_resetwal's reason: not shut down cleanly"
else bad "junit lacks pg_resetwal's 'not shut down cleanly'"; fi
if grep -qF "PANIC:  could not locate a valid checkpoint record" "$(last_run eriop-pg-wal-corruption)/junit.xml"; then
  ok "junit has the symptom: PANIC could not locate a valid checkpoint record"
else bad "junit lacks the PANIC"; fi
drill 0 scenarios/eriop-pg-wal-corruption-resetwal-f.yaml
expect_re "rpo <= 3600.000s +ok +[0-9]+ of [0-9]+ acknowledged writes lost: w"
expect_out "check-online on n1     ok"
lost_after_first_step "$(last_run eriop-pg-wal-corruption-resetwal-f)" "$(lost)"

# a WAL record after the checkpoint rots: the server starts all the same, the later commits
# are silently gone (a LOG line is all PostgreSQL says); with rpo: 0 the drill fails
drill 0 scenarios/eriop-pg-wal-bitrot.yaml
expect_re "rpo <= 3600.000s +ok +[1-9][0-9]* of [0-9]+ acknowledged writes lost: w"
if grep -qF "LOG:  incorrect resource manager data checksum in record at" "$(last_run eriop-pg-wal-bitrot)/nodes/n1/stderr.log"; then
  ok "PostgreSQL took the rotted record for the end of the WAL (a LOG line, no error)"
else bad "the server log lacks 'incorrect resource manager data checksum'"; fi
sed 's/^  rpo: 1h .*/  rpo: 0/' scenarios/eriop-pg-wal-bitrot.yaml >"$work/wal-bitrot-rpo0.yaml"
drill 1 "$work/wal-bitrot-rpo0.yaml"
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"

# restore from backup: as written (no such file), psql on the custom-format dump, pg_restore
drill 1 scenarios/eriop-pg-restore.yaml
expect_re "restore from backup: psql -U eriop < /backups/latest_backup.sql \(as written\) FAIL .*cannot open /tmp/backups/latest_backup.sql: No such file"
drill 1 scenarios/eriop-pg-restore-psql.yaml
expect_re "FAIL exec sh on n1: exit 1, expected 0: Use the pg_restore command-line client to restore this dump to a database."
if grep -qF "The input is a PostgreSQL custom-format dump." "$(last_run eriop-pg-restore-psql)/junit.xml"; then
  ok "junit has psql's refusal of the custom-format dump"
else bad "junit lacks psql's refusal"; fi
drill 0 scenarios/eriop-pg-restore-pg-restore.yaml
expect_re "rpo <= 3600.000s +ok +[0-9]+ of [0-9]+ acknowledged writes lost: w"
lost_after_first_step "$(last_run eriop-pg-restore-pg-restore)" "$(lost)"

# primary cut off, standby promoted: sync loses nothing; made async (the unsafe variant), it loses
drill 0 scenarios/eriop-pg-failover-sync.yaml
expect_out "leader is p1 (its leader probe passed)"
expect_out "p1 drops s1; s1 drops p1"
expect_re "rpo <= 0 +ok +0 of"
drill 1 scenarios/eriop-pg-failover-sync.yaml --param synchronous_standby_names=
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"
drill 0 scenarios/eriop-pg-failover-async.yaml
# the writes lost were acknowledged by the cut-off primary after the cut, or within a
# shipping lag before it (the window, milliseconds)
expect_re "rpo <= 3600.000s +ok +[1-9][0-9]* of [0-9]+ acknowledged writes lost: w.* \(window [0-9]+ms\)"
sed 's/^  rpo: 1h .*/  rpo: 0/' scenarios/eriop-pg-failover-async.yaml >"$work/failover-async-rpo0.yaml"
drill 1 "$work/failover-async-rpo0.yaml"
expect_re "rpo <= 0 +FAIL [0-9]+ of [0-9]+ acknowledged writes lost: w"

check_clean "$work/before" "the PostgreSQL drills"
finish
