import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from types import FrameType
from typing import Any

from django.core.management.base import CommandParser
from django.db import close_old_connections

from config.commands import OperatorCommand, Report, positive_seconds
from config.outbound import conf
from config.outbound.emails import emails_deliver_due
from config.outbound.services import DeliveryCounts, webhooks_deliver_due

logger = logging.getLogger(__name__)


class Command(OperatorCommand):
    help = (
        "Send due webhooks and e-mails from the outbox, retrying on their schedules. Runs until SIGTERM or "
        "SIGINT (then finishes the send in progress and exits 0); --once sends what is due and exits. "
        "Any number of workers may run at once. Prints what it sent when it exits (--json: one object "
        "with the webhooks' and the e-mails' counts)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")
        parser.add_argument(
            "--poll-interval",
            type=positive_seconds(high=3600),
            default=None,
            help=f"seconds between looks at the outbox when idle, at most 3600 "
            f"(default {conf.poll_seconds():g})",
        )

    def operate(self, *, once: bool, poll_interval: float | None, **options: Any) -> Report:
        interval = conf.poll_seconds() if poll_interval is None else poll_interval
        stop = threading.Event()
        total = DeliveryCounts()
        emails = DeliveryCounts()
        with _stop_on_signals(stop):
            if not once:
                logger.info("deliver_webhooks started", extra={"poll_seconds": interval})
            while not stop.is_set():
                counts = webhooks_deliver_due(should_stop=stop.is_set)
                total.merge(counts)
                if counts.total:
                    logger.info("webhooks sent", extra=vars(counts))
                email_counts = emails_deliver_due(should_stop=stop.is_set)
                emails.merge(email_counts)
                if email_counts.total:
                    logger.info("emails sent", extra=vars(email_counts))
                if once:
                    break
                stop.wait(interval)
                # A long-running worker outlives database restarts and idle timeouts.
                close_old_connections()
        return Report(
            data={"webhooks": asdict(total), "emails": asdict(emails)},
            lines=[
                f"webhooks: {total}",
                f"e-mails: {emails.delivered} sent, {emails.retrying} to retry, {emails.failed} failed, "
                f"{emails.superseded} superseded",
            ],
        )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT ask the loop to stop after the send in progress, instead of killing it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # Only the main thread may set signal handlers (e.g. call_command from a thread).
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
