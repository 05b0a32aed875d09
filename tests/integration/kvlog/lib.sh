# Shared helpers of kvlog's integration tests (sourced). Loopback only; every server this
# test starts is killed by pid on exit and the temp dir removed.
set -u
BIN=${CHAOSDRILL_BUILD:?run through ctest}/targets/kvlog
TOOL=$CHAOSDRILL_BUILD/tests/integration/kvlog/kvlog-itool
for b in "$BIN/kvlog-server" "$BIN/kvlog-ctl" "$BIN/kvlog-check" "$TOOL"; do
	[ -x "$b" ] || { echo "SKIP: $b not built"; exit 77; }
done
TMP=$(mktemp -d /tmp/kvlog-itest.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; for f in "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }
port() { "$TOOL" freeport; }

# start NAME PORT args...: starts kvlog-server on 127.0.0.1:PORT with data $TMP/NAME;
# sets $LASTPID.
start() {
	local name=$1 p=$2; shift 2
	"$BIN/kvlog-server" --data "$TMP/$name" --listen "127.0.0.1:$p" "$@" \
		>>"$TMP/$name.out" 2>>"$TMP/$name.err" &
	LASTPID=$!
	PIDS+=("$LASTPID")
	wait_ready "$p" || fail "$name did not become ready on port $p"
}

wait_ready() {
	for _ in $(seq 100); do
		"$BIN/kvlog-ctl" status --timeout 200ms "127.0.0.1:$1" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# field NAME FILE: the value of a "name value" line.
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

kill9() { kill -KILL "$1"; wait "$1" 2>/dev/null; true; }
