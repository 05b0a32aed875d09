#!/usr/bin/env bash
# `chaosdrill validate` on the target model's drills (no root needed): every model and
# PostgreSQL fixture drill is valid, and each misuse is exit 2 with FILE:LINE:COL: message.
set -u
cd "$(dirname "$0")/../../.."
cd_bin=$1
. tests/integration/cli/lib.sh
export CHAOSDRILL_TARGETS=$PWD/tests/fixtures/targets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out" "$err"' EXIT

for f in tests/fixtures/scenarios/model/*.yaml tests/fixtures/scenarios/pg/*.yaml; do
  expect_rc 0 "$cd_bin" validate "$f"
  expect_in "$out" "$f: ok: drill"
done

bad_drill() { # bad_drill "YAML" "L:C: message"
  printf '%s\n' "$1" >"$tmp/d.yaml"
  expect_rc 2 "$cd_bin" validate "$tmp/d.yaml"
  expect_in "$err" "$tmp/d.yaml:$2"
}
bad_drill 'drill: x
target: pgtest
expect: {rpo: 0}' "3:10: expect rpo needs a workload, and its target has no driver (no workload can run)"
bad_drill 'drill: x
target: pgtest
expect: {rto: 1s}' "3:10: expect rto needs a workload or a fault"
CHAOSDRILL_TARGETS= bad_drill 'drill: x
target: kvlog
workload: none
expect:
  integrity: true' "5:3: expect integrity needs a workload, and the drill has workload: none"
bad_drill 'drill: x
target: pgtest
recovery:
  - restart: {node: n1, params: {fsync: maybe}}' "4:41: param fsync: 'maybe' is not one of: on off"
bad_drill 'drill: x
target: pgtest
recovery:
  - restart: {node: n1, params: {sync: always}}' "4:34: target pgtest has no param 'sync'"
bad_drill 'drill: x
target: pgtest
recovery:
  - signal: {node: n1, signal: PING}' "4:32: unknown signal 'PING'"
bad_drill 'drill: x
target: pgtest
actions:
  - {at: 1s, restart: n1}' "4:14: an action is exec, signal, wait or sleep"

# target.yaml errors are located in target.yaml
mkdir -p "$tmp/targets/badt"
cp -r tests/fixtures/targets/pgtest "$tmp/targets/"
printf 'target: badt\nport: 1\nstart: [x]\nprobe: {ready: [y]}\nenv: {9X: a}\n' >"$tmp/targets/badt/target.yaml"
printf 'drill: x\ntarget: badt\n' >"$tmp/d.yaml"
CHAOSDRILL_TARGETS=$tmp/targets expect_rc 2 "$cd_bin" validate "$tmp/d.yaml"
expect_in "$err" "$tmp/targets/badt/target.yaml:5:7: '9X' is not an environment variable's name"

finish
