"""Real local webhook receivers: a threaded HTTP server on 127.0.0.1, answering as told."""

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # The client's (address, port): two requests with the same peer came on one connection.
    peer: tuple[str, int]

    def verified_payload(self, secret: str) -> object:
        """What a receiver using the Standard Webhooks library would accept (raises if it would not)."""
        return Webhook(secret).verify(self.body, self.headers)


Respond = Callable[[BaseHTTPRequestHandler, int, "Receiver"], None]


class Receiver:
    """Records every POST, then answers with `respond(handler, number_of_this_request, receiver)`."""

    def __init__(self, respond: Respond, *, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        # Answers that hold the connection open wait on this; closing the receiver lets them go.
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), body, self.client_address[:2])
                    )
                    number = len(receiver.received)
                    receiver._arrived.notify_all()
                # A client that gave up (its deadline) leaves nothing to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    respond(self, number, receiver)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_port}/hook"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def reply(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def answering(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Respond:
    return lambda handler, number, receiver: reply(handler, status, body, headers)


def answering_then_closing(handler: BaseHTTPRequestHandler, number: int, receiver: Receiver) -> None:
    """Answers 204 as if it kept the connection, then closes it (an idle timeout come early)."""
    reply(handler, 204)
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_WR)
    handler.close_connection = True


def quick_then_trickling(handler: BaseHTTPRequestHandler, number: int, receiver: Receiver) -> None:
    """Answers the first request at once, and every later one as `trickling_headers`."""
    if number == 1:
        reply(handler, 204)
    else:
        trickling_headers(handler, number, receiver)


def hanging_up(handler: BaseHTTPRequestHandler, number: int, receiver: Receiver) -> None:
    """Reads the request, then closes the connection without a word."""
    handler.close_connection = True


def resetting(handler: BaseHTTPRequestHandler, number: int, receiver: Receiver) -> None:
    """Reads the request, then resets the connection (a TCP RST, not a close)."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def holding_until_released(handler: BaseHTTPRequestHandler, number: int, receiver: Receiver) -> None:
    """Answers 200 only once the test lets go (or the receiver closes)."""
    receiver.release.wait(timeout=60)
    reply(handler, 200, b"late")


def trickling_headers(handler: BaseHTTPRequestHandler, number: int, receiver: Receiver) -> None:
    """A status line, then one header line every 0.1 s: each read succeeds, the answer never ends."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    handler.wfile.flush()
    while not receiver.release.wait(0.1):
        handler.wfile.write(b"X-Trickle: 1\r\n")
        handler.wfile.flush()
