"""`make bench` (`python -m bench`): the production stack under load, and the admin at scale.

One run, one machine, one server: a fresh database, migrate and collectstatic, seeded data,
gunicorn with several workers and DEBUG off, a local receiver for the triggers, then wrk (a
process of its own) against the floor and each hot path at a few concurrency levels
(`hot_paths`). Then the admin and the commands at 10,000 and 1,000,000 rows (`scale`). Results go
to bench-results/bench.json and docs/benchmarks.md. Everything it starts it stops (`processes`);
it only ever talks to 127.0.0.1.
"""

import argparse
import logging
import os
import secrets
import signal
from types import FrameType
from typing import Any

from bench import report
from bench.processes import (
    RESULTS_DIR,
    ROOT,
    Budget,
    Processes,
    flush_redis,
    log,
    manage,
    require_loopback,
    reset_database,
    stopwatch,
)

RESULTS_JSON = RESULTS_DIR / "bench.json"
DOC = ROOT / "docs" / "benchmarks.md"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loopback_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Nothing is ever delivered there (no deliver_webhooks runs); it only makes events get queued as
# they would be in production.
WEBHOOK_SINK = "http://127.0.0.1:9/bench-webhooks"


def int_list(value: str) -> list[int]:
    try:
        numbers = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of whole numbers: {value!r}") from None
    if not numbers or any(number <= 0 for number in numbers):
        raise argparse.ArgumentTypeError(f"expected positive whole numbers: {value!r}")
    return numbers


SCALE_PARTS = ("admin", "reads", "commands")


def scale_parts(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(SCALE_PARTS))
    if not parts or unknown:
        raise argparse.ArgumentTypeError(f"expected some of {','.join(SCALE_PARTS)}, got {value!r}")
    return parts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench BENCH_ARGS=...",
        description="Throughput of the hot paths against a floor, and the admin and commands at scale.",
    )
    parser.add_argument("--only", choices=["http", "scale"], help="run one part only (default: both)")
    parser.add_argument(
        "--scale",
        type=scale_parts,
        default=list(SCALE_PARTS),
        help=f"scale parts to run, comma-separated (default: all of {','.join(SCALE_PARTS)})",
    )
    parser.add_argument("--rows", type=int_list, default=[10_000, 1_000_000], help="scale sizes, e.g. 10000")
    parser.add_argument("--connections", type=int_list, default=[8, 64], help="wrk connections per level")
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="measured seconds per endpoint and level (and as many of the floor)",
    )
    parser.add_argument(
        "--slices", type=int, default=5, help="alternating floor/endpoint wrk runs per endpoint and level"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="length of each warm-up run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--max-rate", type=int, default=2500, help="requests/s to seed fresh ids for (per endpoint and run)"
    )
    parser.add_argument(
        "--cpu-requests", type=int, default=200, help="in-process requests per CPU block and endpoint"
    )
    parser.add_argument(
        "--cpu-blocks", type=int, default=3, help="alternating CPU blocks per endpoint (the lowest is kept)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="requests per admin page timing")
    parser.add_argument("--budget", type=float, default=4800.0, help="seconds the whole run may take")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and created each run")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="its db is flushed each run")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser.parse_args(argv)


def bench_environment(*, database_url: str, redis_url: str) -> dict[str, str]:
    """bench.settings (the production ones plus the floor) with DEBUG off, on the bench database."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "bench",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "BEHIND_TLS_PROXY": "false",
        "LOG_LEVEL": "INFO",
    }


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_loopback(args.database_url)
    require_loopback(args.redis_url)
    budget = Budget(args.budget)
    signal.signal(signal.SIGTERM, _terminate)
    RESULTS_DIR.mkdir(exist_ok=True)

    postgres_version = reset_database(args.database_url)
    redis_version = flush_redis(args.redis_url)
    os.environ.update(bench_environment(database_url=args.database_url, redis_url=args.redis_url))
    machine = report.machine_info(postgres_version=postgres_version, redis_version=redis_version)
    log(f"{machine['cpu']}, {machine['cores']} cores, load average {machine['load_average_at_start']}")

    with stopwatch("migrate and collectstatic"):
        manage("migrate", "--no-input", "-v", "0")
        manage("collectstatic", "--no-input", "-v", "0")

    import django

    django.setup()
    # The in-process probes would print a request line each; the server's own lines go to its log.
    logging.getLogger("config.request").setLevel(logging.WARNING)
    # These import the project's models, which need the settings loaded just above.
    from bench import seeding
    from bench.hot_paths import HttpBench
    from bench.scale import ScaleBench

    owners = seeding.seed_owners(callback_url=WEBHOOK_SINK)
    results: dict[str, Any] = {"machine": machine, "arguments": vars(args)}
    processes = Processes()
    try:
        if args.only in (None, "http"):
            results["http"] = HttpBench(args, owners, budget, processes).run()
        if args.only in (None, "scale"):
            results["scale"] = ScaleBench(args, owners, budget).run()
    finally:
        processes.stop_all()
        results["elapsed_seconds"] = round(budget.elapsed(), 1)
        results["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
        report.write_json(RESULTS_JSON, results)
        log(f"results in {RESULTS_JSON.relative_to(ROOT)} after {results['elapsed_seconds']} s")

    if not args.no_docs:
        text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
        if "http" in results:
            text = report.replace_section(text, "http", report.http_markdown(results["http"], machine))
        if "scale" in results:
            for part in args.scale:
                table = report.scale_markdown(results["scale"], machine, part=part)
                text = report.replace_section(text, f"scale-{part}", table)
        DOC.write_text(text)
        log(f"tables in {DOC.relative_to(ROOT)}")
    for line in report.shortfalls(results):
        log(f"short of goal: {line}")
    return 0
