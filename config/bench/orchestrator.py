"""`make bench` (`python -m config.bench`): the production stack under load, and the admin at scale.

One run, one machine, one server: a fresh database, migrate and collectstatic, seeded data,
gunicorn with several workers and DEBUG off, a local receiver for the triggers, then wrk (a
process of its own) against the floor and each hot path at a few concurrency levels. Then the
admin and the commands at 10,000 and 1,000,000 rows. Results go to bench-results/bench.json and
docs/benchmarks.md. Everything it starts it stops; it only ever talks to 127.0.0.1.
"""

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from config.bench import load, report

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "bench-results"
RESULTS_JSON = RESULTS_DIR / "bench.json"
DOC = ROOT / "docs" / "benchmarks.md"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loopback_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Nothing is ever delivered there (no deliver_webhooks runs); it only makes events get queued as
# they would be in production.
WEBHOOK_SINK = "http://127.0.0.1:9/bench-webhooks"
TRIGGER_ACTION_ID = "bench-hook"
PROBE_REQUESTS = 3


def log(message: str) -> None:
    sys.stdout.write(f"[bench] {message}\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Arguments and environment


def int_list(value: str) -> list[int]:
    try:
        numbers = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of whole numbers: {value!r}") from None
    if not numbers or any(number <= 0 for number in numbers):
        raise argparse.ArgumentTypeError(f"expected positive whole numbers: {value!r}")
    return numbers


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench BENCH_ARGS=...",
        description="Throughput of the hot paths against a floor, and the admin and commands at scale.",
    )
    parser.add_argument("--only", choices=["http", "scale"], help="run one part only (default: both)")
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
    parser.add_argument("--repeat", type=int, default=5, help="requests per admin page timing")
    parser.add_argument("--budget", type=float, default=840.0, help="seconds the whole run may take")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="dropped and created each run")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="its db is flushed each run")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    return parser.parse_args(argv)


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"The bench only talks to this machine; {host!r} is not 127.0.0.1.")


def bench_environment(*, database_url: str, redis_url: str) -> dict[str, str]:
    """The production settings, pointed at the bench database, with the floor on."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "bench",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BENCH_FLOOR_ENABLED": "true",
        "OUTBOUND_ALLOW_PRIVATE": "true",
        "ACTIONS_TRIGGER_RATE": "1000000/s",
        "SECURE_SSL_REDIRECT": "false",
        "BEHIND_TLS_PROXY": "false",
        "LOG_LEVEL": "INFO",
    }


def maintenance_url(database_url: str) -> tuple[str, str]:
    """The URL of the server's `postgres` database, and the bench database's name."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"Unexpected database name {name!r} in {database_url}.")
    return urlunsplit(parts._replace(path="/postgres")), name


def reset_database(database_url: str) -> str:
    """Drop and create the bench database; returns the server's version."""
    import psycopg

    url, name = maintenance_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else ""


