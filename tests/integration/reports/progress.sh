#!/usr/bin/env bash
# The live progress line: on a terminal (script(1) gives the drill one) a line rewritten in
# place shows each phase, the writes per second, the failures, the faults in force and the
# time left, and is cleared before every normal line, which come out as without it; with
# stdout not a terminal, with CI=true and with --quiet there is no such line at all.
set -u
. "$(dirname "$0")/../drills/lib.sh"
cd "$src"
command -v script >/dev/null || { echo "SKIP: script(1) (util-linux) is needed to give the drill a terminal"; exit 77; }
fixture=tests/fixtures/scenarios/reports/progress.yaml
live=$(printf '\r\033\\[K')

# on_tty OUT ENV... -- ARGS...: the drill on a 200-column terminal, its output in OUT
on_tty() {
  local out=$1; shift
  local envs=(TERM=xterm) # CI's own may be dumb (scripts/fresh-root.sh), which wants no line
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env "${envs[@]}" script -qfec "stty cols 200; $cd_bin run --out $work/runs $* $fixture" /dev/null >"$out" 2>&1
}
# The normal lines of an output: live segments (a clear, then text up to the next clear)
# and the clears removed, CRs dropped, figures masked (times, seeds and pids differ).
normal() {
  perl -pe 's/\r\e\[K[^\r\n\e]*(?=\r\e\[K)//g; s/\r\e\[K//g; s/\r//g; s/[0-9][0-9.]*/N/g' "$1"
}

on_tty "$work/tty" CI= --
rc=$?
[ "$rc" -eq 0 ] && ok "on a terminal: exit 0" || { bad "on a terminal: exit $rc"; sed 's/^/  | /' "$work/tty"; }
n=$(grep -o "$live" "$work/tty" | wc -l)
[ "$n" -ge 8 ] && ok "the line is rewritten in place ($n times)" || bad "the line was rewritten $n times"
for want in '[setup]' '[steady]' '[fault]' '[recovery]' '[verify]' ' writes/s, ' '1 fault in force' \
  ' left (t=' 'reports-progress ['; do
  grep -qF -- "$want" "$work/tty" && ok "the line shows $want" || bad "the line never shows $want"
done
# failures so far: the freeze outlasts the 200 ms timeout
grep -qE '\[(fault|recovery|steady)\] [0-9]+ writes/s, [1-9][0-9]* failed' "$work/tty" &&
  ok "the line counts the failures" || bad "the line never counted a failure"
# no normal line holds a piece of the live line
if normal "$work/tty" | grep -q 'writes/s, N failed'; then bad "a live line mixed with a normal line:"; normal "$work/tty" | grep 'writes/s, N failed' | sed 's/^/  | /'
else ok "the live line never mixes with the normal lines"; fi

"$cd_bin" run --out "$work/runs" "$fixture" >"$work/pipe" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "not a terminal: exit 0" || { bad "not a terminal: exit $rc"; sed 's/^/  | /' "$work/pipe"; }
if grep -q "$(printf '\033')\|$(printf '\r')" "$work/pipe"; then bad "not a terminal, yet escapes or CRs"; else ok "not a terminal: no escape, no CR"; fi
grep -qF 'writes/s, ' "$work/pipe" && bad "not a terminal, yet the live line" || ok "not a terminal: no live line"
if diff <(normal "$work/tty") <(normal "$work/pipe") >"$work/diff"; then
  ok "the normal lines are the same with and without a terminal"
else bad "the normal lines differ:"; sed 's/^/  | /' "$work/diff"; fi

on_tty "$work/ci" CI=true --
grep -qF -- '[steady]' "$work/ci" && bad "CI=true, yet the live line" || ok "CI=true: no live line"
on_tty "$work/dumb" CI= TERM=dumb --
grep -qF -- '[steady]' "$work/dumb" && bad "TERM=dumb, yet the live line" || ok "TERM=dumb: no live line"
on_tty "$work/quiet" CI= -- --quiet
grep -qF -- '[steady]' "$work/quiet" && bad "--quiet, yet the live line" || ok "--quiet: no live line"
grep -q "reports-progress: PASS" "$work/quiet" && ok "--quiet still says the verdict" || bad "--quiet: no verdict"
finish
