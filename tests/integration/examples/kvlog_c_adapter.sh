#!/bin/bash
# The C example adapter (targets/examples/kvlog-c) on its own, without the engine: this
# script is the harness. It starts kvlog-server on loopback in a throwaway network
# namespace, writes request lines to the adapter's stdin and checks every reply: ok for
# what kvlog acknowledged, fail for what was never applied (a connect that failed, a
# replica's refusal, a malformed request), unknown for what was in flight when the node
# was left or killed, read_all's keys and count, and that what was acknowledged is there
# and what failed is not.
#
#   kvlog_c_adapter.sh [valgrind]   (through ctest: CHAOSDRILL_BUILD set)
#
# With `valgrind`, the adapter runs under valgrind, which must report no error and no leak.
set -u
BUILD=${CHAOSDRILL_BUILD:?run through ctest}
ADAPTER=$BUILD/targets/examples/kvlog-c/kvlog-c-adapter
BIN=$BUILD/targets/kvlog
for b in "$ADAPTER" "$BIN/kvlog-server" "$BIN/kvlog-ctl"; do
	[ -x "$b" ] || { echo "SKIP: $b not built"; exit 77; }
done
WRAP=()
if [ "${1:-}" = valgrind ]; then
	command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
	WRAP=(valgrind -q --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible)
fi
if [ -z "${KVLOG_C_NETNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
	unshare --net true 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
	KVLOG_C_NETNS=1 exec unshare --net bash "$0" "$@"
fi
ip link set lo up || { echo "FAIL: cannot bring up lo in the namespace"; exit 1; }

TMP=$(mktemp -d /tmp/kvlog-c-test.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.err "$TMP/replies"; do [ -s "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
	exit 1
}
pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }

A=127.0.0.1:7700 B=127.0.0.1:7701 NOBODY=127.0.0.1:7709
start() { # start NAME ADDR args...: a kvlog-server with data in $TMP/NAME; sets LASTPID
	local name=$1 addr=$2; shift 2
	"$BIN/kvlog-server" --data "$TMP/$name" --listen "$addr" "$@" \
		>>"$TMP/$name.out" 2>>"$TMP/$name.err" &
	LASTPID=$!
	PIDS+=("$LASTPID")
	for _ in $(seq 100); do
		"$BIN/kvlog-ctl" status --timeout 200ms "$addr" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "$name did not become ready on $addr"
}

start a "$A" --sync batch
APID=$LASTPID
start b "$B" --role replica
# The node in CHAOSDRILL_NODE, as the engine starts it, and a write timeout of 2 s.
coproc AD { CHAOSDRILL_NODE=$A exec "${WRAP[@]}" "$ADAPTER" --timeout-ms 2000 2>>"$TMP/adapter.err"; }
ADPID=$AD_PID # bash unsets AD_PID once the coprocess ends
PIDS+=("$ADPID")
IN=${AD[1]} OUT=${AD[0]}

declare -A R KVN
send() { printf '%s\n' "$@" >&"$IN"; }
# await ID...: reads replies until each ID has its final one (ok, fail, unknown) in R[ID];
# kv lines are counted in KVN[ID] and kept in $TMP/kv.ID. Every line goes to $TMP/replies.
await() {
	local w line id rest missing
	while :; do
		missing=
		for w in "$@"; do [ -n "${R[$w]+x}" ] || missing="$missing $w"; done
		[ -z "$missing" ] && return 0
		IFS= read -r -t 20 -u "$OUT" line || fail "no reply for$missing"
		echo "$line" >>"$TMP/replies"
		id=${line%% *} rest=${line#* }
		case $rest in
		kv\ *) KVN[$id]=$((${KVN[$id]:-0} + 1)); echo "${rest#kv }" >>"$TMP/kv.$id" ;;
		*) [ -z "${R[$id]+x}" ] || fail "a second reply to $id: $line"; R[$id]=$rest ;;
		esac
	done
}
is() { # is ID GLOB WHAT
	case ${R[$1]} in $2) ok "$3: $1 ${R[$1]}" ;; *) fail "$3: $1 got '${R[$1]}', want '$2'" ;; esac
}

send "p1 ping"
await p1
is p1 ok "ping"

# 200 sets in one write: pipelined, every one acknowledged.
lines=() ids=()
for i in $(seq 200); do lines+=("s$i set k$i v$i-$(printf '%040d' "$i")"); ids+=("s$i"); done
send "${lines[@]}"
await "${ids[@]}"
n=0; for i in "${ids[@]}"; do [ "${R[$i]}" = ok ] && n=$((n + 1)); done
[ "$n" = 200 ] || fail "$n of 200 pipelined sets ok"
ok "200 pipelined sets ok"

