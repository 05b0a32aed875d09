# Shared by the drill tests: prerequisites (skip with 77 and the reason), running a drill,
# and the check that a drill left nothing behind.
cd_bin=$1 xmllint=$2
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
schema=${CHAOSDRILL_SHARED:-$src/../shared}/schemas/junit-10.xsd
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: drills need root (namespaces, cgroups, mounts)"; exit 77; fi
if ! unshare --net --pid --fork --mount true 2>/dev/null; then
  echo "SKIP: this machine cannot create network, pid and mount namespaces"; exit 77
fi

work=$(mktemp -d /tmp/cd-drill-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Every chaosdrill this test runs goes through a wrapper that records its pid (exec keeps
# it), so that the leftover check looks at this test's own labs (cd-PID-N) and not at
# those of drills other programs run on the machine at the same time.
real_cd_bin=$cd_bin
cd_bin=$work/chaosdrill
printf '#!/bin/sh\necho $$ >>"%s/pids"\nexec "%s" "$@"\n' "$work" "$real_cd_bin" >"$cd_bin"
chmod +x "$cd_bin"

# drill WANT_RC FILE [ARGS...]: runs a drill, output in $work/out, checks the exit code
# and that its JUnit file is valid against the schema.
drill() {
  local want=$1 file=$2; shift 2
  "$cd_bin" run --out "$work/runs" --junit "$work/junit.xml" "$@" "$file" >"$work/out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$(basename "$file") $* exits $rc"
  else bad "$(basename "$file") $*: exit $rc, want $want"; sed 's/^/  | /' "$work/out"; fi
  if "$xmllint" --noout --schema "$schema" "$work/junit.xml" 2>/dev/null; then ok "junit valid"
  else bad "junit.xml of $(basename "$file") is not valid"; fi
}

# rto_ms: the last drill's RTO in whole milliseconds ("RTO 842ms" or "RTO 1.050s").
rto_ms() {
  local v
  v=$(sed -n 's/.*RTO \([0-9.]*m\{0,1\}s\) <= target.*/\1/p; s/.*RTO \([0-9.]*m\{0,1\}s\) > target.*/\1/p' "$work/out" | head -1)
  case $v in
    *ms) echo "${v%ms}" ;;
    *s) awk -v s="${v%s}" 'BEGIN { printf "%d", s * 1000 + 0.5 }' ;;
  esac
}

expect_out() { # expect_out TEXT: the last drill's output holds TEXT
  if grep -qF -- "$1" "$work/out"; then ok "says '$1'"; else bad "output lacks '$1'"; sed 's/^/  | /' "$work/out"; fi
}

# The lines that name a lab of this test's own chaosdrill runs (cd-PID-N).
ours() {
  if [ -s "$work/pids" ]; then grep -E "cd-($(paste -sd'|' "$work/pids"))-" || true; fi
}

# What a drill could leave behind, as text: network namespaces, host links, host mounts,
# loop devices, the cgroups of this test's labs, and processes in them.
snapshot() {
  ip netns list 2>/dev/null
  ip -o link show | awk -F': ' '{print $2}' | sort
  awk '{print $2}' /proc/mounts | sort
  losetup -a 2>/dev/null | grep -F "$work" || true
  find /sys/fs/cgroup -maxdepth 4 -type d -path '*chaosdrill/cd-*' 2>/dev/null | ours | sort
  # live processes in a lab's cgroup; zombies hold nothing and wait for PID 1 to reap them
  for f in $(grep -l 'chaosdrill/cd-' /proc/[0-9]*/cgroup 2>/dev/null); do
    p=${f#/proc/}; p=${p%/cgroup}
    [ -n "$({ ours <"$f"; } 2>/dev/null)" ] || continue # (gone meanwhile, or not ours)
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "process $p $(cat "/proc/$p/comm" 2>/dev/null)"
  done | sort
}

check_clean() { # check_clean BEFORE_FILE WHAT
  snapshot >"$work/after"
  if diff -u "$1" "$work/after" >"$work/diff"; then ok "nothing left behind ($2)"
  else bad "left behind after $2:"; sed 's/^/  | /' "$work/diff"; fi
}
