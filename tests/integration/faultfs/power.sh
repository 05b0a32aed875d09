# Power-loss semantics of `--cache volatile` with a probe program: unsynced writes are
# gone after a cut, synced ones survive, creates and renames are durable only after the
# directory's fsync, and keep=random-sectors keeps the same sectors for the same seed.
. "$(dirname "$0")/lib.sh"
require
in_private_ns "$0" "$@"
setup
start_ffs "$TMP/mnt" --backing "$TMP/back" --cache volatile
M=$TMP/mnt B=$TMP/back

# Written, not synced: the reads see it (page cache), the backing file does not, a cut
# drops it.
$PROBE write $M/a 0 hello none >/dev/null || fail "write a"
$PROBE fsyncdir $M >/dev/null || fail "fsyncdir"
expect "read a before the cut" "$($PROBE read $M/a 0 100)" hello
expect "backing a before the cut" "$(stat -c %s $B/a)" 0
ctl power-cut keep=none >/dev/null
[ -e $M/a ] || fail "a (created, dir synced) is gone after the cut"
expect "size of a after the cut" "$(stat -c %s $M/a)" 0

# Synced data survives; later unsynced overwrites do not.
$PROBE write $M/b 0 durable fsync || fail "write b"
$PROBE fsyncdir $M >/dev/null
$PROBE write $M/b 0 XXXXXXXXXXXX none || fail "overwrite b"
expect "b before the cut" "$($PROBE read $M/b 0 100)" XXXXXXXXXXXX
ctl power-cut >/dev/null
expect "b after the cut" "$($PROBE read $M/b 0 100)" durable
$PROBE write $M/b2 0 data fdatasync || fail "write b2"
$PROBE fsyncdir $M >/dev/null
ctl power-cut >/dev/null
expect "b2 (fdatasync) after the cut" "$($PROBE read $M/b2 0 100)" data

# A file fsynced but whose directory was not: its creation is not durable.
mkdir $M/d || fail "mkdir d"
$PROBE fsyncdir $M >/dev/null
$PROBE write $M/d/c 0 x fsync || fail "write c"
ctl power-cut >/dev/null
[ -e $M/d/c ] && fail "d/c survived the cut without an fsync of d"
[ -d $M/d ] || fail "d (its parent was fsynced) is gone"

# A rename is durable only after the directory's fsync; a replaced file comes back.
$PROBE write $M/d/final 0 v1 fsync && $PROBE write $M/d/tmp 0 v2 fsync || fail "write d/*"
$PROBE fsyncdir $M/d >/dev/null
$PROBE rename $M/d/tmp $M/d/final || fail "rename"
expect "final after the rename" "$($PROBE read $M/d/final 0 10)" v2
ctl power-cut >/dev/null
expect "final after the cut" "$($PROBE read $M/d/final 0 10)" v1
expect "tmp after the cut" "$($PROBE read $M/d/tmp 0 10)" v2
$PROBE rename $M/d/tmp $M/d/final || fail "rename again"
$PROBE fsyncdir $M/d >/dev/null
ctl power-cut >/dev/null
expect "final after rename + fsync of d + cut" "$($PROBE read $M/d/final 0 10)" v2
[ -e $M/d/tmp ] && fail "tmp still there after a durable rename"
rm $M/d/final && ctl power-cut >/dev/null
[ -e $M/d/final ] || fail "an unlink without a directory fsync survived the cut"
rm $M/d/final && $PROBE fsyncdir $M/d >/dev/null && ctl power-cut >/dev/null
[ -e $M/d/final ] && fail "a synced unlink was undone"
ls -a $B | grep -q chaosdrill && ls -a $M | grep -q chaosdrill && fail "the trash shows in the mount"

# keep=random-sectors: a torn state of whole sectors, the same for the same seed.
torn() {
	$PROBE fill $M/t 64 N none || fail "fill t"
	ctl power-cut keep=random-sectors seed=$1 >/dev/null
	$PROBE sectors $M/t
}
$PROBE fill $M/t 64 o fsync && $PROBE fsyncdir $M >/dev/null || fail "fill t (synced)"
s7=$(torn 7); s7b=$(torn 7); s8=$(torn 8)
echo "seed 7: $s7"; echo "seed 8: $s8"
expect "sectors of t" "${#s7}" 64
case $s7 in *N*o* | *o*N*) ;; *) fail "seed 7 kept all or nothing: $s7" ;; esac
expect "same seed, same sectors" "$s7b" "$s7"
[ "$s8" != "$s7" ] || fail "seeds 7 and 8 kept the same sectors"
grep -q '"event":"power-cut-file","path":"/t","dropped":[0-9]*,"kept":[0-9]*,"kept_sectors":"' $TMP/events ||
	fail "no power-cut-file event for /t"

stop_ffs || fail "faultfs exited with $?"
mounted $M && fail "still mounted after SIGINT"
echo "PASS: power-loss semantics"
