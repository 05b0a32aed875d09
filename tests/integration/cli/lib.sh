# Shared by the CLI tests: counters and checks that print what failed.
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect_rc WANT CMD...: runs CMD, stdout to $out, stderr to $err, checks the exit code.
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
expect_rc() {
  local want=$1; shift
  "$@" >"$out" 2>"$err"; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc, want $want: $*"; sed 's/^/  stderr: /' "$err" | head -5; fi
}
expect_in() { # expect_in FILE TEXT
  if grep -qF -- "$2" "$1"; then ok; else bad "'$2' not in output:"; sed 's/^/  | /' "$1" | head -5; fi
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