send "r1 read_all"
await r1
is r1 "ok 200" "read_all count"
[ "${KVN[r1]:-0}" = 200 ] || fail "read_all gave ${KVN[r1]:-0} kv lines, want 200"
grep -qx "k7 v7-$(printf '%040d' 7)" "$TMP/kv.r1" || fail "k7's value not in read_all"
ok "read_all: 200 kv lines, values as written"

# Malformed requests are refused, and a line without an id is ignored.
send "b1 set onlykey" "b2 frobnicate x" "noid" "p2 ping"
await b1 b2 p2
is b1 "fail *" "set without a value"
is b2 "fail unknown request*" "unknown request"
is p2 ok "alive after a line without an id"

# connect to where nobody listens: the next set could not be sent, so fail.
send "c1 connect $NOBODY"
await c1
is c1 ok "connect"
send "x1 set failedkey1 v"
await x1
is x1 "fail *refused*" "set after a failed connect"
send "c2 connect nonsense"
await c2
is c2 "fail *" "connect to a bad address"

# A replica refuses writes: kvlog's ERR is fail.
send "c3 connect $B" "e1 set failedkey2 v"
await c3 e1
is e1 "fail *ead-only*" "set on a replica"

# Moving while requests are in flight: they are unknown, answered before the connect's ok.
send "c4 connect $A" "s201 set k201 v201"
await c4 s201
is s201 ok "set after moving back"
kill -STOP "$APID"
send "u1 set ukey1 v" "u2 set ukey2 v" "u3 set ukey3 v"
sleep 0.3
send "c5 connect $B"
await u1 u2 u3 c5
for u in u1 u2 u3; do is $u "unknown *moved*" "in flight when the client moved"; done
last_u=$(grep -n '^u[123] ' "$TMP/replies" | tail -1 | cut -d: -f1)
c5_at=$(grep -n '^c5 ' "$TMP/replies" | cut -d: -f1)
[ "$last_u" -lt "$c5_at" ] || fail "connect's ok came before the old node's unknowns"
ok "the old node's unknowns come before the connect's ok"
kill -CONT "$APID"

# The node killed with requests in flight: unknown; then, while it is down, fail.
send "p4 ping"
await p4
send "c6 connect $A" "p3 ping"
await c6 p3

# A stopped node: no reply within 80% of the 2 s timeout is unknown, and comes before it.
kill -STOP "$APID"
t0=$(date +%s%N)
send "t1 set tkey1 v"
await t1
dt=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$APID"
is t1 "unknown no reply in time*" "no reply from a stopped node"
[ "$dt" -ge 1500 ] && [ "$dt" -le 1950 ] || fail "t1 answered after ${dt}ms, want 1600ms (80% of 2 s)"
ok "answered after ${dt}ms: before the 2 s timeout"
kill -STOP "$APID"
send "v1 set vkey1 v" "v2 set vkey2 v"
sleep 0.3
kill -KILL "$APID"
await v1 v2
is v1 "unknown *" "in flight when the node was killed"
is v2 "unknown *" "in flight when the node was killed"
wait "$APID" 2>/dev/null
send "w1 set failedkey3 v"
await w1
is w1 "fail *" "set while the node is down"

# Restarted on its data: everything acknowledged is there, nothing that failed is.
start a "$A" --sync batch
send "w2 set k202 v202" "r2 read_all"
await w2 r2
is w2 ok "set after the node came back"
is r2 "ok *" "read_all after the restart"
[ "${R[r2]#ok }" = "${KVN[r2]:-0}" ] || fail "read_all said ${R[r2]} but gave ${KVN[r2]:-0} kv lines"
for i in $(seq 202); do
	grep -q "^k$i " "$TMP/kv.r2" || fail "acknowledged k$i missing after the restart"
done
! grep -q '^failedkey' "$TMP/kv.r2" || fail "a set answered fail is present: $(grep '^failedkey' "$TMP/kv.r2")"
ok "after the restart: all 202 acknowledged keys present, none of those that failed"

# EOF on stdin: the adapter exits 0 (under valgrind: with no error and no leak).
exec {IN}>&-
wait "$ADPID"
rc=$?
[ "$rc" = 0 ] || fail "adapter exited $rc at EOF${WRAP:+ (valgrind: 99 = errors or leaks)}"
ok "exit 0 at EOF${WRAP:+, valgrind clean}"
echo "PASS ($pass checks)"
