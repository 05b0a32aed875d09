#!/usr/bin/env bash
# Faults of the fault file system in drills: a power cut loses nothing acknowledged with
# sync always or batch, and with sync never fails RPO naming the lost writes; rotted bits
# are caught by kvlog's CRC, and served by its no-crc variant; a bad sector is refused,
# then truncated by the runbook. The faultfs mount lives in
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
