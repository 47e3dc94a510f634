"""The demo service's callback for `make run`: verifies each webhook and prints one line about it.

It stands for the AI service that owns `demo-assistant`, so the demo closes its loop on this
machine: `run_demo` starts it as its own process (`python -m config.outbound.demo_receiver --port
N`), with the service's `whsec_` secret in the environment variable `DEMO_WEBHOOK_SECRET` (never on
the command line, where `ps` shows it, nor in any output). It checks each request's Standard
Webhooks signature with the `standardwebhooks` library, as a real receiver would, answers 204 when
it holds and 401 when not (the worker then retries), and prints the event's type, its webhook-id,
whether it verified and, when it did, which notification and action it is about. Answers, responders and
metadata are personal or the service's own: only their names are printed, never their values.

No Django here: a receiver is another program, which knows only the secret and the wire.
"""

import argparse
import os
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

SECRET_VARIABLE = "DEMO_WEBHOOK_SECRET"
# The payload fields printed with their value: ids and names of the contract's choosing.
SHOWN_FIELDS = ("notification_id", "action_id")
MAX_BODY_BYTES = 1024 * 1024


def summary(payload: Any) -> str:
    """What the event is about, without the values that may be personal."""
    if not isinstance(payload, dict):
        return "not a JSON object"
    shown = [f"{name.removesuffix('_id')}={payload[name]}" for name in SHOWN_FIELDS if name in payload]
    others = sorted(name for name in payload if name not in {*SHOWN_FIELDS, "type"})
    if others:
        shown.append(f"(also {', '.join(others)})")
    return " ".join(shown)


def printable(text: str, limit: int = 100) -> str:
    """The caller's text, safe on one line of a terminal."""
    return "".join(char if char.isprintable() else "?" for char in text[:limit])


def describe(*, webhook: Webhook, body: bytes, headers: dict[str, str]) -> tuple[bool, str]:
    """Whether the request verifies, and its line. What fails to verify is not trusted to say
    what it is about: only its webhook-id is printed."""
    webhook_id = printable(headers.get("webhook-id", "?"))
    try:
        payload = webhook.verify(body, headers)
    except (WebhookVerificationError, ValueError) as exc:  # ValueError: a malformed header or body
        return False, f"? {webhook_id} NOT VERIFIED ({printable(str(exc))})"
    event_type = payload.get("type", "?") if isinstance(payload, dict) else "?"
    return True, f"{printable(str(event_type))} {webhook_id} verified: {printable(summary(payload), 300)}"


def handler_for(webhook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self.send_response(HTTPStatus.BAD_REQUEST)
                self.end_headers()
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            verified, line = describe(webhook=webhook, body=body, headers=headers)
            sys.stdout.write(f"{line}\n")
            sys.stdout.flush()
            self.send_response(HTTPStatus.NO_CONTENT if verified else HTTPStatus.UNAUTHORIZED)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """One line per webhook is printed by do_POST; no access log besides."""

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args(argv)
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret.startswith("whsec_"):
        raise SystemExit(f"{SECRET_VARIABLE} must hold the demo service's whsec_ secret.")
    try:
        server = ThreadingHTTPServer((options.host, options.port), handler_for(Webhook(secret)))
    except OSError as exc:
        raise SystemExit(f"Cannot listen on {options.host}:{options.port}: {exc.strerror}.") from None
    sys.stdout.write(f"listening on http://{options.host}:{options.port}/\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