def flush_redis(redis_url: str) -> str:
    """Empty the bench's Redis db (only that one); returns the server's version."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    return str(client.info("server").get("redis_version", ""))


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class MeasuredRun:
    returncode: int
    seconds: float
    peak_rss_mib: float
    stdout: str
    stderr: str
    timed_out: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "returncode": self.returncode,
            "seconds": round(self.seconds, 2),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "timed_out": self.timed_out,
            "stdout": self.stdout[-2000:],
            "stderr": self.stderr[-2000:],
        }


def measured_run(command: list[str], *, timeout: float) -> MeasuredRun:
    """Run `command` to its end (or kill it after `timeout` s) and read its own peak RSS."""
    with tempfile.TemporaryDirectory() as scratch:
        rusage = Path(scratch) / "rusage.json"
        out, err = Path(scratch) / "out", Path(scratch) / "err"
        launcher = [sys.executable, "-m", "config.bench.peak_rss", str(rusage), str(timeout), *command]
        started = time.perf_counter()
        with out.open("wb") as stdout, err.open("wb") as stderr:
            # A session of its own, so that a timeout ends the command with its launcher.
            process = subprocess.Popen(  # noqa: S603 - the bench's own commands
                launcher, stdout=stdout, stderr=stderr, cwd=ROOT, start_new_session=True
            )
            timed_out = False
            try:
                # The launcher stops the command at `timeout`; this is in case it cannot.
                process.wait(timeout=timeout + 30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                timed_out = True
        seconds = time.perf_counter() - started
        measured = json.loads(rusage.read_text()) if rusage.exists() else {}
        return MeasuredRun(
            returncode=int(measured.get("returncode", process.wait())),
            seconds=seconds,
            peak_rss_mib=measured.get("peak_rss_kib", 0) / 1024,
            stdout=out.read_text(errors="replace"),
            stderr=err.read_text(errors="replace"),
            timed_out=timed_out or bool(measured.get("timed_out")),
        )


def manage(*args: str, timeout: float = 300) -> None:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    completed = subprocess.run(  # noqa: S603 - our own manage.py
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {completed.stderr.strip()[-2000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes] | None = None


@dataclass
class Processes:
    """What the bench started, to stop it whatever happens."""

    started: list[Started] = field(default_factory=list)

    def start(
        self, name: str, command: list[str], *, log_path: Path | None = None
    ) -> subprocess.Popen[bytes]:
        handle = log_path.open("wb") if log_path else None
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE if handle is None else handle,
            stderr=subprocess.STDOUT if handle else subprocess.DEVNULL,
            # Its own process group: a Ctrl-C reaches the bench, which then stops it in order.
            start_new_session=True,
        )
        self.started.append(Started(name=name, process=process, log=handle))
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        for entry in list(self.started):
            if entry.process is process:
                self._stop(entry)
                self.started.remove(entry)

    def stop_all(self) -> None:
        while self.started:
            self._stop(self.started.pop())

    @staticmethod
    def _stop(entry: Started) -> None:
        process = entry.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # The group is the one this bench created for it (gunicorn's workers included).
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        if entry.log is not None:
            entry.log.close()
        log(f"stopped {entry.name} (pid {process.pid})")


def http_get(url: str, *, timeout: float = 5) -> tuple[int, bytes]:
    require_loopback(url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_ready(url: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, body = http_get(url, timeout=2)
            if status == 200:
                return
            last = f"{status} {body[:200]!r}"
        except OSError as error:
            last = str(error)
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:g} s: {last}")


@dataclass
class Budget:
    seconds: float
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


@contextmanager
def stopwatch(label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log(f"{label} in {time.perf_counter() - started:.1f} s")


# ---------------------------------------------------------------------------------------------
# HTTP: the floor and the hot paths


@dataclass(frozen=True)
class Run:
    label: str
    endpoint: load.Endpoint
    connections: int
    seconds: float
    measured: bool
    # The endpoint a floor slice is the reference for ("" for every other run).
    pair: str = ""


def schedule(
    *,
    floor: load.Endpoint,
    endpoints: list[load.Endpoint],
    connections: list[int],
    seconds: float,
    warmup: float,
    slices: int,
) -> list[Run]:
    """Warm every endpoint up, then per level and endpoint: floor and endpoint in turn, `slices` times.

    A shared machine drifts by tens of percent within a minute (someone's test suite starts or
    ends). Alternating short slices of the floor and of the endpoint gives both the same drift, so
    it cancels out of their ratio; each gets `seconds` in all.
    """
    everything = [floor, *endpoints]
    runs = [Run(f"warmup-{e.name}", e, min(8, connections[0]), warmup, False) for e in everything]
    # wrk takes whole seconds.
    part = float(max(1, round(seconds / slices)))
    for level in connections:
        for endpoint in endpoints:
            for number in range(1, slices + 1):
                runs.append(
                    Run(
                        f"floor-for-{endpoint.name}-c{level}-{number}",
                        floor,
                        level,
                        part,
                        True,
                        endpoint.name,
                    )
                )
                runs.append(Run(f"{endpoint.name}-c{level}-{number}", endpoint, level, part, True))
    return runs


def api_call(method: str, path: str, body: dict[str, Any], credential: str) -> tuple[int, dict[str, Any]]:
    """A call through the project's own API (in-process), to set up owners the way a user would."""
    from config.bench.probes import client

    response = getattr(client(), method)(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {credential}"},
    )
    try:
        payload = response.json()
    except ValueError:
        payload = {"raw": response.content[:300].decode(errors="replace")}
    return response.status_code, payload


