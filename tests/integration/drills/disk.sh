#!/usr/bin/env bash
# Faults of the fault file system in drills: a power cut loses nothing acknowledged with
# sync always or batch, and with sync never fails RPO naming the lost writes; rotted bits
# are caught by kvlog's CRC, and served by its no-crc variant; a bad sector is refused,
# then truncated by the runbook; a disk filled for real (ext4 on a loop device, tmpfs) loses
# nothing acknowledged, and leaves no loop device, also after SIGKILL and gc. The faultfs mount lives in
# the node's mount namespace only, and nothing stays mounted after the drill or a SIGINT.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse: the fault file system needs FUSE"; exit 77; }
snapshot >"$work/before"

drill 0 scenarios/kvlog-power-loss.yaml
expect_out "killed the node, then power-cut keep=none on n1: ok dropped="
fuse_mounts() { awk '$3 ~ /^fuse(\.|$)/' /proc/mounts; } # not fusectl
[ -z "$(fuse_mounts)" ] && ok "no faultfs mount in the host's namespace" || bad "a fuse mount is visible in the host's namespace"
drill 0 scenarios/kvlog-power-loss.yaml --param sync=batch
drill 1 scenarios/kvlog-power-loss.yaml --param sync=never
expect_out "acknowledged writes lost: w"

drill 0 scenarios/kvlog-bitrot.yaml
drill 1 scenarios/kvlog-bitrot.yaml --param unsafe=no-crc
expect_out "corrupt value at key"

# Bad sectors: kvlog refuses the unreadable log, the runbook truncates, the loss is bounded;
# the variant that takes EIO for a torn tail never shows the refusal.
drill 0 scenarios/kvlog-bad-sector.yaml
expect_out "step 1 exec ok"
expect_out "acknowledged writes lost: w"
drill 1 scenarios/kvlog-bad-sector.yaml --param unsafe=eio-as-tail
expect_out "kvlog refuses the unreadable log FAIL"

# A full disk, for real: the node's own ext4 (a loop device) or tmpfs filled by a ballast.
loops() { # loop devices backed by a disk image of this test's drills
  cat /sys/block/loop*/loop/backing_file 2>/dev/null | grep -F "$work/" || true
}
drill 0 scenarios/kvlog-disk-full.yaml
expect_out "fault disk-full: filled n1's disk: ballast"
expect_out "0 bytes free"
drill 1 scenarios/kvlog-disk-full.yaml --param unsafe=ack-before-write
expect_out "acknowledged writes lost: w"
drill 0 tests/fixtures/scenarios/disk/kvlog-disk-full-tmpfs.yaml
expect_out "8192 bytes free"
[ -z "$(loops)" ] && ok "no loop device left" || bad "loop devices left: $(loops)"
# SIGKILL of the harness mid-drill: the node's mount namespace dies with its holder, the
# ext4 is unmounted and the autoclear loop device detaches; gc finds the rest.
"$cd_bin" run --out "$work/runs" scenarios/kvlog-disk-full.yaml >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -n "$(loops)" ] && break; sleep 0.05; done
[ -n "$(loops)" ] && ok "SIGKILL: the drill's loop device is there before the kill" ||
  bad "SIGKILL: no loop device appeared: the check below would test nothing"
sleep 1
kill -KILL "$pid"; wait "$pid" 2>/dev/null
"$cd_bin" gc >"$work/gc.out" 2>&1 || bad "gc failed: $(cat "$work/gc.out")"
for _ in $(seq 50); do [ -z "$(loops)" ] && break; sleep 0.1; done
[ -z "$(loops)" ] && ok "SIGKILL: no loop device left after gc" || bad "SIGKILL: loop devices left: $(loops)"

# SIGINT while faultfs is mounted under a running node.
"$cd_bin" run --out "$work/runs" scenarios/kvlog-power-loss.yaml >"$work/out" 2>&1 &
pid=$!
sleep 2
[ -z "$(fuse_mounts)" ] && ok "invisible from the host mid-drill" || bad "fuse mount visible on the host mid-drill"
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 3 ] && ok "SIGINT: exit 3" || bad "SIGINT: exit $rc"

check_clean "$work/before" "disk drills"
finish
