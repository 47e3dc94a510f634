from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.services import notifications_expire_overdue


class Command(BaseCommand):
    help = (
        "Mark pending notifications past their deadline expired and queue notification.expired for "
        "each. Safe to run concurrently and often (e.g. every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count them; change nothing.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        count = notifications_expire_overdue(dry_run=dry_run)
        self.stdout.write(f"{count} notifications {'would be ' if dry_run else ''}expired")
