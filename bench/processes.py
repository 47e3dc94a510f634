"""What the bench starts and stops: its processes, the database and Redis it resets, its clock.

No Django here: the driver uses it before the settings are loaded. Everything it starts it
stops, and it only ever talks to 127.0.0.1.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench-results"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def log(message: str) -> None:
    sys.stdout.write(f"[bench] {message}\n")
    sys.stdout.flush()


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"The bench only talks to this machine; {host!r} is not 127.0.0.1.")


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
        launcher = [sys.executable, "-m", "bench.peak_rss", str(rusage), str(timeout), *command]
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
