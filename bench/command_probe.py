"""`python -m bench.command_probe [--set NAME=VALUE]... COMMAND [ARG...]`: run one management
command in this process and print, as one JSON line, how long Django took to start, how long the
command itself took, and what it printed (its last JSON line, parsed, when it printed one).

A process of its own per run, so that the harness reads the peak RSS of exactly this command
(bench.peak_rss) and can tell the start-up apart from the work. `--set` puts a variable in the
environment before the settings load (a retention limit, say).
"""

import argparse
import json
import os
import sys
import time
from io import StringIO
from typing import Any


def last_json(text: str) -> Any:
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def main(argv: list[str] | None = None) -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m bench.command_probe")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("command")
    parser.add_argument("arguments", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        os.environ[name] = value
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    ready = time.perf_counter()
    out = StringIO()
    call_command(args.command, *args.arguments, stdout=out)
    done = time.perf_counter()
    printed = out.getvalue()
    result = {
        "startup_seconds": round(ready - started, 3),
        "command_seconds": round(done - ready, 3),
        "output": last_json(printed),
        "text": printed[-500:],
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
