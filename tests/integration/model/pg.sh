#!/usr/bin/env bash
# PostgreSQL as a target with no wrapper script (tests/fixtures/targets/pgtest): the real
# server binary runs as user postgres (user:), its cluster made by initdb (init:) on the
# fresh data dir; a drill kills it with -9, restarts it and waits until it is ready.
# Skips (77) when PostgreSQL is not installed (scripts/install-deps.sh installs it).
set -u
. "$(dirname "$0")/../drills/lib.sh"
cd "$src"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "SKIP: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres; Debian: postgresql)"; exit 77
fi
if ! id postgres >/dev/null 2>&1; then echo "SKIP: no user postgres on this machine"; exit 77; fi
export CHAOSDRILL_TARGETS=$src/tests/fixtures/targets
fx=tests/fixtures/scenarios/pg
snapshot >"$work/before"

# timeline_has TEXT: the last drill's timeline holds TEXT
timeline_has() {
  local tl
  tl=$(ls -td "$work"/runs/*/ | head -1)timeline.jsonl
  if grep -qF -- "$1" "$tl"; then ok "timeline: $1"; else bad "timeline lacks '$1'"; sed 's/^/  | /' "$tl"; fi
}

drill 0 $fx/pg-kill-restart.yaml --param pgbin="$pgbin"
expect_out "(no workload: from the fault to ready)"
expect_out "check-online on n1     ok   $pgbin/psql passed on n1"
expect_out "check on n1            ok   $pgbin/pg_controldata passed on n1"
timeline_has '"detail":"data dir owned by user postgres'
timeline_has "init $pgbin/initdb ok as user postgres"
timeline_has '"event":"node_started","node":"n1","status":1,"detail":"pid '
timeline_has '"event":"node_started","node":"n1","status":2,"detail":"pid '
timeline_has 'as user postgres"'
timeline_has '"event":"fault_injected","index":0,"node":"n1","status":0,"detail":"SIGKILL'
run=$(ls -td "$work"/runs/*/ | head -1)
# the server really ran as postgres, and its data is postgres's
grep -q "database system is ready to accept connections" "$run/nodes/n1/stderr.log" &&
  ok "postgres started" || bad "postgres never said it was ready"
[ "$(stat -c %U "$run/data/n1/PG_VERSION")" = postgres ] && ok "data owned by postgres" ||
  bad "PG_VERSION owned by $(stat -c %U "$run/data/n1/PG_VERSION")"
grep -q "database system was interrupted\|was not properly shut down" "$run/nodes/n1/stderr.log" &&
  ok "the restart recovered from the kill" || bad "no crash recovery in the second start's log"
# argv[0] of every command the target runs is a PostgreSQL binary: no shell, no script
if grep -E '^ *(start|init|ready|check|check-online):' tests/fixtures/targets/pgtest/target.yaml |
  grep -vq '\["{pgbin}/'; then bad "pgtest runs something else than PostgreSQL's binaries"
else ok "no wrapper script: every argv[0] is {pgbin}/..."; fi

# The node steps on the real server: reload (HUP), clean shutdown (SIGTERM, exit 0), one
# incarnation with fsync=off (psql says so), kill, and a plain restart back to fsync=on.
drill 0 $fx/pg-steps.yaml --param pgbin="$pgbin"
expect_out "step 3 signal ok"
expect_out "step 4 shutdown ok"
expect_out "stopped by SIGTERM after"
expect_out "exited with 0"
expect_out "params fsync=off"
expect_out "step 7 exec ok"
expect_out "step 8 kill ok"
expect_out "step 11 exec ok"
run=$(ls -td "$work"/runs/*/ | head -1)
grep -q "received SIGHUP, reloading configuration files" "$run/nodes/n1/stderr.log" &&
  ok "postgres reloaded on SIGHUP" || bad "postgres never reloaded"
grep -q "received smart shutdown request" "$run/nodes/n1/stderr.log" &&
  ok "postgres shut down on SIGTERM" || bad "no smart shutdown in the log"

# An action beside the drill: a base backup at 300ms, verified at 3s after a kill -9.
drill 0 $fx/pg-backup.yaml --param pgbin="$pgbin"
expect_out "action 1 exec ok"
expect_out "action 2 exec ok"
grep -q '<testcase name="base backup" classname="pg-backup.action"' "$work/junit.xml" &&
  ok "junit: the backup action" || bad "junit lacks the backup action"

# Its own disk under the fault file system: the disk's root and what the server creates
# through faultfs are postgres's; a power cut, then crash recovery.
if [ -c /dev/fuse ]; then
  drill 0 $fx/pg-power-loss.yaml --param pgbin="$pgbin"
  expect_out "fault power-cut: killed the node, then power-cut"
  expect_out "step 2 wait ok"
else
  echo "skipped the power-cut drill: no /dev/fuse"
fi

check_clean "$work/before" "the PostgreSQL drills"
finish
