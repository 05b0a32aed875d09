#!/usr/bin/env bash
# The RTO matrix: outages of known length made by each mechanism, at X of 50 ms, 300 ms and
# 1.5 s, under write timeouts of 20 ms, 500 ms and 5 s; for each cell the measured RTO minus
# the true outage, which must be >= 0 and at most max(5 ms, one write interval + one write
# latency). The truth comes from beside the workload, never from its ledger:
#   stop   the node frozen by the cgroup freezer: from the fault to the heal (the thaw), both
#          from the timeline; the harness records the heal after the thaw returned, and
#          handles no answer before that (one event loop)
#   sync   a primary with `replication: sync` cut off from its replica by a partition for X:
#          from the fault to the first data segment of the primary's stream that reaches the
#          replica after the heal (kernel timestamp, rto-truth arrivals in the replica). Not
#          the heal: TCP retransmits a stream cut off for X on its own backed-off timer
#   delay  every packet into the node delayed by X, for X: from the fault to the heal, which
#          releases what the queue held (timeline); nothing reaches the node before it
#   kill   the node killed, restarted at once by a wrapper that sleeps X before it execs
#          the server: from the fault to the last refused connection of a prober that
#          tries every 200 us inside the node (rto-truth listen): the server listened after it
# kvlog runs with `sync: never` here: with `sync: always` it drains a backlog at one
# fdatasync per record after a stall (30-540 ms for an 800 ms freeze on a busy 2-core
# machine), a real outage clients see, but no known length. The drills state `slow: 25ms`:
# a stall of 50 ms is an outage only under a bound below 50 ms (the default is 100 ms).
#
# Usage: rto_matrix.sh CHAOSDRILL XMLLINT RTO-TRUTH [MECHANISM...]
# RTO_MATRIX_OLD=1: for a chaosdrill before issue #13 (no `slow:`); prints the table, checks
# nothing. Prints one line per cell and a table; exit 1 if a cell is out of bounds.
set -u
. "$(dirname "$0")/lib.sh"
truth_bin=$(readlink -f "$3")
shift 3
mechs=${*:-stop sync delay kill}
cd "$src"
export CHAOSDRILL_TARGETS=$src/tests/fixtures/targets
old=${RTO_MATRIX_OLD:-}
rate=400 clients=4 interval=10 # ms between two writes of one client

ms_of() { # 50 -> 50ms, 1500 -> 1500ms
  echo "${1}ms"
}

# cell MECH X T: writes the drill file of one cell
cell() {
  local m=$1 x=$2 t=$3 f="$work/cells/m-$1-$2-$3.yaml"
  {
    echo "drill: m-$m-$x-$t"
    echo "target: rtokv"
    if [ "$m" = sync ]; then
      echo "nodes:"
      echo "  - {name: p1, params: {role: primary}}"
      echo "  - {name: r1, params: {role: replica, spy: 10.213.0.2}}"
      echo "params: {sync: never, replication: sync, truth: \"$truth_bin\"}"
    else
      echo "nodes: 1"
      echo "params: {sync: never, truth: \"$truth_bin\", sleep: \"$(awk -v x="$x" 'BEGIN { printf "%.3f", x / 1000 }')\"}"
    fi
    echo "workload: {rate: $rate/s, clients: $clients, timeout: $(ms_of "$t"), warmup: 500ms, tail: 1s}"
    echo "faults:"
    echo "  - at: 300ms"
    case $m in
      stop) echo "    stop: n1"; echo "    heal: {after: $(ms_of "$x")}" ;;
      sync) echo "    partition: {groups: [[p1], [r1]]}"; echo "    heal: {after: $(ms_of "$x")}" ;;
      delay) echo "    delay: {node: n1, mean: $(ms_of "$x")}"; echo "    heal: {after: $(ms_of "$x")}" ;;
      kill) echo "    kill: n1"
            echo "recovery:"
            echo "  - restart: n1"
            echo "  - wait: {tcp: 7700, node: n1, timeout: 10s}" ;;
    esac
    if [ -n "$old" ]; then echo "expect: {rto: 10s}"; else echo "expect: {rto: 10s, slow: 25ms}"; fi
  } >"$f"
  echo "$f"
}

tl() { # tl RUN_DIR EVENT: t_ns of the first such event
  sed -n "s/.*\"t_ns\":\\([0-9]*\\),\"event\":\"$2\".*/\\1/p" "$1/timeline.jsonl" | head -1
}

