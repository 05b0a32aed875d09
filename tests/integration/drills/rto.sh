#!/usr/bin/env bash
# RTO is honest: a target that comes back exactly 700 ms after its restart (a wrapper that
# sleeps before it execs kvlog) is measured at 700 ms plus kvlog's own start, within 50 ms.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
export CHAOSDRILL_TARGETS=$src/tests/fixtures/targets
for i in 1 2 3; do
  drill 0 tests/fixtures/scenarios/slow-restart.yaml
  rto=$(rto_ms)
  if [ -n "$rto" ] && [ "$rto" -ge 700 ] && [ "$rto" -le 750 ]; then ok "RTO ${rto}ms for a 700ms restart"
  else bad "RTO '${rto}'ms for a 700ms restart, want 700..750"; sed 's/^/  | /' "$work/out"; fi
done
finish
