"""Real local SMTP servers (aiosmtpd) on 127.0.0.1: one that takes every e-mail, one that refuses."""

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


# What the server answers to DATA: the number of this e-mail (1, 2, ...) -> an SMTP reply.
Reply = Callable[[int], str]


def accepting(number: int) -> str:
    return "250 OK"


def refusing(code: str = "451 4.3.0 Try again later") -> Reply:
    return lambda number: code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """Records every e-mail offered to it, then answers with `reply(number)`."""

    def __init__(self, reply: Reply = accepting) -> None:
        self.received: list[Received] = []
        self.offered = 0
        self._lock = threading.Lock()
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                with server._lock:
                    server.offered += 1
                    number = server.offered
                answer = reply(number)
                if answer.startswith("250"):
                    message = message_from_bytes(envelope.content, policy=policy.default)
                    with server._lock:
                        server.received.append(
                            Received(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
                        )
                return answer

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def mailer(self) -> dict[str, Any]:
        """The MAILERS entry that sends here."""
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
        }

    def close(self) -> None:
        self.controller.stop()
