#!/usr/bin/env bash
# sqlite-node and line-relay without the harness: the relay is fed request lines and its
# replies are checked, in a network namespace of the test's own (loopback only). Pipelined
# sets are acknowledged and read back; a request in flight when the node dies is unknown,
# one that cannot be sent is fail, the next request after a restart reconnects; connect
# moves to another node; --timeout-ms answers unknown for a frozen node and drops its late
# reply; sqlite-check passes a database after SIGKILL and fails a damaged one.
#   relay.sh   (through ctest: CHAOSDRILL_BUILD names the build directory)
set -u
BIN=${CHAOSDRILL_BUILD:?run through ctest}/targets/sqlite
for b in sqlite-node line-relay sqlite-check; do
	[ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
if [ -z "${SQLITE_RELAY_NETNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
	unshare -n true 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
	SQLITE_RELAY_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up

TMP=$(mktemp -d /tmp/sqlite-relay-test.XXXXXX)
PIDS=()
cleanup() {
	[ "${failed:-0}" -gt 0 ] && tail -n 20 "$TMP"/*.err
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# start NAME PORT: sqlite-node on 127.0.0.1:PORT with data $TMP/NAME; sets $NODE.
start() {
	"$BIN/sqlite-node" --data "$TMP/$1" --listen "127.0.0.1:$2" >>"$TMP/$1.out" 2>>"$TMP/$1.err" &
	NODE=$!
	PIDS+=("$NODE")
	for _ in $(seq 100); do
		"$BIN/line-relay" --ping --timeout-ms 200 --node "127.0.0.1:$2" 2>/dev/null && return 0
		sleep 0.05
	done
	bad "$1 never answered ping on port $2"; cat "$TMP/$1.err"; exit 1
}

# The relay under test, as a coprocess: send LINE..., and get N (the next N replies, sorted).
coproc RELAY { "$BIN/line-relay" --node 127.0.0.1:7800 --timeout-ms 500 2>"$TMP/relay.err"; }
relay_pid=$RELAY_PID # bash unsets RELAY_PID once the coprocess has ended
PIDS+=("$relay_pid")
# Plain copies: bash closes a coprocess's own fds in subshells (get's pipeline).
exec {TO_RELAY}>&"${RELAY[1]}" {FROM_RELAY}<&"${RELAY[0]}"
send() { for l in "$@"; do printf '%s\n' "$l" >&"$TO_RELAY"; done; }
get() {
	local n=$1 i line
	for ((i = 0; i < n; i++)); do
		IFS= read -r -t 5 line <&"$FROM_RELAY" || { echo "(no reply within 5s)"; break; }
		echo "$line"
	done | sort
}
get_read_all() { # get_read_all ID: lines up to the one that ends read_all ID, sorted
	local line
	while IFS= read -r -t 5 line <&"$FROM_RELAY"; do
		echo "$line"
		[[ $line =~ ^$1\ (ok|fail|unknown) ]] && break
	done | sort
}
expect() { # expect WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want '$2', got '$3'"; fi
}
expect_match() { # expect_match WHAT REGEX GOT
	if [[ $3 =~ $2 ]]; then ok "$1: $3"; else bad "$1: '$3' does not match '$2'"; fi
}

"$BIN/line-relay" --ping --timeout-ms 200 --node 127.0.0.1:7800 2>"$TMP/ping.err"
expect "--ping fails with no node" 1 $?
expect_match "--ping says why" "Connection refused" "$(cat "$TMP/ping.err")"

# ping is the relay's own: answered while the node is down (docs/adapters.md, Lifecycle).
send "1 ping"
expect "ping answered by the relay, no node yet" "1 ok" "$(get 1)"
start a 7800

# 20 sets pipelined, answered in any order; then read back.
reqs=() want=()
for i in $(seq 2 21); do reqs+=("$i set k$i v$i"); want+=("$i ok"); done
send "${reqs[@]}"
expect "20 pipelined sets acknowledged" "$(printf '%s\n' "${want[@]}" | sort)" "$(get 20)"
send "22 read_all"
got=$(get_read_all 22)
expect "read_all ends with ok COUNT" "22 ok 20" "$(grep ' ok ' <<<"$got")"
expect "read_all streams each key with its value" \
	"$(for i in $(seq 2 21); do echo "22 kv k$i v$i"; done | sort)" "$(grep ' kv ' <<<"$got")"
send "23 set lonely" "24 frobnicate" "25 set k2 v2b"
got=$(get 3)
expect_match "a set without a value is refused" "^23 fail " "$(grep '^23 ' <<<"$got")"
expect_match "an unknown request is refused" "^24 fail " "$(grep '^24 ' <<<"$got")"
expect "a set of an existing key replaces it" "25 ok" "$(grep '^25 ' <<<"$got")"

# In flight when the node dies: unknown. The node is frozen first so that the set is sent
# and cannot be answered.
kill -STOP "$NODE"
send "30 set inflight 1"
sleep 0.1
{ kill -KILL "$NODE"; wait "$NODE"; } 2>/dev/null
expect_match "in flight when the node died: unknown" "^30 unknown connection to 127\.0\.0\.1:7800 lost" "$(get 1)"
# Nothing to connect to: the request never left, so it failed.
send "31 set nowhere 1"
expect_match "no connection could be made: fail" "^31 fail not sent: .*Connection refused" "$(get 1)"
start a 7800
send "32 set after 1"
expect "the next request reconnects" "32 ok" "$(get 1)"
send "33 read_all"
got=$(get_read_all 33)
expect_match "read_all after the restart" "^33 ok (21|22)$" "$(grep ' ok ' <<<"$got")"
expect "what was acknowledged before the kill is there" \
	"$( (for i in $(seq 3 21); do echo "33 kv k$i v$i"; done; echo "33 kv after 1"; echo "33 kv k2 v2b") | sort)" \
	"$(grep ' kv ' <<<"$got" | grep -v ' inflight ')"
if grep -q ' kv nowhere ' <<<"$got"; then bad "a failed set was applied"; else ok "the failed set is absent"; fi

# connect: another node from now on.
A=$NODE
start b 7801
send "40 connect 127.0.0.1:7801"
expect "connect" "40 ok" "$(get 1)"
send "41 set onb 1"
expect "sets go to the new node" "41 ok" "$(get 1)"
send "42 read_all"
expect "read_all reads the new node" "42 kv onb 1
42 ok 1" "$(get_read_all 42)"
# A move with a set in flight to the frozen old node: that set is unknown.
kill -STOP "$NODE"
send "46 set moving 1"
sleep 0.1
send "47 connect 127.0.0.1:7800"
expect "a set in flight at a move is unknown" "46 unknown connection to 127.0.0.1:7801 closed: the client moved to 127.0.0.1:7800
47 ok" "$(get 2)"
kill -CONT "$NODE"
send "48 connect 127.0.0.1:7801"
expect "connect" "48 ok" "$(get 1)"
send "43 connect nowhere"
expect_match "a bad address is refused" "^43 fail bad address" "$(get 1)"
send "44 connect 127.0.0.1:7800" "45 set back 1"
expect "and back" "44 ok
45 ok" "$(get 2)"

# --timeout-ms 500: a frozen node's set is unknown after 80% of it, its late reply dropped.
kill -STOP "$A"
t0=$(date +%s%N)
send "50 set slow 1"
got=$(get 1)
ms=$((($(date +%s%N) - t0) / 1000000))
expect_match "no answer in time: unknown" "^50 unknown no answer from 127\.0\.0\.1:7800 within" "$got"
if [ "$ms" -ge 390 ] && [ "$ms" -lt 2000 ]; then ok "answered after ${ms}ms (80% of 500ms)"
else bad "answered after ${ms}ms, want about 400ms"; fi
kill -CONT "$A"
send "51 set late 1"
expect "the late reply to 50 is dropped" "51 ok" "$(get 1)"

# EOF: the relay finishes and exits 0.
exec {TO_RELAY}>&- {RELAY[1]}>&-
wait "$relay_pid"
expect "the relay exits 0 at EOF" 0 $?

# SIGTERM stops a node cleanly; the checker passes a database after SIGKILL and SIGTERM,
# and fails one whose pages are damaged, saying what SQLite found.
kill -TERM "$A"
wait "$A"
expect "sqlite-node exits 0 on SIGTERM" 0 $?
"$BIN/sqlite-check" "$TMP/a" 2>"$TMP/check.err"
expect "sqlite-check passes the database" 0 $?
{ kill -KILL "$NODE"; wait "$NODE"; } 2>/dev/null
"$BIN/sqlite-check" "$TMP/b" 2>"$TMP/check.err"
expect "sqlite-check passes the database left by SIGKILL (WAL recovered)" 0 $?
cp "$TMP/a/kv.db" "$TMP/bad.db"
# Page 2 (the table's root) overwritten with garbage.
head -c 4096 /dev/urandom | dd of="$TMP/bad.db" bs=4096 seek=1 conv=notrunc status=none
"$BIN/sqlite-check" "$TMP/bad.db" 2>"$TMP/check.err"
expect "sqlite-check fails a damaged database" 1 $?
expect_match "and says what SQLite found" "sqlite-check: .*bad.db: " "$(head -1 "$TMP/check.err")"
"$BIN/sqlite-check" "$TMP/none" 2>"$TMP/check.err"
expect "sqlite-check fails a missing database" 1 $?

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