def route_exists(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def respond_template(*, service_key: str, username: str) -> tuple[str | None, str]:
    """One pending notification made through the API, to clone; or None and why not."""
    if not route_exists("/api/v1/notifications"):
        return None, "POST /api/v1/notifications is not in this checkout yet"
    status, payload = api_call(
        "post",
        "/api/v1/notifications",
        {
            "recipient": username,
            "title": "Approve the refund?",
            "description": "Order 1042, 49.90 EUR.",
            "metadata": {"order": 1042},
            "actions": [
                {
                    "id": "decide",
                    "label": "Decide",
                    "response_type": "binary",
                    "options": {"true_label": "Approve", "false_label": "Reject"},
                }
            ],
        },
        service_key,
    )
    if status != 201:
        return None, f"POST /api/v1/notifications answered {status}: {json.dumps(payload)[:200]}"
    return str(payload["notification_id"]), ""


class HttpBench:
    def __init__(self, args: argparse.Namespace, owners: Any, budget: Budget, processes: Processes) -> None:
        self.args = args
        self.owners = owners
        self.budget = budget
        self.processes = processes
        self.ids_dir = RESULTS_DIR / "ids"
        self.skipped: dict[str, str] = {}

    def endpoints(self, receiver_url: str) -> list[load.Endpoint]:
        """The hot paths present in this checkout; what is missing is reported as skipped."""
        endpoints: list[load.Endpoint] = []
        if route_exists("/v1/public/actions/00000000-0000-0000-0000-000000000000/result"):
            endpoints.append(load.result_endpoint())
        else:
            self.skipped["result"] = "POST /v1/public/actions/{id}/result is not in this checkout yet"
        self.notification_template, reason = respond_template(
            service_key=self.owners.service_key, username=self.owners.person.username
        )
        if self.notification_template:
            endpoints.append(
                load.respond_endpoint(
                    user_token=self.owners.user_token, action_id="decide", response_data=True
                )
            )
        else:
            self.skipped["respond"] = reason
        if route_exists(f"/actions/{TRIGGER_ACTION_ID}"):
            status, payload = api_call(
                "put",
                f"/actions/{TRIGGER_ACTION_ID}",
                {"target_url": f"{receiver_url}/hook", "fire_on": "true", "timeout_ms": 5000},
                self.owners.service_key,
            )
            if status in (200, 201):
                key = self.owners.service_key
                endpoints.append(load.dry_run_endpoint(service_key=key, action_id=TRIGGER_ACTION_ID))
                endpoints.append(load.trigger_endpoint(service_key=key, action_id=TRIGGER_ACTION_ID))
            else:
                reason = f"PUT /actions/{TRIGGER_ACTION_ID} answered {status}: {json.dumps(payload)[:200]}"
                self.skipped["trigger_dry_run"] = self.skipped["trigger"] = reason
        else:
            reason = "PUT/POST /actions/{id}[/trigger] are not in this checkout yet"
            self.skipped["trigger_dry_run"] = self.skipped["trigger"] = reason
        return endpoints

    def fresh_ids(self, endpoint: load.Endpoint, count: int, tag: str) -> list[str]:
        from config.bench import seeding

        if endpoint.name == "floor":
            return seeding.seed_floor_bots(service=self.owners.service, count=count, tag=tag)
        if endpoint.name == "result":
            return seeding.seed_pending_executions(bot=self.owners.bot, count=count, tag=tag)
        if endpoint.name == "respond":
            from notifications.models import Notification

            assert self.notification_template is not None
            return seeding.clone_rows(
                model=Notification,
                template_pk=self.notification_template,
                count=count,
                overrides={"created_at": "now() - g * interval '1 millisecond'"},
            )
        raise ValueError(f"{endpoint.name} takes no fresh ids")

    def run(self) -> dict[str, Any]:
        from config.bench import probes, seeding

        receiver_port_process = self.processes.start(
            "receiver", [sys.executable, "-m", "config.bench.receiver"]
        )
        assert receiver_port_process.stdout is not None
        receiver_port = int(receiver_port_process.stdout.readline().decode().strip())
        receiver_url = f"http://127.0.0.1:{receiver_port}"
        log(f"receiver on {receiver_url}")

        floor = load.floor_endpoint()
        endpoints = self.endpoints(receiver_url)
        runs = schedule(
            floor=floor,
            endpoints=endpoints,
            connections=self.args.connections,
            seconds=self.args.seconds,
            warmup=self.args.warmup,
            slices=self.args.slices,
        )
        planned = sum(run.seconds + 2 for run in runs)
        log(f"{len(runs)} wrk runs, about {planned:.0f} s of load; skipped: {sorted(self.skipped) or 'none'}")

        id_files: dict[str, Path] = {}
        probe_ids: dict[str, list[str]] = {}
        with stopwatch("fresh ids seeded"):
            for endpoint in [floor, *endpoints]:
                if endpoint.fresh_ids:
                    probe_ids[endpoint.name] = self.fresh_ids(
                        endpoint, PROBE_REQUESTS, f"probe-{endpoint.name}"
                    )
            for run in runs:
                if run.endpoint.fresh_ids:
                    count = load.ids_needed(seconds=run.seconds, max_rate=self.args.max_rate)
                    ids = self.fresh_ids(run.endpoint, count, run.label)
                    id_files[run.label] = seeding.write_ids(self.ids_dir / f"{run.label}.txt", ids)
            for table in seeding.bench_tables():
                seeding.analyze(table)

        queries: dict[str, Any] = {}
        with stopwatch("queries per request counted"):
            for endpoint in [floor, *endpoints]:
                ids = probe_ids.get(endpoint.name) or ["-"] * PROBE_REQUESTS
                counted = probes.count_queries(endpoint=endpoint, fresh_ids=ids)
                queries[endpoint.name] = counted
                log(f"  {endpoint.name}: {counted['queries']} queries, status {counted['status']}")

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        gunicorn = self.processes.start(
            "gunicorn",
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "config.wsgi:application",
                f"--workers={self.args.workers}",
                "--worker-class=sync",
                f"--bind=127.0.0.1:{port}",
                "--backlog=2048",
                "--timeout=60",
                "--graceful-timeout=5",
                "--log-level=warning",
            ],
            log_path=RESULTS_DIR / "gunicorn.log",
        )
        wait_until_ready(f"{base_url}/readyz", timeout=60)
        log(f"gunicorn ({self.args.workers} workers) on {base_url}")

        results: list[tuple[Run, load.WrkRun]] = []
        load_started = os.getloadavg()
        for run in runs:
            if self.budget.left() < run.seconds + 30:
                self.skipped[run.label] = "out of time budget"
                log(f"{run.label}: skipped, out of time budget")
                continue
            measured = load.run_wrk(
                endpoint=run.endpoint,
                base_url=base_url,
                connections=run.connections,
                seconds=run.seconds,
                threads=self.args.threads,
                ids_file=id_files.get(run.label),
                out_file=RESULTS_DIR / "wrk" / f"{run.label}.json",
            )
            results.append((run, measured))
            log(f"{run.label}: {describe(measured)}")
        load_finished = os.getloadavg()
        # Only once the server is stopped has every trigger it accepted reached the receiver.
        self.processes.stop(gunicorn)
        receiver_count = int(http_get(f"{receiver_url}/count")[1] or 0)
        self.processes.stop(receiver_port_process)

        return {
            "settings": {
                "workers": self.args.workers,
                "threads": self.args.threads,
                "connections": self.args.connections,
                "seconds": self.args.seconds,
                "slices": self.args.slices,
                "warmup_seconds": self.args.warmup,
                "max_rate": self.args.max_rate,
            },
            "load_average": {"before": list(load_started), "after": list(load_finished)},
            "levels": levels_from(results, titles={e.name: e.title for e in [floor, *endpoints]}),
            "runs": [{"label": run.label, **measured.as_dict()} for run, measured in results],
            "queries": queries,
            "checks": self.checks(results, receiver_count),
            "skipped": self.skipped,
            "server_log": server_log_summary(RESULTS_DIR / "gunicorn.log"),
        }

    def checks(self, results: list[tuple[Run, load.WrkRun]], receiver_count: int) -> dict[str, Any]:
        """What the database and the receiver say happened, against what wrk counted as 2xx."""
        from actions.models import ActionExecution, ActionTrigger

        def ok(name: str) -> int:
            return sum(measured.ok for run, measured in results if run.endpoint.name == name)

        def in_flight(name: str) -> int:
            """Requests the server may have finished after wrk stopped counting: one per connection."""
            return sum(run.connections for run, _ in results if run.endpoint.name == name)

        checks: dict[str, Any] = {
            "result": {
                "answered_2xx": ok("result") + PROBE_REQUESTS,
                "in_flight_allowance": in_flight("result"),
                "rows_completed": ActionExecution.objects.filter(
                    visitor_id__startswith="bench-", result__isnull=False
                ).count(),
            },
            "trigger": {
                "answered_2xx": ok("trigger") + PROBE_REQUESTS,
                "in_flight_allowance": in_flight("trigger"),
                "rows_triggered": ActionTrigger.objects.filter(status="triggered").count(),
                "receiver_got": receiver_count,
            },
        }
        if "respond" not in self.skipped:
            from notifications.models import Notification

            checks["respond"] = {
                "answered_2xx": ok("respond") + PROBE_REQUESTS,
                "in_flight_allowance": in_flight("respond"),
                "rows_responded": Notification.objects.filter(status="responded").count(),
            }
        return checks


