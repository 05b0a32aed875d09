# The faultfs mount lives only in its mount namespace: the host's mount table never shows
# it and the host sees the plain backing directory under it (faultfs covers the data dir
# itself, as for a node). SIGINT unmounts cleanly, also with a file held open on the
# mount: nothing is left in the namespace's mount table, nor on the host.
. "$(dirname "$0")/lib.sh"
require
TMP=$(mktemp -d /tmp/faultfs-itest.XXXXXX)
NS_PID=
cleanup_host() {
	[ -n "$NS_PID" ] && { kill -KILL "$NS_PID" 2>/dev/null; wait "$NS_PID" 2>/dev/null; }
	rm -rf "$TMP"
}
trap cleanup_host EXIT
D=$TMP/data
mkdir -p $D && echo before >$D/old

# The namespace side: faultfs over $D itself, a reader holding a file open, then waits
# for faultfs to end and records what its mount table holds.
cat >$TMP/ns.sh <<INNER
"$FFS" --cache volatile --control $TMP/ctl.sock --events $TMP/events $D 2>>$TMP/ffs.err &
echo \$! >$TMP/ffs.pid
for _ in \$(seq 200); do grep -q " $D " /proc/self/mountinfo && break; sleep 0.02; done
exec 3<$D/old
wait \$(cat $TMP/ffs.pid); echo \$? >$TMP/ffs.rc
grep -c "faultfs" /proc/self/mountinfo >$TMP/after
exec 3<&-
INNER
unshare -m --propagation private bash $TMP/ns.sh &
NS_PID=$!
for _ in $(seq 200); do [ -s $TMP/ffs.pid ] && grep -q '"mounted"' $TMP/events 2>/dev/null && break; sleep 0.02; done
FP=$(cat $TMP/ffs.pid 2>/dev/null) || fail "faultfs did not start"
mounted $D $FP || fail "not mounted in faultfs's namespace"
mounted $D && fail "the faultfs mount shows in the host's mount namespace"
grep -q "fuse.faultfs" /proc/self/mountinfo && fail "a faultfs mount in the host's mount table"

# Written through the mount without fsync: the host's view of $D (the backing dir) has
# the file's name but not its data.
nsenter -t $FP -m $PROBE write $D/new 0 hidden none || fail "write through the mount"
expect "through the mount" "$(nsenter -t $FP -m $PROBE read $D/new 0 10)" hidden
expect "host view of the backing file" "$(stat -c %s $D/new)" 0
ls -a $D | grep -q chaosdrill-faultfs || fail "no trash dir in the backing dir"

kill -INT $FP
wait $NS_PID; NS_PID=
expect "faultfs exit status after SIGINT" "$(cat $TMP/ffs.rc)" 0
expect "faultfs mounts left in its namespace" "$(cat $TMP/after)" 0
grep -q "fuse.faultfs" /proc/self/mountinfo && fail "a faultfs mount left on the host"
kill -0 $FP 2>/dev/null && fail "faultfs still running"
# A clean stop flushes (--on-exit flush) and removes its trash.
expect "data after a clean stop" "$(cat $D/new)" hidden
ls -a $D | grep -q chaosdrill-faultfs && fail "trash left behind"
grep -q '"event":"unmounted"' $TMP/events || fail "no unmounted event"
echo "PASS: invisible from the host, clean unmount on SIGINT"
