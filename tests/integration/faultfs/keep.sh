# The kernel keeps a file's cached pages from one open to the next, and still sees every
# change that must reach it: a bad range, bit rot or a read delay armed while the file is
# closed, also over pages written since; a clear; a change made behind the mount in the backing dir; a write through
# another link of the file; a power cut. Run in passthrough and volatile modes, with and
# without the kernel's writeback cache.
. "$(dirname "$0")/lib.sh"
require
in_private_ns "$0" "$@"
setup
M=$TMP/mnt B=$TMP/back

reads() { ctl stats | sed -n 's/.*\breads=\([0-9]*\).*/\1/p'; }
hash() { $PROBE read "$1" 0 65536 | md5sum | cut -c1-32; }
# kept FILE: a whole read of FILE reaches faultfs not at all, within a few opens (the
# kernel sends the release of the last one in the background).
kept() {
	local before
	for _ in 1 2 3 4 5; do
		before=$(reads)
		hash "$1" >/dev/null
		[ "$(reads)" = "$before" ] && return 0
		sleep 0.05
	done
	return 1
}

for mode in "passthrough" "passthrough --writeback-cache" "volatile" "volatile --writeback-cache"; do
	start_ffs $M --backing $B --cache $mode
	$PROBE fill $M/f 64 a fsync >/dev/null || fail "$mode: fill f"
	h0=$(hash $M/f)
	kept $M/f || fail "$mode: the pages of f are not kept from one open to the next"

	ctl arm-bad-range path=/f off=4096 len=512 >/dev/null
	expect "$mode: f read after a bad range was armed while it was closed" \
		"$($PROBE read $M/f 4096 512)" "error EIO"
	# Pages written after the arming do not hide it from the next open either.
	$PROBE fill $M/f 64 a fsync >/dev/null || fail "$mode: rewrite f"
	expect "$mode: f rewritten under its bad range, read by a new open" \
		"$($PROBE read $M/f 4096 512)" "error EIO"
	ctl clear >/dev/null
	expect "$mode: f after the clear" "$(hash $M/f)" "$h0"

	ctl bitrot path=/f off=100 len=50 bits=3 seed=4 >/dev/null
	[ "$(hash $M/f)" != "$h0" ] || fail "$mode: bit rot armed while f was closed not seen"
	ctl clear >/dev/null
	expect "$mode: f after the rot is cleared" "$(hash $M/f)" "$h0"

	kept $M/f || fail "$mode: the pages of f are not kept after the clear"
	ctl delay path=/f ops=read delay=200ms >/dev/null
	t0=$(date +%s%N)
	hash $M/f >/dev/null
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $ms -ge 200 ] || fail "$mode: a read delay armed while f was closed did not delay it (${ms} ms)"
	ctl clear >/dev/null

	# Behind the mount: the backing file changes while f is closed.
	kept $M/f || fail "$mode: the pages of f are not kept before the change behind it"
	printf 'BEHIND' | dd of=$B/f bs=1 seek=0 conv=notrunc status=none
	expect "$mode: f changed in the backing dir" "$($PROBE read $M/f 0 6)" BEHIND

	# Another link: a write through it must be seen through f.
	kept $M/f || fail "$mode: the pages of f are not kept before the link"
	ln $M/f $M/g || fail "$mode: link"
	hash $M/f >/dev/null
	$PROBE write $M/g 0 LINKED none >/dev/null || fail "$mode: write g"
	expect "$mode: f after a write through its other link" "$($PROBE read $M/f 0 6)" LINKED
	rm -f $M/g

	if [ "${mode%% *}" = volatile ]; then
		$PROBE write $M/f 0 DURABL fsync >/dev/null && $PROBE fsyncdir $M >/dev/null ||
			fail "$mode: write f"
		$PROBE write $M/f 0 unsync none >/dev/null || fail "$mode: overwrite f"
		expect "$mode: f before the cut" "$($PROBE read $M/f 0 6)" unsync
		ctl power-cut >/dev/null
		expect "$mode: f after a power cut while it was closed" "$($PROBE read $M/f 0 6)" DURABL
	fi
	rm -f $M/f
	stop_ffs || fail "faultfs ($mode) exited with $?"
	rm -f $TMP/ctl.sock
done
echo "PASS: cached pages kept across opens, and every fault, change and cut still seen"