# truth_ns MECH RUN_DIR INJ: the true outage in ns from the fault, or empty
truth_ns() {
  local m=$1 d=$2 inj=$3 t0 heal
  t0=$(sed -n 's/.*t_ns 0 is CLOCK_REALTIME \([0-9]*\).*/\1/p' "$d/timeline.jsonl")
  heal=$(tl "$d" fault_healed)
  case $m in
    stop|delay) [ -n "$heal" ] && echo $((heal - inj)) ;;
    sync) [ -f "$d/data/r1/arrivals" ] &&
            awk -v from=$((t0 + heal)) -v base=$((t0 + inj)) '$2 >= from { print $2 - base; exit }' "$d/data/r1/arrivals" ;;
    kill) [ -f "$d/data/n1/listen" ] && tail -1 "$d/data/n1/listen" | awk -v base=$((t0 + inj)) '$2 > 0 { print $2 - base }' ;;
  esac
}

# p99_ns RUN_DIR INJ: p99 latency of the steady state: writes sent after the warm-up and
# acknowledged before the fault
p99_ns() {
  awk -v from="$(tl "$1" steady)" -v inj="$2" '!/^#/ && $5 == "ok" && $2 >= from && $3 <= inj { print $3 - $2 }' "$1/ledger" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) print v[int((NR - 1) * 99 / 100) + 1]; else print 0 }'
}

mkdir -p "$work/cells"
table="$work/table"
printf '%-6s %6s %6s %9s %9s %9s %8s  %s\n' mech X timeout truth_ms rto_ms diff_ms bound_ms verdict >"$table"
for m in $mechs; do
  files=()
  for x in 50 300 1500; do
    for t in 20 500 5000; do files+=("$(cell "$m" "$x" "$t")"); done
  done
  "$cd_bin" run -q --subnet 10.213.0.0/16 --out "$work/runs" "${files[@]}" >"$work/out-$m" 2>&1
  for x in 50 300 1500; do
    for t in 20 500 5000; do
      name=m-$m-$x-$t
      d=$(ls -d "$work"/runs/"$name"-2*Z/ 2>/dev/null | head -1)
      d=${d%/}
      inj=$([ -n "$d" ] && tl "$d" fault_injected)
      # rto_us where the harness has it (after #13), else the whole ms of rto_ms
      rto=$([ -n "$d" ] && sed -n 's/.*"rto_us": \([0-9]*\).*/\1/p' "$d/result.json" | head -1)
      [ -n "$rto" ] && rto=$(awk -v u="$rto" 'BEGIN { printf "%.3f", u / 1000 }')
      [ -z "$rto" ] && [ -n "$d" ] && rto=$(sed -n 's/.*"rto_ms": \([0-9]*\).*/\1/p' "$d/result.json" | head -1)
      truth=$([ -n "$inj" ] && truth_ns "$m" "$d" "$inj")
      if [ -z "$rto" ] || [ -z "$truth" ]; then
        printf '%-6s %6s %6s %9s %9s %9s %8s  %s\n' "$m" "$x" "$t" "${truth:-?}" "${rto:-?}" - - "NOT MEASURED" >>"$table"
        [ -n "$old" ] || bad "$name: no RTO or no truth (run dir '${d:-none}')"
        [ -n "$d" ] || sed 's/^/  | /' "$work/out-$m"
        continue
      fi
      p99=$(p99_ns "$d" "$inj")
      read -r diff bound verdict < <(awk -v r="$rto" -v t="$truth" -v p="$p99" -v i="$interval" 'BEGIN {
        d = r - t / 1e6; b = i + p / 1e6; if (b < 5) b = 5
        v = (d >= 0 && d <= b) ? "ok" : (d < 0 ? "BELOW" : "ABOVE")
        printf "%.1f %.1f %s\n", d, b, v }')
      printf '%-6s %6s %6s %9.1f %9.1f %9s %8s  %s\n' "$m" "$x" "$t" "$(awk -v t="$truth" 'BEGIN { print t / 1e6 }')" \
        "$rto" "$diff" "$bound" "$verdict" >>"$table"
      [ -n "$old" ] && continue
      if [ "$verdict" = ok ]; then ok "$name: RTO ${rto}ms, truth $(awk -v t="$truth" 'BEGIN { printf "%.1f", t / 1e6 }')ms, +${diff}ms <= ${bound}ms"
      else bad "$name: RTO ${rto}ms, truth $(awk -v t="$truth" 'BEGIN { printf "%.1f", t / 1e6 }')ms: $verdict (bound ${bound}ms)"; fi
    done
  done
done
cat "$table"
[ -z "${RTO_MATRIX_KEEP:-}" ] || cp -r "$work/runs" "$RTO_MATRIX_KEEP"
[ -n "$old" ] && { cp "$table" "${RTO_MATRIX_TABLE:-/dev/null}"; exit 0; }
cp "$table" "${RTO_MATRIX_TABLE:-/dev/null}"
finish