def describe(measured: load.WrkRun) -> str:
    line = (
        f"{measured.requests_per_second:,.0f} req/s, p50 {measured.latency_ms['p50']} ms, "
        f"p99 {measured.latency_ms['p99']} ms, errors {measured.errors}"
    )
    if measured.errors:
        failure = measured.first_failure
        line += f" (first: {failure['status']} {failure['body'][:120]}, sockets {measured.socket_errors})"
    return line


def combined(runs: list[load.WrkRun]) -> dict[str, Any]:
    """Slices of one endpoint as one run: requests over time; latency percentiles weighted by requests."""
    requests = sum(run.requests for run in runs)
    seconds = sum(run.seconds for run in runs)
    latency = {
        key: round(sum(run.latency_ms[key] * run.requests for run in runs) / requests, 2) if requests else 0.0
        for key in runs[0].latency_ms
    }
    return {
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
        "requests": requests,
        "seconds": round(seconds, 2),
        "latency_ms": latency,
        "errors": sum(run.errors for run in runs),
        "slices_requests_per_second": [round(run.requests_per_second, 1) for run in runs],
    }


def levels_from(
    results: list[tuple[Run, load.WrkRun]], *, titles: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per concurrency level: the floor over all its slices, each endpoint against its own floor slices."""
    levels: dict[str, dict[str, Any]] = {}
    for connections in sorted({run.connections for run, _ in results if run.measured}):
        at_level = [
            (run, measured) for run, measured in results if run.measured and run.connections == connections
        ]
        floor_runs = [measured for run, measured in at_level if run.endpoint.name == "floor"]
        entries: dict[str, Any] = {}
        if floor_runs:
            entries["floor"] = {"title": titles["floor"], **combined(floor_runs), "ratio": 1.0}
        names = list(dict.fromkeys(run.endpoint.name for run, _ in at_level if run.endpoint.name != "floor"))
        for name in names:
            own = combined([measured for run, measured in at_level if run.endpoint.name == name])
            paired = [measured for run, measured in at_level if run.pair == name]
            reference = combined(paired)["requests_per_second"] if paired else 0.0
            value = report.ratio(own["requests_per_second"], reference)
            entries[name] = {
                "title": titles[name],
                **own,
                "floor_requests_per_second": reference,
                "ratio": value,
                "meets_goal": value is not None and value >= load.FLOOR_RATIO_GOAL and own["errors"] == 0,
            }
        levels[str(connections)] = entries
    return levels


def server_log_summary(path: Path) -> dict[str, int]:
    """Counts of the server's own log lines by level and of 5xx answers (its log is JSON lines)."""
    counts: dict[str, int] = {"lines": 0, "errors": 0, "status_5xx": 0, "not_json": 0}
    if not path.exists():
        return counts
    with path.open(errors="replace") as lines:
        for line in lines:
            counts["lines"] += 1
            try:
                entry = json.loads(line)
            except ValueError:
                counts["not_json"] += 1
                continue
            if entry.get("level") in {"ERROR", "CRITICAL"}:
                counts["errors"] += 1
            if isinstance(entry.get("status"), int) and entry["status"] >= 500:
                counts["status_5xx"] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Scale: the admin and the commands at 10,000 and 1,000,000 rows


@dataclass(frozen=True)
class AdminUrls:
    changelist: str
    export: str | None
    summary: str | None


def contact_submissions_admin() -> AdminUrls | None:
    """The Contact Submissions admin, found by its name wherever its engineer registered it."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    for model, model_admin in admin.site._registry.items():
        if str(model._meta.verbose_name_plural).lower() != "contact submissions":
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        names = [getattr(pattern, "name", None) or "" for pattern in model_admin.get_urls()]

        def named(word: str, names: list[str] = names) -> str | None:
            for name in names:
                if word in name:
                    try:
                        return reverse(f"admin:{name}")
                    except NoReverseMatch:
                        continue
            return None

        return AdminUrls(
            changelist=reverse(f"{prefix}_changelist"), export=named("export"), summary=named("summary")
        )
    return None


# A filter that keeps a large share of the rows (a third), so the page cannot get away with an
# index scan that stops early on a rare value.
FILTERED = "result=success&delivery_status=delivered"


def summary_call() -> Callable[[], object] | None:
    """The Contact Submissions summary over the whole set, as the changelist computes it."""
    try:
        from actions.selectors.contact_submissions import contact_submissions, contact_submissions_summary
    except ImportError:
        return None
    return lambda: contact_submissions_summary(queryset=contact_submissions())


class ScaleBench:
    def __init__(self, args: argparse.Namespace, owners: Any, budget: Budget) -> None:
        self.args = args
        self.owners = owners
        self.budget = budget
        self.notes: list[str] = []

    def run(self) -> dict[str, Any]:
        from actions.models import ActionExecution
        from config.bench import seeding
        from conversations.models import Conversation

        seeding.truncate(ActionExecution, Conversation)
        seeding.delete_floor_bots()
        admin_urls = contact_submissions_admin()
        if admin_urls is None:
            self.notes.append("The Contact Submissions admin is not in this checkout yet: not measured.")
        elif admin_urls.export is None:
            self.notes.append("No CSV export URL found on the Contact Submissions admin: not measured.")
        expire = route_exists("/api/v1/notifications")
        if not expire:
            self.notes.append(
                "expire_notifications not measured: notifications are not in this checkout yet."
            )
        levels: dict[str, Any] = {}
        for rows in sorted(self.args.rows):
            if self.budget.left() < 60:
                self.notes.append(f"{rows:,} rows: skipped, out of time budget.")
                continue
            levels[str(rows)] = self.level(rows, admin_urls, expire=expire)
        changelist = [level["figures"].get("changelist") for level in levels.values()]
        checks: dict[str, Any] = {}
        if len(changelist) > 1 and changelist[0] and changelist[-1]:
            growth = changelist[-1] / changelist[0]
            checks["changelist_growth"] = {
                "value": round(growth, 2),
                "goal": report.SCALE_RATIO_GOAL,
                "meets_goal": growth <= report.SCALE_RATIO_GOAL,
            }
        return {
            "levels": levels,
            "checks": checks,
            "notes": self.notes,
            "admin_urls": admin_urls.__dict__ if admin_urls else None,
        }

    def level(self, rows: int, admin_urls: AdminUrls | None, *, expire: bool) -> dict[str, Any]:
        from config.bench import seeding

        level: dict[str, Any] = {"figures": {}}
        started = time.perf_counter()
        added = seeding.seed_contact_submissions(service=self.owners.service, total=rows)
        seconds = round(time.perf_counter() - started, 1)
        level["seed_contact_submissions"] = {"added": added, "seconds": seconds}
        log(f"{rows:,} rows: {added:,} contact submissions added in {seconds} s")
        if admin_urls is not None:
            self.admin(rows, admin_urls, level)
        if expire:
            run = level["expire"] = self.expire(rows)
            figures = level["figures"]
            figures["expire_rss"] = run["peak_rss_mib"]
            figures["expire_rate"] = round(run["expired_rows"] / run["seconds"]) if run["seconds"] else None
            if run["returncode"] == 0 and not run["timed_out"]:
                figures["expire"] = run["seconds"]
            else:
                self.notes.append(
                    f"expire_notifications at {rows:,} rows was stopped after {run['seconds']:.0f} s "
                    f"(time budget), having expired {run['expired_rows']:,} of them; its rate and peak RSS "
                    "are of that part of the run."
                )
        return level

    def admin(self, rows: int, urls: AdminUrls, level: dict[str, Any]) -> None:
        from config.bench import probes

        figures = level["figures"]
        staff = probes.staff_client(username=self.owners.staff.username)
        pages = {
            "changelist": (urls.changelist, True),
            "changelist_warm": (urls.changelist, False),
            "changelist_filtered": (f"{urls.changelist}?{FILTERED}", True),
            "changelist_search": (f"{urls.changelist}?q=scale-{rows // 2}", True),
        }
        if urls.summary:
            pages["summary"] = (urls.summary, True)
            pages["summary_filtered"] = (f"{urls.summary}?{FILTERED}", True)
        for name, (url, cold) in pages.items():
            timing = probes.time_get(client=staff, url=url, repeat=self.args.repeat, cold=cold)
            level[name] = timing
            figures[name] = timing["median_ms"] if timing["status"] == 200 else None
            log(f"  {name}: {timing['median_ms']} ms, {timing['queries']} queries, status {timing['status']}")
        if not urls.summary:
            summary = summary_call()
            if summary is None:
                self.notes.append("No summary selector found: the summary was not timed on its own.")
            else:
                level["summary"] = probes.time_call(call=summary, repeat=self.args.repeat)
                figures["summary"] = level["summary"]["median_ms"]
                log(f"  summary (selector): {figures['summary']} ms")
        if urls.export:
            export = measured_run(
                [sys.executable, "-m", "config.bench.export_probe", urls.export],
                timeout=max(30, min(300, self.budget.left() - 60)),
            )
            download = _json_line(export.stdout)
            level["export"] = {**export.as_dict(), "download": download}
            if export.returncode == 0 and not export.timed_out and download.get("status") == 200:
                figures["export"] = export.seconds
                figures["export_rss"] = export.peak_rss_mib
            log(f"  export: {export.seconds:.1f} s, peak RSS {export.peak_rss_mib:.0f} MiB, {download}")

    def expire(self, rows: int) -> dict[str, Any]:
        """`rows` pending notifications past their deadline, and one run of the command over them."""
        from config.bench import seeding
        from config.outbound.models import DeliveryAttempt, WebhookEvent
        from notifications.models import Notification

        started = time.perf_counter()
        seeding.truncate(Notification, WebhookEvent, DeliveryAttempt)
        template, reason = respond_template(
            service_key=self.owners.service_key, username=self.owners.person.username
        )
        if template is None:
            raise RuntimeError(reason)
        seeding.clone_rows(
            model=Notification,
            template_pk=template,
            count=rows,
            overrides={
                "created_at": "now() - interval '2 days' - g * interval '1 millisecond'",
                "deadline": "now() - interval '1 day' - g * interval '1 millisecond'",
            },
            returning=False,
        )
        seeding.analyze(Notification._meta.db_table)
        log(f"  {rows:,} overdue notifications seeded in {time.perf_counter() - started:.1f} s")
        run = measured_run(
            [sys.executable, str(ROOT / "manage.py"), "expire_notifications"],
            timeout=max(30, min(420, self.budget.left() - 30)),
        )
        expired = Notification.objects.filter(status="expired").count()
        queued = WebhookEvent.objects.count()
        log(
            f"  expire_notifications: {run.seconds:.1f} s, peak RSS {run.peak_rss_mib:.0f} MiB, "
            f"{expired:,} expired, {queued:,} webhooks queued"
        )
        return {**run.as_dict(), "expired_rows": expired, "webhooks_queued": queued}


def _json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


# ---------------------------------------------------------------------------------------------
# The run


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
    from config.bench import seeding

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
            text = report.replace_section(text, "scale", report.scale_markdown(results["scale"], machine))
        DOC.write_text(text)
        log(f"tables in {DOC.relative_to(ROOT)}")
    for line in report.shortfalls(results):
        log(f"short of goal: {line}")
    return 0
