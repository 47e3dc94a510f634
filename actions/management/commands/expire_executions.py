from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions.services.executions import executions_expire
from config.formats import parse_duration


class Command(BaseCommand):
    help = (
        "Mark widget action executions still pending after --older-than as expired and mask the "
        "params of contact forms and newsletter signups. Prints how many."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default="24h",
            metavar="DURATION",
            help="Age of a pending execution, as 30s, 15m, 24h or 7d (default 24h).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count them, change nothing.")

    def handle(self, *args: Any, older_than: str, dry_run: bool, **options: Any) -> None:
        try:
            age = parse_duration(older_than)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        count = executions_expire(older_than=age, dry_run=dry_run)
        verb = "would be expired" if dry_run else "expired"
        noun = "execution" if count == 1 else "executions"
        self.stdout.write(f"{count} {noun} {verb} (pending for more than {older_than})")
