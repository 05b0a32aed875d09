#!/bin/bash
# Crash recovery of one node: a SIGKILL plus a torn tail is truncated on restart with no
# acknowledged write lost; mid-log corruption is refused (exit 3) unless --skip-corrupt;
# kvlog-check validates, and --truncate cuts the log to its last valid record.
. "$(dirname "$0")/lib.sh"
P=$(port)
LOG=$TMP/n1/txn.log

start n1 "$P" --sync always
PID=$LASTPID
"$TOOL" load "127.0.0.1:$P" 2000 4 w "$TMP/acked" >"$TMP/load.out" &
LOADPID=$!
sleep 1
kill9 "$PID"
wait "$LOADPID"
ACKED=$(field acked "$TMP/load.out")
[ "$ACKED" -gt 100 ] || fail "only $ACKED acknowledged"

# A torn append: a header's first 13 bytes and nothing else, where the next record goes
# (the log is zero-filled ahead of its records: the end of the file is further on).
"$BIN/kvlog-check" "$TMP/n1" >"$TMP/check0" || fail "kvlog-check fails after kill -9"
END=$(field last_valid_offset "$TMP/check0")
[ "$(stat -c %s "$LOG")" -gt "$END" ] || fail "no zeroed tail after the records"
printf 'KVL1\x01\x02\x03\x04\x40\x00\x00\x00\x01' |
	dd of="$LOG" bs=1 seek="$END" conv=notrunc status=none
"$BIN/kvlog-check" "$TMP/n1" >"$TMP/check1" && fail "kvlog-check passed a torn tail"
[ "$(field torn_tail "$TMP/check1")" = yes ] || fail "kvlog-check did not see the torn tail"
[ "$(field invalid_bytes "$TMP/check1")" = 13 ] || fail "kvlog-check: torn bytes wrong"
start n1 "$P" --sync always
PID=$LASTPID
grep "torn tail: 13 bytes, 1 records dropped" "$TMP/n1.err" || fail "replay did not report the torn tail"
[ "$(stat -c %s "$LOG")" -eq "$END" ] || fail "torn tail not truncated"
"$TOOL" verify "127.0.0.1:$P" "$TMP/acked" | tee "$TMP/verify"
[ "$(field missing "$TMP/verify")" = 0 ] || fail "acknowledged writes lost after kill -9"
kill -TERM "$PID"; wait "$PID" || fail "non-zero exit on SIGTERM"
"$BIN/kvlog-check" "$TMP/n1" >/dev/null || fail "kvlog-check fails after replay"

# Mid-log corruption: flip one byte in the middle of the log's records.
"$BIN/kvlog-check" "$TMP/n1" >"$TMP/check3"
OFF=$(( $(field last_valid_offset "$TMP/check3") / 2 ))
B=$(od -An -tu1 -j"$OFF" -N1 "$LOG" | tr -d ' ')
printf "\\$(printf %o $((255 - B)))" | dd of="$LOG" bs=1 seek="$OFF" conv=notrunc status=none
"$BIN/kvlog-server" --data "$TMP/n1" --listen "127.0.0.1:$P" 2>"$TMP/refused.err"
RC=$?
cat "$TMP/refused.err"
[ $RC = 3 ] || fail "corrupt log: exit status $RC, want 3"
grep -q "corrupt record at byte" "$TMP/refused.err" || fail "no clear message on corruption"
"$BIN/kvlog-check" "$TMP/n1" >"$TMP/check2"; RC=$?
cat "$TMP/check2"
[ $RC = 1 ] && [ "$(field corrupt_mid_log "$TMP/check2")" = yes ] || fail "kvlog-check missed it"

start n1 "$P" --sync always --skip-corrupt
PID=$LASTPID
grep "skipped corrupt data" "$TMP/n1.err" || fail "--skip-corrupt did not say what it skipped"
"$TOOL" verify "127.0.0.1:$P" "$TMP/acked" | tee "$TMP/verify2"
[ "$(field missing "$TMP/verify2")" -le 1 ] || fail "--skip-corrupt lost more than the bad record"
kill -TERM "$PID"; wait "$PID"

"$BIN/kvlog-check" --truncate "$TMP/n1" || fail "kvlog-check --truncate failed"
"$BIN/kvlog-check" "$TMP/n1" >/dev/null || fail "still invalid after --truncate"
echo PASS
