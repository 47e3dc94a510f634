from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandParser

from config.commands import OperatorCommand, Report
from notifications.services import notifications_sweep


class Command(OperatorCommand):
    help = (
        "Do what the deadlines and escalations due ask: mark pending notifications past their "
        "deadline expired (notification.expired), or answered by their default outcome "
        "(notification.responded, defaulted), and add the recipients of due escalations "
        "(notification.escalated, e-mails). Prints how many of each. Safe to run concurrently and "
        "often (e.g. every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count them; change nothing.")

    def operate(self, *, dry_run: bool, **options: Any) -> Report:
        with self.progress("notifications swept") as on_progress:
            counts = notifications_sweep(dry_run=dry_run, on_progress=on_progress)
        would = "would be " if dry_run else ""
        return Report(
            data={**asdict(counts), "dry_run": dry_run},
            lines=[
                f"{counts.expired} notifications {would}expired",
                f"{counts.defaulted} notifications {would}answered by their default outcome",
                f"{counts.escalated} notifications {would}escalated",
            ],
        )
