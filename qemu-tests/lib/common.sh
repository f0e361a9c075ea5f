# Helpers for tests that run inside the VM (sourced). Each check prints one line; `finish`
# prints the totals and sets the exit status.
# shellcheck shell=bash
set -uo pipefail
# shellcheck disable=SC2034 # ROOT is for the scripts that source this file
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_passed=0
_failed=0

_result() {
  if (($1 == 0)); then
    _passed=$((_passed + 1)); echo "  ok: $2"
  else
    _failed=$((_failed + 1)); echo "  FAIL: $2"
  fi
}

# expect DESCRIPTION CMD [ARG...]: CMD succeeds.
expect() {
  local desc=$1; shift
  "$@" >/tmp/expect.out 2>&1
  local rc=$?
  _result $rc "$desc"
  ((rc == 0)) || sed 's/^/    | /' /tmp/expect.out | tail -20
  return $rc
}

# expect_fail DESCRIPTION CMD [ARG...]: CMD fails.
expect_fail() {
  local desc=$1; shift
  if "$@" >/tmp/expect.out 2>&1; then _result 1 "$desc"; return 1; fi
  _result 0 "$desc"
}

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
  if [[ $2 == "$3" ]]; then _result 0 "$1"; else _result 1 "$1 (got '$2', want '$3')"; return 1; fi
}

flavour() { uname -r | sed 's/.*-ipvs-pe-sip-//'; }

finish() {
  echo "$_passed passed, $_failed failed"
  ((_failed == 0))
}
