#!/usr/bin/env bash
# SIGINT at a random moment ends a drill: it exits 3, still writes its reports (saying it
# was interrupted) and leaves no namespace, mount, veth, cgroup or process behind. After
# SIGKILL of the harness, `chaosdrill gc` leaves the machine as clean as before.
set -u
. "$(dirname "$0")/lib.sh"
cd "$src"
snapshot >"$work/before"

for delay in 0.3 1.7 3.4 $(awk -v s=$RANDOM 'BEGIN{srand(s); printf "%.1f", 0.2 + rand() * 5}'); do
  rm -rf "$work/runs" "$work/junit.xml"
  "$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" scenarios/kvlog-crash-restart.yaml >"$work/out" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -INT "$pid"
  wait "$pid"; rc=$?
  [ "$rc" -eq 3 ] && ok "SIGINT at ${delay}s: exit 3" || { bad "SIGINT at ${delay}s: exit $rc, want 3"; sed 's/^/  | /' "$work/out"; }
  grep -q "interrupted by Interrupt" "$work/out" && ok "says it was interrupted" || bad "does not say it was interrupted"
  if "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null && grep -q "interrupted" "$work/junit.xml"; then
    ok "junit written and valid"; else bad "no valid junit after SIGINT at ${delay}s"; fi
  res=$(ls "$work"/runs/*/result.json 2>/dev/null | head -1)
  [ -n "$res" ] && grep -q '"verdict": "error"' "$res" && ok "result.json says error" || bad "result.json after SIGINT"
  check_clean "$work/before" "SIGINT at ${delay}s"
done

# SIGKILL: the harness cannot clean up; its holders die with it, and gc finds the rest.
"$cd_bin" run --out "$work/runs" scenarios/kvlog-crash-restart.yaml >"$work/out" 2>&1 &
pid=$!
sleep 2
kill -KILL "$pid"
wait "$pid" 2>/dev/null
sleep 0.3
"$cd_bin" gc >"$work/gc" 2>&1 && ok "gc exits 0" || bad "gc failed: $(cat "$work/gc")"
sed 's/^/  # /' "$work/gc"
check_clean "$work/before" "SIGKILL and gc"
finish
