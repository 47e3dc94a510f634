"""`python -m bench.peak_rss OUT TIMEOUT COMMAND...`: run COMMAND, write its peak RSS to OUT.

Why a launcher: Linux counts a child's peak RSS from the moment it is forked, before exec, so a
command started straight from the bench (a Django process of 100 MiB and more) would report at
least that much however little it used. Started from this small process instead, the command's
figure is its own, give or take this launcher's few MiB. A command still running after TIMEOUT
seconds is stopped (SIGTERM, then SIGKILL) and its peak RSS reported all the same.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        sys.stderr.write("usage: python -m bench.peak_rss OUT TIMEOUT COMMAND...\n")
        return 2
    out, deadline, command = Path(args[0]), time.monotonic() + float(args[1]), args[2:]
    process = subprocess.Popen(command)  # noqa: S603 - the bench's own commands
    timed_out = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if not timed_out and time.monotonic() > deadline:
            timed_out = True
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
        elif timed_out and time.monotonic() > deadline:
            process.kill()
        time.sleep(0.05)
    process.returncode = returncode = os.waitstatus_to_exitcode(status)
    out.write_text(
        json.dumps({"returncode": returncode, "peak_rss_kib": usage.ru_maxrss, "timed_out": timed_out})
    )
    return returncode


if __name__ == "__main__":
    raise SystemExit(main())
