"""`python -m config.bench.peak_rss OUT COMMAND...`: run COMMAND, write its peak RSS to OUT (JSON).

Why a launcher: Linux counts a child's peak RSS from the moment it is forked, before exec, so a
command started straight from the bench (a Django process of 100 MiB and more) would report at
least that much however little it used. Started from this small process instead, the command's
figure is its own, give or take this launcher's few MiB.
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        sys.stderr.write("usage: python -m config.bench.peak_rss OUT COMMAND...\n")
        return 2
    out, command = Path(args[0]), args[1:]
    process = subprocess.Popen(command)  # noqa: S603 - the bench's own commands
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = returncode = os.waitstatus_to_exitcode(status)
    out.write_text(json.dumps({"returncode": returncode, "peak_rss_kib": usage.ru_maxrss}))
    return returncode


if __name__ == "__main__":
    raise SystemExit(main())
