"""Checks and their output, in the format qemu-tests/lib/suite.sh and qemu-tests/report.py
parse: one line per check ("  ok: TEXT" or "  FAIL: TEXT"), headings with the time since the
scenario began, and last "N passed, M failed"."""
import sys
import time
import traceback

from . import procs

T0 = time.monotonic()
passed = 0
failed = 0


def say(text):
    print(text, flush=True)


def wait_count(what, count, n, deadline):
    """COUNT() once it reaches N (WHAT says what that is); past DEADLINE (sized from the work
    by the caller: only a failure reaches it), as it is then, the wait said."""
    try:
        procs.wait_until(lambda: count() >= n, deadline, what)
    except procs.Timeout as e:
        say(f"  {e}")
    return count()


def step(text):
    say(f"[{time.monotonic() - T0:4.0f}s] {text}")


def result(ok, text):
    global passed, failed
    if ok:
        passed += 1
        say(f"  ok: {text}")
    else:
        failed += 1
        say(f"  FAIL: {text}")
    return ok


def expect(text, ok, detail=None):
    """A condition that must hold; DETAIL (lines) is printed under a failure."""
    result(bool(ok), text)
    if not ok and detail:
        for line in str(detail).split("\n")[-20:]:
            say(f"    | {line}")
    return bool(ok)


def expect_eq(text, got, want):
    if got == want:
        return result(True, text)
    return result(False, f"{text} (got '{got}', want '{want}')")


def finish():
    """Prints the totals; returns the exit status."""
    say(f"{passed} passed, {failed} failed")
    sys.stdout.flush()
    return 0 if failed == 0 else 1


def crashed(e):
    """Reports exception E, which stopped a scenario before its end, as a failed check with
    the end of its traceback (called from an `except` block)."""
    result(False, f"the scenario ran to its end ({type(e).__name__}: {e})")
    for line in traceback.format_exc().split("\n")[-12:]:
        if line:
            say(f"    | {line}")
