"""Factories and a real local HTTP receiver for the triggered-actions tests."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import factory

from actions.models import Action, ActionTrigger, ActionVersion, FireOn, TriggerStatus
from tests.factories import ServiceFactory


class ActionFactory(factory.django.DjangoModelFactory):
    """An action at version 1 with its ActionVersion row, as `PUT /actions/{id}` makes it."""

    class Meta:
        model = Action
        skip_postgeneration_save = True

    service = factory.SubFactory(ServiceFactory)
    action_id = factory.Sequence(lambda n: f"action-{n}")
    version = 1
    target_url = "https://hooks.example.com/decision"
    fire_on = FireOn.TRUE
    timeout_ms = 5000
    description = ""

    @factory.post_generation
    def first_version(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            ActionVersion.objects.create(
                action=self,
                version=self.version,
                target_url=self.target_url,
                fire_on=self.fire_on,
                timeout_ms=self.timeout_ms,
                description=self.description,
            )


class ActionTriggerFactory(factory.django.DjangoModelFactory):
    """A trigger of the action's current version that skipped (nothing was sent)."""

    class Meta:
        model = ActionTrigger

    action = factory.SubFactory(ActionFactory)
    service = factory.SelfAttribute("action.service")
    action_version = factory.SelfAttribute("action.version")
    status = TriggerStatus.SKIPPED


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local webhook receiver. Paths choose its answer:

    /ok → 200, /created → 201, /error → 500, /slow → 200 after `slow_seconds`,
    /redirect → 302 to /ok (which must not be followed).
    """

    base_url: str
    slow_seconds: float
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _handler_for(receiver_box: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = receiver_box[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            if self.path == "/slow":
                time.sleep(receiver.slow_seconds)
            status = {"/created": 201, "/error": 500, "/redirect": 302}.get(self.path, 200)
            try:
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", receiver.url("/ok"))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver(*, slow_seconds: float = 1.0) -> Iterator[Receiver]:
    box: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(box))
    server.daemon_threads = True
    box.append(Receiver(base_url=f"http://127.0.0.1:{server.server_address[1]}", slow_seconds=slow_seconds))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def unused_port() -> int:
    """A local port nothing listens on (a connection to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
