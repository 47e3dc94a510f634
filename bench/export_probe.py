"""`python -m bench.export_probe URL`: download the CSV export once, print what came as JSON.

A process of its own, so that the harness reads the peak memory of exactly this download
(ru_maxrss from wait4) and nothing else.
"""

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.export_probe")
    parser.add_argument("url", help="the export's path, query string included")
    parser.add_argument("--username", default="bench-admin", help="the staff user to log in as")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from bench.probes import export_once

    sys.stdout.write(json.dumps(export_once(url=args.url, username=args.username)) + "\n")


if __name__ == "__main__":
    main()
