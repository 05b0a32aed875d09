# Shared helpers of the faultfs integration tests (sourced). Each test runs itself again
# in a private mount namespace (so its mounts never reach the host), starts
# chaosdrill-faultfs there over a temp backing dir, and on exit stops it by pid with
# SIGINT, checks nothing is left mounted, and removes the temp dir.
# FFS_WRAP (e.g. "valgrind --error-exitcode=9 --leak-check=full") runs faultfs under a tool;
# FFS_ARGS adds options to every start (e.g. --writeback-cache: a test run again with it).
set -u
FFS=${CHAOSDRILL_BUILD:?run through ctest}/faults/faultfs/chaosdrill-faultfs
PROBE=$CHAOSDRILL_BUILD/tests/integration/faultfs/ffs-probe

skip() { echo "SKIP: $*"; exit 77; }
fail() {
	echo "FAIL: $*"
	[ -n "${TMP:-}" ] && [ -f "$TMP/ffs.err" ] && { echo "--- faultfs stderr"; tail -20 "$TMP/ffs.err"; }
	[ -n "${TMP:-}" ] && [ -f "$TMP/events" ] && { echo "--- events"; tail -20 "$TMP/events"; }
	exit 1
}

require() {
	for b in "$FFS" "$PROBE"; do [ -x "$b" ] || skip "$b not built"; done
	[ "$(id -u)" = 0 ] || skip "needs root (mount namespaces and FUSE mounts)"
	[ -c /dev/fuse ] || skip "no /dev/fuse on this machine (FUSE not available)"
	unshare -m --propagation private true 2>/dev/null || skip "cannot create a mount namespace"
}

# in_private_ns "$0" "$@": re-runs the script in a new mount namespace, once.
in_private_ns() {
	local script=$1; shift
	if [ -z "${FFS_TEST_IN_NS:-}" ]; then
		FFS_TEST_IN_NS=1 exec unshare -m --propagation private bash "$script" "$@"
	fi
}

# mounted DIR [PID]: DIR is a mount point in our (or PID's) mount namespace.
mounted() {
	awk -v d="$1" '$5 == d { found = 1 } END { exit !found }' "/proc/${2:-self}/mountinfo"
}

FFS_PID=
# start_ffs MNT [options...]: starts faultfs at MNT with events and control in $TMP.
start_ffs() {
	local mnt=$1; shift
	${FFS_WRAP:-} "$FFS" --control "$TMP/ctl.sock" --events "$TMP/events" ${FFS_ARGS:-} "$@" "$mnt" \
		2>>"$TMP/ffs.err" &
	FFS_PID=$!
	for _ in $(seq 200); do
		mounted "$mnt" && [ -S "$TMP/ctl.sock" ] && return 0
		kill -0 "$FFS_PID" 2>/dev/null || fail "faultfs exited before mounting"
		sleep 0.02
	done
	fail "faultfs did not mount $mnt"
}

stop_ffs() {
	[ -n "$FFS_PID" ] || return 0
	kill -INT "$FFS_PID" 2>/dev/null
	wait "$FFS_PID"
	local rc=$?
	FFS_PID=
	return $rc
}

cleanup() {
	stop_ffs
	for m in "$TMP/mnt" "$TMP/data"; do mounted "$m" && umount -l "$m"; done
	rm -rf "$TMP"
}

setup() {
	TMP=$(mktemp -d /tmp/faultfs-itest.XXXXXX)
	mkdir -p "$TMP/back" "$TMP/mnt"
	trap cleanup EXIT
}

ctl() { "$FFS" ctl "$TMP/ctl.sock" "$@" || fail "ctl $* failed"; }

# expect WHAT GOT WANT
expect() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
