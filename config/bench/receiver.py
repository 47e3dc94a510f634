"""The trigger target of the bench: answers every POST with 204 and counts them.

Run as its own process (`python -m config.bench.receiver`) so that it competes with the server
for CPU the way a real receiver on another host would not; it prints its port on the first line.
`GET /count` answers how many POSTs it has received, which the harness checks against the
triggers the server says it sent.
"""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self._lock:
            self.value += 1


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = Counter()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.counter.increment()
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        body = str(self.counter.value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a line per request would cost more than answering it."""


def serve(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), ReceiverHandler)
    server.daemon_threads = True
    return server


def main() -> None:
    server = serve()
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
