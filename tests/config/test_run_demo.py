"""`make run` closes its loops: the whole demo as a subprocess, an answer given as its printed curl
line says, the receiver's verified line, and one SIGINT that leaves no process behind."""

import contextlib
import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from standardwebhooks import Webhook

from config.outbound.demo_receiver import describe

ROOT = Path(settings.BASE_DIR)
# Bounds on waiting, not expectations of speed: the machine may be busy.
START_SECONDS = 180
DELIVERY_SECONDS = 90
STOP_SECONDS = 60
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every living process under `pid`, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie left for a reaper that may never come in a container."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Output:
    """The demo's lines as they come, read on a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(
            target=lambda: [self._queue.put(line.rstrip("\n")) for line in stream], daemon=True
        ).start()

    def wait_for(self, *needles: str, seconds: float) -> str:
        for line in self.lines:
            if all(needle in line for needle in needles):
                return line
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=1)
            except queue.Empty:
                continue
            self.lines.append(line)
            if all(needle in line for needle in needles):
                return line
        raise AssertionError(f"no line with {needles} in:\n" + "\n".join(self.lines[-80:]))


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "OUTBOUND_ALLOW_PRIVATE"}
    }
    database = tmp_path / "demo.sqlite3"
    options = "timeout=20&transaction_mode=IMMEDIATE&init_command=PRAGMA+journal_mode%3DWAL%3B"
    env.update(
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{database}?{options}",
        PYTHONUNBUFFERED="1",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return env


@pytest.fixture
def demo(demo_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], Output, int, set[int]]]:
    """The running demo, its output, its port, and the processes it started (the test fills the set
    in; they are killed at the end whatever happened)."""
    port, receiver_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(port), "--receiver-port", str(receiver_port)],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: set[int] = set()
    try:
        yield process, Output(process), port, seen
    finally:
        seen |= descendants(process.pid)
        for pid in [process.pid, *seen]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


def test_an_answer_reaches_the_receiver_verified_and_ctrl_c_stops_everything(demo) -> None:  # type: ignore[no-untyped-def]
    process, output, port, seen = demo
    output.wait_for("The demo is running", seconds=START_SECONDS)
    token = output.wait_for("User token:", seconds=1).split()[2]
    assert token.startswith("ut_")

    # The printed curl line, sent as printed.
    curl = shlex.split(output.wait_for("answer one: curl", seconds=1).split("answer one: ", 1)[1])
    body = curl[curl.index("-d") + 1]
    url = curl[-1]
    assert url == f"http://127.0.0.1:{port}/api/v1/client/respond"
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
    notification_id = json.loads(body)["notification_id"]

    line = output.wait_for("receiver", notification_id, seconds=DELIVERY_SECONDS)
    assert "notification.responded msg_" in line and " verified: " in line and "action=approve" in line
    seeded = output.wait_for("receiver", "action=send", seconds=DELIVERY_SECONDS)
    assert " verified: " in seeded
    # The receiver names the answer's fields, never their values (the responder is alex).
    receiver_lines = [line for line in output.lines if line.startswith("receiver")]
    assert not any("alex" in line for line in receiver_lines)

    children = descendants(process.pid)
    seen |= children
    # The receiver, the worker, runserver and its reloaded child, at least.
    assert len(children) >= 4
    os.kill(process.pid, signal.SIGINT)
    assert process.wait(timeout=STOP_SECONDS) == 0
    output.wait_for("The demo has stopped.", seconds=STOP_SECONDS)
    assert [pid for pid in children if alive(pid)] == []


def test_the_receiver_verifies_the_signature_and_prints_no_values() -> None:
    body = json.dumps(
        {
            "type": "notification.responded",
            "notification_id": "n-1",
            "action_id": "approve",
            "response_data": "call me on +49 151 0000",
            "responder": {"username": "alex"},
        }
    ).encode()
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(datetime.now(UTC).timestamp()))}
    headers["webhook-signature"] = Webhook(SECRET).sign("msg_1", datetime.now(UTC), body.decode())
    verified, line = describe(webhook=Webhook(SECRET), body=body, headers=headers)
    assert verified
    assert line == (
        "notification.responded msg_1 verified: "
        "notification=n-1 action=approve (also responder, response_data)"
    )
    forged, line = describe(webhook=Webhook(SECRET), body=body.replace(b"n-1", b"n-2"), headers=headers)
    assert not forged
    assert line.startswith("? msg_1 NOT VERIFIED") and "n-2" not in line
    garbled = {**headers, "webhook-signature": "not a signature"}
    assert describe(webhook=Webhook(SECRET), body=b"\xff", headers=garbled)[0] is False


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "8000", "--receiver-port", "8000"], "two different ports"),
        (["--port", "0"], "is not a port"),
        (["--port", "70000"], "is not a port"),
    ],
)
def test_run_demo_refuses_bad_ports(settings, arguments: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    with pytest.raises(CommandError, match=message):
        call_command("run_demo", *arguments, stdout=StringIO())


def test_run_demo_refuses_to_run_without_debug(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("run_demo", stdout=StringIO())


def test_with_json_the_demo_prints_one_object_once_it_is_up(demo_env: dict[str, str]) -> None:
    """Standard output: the seeded credentials and where each part listens, one JSON object;
    the processes' lines go to standard error."""
    port, receiver_port = free_port(), free_port()
    ports = ["--port", str(port), "--receiver-port", str(receiver_port)]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", *ports, "--json"],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        output = Output(process)
        started = json.loads(output.wait_for('"service_key"', seconds=START_SECONDS))
        assert started["base_url"] == f"http://127.0.0.1:{port}"
        assert started["receiver_url"] == f"http://127.0.0.1:{receiver_port}/webhooks"
        assert started["service_key"].startswith("sk_") and started["user_token"].startswith("ut_")
        with urllib.request.urlopen(f"{started['base_url']}/healthz", timeout=30) as health:
            assert health.status == 200
        children = descendants(process.pid)
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=STOP_SECONDS) == 0
        assert [pid for pid in children if alive(pid)] == []
        with contextlib.suppress(AssertionError):
            output.wait_for("", seconds=1)
        assert len(output.lines) == 1, output.lines
    finally:
        for pid in [process.pid, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)
