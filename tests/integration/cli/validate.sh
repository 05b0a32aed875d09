#!/usr/bin/env bash
# `chaosdrill validate`: every malformed fixture exits 2 with FILE:LINE:COL: message
# (position and message checked exactly), every good file and shipped drill exits 0.
set -u
cd "$(dirname "$0")/../../.."
cd_bin=$1
. tests/integration/cli/lib.sh
fx=tests/fixtures/scenarios

check_bad() { # check_bad FILE "L:C: message"
  local f=$1 want=$2
  expect_rc 2 "$cd_bin" validate "$f"
  if [ "$(wc -l <"$err")" -eq 1 ] && grep -qF -- "$f:$want" "$err"; then ok
  else bad "$f: want '$f:$want', got:"; sed 's/^/  | /' "$err"; fi
}

for f in "$fx"/bad/*.yaml; do
  want=$(sed -n 's/^# expect: //p' "$f" | head -1)
  [ -n "$want" ] || want="1:1: the file is empty"
  check_bad "$f" "$want"
done
check_bad "$fx/bad/no-such-file.yaml" "1:1: cannot read: No such file or directory"
check_bad "$fx/bad" "1:1: cannot read: Is a directory"

for f in "$fx"/good/minimal.yaml "$fx"/good/full.yaml scenarios/*.yaml; do
  expect_rc 0 "$cd_bin" validate "$f"
  expect_in "$out" "$f: ok: drill"
done

# Several files: all are checked, and a duplicate drill name is an error at its name.
expect_rc 2 "$cd_bin" validate "$fx/good/dup-a.yaml" "$fx/bad/unknown-key.yaml" "$fx/good/dup-b.yaml"
expect_in "$err" "$fx/good/dup-b.yaml:2:8: duplicate drill name 'good-duplicate' (also at $fx/good/dup-a.yaml:1:8)"
expect_in "$err" "$fx/bad/unknown-key.yaml:3:1:"
expect_in "$out" "$fx/good/dup-a.yaml: ok"

# --param is checked against the target's params.
expect_rc 2 "$cd_bin" validate --param unsafe=bogus scenarios/demo.yaml
expect_in "$err" "--param unsafe=bogus: param unsafe: 'bogus' is not one of: none ack-before-write no-crc no-truncate"
expect_rc 2 "$cd_bin" validate --param nokey scenarios/demo.yaml
expect_in "$err" "--param 'nokey': expected KEY=VALUE"
expect_rc 0 "$cd_bin" validate --param unsafe=no-crc --quiet scenarios/demo.yaml
[ ! -s "$out" ] && ok || bad "--quiet printed: $(cat "$out")"

finish
