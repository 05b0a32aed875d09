#!/bin/bash
# Primary + replica; the primary is SIGKILLed under load and the replica promoted.
# sync replication: the promoted replica has every write the primary acknowledged.
# async replication: it misses some (the count is printed; at least one must be missing).
. "$(dirname "$0")/lib.sh"
MODE=${1:?sync|async}
PP=$(port); RP=$(port)

start replica "$RP" --role replica --sync always
RPID=$LASTPID
# Async ships once a second: the writes acknowledged in the ~500 ms between the last
# shipment and the kill are surely unshipped, however the machine's load stalls the server.
EXTRA=()
[ "$MODE" = async ] && EXTRA=(--async-delay 1s)
start primary "$PP" --role primary --sync always --replication "$MODE" \
	--replicas "127.0.0.1:$RP" "${EXTRA[@]}"
PPID_=$LASTPID

# A replica refuses client writes.
if "$TOOL" set "127.0.0.1:$RP" k v 2>"$TMP/set.err"; then fail "replica accepted a write"; fi
grep -q "read-only" "$TMP/set.err" || fail "replica refusal does not say read-only"

"$TOOL" load "127.0.0.1:$PP" 3000 8 w "$TMP/acked" >"$TMP/load.out" &
LOADPID=$!
sleep 1.5
kill9 "$PPID_"
wait "$LOADPID"
cat "$TMP/load.out"
ACKED=$(field acked "$TMP/load.out")
[ "$ACKED" -gt 100 ] || fail "only $ACKED writes acknowledged before the kill"

"$BIN/kvlog-ctl" promote "127.0.0.1:$RP" || fail "promote failed"
"$BIN/kvlog-ctl" status "127.0.0.1:$RP" | tee "$TMP/status"
[ "$(field role "$TMP/status")" = primary ] || fail "not primary after promote"
"$TOOL" verify "127.0.0.1:$RP" "$TMP/acked" | tee "$TMP/verify"
MISSING=$(field missing "$TMP/verify")
[ "$(field corrupt "$TMP/verify")" = 0 ] || fail "corrupt values on the replica"
echo "kvlog failover ($MODE replication): $ACKED acknowledged, $MISSING missing on the promoted replica"
if [ "$MODE" = sync ]; then
	[ "$MISSING" = 0 ] || fail "sync replica lost $MISSING acknowledged writes"
else
	[ "$MISSING" -gt 0 ] || fail "async replica lost nothing: the test cannot tell async from sync"
fi
# The promoted node takes writes, and its log checks clean.
"$TOOL" set "127.0.0.1:$RP" after-promote yes || fail "promoted node refused a write"
kill -TERM "$RPID"; wait "$RPID"; RC=$?
[ $RC = 0 ] || fail "replica exit status $RC on SIGTERM"
"$BIN/kvlog-check" "$TMP/replica" >/dev/null || fail "kvlog-check failed on the replica's log"
echo PASS
