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
# the host's nftables tables, FUSE mounts of this test's runs in any mount namespace (a
# node's faultfs lives in the node's), loop devices, the cgroups of this test's labs, and
# processes in them or working on this test's files.
snapshot() {
  ip netns list 2>/dev/null
  ip -o link show | awk -F': ' '{print $2}' | sort
  # (not the throwaway roots scripts/fresh-root.sh mounts for CI runs beside this test)
  awk '{print $2}' /proc/mounts | grep -v '^/var/tmp/chaosdrill-fresh-' | sort
  if command -v nft >/dev/null; then nft list tables 2>/dev/null | sed 's/^/nft /' | sort; fi
  cat /proc/[0-9]*/mounts 2>/dev/null | awk -v w="$work" '$3 ~ /^fuse/ && index($0, w) {print "fuse " $2}' | sort -u
  losetup -a 2>/dev/null | grep -F "$work" || true
  find /sys/fs/cgroup -maxdepth 4 -type d -path '*chaosdrill/cd-*' 2>/dev/null | ours | sort
  # live processes in a lab's cgroup; zombies hold nothing and wait for PID 1 to reap them
  for f in $(grep -l 'chaosdrill/cd-' /proc/[0-9]*/cgroup 2>/dev/null); do
    p=${f#/proc/}; p=${p%/cgroup}
    [ -n "$({ ours <"$f"; } 2>/dev/null)" ] || continue # (gone meanwhile, or not ours)
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "process $p $(cat "/proc/$p/comm" 2>/dev/null)"
  done | sort
  # processes that escaped a cgroup but still name or work in this test's files
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] || [ "${p#/proc/}" = "$BASHPID" ] && continue
    [ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] && continue
    case "$(readlink "$p/cwd" 2>/dev/null) $(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in
      *"$work/runs"*) echo "process ${p#/proc/} $(cat "$p/comm" 2>/dev/null) (on $work/runs)" ;;
    esac
  done | sort
}

# reports_complete DIR: every report file present in the run directory DIR is complete (a
# killed harness may have written some and not others, never half of one), and no temp
# file of an atomic write is there. Prints what is wrong; 1 if anything.
reports_complete() {
  local d=$1 f bad=0
  for f in "$d"/*.tmp.* "$d"/.*.tmp.*; do
    [ -e "$f" ] && { echo "temp file left: $(basename "$f")"; bad=1; }
  done
  [ -e "$d/result.json" ] && ! jq -e '.verdict' "$d/result.json" >/dev/null 2>&1 && { echo "result.json torn"; bad=1; }
  [ -e "$d/schedule.json" ] && ! jq -e '.seed' "$d/schedule.json" >/dev/null 2>&1 && { echo "schedule.json torn"; bad=1; }
  [ -e "$d/timeline.jsonl" ] && ! jq -ce . "$d/timeline.jsonl" >/dev/null 2>&1 && { echo "timeline.jsonl torn"; bad=1; }
  [ -e "$d/junit.xml" ] && ! "$xmllint" --noout --schema "$schema" "$d/junit.xml" 2>/dev/null && { echo "junit.xml torn or invalid"; bad=1; }
  [ -e "$d/report.html" ] && ! tail -c 200 "$d/report.html" | grep -q '</html>' && { echo "report.html torn"; bad=1; }
  [ -e "$d/scenario.yaml" ] && ! head -1 "$d/scenario.yaml" | grep -q '^# resolved by chaosdrill' && { echo "scenario.yaml torn"; bad=1; }
  for f in "$d"/ledger "$d"/ledger.*; do
    [ -e "$f" ] || continue
    case $f in *.tmp.*) continue ;; esac
    awk 'NR == 1 { if ($0 !~ /^# chaosdrill ledger/) exit 1; next } NF != 5 || $1 != NR - 1 { exit 1 }' "$f" ||
      { echo "$(basename "$f") torn"; bad=1; }
  done
  return $bad
}

check_clean() { # check_clean BEFORE_FILE WHAT
  snapshot >"$work/after"
  if diff -u "$1" "$work/after" >"$work/diff"; then ok "nothing left behind ($2)"
  else bad "left behind after $2:"; sed 's/^/  | /' "$work/diff"; fi
}
