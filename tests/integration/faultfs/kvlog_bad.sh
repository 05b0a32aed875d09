#!/bin/bash
# kvlog over a bad sector: its log on a faultfs mount, a 4 KiB range in the middle of
# txn.log failing reads with EIO. kvlog-check reports the range (exit 1), kvlog-server
# refuses to replay (exit 3, naming the bytes), kvlog-check --truncate cuts the log before
# them and the server then serves every record before the cut. The unsafe variant
# (--unsafe eio-as-tail) takes the range for a torn tail and silently drops acknowledged
# writes: the test shows that it does.
. "$(dirname "$0")/lib.sh"
KV=$CHAOSDRILL_BUILD/targets/kvlog
TOOL=$CHAOSDRILL_BUILD/tests/integration/kvlog/kvlog-itool
for b in "$KV/kvlog-server" "$KV/kvlog-check" "$TOOL"; do [ -x "$b" ] || skip "$b not built"; done
require
in_private_ns "$0" "$@"
setup
start_ffs "$TMP/mnt" --backing "$TMP/back"
M=$TMP/mnt B=$TMP/back
SRV=
trap 'if [ -n "$SRV" ]; then kill -KILL $SRV; wait $SRV; fi 2>/dev/null; cleanup' EXIT

field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
# serve [args]: kvlog-server on the mount, ready or a failure.
serve() {
	"$KV/kvlog-server" --data "$M" --listen "127.0.0.1:$P" --sync always "$@" 2>>"$TMP/srv.err" &
	SRV=$!
	for _ in $(seq 100); do
		"$KV/kvlog-ctl" status --timeout 200ms "127.0.0.1:$P" >/dev/null 2>&1 && return 0
		kill -0 $SRV 2>/dev/null || fail "kvlog-server exited: $(tail -3 "$TMP/srv.err")"
		sleep 0.05
	done
	fail "kvlog-server not ready"
}
stop() { kill -TERM $SRV && wait $SRV || fail "kvlog-server exit status $?"; SRV=; }
# missing: acknowledged writes the server no longer has.
missing() { "$TOOL" verify "127.0.0.1:$P" "$TMP/acked" >"$TMP/verify" || true; field missing "$TMP/verify"; }

P=$("$TOOL" freeport)
serve
"$TOOL" load "127.0.0.1:$P" 1000 4 w "$TMP/acked" >"$TMP/load.out" || fail "load"
ACKED=$(field acked "$TMP/load.out")
stop
# Where the records end (kvlog keeps zeros written ahead of them: not the file's size).
"$KV/kvlog-check" "$B" >"$TMP/pre" || fail "the log is invalid before any fault"
SIZE=$(field last_valid_offset "$TMP/pre")
[ "$ACKED" -gt 200 ] && [ "$SIZE" -gt 16384 ] || fail "only $ACKED writes, $SIZE bytes"
OFF=$(( SIZE / 2 / 4096 * 4096 ))
cp "$B/txn.log" "$TMP/txn.saved"
ctl arm-bad-range path=/txn.log off=$OFF len=4096 gran=4096 ops=read >/dev/null

# kvlog-check finds it and says where; the server refuses to replay.
"$KV/kvlog-check" "$M" >"$TMP/check" 2>"$TMP/check.err"
expect "kvlog-check exit" $? 1
cat "$TMP/check" "$TMP/check.err"
grep -q "unreadable: I/O error" "$TMP/check" || fail "kvlog-check did not name the unreadable range"
"$KV/kvlog-server" --data "$M" --listen "127.0.0.1:$P" 2>"$TMP/refused.err"
expect "kvlog-server exit on an unreadable log" $? 3
cat "$TMP/refused.err"
grep -q "bytes $OFF\.\.$((OFF + 4096)) cannot be read" "$TMP/refused.err" || fail "no clear refusal"
cmp -s "$B/txn.log" "$TMP/txn.saved" || fail "the refusal changed the log"

# The unsafe variant serves, having cut the log at the bad range: writes it acknowledged
# are gone without a word of corruption.
serve --unsafe eio-as-tail
LOST_UNSAFE=$(missing)
stop
echo "eio-as-tail: $LOST_UNSAFE of $ACKED acknowledged writes lost"
[ "$LOST_UNSAFE" -gt 0 ] || fail "the unsafe variant lost nothing: the test cannot see the bug"
# (read from the backing file: zeros written ahead now lie over the bad range)
"$KV/kvlog-check" "$B" >"$TMP/after-unsafe" || true
[ "$(field last_valid_offset "$TMP/after-unsafe")" -le "$OFF" ] || fail "the unsafe variant did not cut the log"

# The runbook's way: put the log back (a fresh open drops cached pages), cut it with
# kvlog-check --truncate, restart: what is lost is exactly the records from the cut on.
cp "$TMP/txn.saved" "$M/txn.log" || fail "restore the log"
"$KV/kvlog-check" --truncate "$M" >"$TMP/trunc" || fail "kvlog-check --truncate failed"
cat "$TMP/trunc"
CUT=$(field last_valid_offset "$TMP/trunc")
[ "$CUT" -le "$OFF" ] && [ "$CUT" -gt $((OFF - 300)) ] || fail "cut at $CUT, bad range at $OFF"
ctl clear >/dev/null
"$KV/kvlog-check" "$M" >/dev/null || fail "the log is still invalid after --truncate"
serve
LOST=$(missing)
stop
WANT=$(( ACKED - $(field valid_records "$TMP/trunc") ))
echo "truncate: $LOST of $ACKED acknowledged writes lost, the records from byte $CUT on"
expect "writes lost by the truncate" "$LOST" "$WANT"
echo PASS
