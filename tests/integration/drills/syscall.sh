#!/usr/bin/env bash
# Syscall faults in drills (seccomp user notification): a torn write caught by replay, and
# each unsafe kvlog mode it must expose; the same seed tears at the same byte; crash just
# before and after fdatasync; ENOSPC refused, not acknowledged; a rule that never matches
# is an error of the drill, not a pass. Then the same torn write through the preload shim
# (mechanism: preload), and its refusal of a statically linked target.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"

"$cd_bin" run --quiet --out "$work/runs" scenarios/kvlog-torn-write.yaml >"$work/out" 2>&1
if [ $? -eq 3 ] && grep -qi seccomp "$work/out"; then
  echo "SKIP: no seccomp user notification here: $(grep -i seccomp "$work/out" | head -1)"; exit 77
fi

# What the seed decides: which call tears (the rule's nth) and how many of its bytes are
# kept. Where in the file it lands depends on how many writes came before the fault.
tear() { # tear DRILL: in the last run of DRILL
  grep -ho 'kept [0-9]* of [0-9]* bytes.*call #[0-9]*' "$work"/runs/"$1"-2*/timeline.jsonl |
    sed 's/, the other.*(rule [0-9]* at line [0-9]*,/,/' | tail -1
}
same_tear() { # same_tear DRILL FILE: two runs with one seed tear alike
  local first second
  drill 0 "$2"
  expect_out "the other"
  first=$(tear "$1")
  rm -rf "$work"/runs/"$1"-2*
  drill 0 "$2"
  second=$(tear "$1")
  if [ -n "$first" ] && [ "$first" = "$second" ]; then ok "same seed, same tear: $first"
  elif [ -n "$first" ] && [ "${first#* of }" != "${second#* of }" ]; then
    ok "same seed; the torn writes differed in length (records batched differently): '$first' / '$second'"
  else bad "the tear moved between runs with one seed: '$first' vs '$second'"; fi
}
same_tear kvlog-torn-write scenarios/kvlog-torn-write.yaml
expect_out "syscall fault on n1 (seccomp): torn write of txn.log"

drill 1 scenarios/kvlog-torn-write.yaml --param unsafe=no-truncate
expect_out "kvlog-check on n1: exit 1"
drill 1 scenarios/kvlog-torn-write.yaml --param unsafe=no-crc
expect_out "corrupt value at key"

drill 0 scenarios/kvlog-crash-before-fsync.yaml
expect_out "crash-before fdatasync of txn.log"
drill 0 scenarios/kvlog-crash-after-fsync.yaml
expect_out "crash-after fdatasync of txn.log"
# sync: never never calls fdatasync: the fault cannot strike, and the drill says so.
drill 1 scenarios/kvlog-crash-before-fsync.yaml --param sync=never
expect_out "armed, but no call matched its rules"

drill 0 scenarios/kvlog-enospc.yaml
expect_out "failed with ENOSPC"
expect_out "heal syscall: disarmed 1 syscall rule on n1"
# A server that acknowledges before it writes loses what the full disk refused.
drill 1 scenarios/kvlog-enospc.yaml --param unsafe=ack-before-write
expect_out "acknowledged writes lost: w"

# The preload shim: the same rule, the same verdicts; the outputs say which mechanism acted.
preload=tests/fixtures/scenarios/syscall
same_tear kvlog-torn-write-preload $preload/kvlog-torn-write-preload.yaml
expect_out "fault syscall: armed 1 syscall rule on n1 (mechanism: preload)"
expect_out "syscall fault on n1 (preload): torn write of txn.log"
expect_out "node killed (rule 1 at line 20, call #500"
if grep -q '"syscall fault (preload): torn write of txn.log (fd [0-9]*) at offset [0-9]*: kept [0-9]* of [0-9]* bytes, the other [0-9]* landed as zeros, node killed' \
  "$work"/runs/kvlog-torn-write-preload-2*/timeline.jsonl; then ok "the timeline has the preload tear"
else bad "no preload tear in the timeline"; fi
if grep -q '"details": *"torn write of txn.log' "$work"/runs/kvlog-torn-write-preload-2*/result.json &&
  grep -q '"injections": *1,\?$' "$work"/runs/kvlog-torn-write-preload-2*/result.json; then ok "the fault's report has the tear"
else bad "the fault's report lacks the tear"; fi
drill 1 $preload/kvlog-torn-write-preload.yaml --param unsafe=no-truncate
expect_out "kvlog-check on n1: exit 1"
expect_out "(preload): torn write of txn.log"

# A statically linked program has no loader to preload the shim into: exit 3 before the
# drill starts, naming the program (the static probe exists where libc.a does).
if [ -x "$(dirname "$real_cd_bin")/../tests/integration/sysfaults/sys_probe_static" ]; then
  CHAOSDRILL_TARGETS=$src/tests/fixtures/targets drill 3 $preload/static-preload.yaml
  expect_out "mechanism: preload cannot reach"
  expect_out "sys_probe_static: it is statically linked"
  expect_out "use mechanism: seccomp"
else
  echo "# skipped the static target: no sys_probe_static (no libc.a)"
fi

# A shim that does not load must not leave the rules silently unarmed: exit 3 at the
# fault's time, naming the program. Stand-in: the target's own libc, a library of the
# right machine that is not the shim.
libc=$(ldd "$(dirname "$real_cd_bin")/../targets/kvlog/kvlog-server" | awk '$1 ~ /^libc\.so/ {print $3}')
if [ -f "$libc" ]; then
  CHAOSDRILL_SHIM=$libc drill 3 $preload/kvlog-torn-write-preload.yaml
  expect_out "the preload shim did not load into"
  expect_out "kvlog-server (no process of the node mapped its control block)"
else
  echo "# skipped the shim that does not load: no libc found for kvlog-server"
fi

check_clean "$work/before" "syscall drills"
finish
