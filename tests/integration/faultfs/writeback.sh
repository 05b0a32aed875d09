# The kernel's writeback cache (--writeback-cache). Faults on reads hit the next read
# through a file held open with its pages cached, also when armed by glob, and their clear
# is seen as soon; bits rotted at rest land on what the kernel had still to write; a
# partial write to a page not cached reads it first, so a bad read range fails it (as a
# page cache over a real disk does); write faults show at fsync and close. In volatile
# mode a power cut also takes back the file sizes the kernel kept, and the dirty pages of
# a file open across the cut are not written after it.
. "$(dirname "$0")/lib.sh"
require
in_private_ns "$0" "$@"
setup
SESS_PID=
trap '[ -n "${SESS_PID:-}" ] && kill $SESS_PID 2>/dev/null; cleanup' EXIT
M=$TMP/mnt B=$TMP/back

# session FILE: a probe holding FILE open; say CMD: one command on it, its reply line.
session() {
	coproc SESS { "$PROBE" session "$1"; }
	local l
	read -r l <&"${SESS[0]}"
	[ "$l" = ok ] || fail "session on $1: $l"
}
say() {
	local l
	echo "$*" >&"${SESS[1]}"
	read -r l <&"${SESS[0]}" || fail "the session ended at '$*'"
	echo "$l"
}
# end_session: closes the file (the reply to close(2) in $closed) and waits for the probe.
end_session() { closed=$(say close); wait ${SESS_PID:-}; SESS_PID=; }

start_ffs $M --backing $B --writeback-cache
$PROBE fill $M/f 32 a fsync >/dev/null || fail "fill f"
session $M/f
h0=$(say read 0 16384)
expect "cached read" "$(say read 0 16384)" "$h0"
ctl arm-bad-range path=/f off=4096 len=512 >/dev/null
expect "a cached page once its range is armed" "$(say read 4096 4096)" "error EIO"
expect "a new open of it" "$($PROBE read $M/f 4096 512)" "error EIO"
ctl clear >/dev/null
expect "the whole file after the clear" "$(say read 0 16384)" "$h0"
ctl arm-bad-range 'path=/[f]' off=0 len=1 >/dev/null
expect "a cached page once a glob matching it is armed" "$(say read 0 4096)" "error EIO"
ctl clear >/dev/null

# Bit rot armed and cleared while the pages are cached: both seen at the next read.
expect "before rot" "$(say read 0 16384)" "$h0"
ctl bitrot path=/f off=100 len=50 bits=3 seed=4 >/dev/null
h1=$(say read 0 16384)
[ "$h1" != "$h0" ] || fail "no rot seen through the cached pages"
expect "a second rotted read" "$(say read 0 16384)" "$h1"
ctl clear >/dev/null
expect "after the rot is cleared" "$(say read 0 16384)" "$h0"

# Read-modify-write: a partial write to a page not in the cache reads the page first.
ctl arm-bad-range path=/f off=8192 len=512 >/dev/null
expect "a partial write to a page with a bad read range" "$(say write 8200 x)" "error EIO"
expect "a whole-page write over it (no read)" "$(say fill 8192 4096 z)" ok
ctl clear >/dev/null
end_session
expect "close of f" "$closed" ok
cmp -s <($PROBE read $M/f 8192 4096) <(printf 'z%.0s' $(seq 4096)) || fail "the whole-page write is not in f"

# Bits rotted at rest under a page still dirty in the kernel: the page reaches the disk
# first, the flips land on it.
$PROBE fill $M/r 8 a fsync >/dev/null || fail "fill r"
session $M/r
expect "an overwrite of r, not synced" "$(say fill 0 4096 b)" ok
ctl bitrot path=/r off=0 len=4096 bits=5 seed=1 mode=rest | grep -q flipped=5 || fail "rest rot of r"
end_session
expect "close of r" "$closed" ok
printf 'b%.0s' $(seq 4096) >$TMP/r.want
$PROBE read $M/r 0 4096 >$TMP/r.got
expect "bits rotted at rest under a dirty page" "$($PROBE bitdiff $TMP/r.got $TMP/r.want)" 5

# Write faults: write(2) lands in the page cache, writeback fails, and the next fsync or
# close says so, once.
ctl arm-bad-range path=/w off=0 len=4096 ops=write err=ENOSPC >/dev/null
session $M/w
expect "a buffered write to a bad write range" "$(say write 0 hello)" ok
expect "fsync after its writeback failed" "$(say fsync)" "error ENOSPC"
end_session
expect "close after that fsync" "$closed" ok
session $M/w
expect "another buffered write" "$(say write 0 again)" ok
end_session
expect "close after its writeback failed" "$closed" "error ENOSPC"
ctl stats | grep -q "write_errors=[1-9]" || fail "no write error counted"
ctl clear >/dev/null
stop_ffs || fail "faultfs (passthrough) exited with $?"

# Volatile: what the kernel keeps of a file goes with the cut.
start_ffs $M --backing $B --cache volatile --writeback-cache
$PROBE write $M/v 0 durable fsync >/dev/null && $PROBE fsyncdir $M >/dev/null || fail "write v"
$PROBE write $M/v 7 MORE none || fail "extend v"
expect "size of v before the cut" "$(stat -c %s $M/v)" 11
ctl power-cut >/dev/null
expect "size of v after the cut" "$(stat -c %s $M/v)" 7
expect "v after the cut" "$($PROBE read $M/v 0 100)" durable
truncate -s 0 $M/v || fail "truncate v"
expect "size of v truncated" "$(stat -c %s $M/v)" 0
ctl power-cut >/dev/null
expect "size of v after its truncate was cut" "$(stat -c %s $M/v)" 7
expect "v after its truncate was cut" "$($PROBE read $M/v 0 100)" durable

# Dirty pages of a file open across the cut were written before it: the cut drops them,
# and the close after it writes nothing.
session $M/v
expect "an overwrite of v, not synced" "$(say write 0 XXXXXXX)" ok
ctl power-cut >/dev/null
expect "v through the fd open across the cut" "$(say show 0 7)" "ok durable"
end_session
expect "close of v after the cut" "$closed" ok
expect "v after that close" "$($PROBE read $M/v 0 100)" durable
expect "v in the backing dir" "$(cat $B/v)" durable
stop_ffs || fail "faultfs (volatile) exited with $?"
echo "PASS: faults and power cuts with the kernel's writeback cache"
