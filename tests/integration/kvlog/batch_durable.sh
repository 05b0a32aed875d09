#!/bin/bash
# Group commit (--sync batch) never acknowledges a write before the fdatasync covering it
# has returned. kvlog-syncspy.so records what each fdatasync made durable (and slows it);
# the server is SIGKILLed under load, its log cut to that size (a power cut: the page
# cache is lost) and restarted: every acknowledged write must still be there. --sync
# never, which acknowledges without fdatasync, must lose writes the same way. Segments
# rotate at 4 MiB so that rotation under group commit is exercised too.
. "$(dirname "$0")/lib.sh"
SPY=$CHAOSDRILL_BUILD/tests/integration/kvlog/kvlog-syncspy.so
[ -f "$SPY" ] || { echo "SKIP: $SPY not built"; exit 77; }

# power_cut NAME: cuts every log segment of node NAME to what fdatasync made durable.
power_cut() {
	local f ino durable
	for f in "$TMP/$1"/txn.log*; do
		ino=$(stat -c %i "$f")
		durable=$(awk -v i="$ino" '$1 == i && $2 > m { m = $2 } END { print m + 0 }' \
			"$TMP/$1.spy" 2>/dev/null || echo 0)
		echo "$1: $(basename "$f") $(stat -c %s "$f") bytes, $durable durable"
		truncate -s "$durable" "$f"
	done
}

run() { # NAME SYNC: load, kill -9, power cut, restart, print missing
	local name=$1 mode=$2 p pid lp
	p=$(port)
	LD_PRELOAD=$SPY ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		KVLOG_SYNCSPY_FILE=$TMP/$name.spy KVLOG_SYNCSPY_DELAY_US=1000 \
		start "$name" "$p" --sync "$mode" --max-log-size 4MiB
	pid=$LASTPID
	"$TOOL" load "127.0.0.1:$p" 3000 16 w "$TMP/$name.acked" >"$TMP/$name.load" &
	lp=$!
	sleep 1
	kill9 "$pid"
	wait "$lp"
	power_cut "$name"
	start "$name" "$p" --sync always
	"$TOOL" verify "127.0.0.1:$p" "$TMP/$name.acked" >"$TMP/$name.verify"
	echo "$name: acked $(field acked "$TMP/$name.verify") missing $(field missing "$TMP/$name.verify")"
}
run batch batch
run always always
run never never
[ "$(field acked "$TMP/batch.verify")" -gt 100 ] || fail "batch: too few acknowledged writes"
[ "$(field missing "$TMP/batch.verify")" = 0 ] || fail "batch acknowledged writes it had not synced"
[ "$(field missing "$TMP/always.verify")" = 0 ] || fail "always acknowledged writes it had not synced"
[ "$(field missing "$TMP/never.verify")" -gt 0 ] || fail "--sync never lost nothing: the power cut is not emulated"
echo PASS
