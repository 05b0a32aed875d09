# Bad ranges (EIO on reads and writes of given sectors, armed while files are in use, and
# seeded random sectors), transient and at-rest bit rot, one failed fsync that loses its
# data as Linux does, and delays, each reported in the event log.
. "$(dirname "$0")/lib.sh"
require
in_private_ns "$0" "$@"
setup
start_ffs "$TMP/mnt" --backing "$TMP/back" --cache volatile
M=$TMP/mnt B=$TMP/back

# Bad range at 4 KiB granularity: page 1 of 4 fails, its neighbours read fine.
$PROBE fill $M/bad 32 d fsync >/dev/null || fail "fill bad"
$PROBE read $M/bad 0 100 >/dev/null || fail "read before arming"
ctl arm-bad-range path=/bad off=5000 len=1 gran=4096 | grep -q "start=4096 end=8192" ||
	fail "range not aligned to 4096"
expect "read of page 1" "$($PROBE read $M/bad 4096 512)" "error EIO"
# Buffered, as on a real disk: a read across the bad page stops short before it.
expect "read across page 1" "$($PROBE read $M/bad 0 16384 | wc -c)" 4096
expect "read of page 0" "$($PROBE read $M/bad 0 4096 | wc -c)" 4096
expect "read of page 2" "$($PROBE read $M/bad 8192 4096 | wc -c)" 4096
$PROBE write $M/bad 4096 w none >/dev/null || fail "a write to a read-only bad range failed"
ctl arm-bad-range path=/b*d off=12288 len=512 ops=write err=ENOSPC >/dev/null
expect "write to a bad write range" "$($PROBE write $M/bad 12300 w none)" "error ENOSPC"
grep -q '"event":"read-failed","path":"/bad","off":4096' $TMP/events || fail "no read-failed event"

# Seeded random sectors: the same seed arms the same ranges.
$PROBE fill $M/r 64 r fsync >/dev/null || fail "fill r"
ctl arm-bad-range path=/r sectors='random(3)' seed=5 gran=4096 >/dev/null
ranges() { grep '"event":"armed","path":"/r"' $TMP/events | grep -o '"start":[0-9]*' | tr '\n' ' '; }
first=$(ranges)
expect "random ranges armed" "$(echo $first | wc -w)" 3
ctl clear >/dev/null
ctl arm-bad-range path=/r sectors='random(3)' seed=5 gran=4096 >/dev/null
expect "same seed, same ranges" "$(ranges | cut -d' ' -f4-)" "$(echo $first) "
ctl clear >/dev/null
$PROBE read $M/r 0 32768 >/dev/null || fail "read after clear"

# Transient bit rot: every read sees the same flipped bits, the backing file is intact.
$PROBE fill $M/rot 8 a fsync >/dev/null && cp $B/rot $TMP/rot.orig || fail "fill rot"
ctl arm-bad-range path=/none len=1 >/dev/null # the table holds several kinds at once
ctl bitrot path=/rot off=100 len=300 bits=3 seed=9 >/dev/null
$PROBE read $M/rot 0 4096 >$TMP/rot.1 && $PROBE read $M/rot 0 4096 >$TMP/rot.2 || fail "read rot"
expect "bits flipped in a read" "$($PROBE bitdiff $TMP/rot.1 $TMP/rot.orig)" 3
cmp -s $TMP/rot.1 $TMP/rot.2 || fail "two reads of rot differ"
cmp -s $B/rot $TMP/rot.orig || fail "transient rot changed the backing file"
ctl clear >/dev/null

# Bit rot at rest: the backing file itself changes.
ctl bitrot path=/rot off=0 len=4096 bits=5 seed=1 mode=rest | grep -q "flipped=5" || fail "rest rot"
expect "bits flipped at rest" "$($PROBE bitdiff $B/rot $TMP/rot.orig)" 5
$PROBE read $M/rot 0 4096 >$TMP/rot.3
expect "bits seen through the mount" "$($PROBE bitdiff $TMP/rot.3 $TMP/rot.orig)" 5

# fsync fails once with EIO, the next succeeds, and the failed one's data is lost.
$PROBE write $M/wal 0 AAAA fsync && $PROBE fsyncdir $M >/dev/null || fail "write wal"
ctl fsync-errno path=/wal err=EIO >/dev/null
expect "first fsync" "$($PROBE write $M/wal 0 BBBB fsync)" "error EIO"
expect "second fsync" "$($PROBE fsync $M/wal)" ok
expect "wal read after the failed fsync" "$($PROBE read $M/wal 0 4)" BBBB
ctl power-cut >/dev/null
expect "wal after a cut" "$($PROBE read $M/wal 0 4)" AAAA
grep -q '"event":"fsync-failed","path":"/wal","errno":5,"lost_sectors":1' $TMP/events ||
	fail "no fsync-failed event"

# Delay on fsync.
ctl delay path=/wal ops=fsync delay=300ms >/dev/null
t0=$(date +%s%N); $PROBE fsync $M/wal >/dev/null; t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 300 ] || fail "fsync took $(( (t1 - t0) / 1000000 ))ms, want >= 300"

ctl stats | tee $TMP/stats
grep -q "read_errors=[1-9]" $TMP/stats && grep -q "fsync_errors=1 lost_sectors=1 delays=1" $TMP/stats ||
	fail "stats do not count the faults"
expect "an unknown command" "$("$FFS" ctl $TMP/ctl.sock explode)" "error EINVAL unknown command 'explode'"
stop_ffs || fail "faultfs exited with $?"
echo "PASS: bad ranges, bit rot, fsync errors, delays"
