"""Fixtures of the reliability suite: a real multi-worker server, a switchable webhook receiver,
a guard that keeps every test's traffic on this machine, and the data the attacks start from."""

import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from tests.reliability.receiver import SwitchableReceiver

GUNICORN_WORKERS = 4
SERVER_START_TIMEOUT = 60.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test process uses (pytest-django's `test_<name>`)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def server_env(**extra: str) -> dict[str, str]:
    """Production settings (config.settings, DEBUG off) on this test's database and Redis."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        CACHE_KEY_PREFIX=django_settings.CACHES["default"].get("KEY_PREFIX", "loopback"),
        # The tests' own: webhook secrets are stored encrypted under a key derived from it, and
        # every process of one deployment shares it (as they share WEBHOOK_SECRET_KEYS).
        SECRET_KEY=django_settings.SECRET_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        OUTBOUND_ALLOW_PRIVATE="true",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def stop_process_group(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers, and reap the leader."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    # Workers orphaned by a dead master would keep the port and the database busy.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Gunicorn:
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size


@pytest.fixture(scope="session")
def gunicorn(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gunicorn]:
    """`gunicorn config.wsgi` with 4 workers on a free 127.0.0.1 port, on the test database and Redis.

    Tests using it must be transactional (their data committed) and marked postgres.
    """
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("the multi-worker server needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    with django_db_blocker.unblock():
        env = server_env()
    # As a deployment does: without the static files' manifest the server is not ready.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=django_settings.BASE_DIR,
        env=env,
        check=True,
        timeout=SERVER_START_TIMEOUT,
    )
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers",
                str(GUNICORN_WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Gunicorn(url=f"http://127.0.0.1:{port}", log_path=log_path, process=process)
    try:
        wait_until_up(server)
        yield server
    finally:
        stop_process_group(process)


def wait_until_up(server: Gunicorn) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.log()[-4000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /readyz within {SERVER_START_TIMEOUT:g} s:\n{server.log()[-4000:]}")


@pytest.fixture
def switchable_receiver() -> Iterator[SwitchableReceiver]:
    receiver = SwitchableReceiver()
    yield receiver
    receiver.close()


# --------------------------------------------------------------------------------------------
# Traffic stays on this machine


LOOPBACK_PREFIXES = ("127.", "::1", "::ffff:127.")


class OffMachineConnection(ConnectionRefusedError):
    """A connection to an address outside this machine was attempted (and stopped here)."""


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stop, and record, any TCP connection to an address that is not loopback.

    The SSRF and fuzzing tests aim the server at private, link-local and arbitrary addresses; the
    server must refuse them itself. Should it ever not, the attempt ends here instead of leaving
    the machine, and the test sees it in the returned list.
    """
    attempts: list[Any] = []
    original = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if not host.startswith(LOOPBACK_PREFIXES) and host != "localhost":
                attempts.append(address)
                raise OffMachineConnection(f"test guard: no connection to {address!r} from tests")
        original(self, address)

    original_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # Names other than localhost would be sent to the resolver, off this machine: unknown here.
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower().rstrip(".") != "localhost" and not _is_ip_literal(name):
            attempts.append((name, "dns"))
            raise socket.gaierror(socket.EAI_NONAME, "test guard: no name resolution from tests")
        return original_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts


def _is_ip_literal(name: str) -> bool:
    """An address the C library reads without asking a resolver (`2130706433` and `0177.0.0.1` too)."""
    try:
        ipaddress.ip_address(name.strip("[]").split("%", 1)[0])
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(name)
    except OSError:
        return False
    return True
