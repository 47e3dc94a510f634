"""`make run`: the demo with every loop closed, in one terminal, stopped by one Ctrl-C.

It seeds the demo data (`seed_demo`, the demo service's callback pointed at the receiver), then
starts, each as its own process and process group, with their output prefixed by their name:

- `server`: `manage.py runserver HOST:PORT`;
- `receiver`: `config.outbound.demo_receiver` on RECEIVER_PORT (PORT + 1), the demo service's
  callback, which verifies each webhook and prints a line;
- `worker`: `manage.py deliver_webhooks`, which sends the answers' webhooks to the receiver;
- `scheduler`: the scheduled commands of the README, each started on its schedule by this
  process (`expire_notifications` every minute, `expire_executions --older-than 24h` every 15).

The other commands are started by name (`manage.py NAME`), never imported: `config` knows no
app. Only these processes get `OUTBOUND_ALLOW_PRIVATE=true`, which lets the worker reach the
receiver on 127.0.0.1; the setting's default stays false. SIGINT or SIGTERM here (Ctrl-C reaches
this process only) sends SIGTERM to every group it started, so grandchildren (runserver's
reloader child) stop too, and SIGKILL to what is still there after STOP_SECONDS. One process
exiting on its own stops the demo, since a half-running demo would mislead.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from argparse import ArgumentTypeError
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser, OutputWrapper
from django.db import connections

from config.accounts.management.commands.seed_demo import DEMO_SERVICE
from config.accounts.models import Service
from config.commands import OperatorCommand, Report, http_url
from config.outbound.demo_receiver import SECRET_VARIABLE
from config.outbound.management.commands.deliver_webhooks import _stop_on_signals

STOP_SECONDS = 10
READY_SECONDS = 60
# (every so many seconds, the command and its arguments), as the README's schedule says.
SCHEDULE: tuple[tuple[int, tuple[str, ...]], ...] = (
    (60, ("expire_notifications",)),
    (15 * 60, ("expire_executions", "--older-than", "24h")),
)


@dataclass
class Job:
    """A scheduled command: when it runs next, and its process while it runs."""

    every_seconds: int
    command: tuple[str, ...]
    due_at: float = 0.0
    process: "subprocess.Popen[bytes] | None" = None


@dataclass
class Group:
    """The processes this command started, each the leader of its own process group."""

    out: OutputWrapper
    processes: dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> "subprocess.Popen[bytes]":
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and commands
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            process_group=0,
        )
        self.processes[f"{name} {process.pid}"] = process
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()
        return process

    def _relay(self, name: str, process: "subprocess.Popen[bytes]") -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.say(f"{name:<9} | {raw.decode(errors='replace').rstrip()}")

    def say(self, line: str) -> None:
        with self.lock:
            self.out.write(line, style_func=str)  # plain, on stderr too (--json)
            self.out.flush()

    def forget_finished(self, *, keep: dict[str, "subprocess.Popen[bytes]"]) -> None:
        """Drop the finished scheduled commands (reaped by poll), so the list stays short."""
        self.processes = {
            name: process
            for name, process in self.processes.items()
            if name in keep or process.poll() is None
        }

    def stop(self) -> None:
        """SIGTERM to every group, SIGKILL to those still there after STOP_SECONDS; reap them all."""
        groups = [process.pid for process in self.processes.values()]
        _signal_groups(groups, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and any(_group_alive(pgid) for pgid in groups):
            for process in self.processes.values():
                process.poll()
            time.sleep(0.1)
        _signal_groups([pgid for pgid in groups if _group_alive(pgid)], signal.SIGKILL)
        for process in self.processes.values():
            process.wait()


def _signal_groups(groups: list[int], signum: int) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or its id now another user's
        return False
    return True


def _accepts(host: str, port: int) -> bool:
    """Whether a server listening on host:port accepts connections (the wildcard on loopback)."""
    address = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host.strip("[]")  # noqa: S104
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


class Command(OperatorCommand):
    help = (
        "Run the demo of `make run`: seed it, then the server, a webhook worker, a receiver for the "
        "demo service's webhooks and the scheduled commands, until Ctrl-C stops them all. "
        "Only for DEBUG installs. With --json, standard output gets one object once the demo is "
        "up (the demo credentials and where each part listens) and the processes' lines go to "
        "standard error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="where the server listens")
        parser.add_argument("--port", type=int, default=8000, help="the server's port")
        parser.add_argument(
            "--receiver-port", type=int, default=None, help="the receiver's port (default: PORT + 1)"
        )

    def operate(self, *, host: str, port: int, receiver_port: int | None, **options: Any) -> Report | None:
        if not settings.DEBUG:
            raise CommandError("run_demo makes well-known logins; it runs only with DEBUG=true")
        receiver_port = port + 1 if receiver_port is None else receiver_port
        for number in (port, receiver_port):
            if not 0 < number < 65536:
                raise CommandError(f"{number} is not a port (1 to 65535).")
        if port == receiver_port:
            raise CommandError("The server and the receiver need two different ports.")
        base_url = f"http://{host}:{port}"
        try:
            http_url(base_url)
        except ArgumentTypeError:
            raise CommandError(f"--host {host!r} is not a host name or an IP address") from None
        callback_url = f"http://127.0.0.1:{receiver_port}/webhooks"
        seeded = StringIO()
        call_command(
            "seed_demo",
            base_url=base_url,
            callback_url=callback_url,
            as_json=self.as_json,
            stdout=seeded if self.as_json else self.stdout,
        )
        # Read through the model, which decrypts it where it is stored encrypted.
        secret = Service.objects.get(name=DEMO_SERVICE).webhook_secret
        connections.close_all()  # the children open their own

        group = Group(out=self.stderr if self.as_json else self.stdout)
        stop = threading.Event()
        failed = False
        with _stop_on_signals(stop):
            try:
                failed = self._run(
                    group=group,
                    stop=stop,
                    secret=secret,
                    host=host,
                    port=port,
                    receiver_port=receiver_port,
                    base_url=base_url,
                    seeded=json.loads(seeded.getvalue()) if self.as_json else {},
                )
            finally:
                group.say("Stopping the demo ...")
                group.stop()
        group.say("The demo has stopped.")
        if failed:
            raise CommandError("The demo could not run on; see the lines above.")
        return None  # its output was written as it ran

    def _run(
        self,
        *,
        group: Group,
        stop: threading.Event,
        secret: str,
        host: str,
        port: int,
        receiver_port: int,
        base_url: str,
        seeded: dict[str, Any],
    ) -> bool:
        """Start everything and run the schedule until asked to stop; True when a process died."""
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        env = {
            **os.environ,
            "DEBUG": "true",
            "OUTBOUND_ALLOW_PRIVATE": "true",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop(SECRET_VARIABLE, None)
        group.start(
            "receiver",
            [sys.executable, "-m", "config.outbound.demo_receiver", "--port", str(receiver_port)],
            {**env, SECRET_VARIABLE: secret},
        )
        group.start("worker", [*manage, "deliver_webhooks"], env)
        group.start("server", [*manage, "runserver", f"{host}:{port}"], env)
        long_running = dict(group.processes)

        def died() -> bool:
            gone = [name for name, process in long_running.items() if process.poll() is not None]
            for name in gone:
                group.say(f"{name.split()[0]} exited with status {long_running[name].returncode}.")
            return bool(gone)

        ready_by = time.monotonic() + READY_SECONDS
        while not (_accepts(host, port) and _accepts("127.0.0.1", receiver_port)):
            if stop.is_set():
                return False
            if died():
                return True
            if time.monotonic() > ready_by:
                group.say(f"The server or the receiver accepted no connection within {READY_SECONDS} s.")
                return True
            stop.wait(0.2)
        if self.as_json:
            receiver_url = f"http://127.0.0.1:{receiver_port}/webhooks"
            deliveries_url = f"{base_url}/admin/outbound/webhookevent/"
            self.stdout.write(
                json.dumps({**seeded, "receiver_url": receiver_url, "deliveries_url": deliveries_url})
            )
            self.stdout.flush()
        group.say(self._where_to_look(base_url=base_url, receiver_port=receiver_port))

        jobs = [Job(every_seconds=every, command=command) for every, command in SCHEDULE]
        while not stop.is_set():
            if died():
                return True
            now = time.monotonic()
            for job in jobs:
                running = job.process is not None and job.process.poll() is None
                if now >= job.due_at and not running:
                    group.forget_finished(keep=long_running)
                    job.process = group.start("scheduler", [*manage, *job.command], env)
                    job.due_at = now + job.every_seconds
            stop.wait(0.5)
        return False

    @staticmethod
    def _where_to_look(*, base_url: str, receiver_port: int) -> str:
        schedule = ", ".join(f"{' '.join(command)} every {every // 60} min" for every, command in SCHEDULE)
        return "\n".join(
            [
                "",
                "The demo is running; Ctrl-C stops all of it:",
                f"  server     {base_url}/",
                f"  receiver   http://127.0.0.1:{receiver_port}/webhooks, the demo service's callback: "
                "one line per webhook, with its signature verified",
                "  worker     deliver_webhooks, sending every webhook to the receiver",
                f"  scheduler  {schedule}",
                "Answer a question with the curl line above: within seconds a `receiver |` line says "
                "notification.responded ... verified, and the admin shows the delivery and its attempt:",
                f"  {base_url}/admin/outbound/webhookevent/",
                "",
            ]
        )
