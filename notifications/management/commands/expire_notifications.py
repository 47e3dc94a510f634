import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.services import notifications_sweep


class Command(BaseCommand):
    help = (
        "Do what the deadlines and escalations due ask: mark pending notifications past their "
        "deadline expired (notification.expired), or answered by their default outcome "
        "(notification.responded, defaulted), and add the recipients of due escalations "
        "(notification.escalated, e-mails). Prints how many of each. Safe to run concurrently and "
        "often (e.g. every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count them; change nothing.")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(self, *args: Any, dry_run: bool, as_json: bool, **options: Any) -> None:
        counts = notifications_sweep(dry_run=dry_run)
        if as_json:
            self.stdout.write(json.dumps({**asdict(counts), "dry_run": dry_run}))
            return
        would = "would be " if dry_run else ""
        self.stdout.write(f"{counts.expired} notifications {would}expired")
        self.stdout.write(f"{counts.defaulted} notifications {would}answered by their default outcome")
        self.stdout.write(f"{counts.escalated} notifications {would}escalated")
