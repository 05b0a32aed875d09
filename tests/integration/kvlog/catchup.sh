#!/bin/bash
# A replica that restarts catches up from its last sequence number.
. "$(dirname "$0")/lib.sh"
PP=$(port); RP=$(port)
start replica "$RP" --role replica --sync batch
RPID=$LASTPID
start primary "$PP" --sync batch --replication async --replicas "127.0.0.1:$RP"
"$TOOL" load "127.0.0.1:$PP" 500 4 a "$TMP/acked" >/dev/null
kill9 "$RPID"
"$TOOL" load "127.0.0.1:$PP" 500 4 b "$TMP/acked2" >/dev/null  # while the replica is down
cat "$TMP/acked2" >>"$TMP/acked"
"$BIN/kvlog-ctl" status "127.0.0.1:$PP" >"$TMP/pstatus"
PSEQ=$(field seq "$TMP/pstatus")
start replica "$RP" --role replica --sync batch
for _ in $(seq 100); do
	"$BIN/kvlog-ctl" status "127.0.0.1:$RP" >"$TMP/rstatus"
	[ "$(field seq "$TMP/rstatus")" = "$PSEQ" ] && break
	sleep 0.05
done
cat "$TMP/rstatus"
[ "$(field seq "$TMP/rstatus")" = "$PSEQ" ] || fail "replica at seq $(field seq "$TMP/rstatus"), primary at $PSEQ"
grep "connected at seq" "$TMP/primary.err" | tail -1
"$TOOL" verify "127.0.0.1:$RP" "$TMP/acked" | tee "$TMP/verify"
[ "$(field missing "$TMP/verify")" = 0 ] || fail "replica misses writes after catching up"
echo PASS
