"""A webhook receiver whose behaviour the test switches at run time: down, slow, failing,
redirecting, then back. It keeps its port across a stop and a start, so the service's callback_url
stays the same, as a real receiver's would across an outage."""

import contextlib
import threading
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


class Mode(StrEnum):
    OK = "ok"
    SLOW = "slow"  # answers 200, but only after `slow_seconds`
    ERROR = "error"  # 500
    REDIRECT = "redirect"  # 307 to another path of this receiver
    HOLD = "hold"  # holds the request open until released (a send in flight)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    mode: Mode
    answered: int

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def verified(self, secret: str) -> object:
        """What a Standard Webhooks library accepts; raises when the signature does not verify."""
        return Webhook(secret).verify(self.body, self.headers)


class SwitchableReceiver:
    def __init__(self) -> None:
        self.mode = Mode.OK
        self.slow_seconds = 3.0
        self.received: list[Received] = []
        self.arrivals = 0
        self.release = threading.Event()
        self._arrived = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Bind once to learn a free port; every later start binds the same one.
        self.port = self._bind(0).server_port
        self.start_serving()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _bind(self, port: int) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = receiver.mode
                with receiver._arrived:
                    receiver.arrivals += 1
                    receiver._arrived.notify_all()
                status = {Mode.ERROR: 500, Mode.REDIRECT: 307}.get(mode, 200)
                if mode == Mode.SLOW:
                    receiver.release.wait(receiver.slow_seconds)
                if mode == Mode.HOLD:
                    receiver.release.wait(60)
                with receiver._arrived:
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, mode, status)
                    )
                    receiver._arrived.notify_all()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    if mode == Mode.REDIRECT:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        self._server = server
        return server

    def start_serving(self) -> None:
        if self._server is None:
            self._bind(self.port)
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop_serving(self) -> None:
        """Down: nothing listens on the port any more (connections are refused)."""
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.release.clear()

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until `count` requests arrived (for SLOW and HOLD: once each was answered)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def wait_for_arrival(self, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until `count` requests arrived, answered or not (a held one included)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.arrivals >= count, timeout=timeout)

    def answered_in_time(self) -> list[Received]:
        """The requests answered 2xx without delay: what a sender sees as delivered."""
        return [item for item in self.received if item.mode == Mode.OK]

    def close(self) -> None:
        self.stop_serving()
