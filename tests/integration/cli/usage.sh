#!/usr/bin/env bash
# Usage and exit codes of every subcommand; `run` rejects bad files before setting up
# anything; a JUnit file written by `run` validates against the schema.
set -u
cd "$(dirname "$0")/../../.."
cd_bin=$1 xmllint=$2
. tests/integration/cli/lib.sh
schema=${CHAOSDRILL_SHARED:-../shared}/schemas/junit-10.xsd

expect_rc 0 "$cd_bin" --version
expect_in "$out" "chaosdrill 0."
expect_rc 0 "$cd_bin" --help
expect_in "$out" "Exit codes: 0 every expectation met"
expect_rc 2 "$cd_bin"
expect_rc 2 "$cd_bin" frobnicate
expect_in "$err" "unknown command 'frobnicate'"
for c in run validate list gc junit-merge; do
  expect_rc 0 "$cd_bin" "$c" --help
  expect_in "$out" "Usage: chaosdrill $c"
done
expect_rc 2 "$cd_bin" run
expect_in "$err" "no drill file given"
expect_rc 2 "$cd_bin" validate
expect_rc 2 "$cd_bin" run --bogus-option scenarios/demo.yaml
expect_rc 2 "$cd_bin" run --repeat 0 scenarios/demo.yaml
expect_in "$err" "--repeat '0': expected 1 to 10000"
expect_rc 2 "$cd_bin" run --subnet 10.0.0.0/33 scenarios/demo.yaml
expect_in "$err" "--subnet '10.0.0.0/33': expected A.B.C.D/LEN"
expect_rc 2 "$cd_bin" run --subnet 10.0.0/24 scenarios/demo.yaml
expect_rc 2 "$cd_bin" run --seed -5 scenarios/demo.yaml
expect_in "$err" "--seed '-5': expected a whole number"
expect_rc 2 "$cd_bin" run -j 0 scenarios/demo.yaml
expect_in "$err" "-j '0': expected 1 to 256"
expect_rc 2 "$cd_bin" run --shard 0/2 scenarios/demo.yaml
expect_in "$err" "--shard '0/2': expected I/N with 1 <= I <= N"
expect_rc 2 "$cd_bin" junit-merge out.xml
expect_in "$err" "want OUT and at least one IN"

expect_rc 0 "$cd_bin" list
expect_in "$out" "kvlog"
expect_in "$out" "kill"
expect_in "$out" "restart"

# A bad file stops `run` before anything is set up: no run directory, no JUnit file.
tmp=$(mktemp -d)
expect_rc 2 "$cd_bin" run --out "$tmp/runs" --junit "$tmp/j.xml" scenarios/demo.yaml tests/fixtures/scenarios/bad/unknown-key.yaml
expect_in "$err" "unknown-key.yaml:3:1:"
[ ! -e "$tmp/runs" ] && [ ! -e "$tmp/j.xml" ] && ok || bad "run left files after a bad scenario"

# As root the demo runs and passes; otherwise it cannot run (exit 3) and says why. Either
# way its JUnit file is valid against the schema.
"$cd_bin" run --quiet --out "$tmp/runs" --junit "$tmp/j.xml" scenarios/demo.yaml >"$out" 2>&1
rc=$?
want=0; [ "$(id -u)" -eq 0 ] || want=3
[ "$rc" -eq "$want" ] && ok || { bad "run exit $rc, want $want"; sed 's/^/  | /' "$out"; }
if "$xmllint" --noout --schema "$schema" "$tmp/j.xml" 2>"$err"; then ok; else bad "junit invalid:"; cat "$err"; fi

# Drills that cannot start end with exit 3, a sentence and a valid JUnit file, never a
# crash: a run directory that cannot be made, and (as root, through setpriv) an ordinary user.
rm -f "$tmp/j.xml"
expect_rc 3 "$cd_bin" run --out /proc/chaosdrill-nope --junit "$tmp/j.xml" scenarios/demo.yaml
expect_in "$out" "error: cannot create a run directory under /proc/chaosdrill-nope"
if "$xmllint" --noout --schema "$schema" "$tmp/j.xml" 2>"$err"; then ok; else bad "junit invalid:"; cat "$err"; fi
# target.yaml's client: (an adapter's argv, docs/adapters.md) is required by driver lines
# and only there, each error at its line:column; examples/NAME targets are listed.
expect_rc 0 "$cd_bin" list
expect_in "$out" "kvlog-py "
tg=$tmp/client-targets
mkdir -p "$tg/nocl" "$tg/stray" "$tg/empty"
grep -v '^client' targets/examples/kvlog-py/target.yaml | sed 's/^target: .*/target: nocl/' >"$tg/nocl/target.yaml"
sed -e 's/^target: .*/target: stray/' -e 's/^check:/client: [x]\ncheck:/' targets/kvlog/target.yaml >"$tg/stray/target.yaml"
sed -e 's/^target: .*/target: empty/' -e 's/^client: .*/client: []/' targets/examples/kvlog-py/target.yaml >"$tg/empty/target.yaml"
for t in nocl stray empty; do printf 'drill: d\ntarget: %s\nfaults: [{at: 1s, kill: n1}]\n' "$t" >"$tg/$t.yaml"; done
expect_rc 2 env CHAOSDRILL_TARGETS="$tg" "$cd_bin" validate "$tg/nocl.yaml"
expect_in "$err" "nocl/target.yaml:3:9: driver lines needs the key 'client'"
expect_rc 2 env CHAOSDRILL_TARGETS="$tg" "$cd_bin" validate "$tg/stray.yaml"
expect_in "$err" "stray/target.yaml:15:9: 'client' is for driver lines"
expect_rc 2 env CHAOSDRILL_TARGETS="$tg" "$cd_bin" validate "$tg/empty.yaml"
expect_in "$err" "empty/target.yaml:4:9: client must not be empty"

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  # in copies the user can read: the checkout may sit under root's own home (the fresh root)
  chmod 755 "$tmp" && mkdir -p "$tmp/user-runs" "$tmp/targets/kvlog" && chown 65534:65534 "$tmp/user-runs"
  cp targets/kvlog/target.yaml "$tmp/targets/kvlog/" && cp scenarios/demo.yaml "$tmp/"
  expect_rc 3 env CHAOSDRILL_TARGETS="$tmp/targets" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$cd_bin" run --out "$tmp/user-runs" "$tmp/demo.yaml"
  expect_in "$out" "error: running a drill needs root"
  res=$(ls "$tmp"/user-runs/*/result.json 2>/dev/null | head -1)
  [ -n "$res" ] && grep -q '"verdict": "error"' "$res" && ok || bad "no result.json saying error for an ordinary user"
fi
rm -rf "$tmp"

finish
