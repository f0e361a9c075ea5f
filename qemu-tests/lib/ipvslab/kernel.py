"""The kernel's log (/dev/kmsg) and its reports of problems: what a report looks like is
scripts/vm-reports.patterns, which scripts/vm-reports (after each boot test and after the
guest's command) reads too."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PATTERNS = os.path.join(ROOT, "scripts", "vm-reports.patterns")


def _report_re():
    with open(PATTERNS) as f:
        return re.compile("|".join(f"(?:{x})" for x in f.read().split("\n") if x))


REPORT_RE = _report_re()


class Kmsg:
    """The kernel's log from the moment this is made: each new_lines() returns the records
    logged since the last call (their text only). Close it when done (or use `with`)."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)

    def new_lines(self):
        out = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                return out
            except BrokenPipeError:  # records overwritten before they were read
                continue
            out.append(rec.decode("utf-8", "replace").split(";", 1)[-1].split("\n")[0])

    def reports(self):
        """The lines since the last call that report a kernel problem."""
        return [x for x in self.new_lines() if REPORT_RE.search(x)]

    def close(self):
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
