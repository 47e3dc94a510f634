import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions.services.executions import executions_expire

_DURATION = re.compile(r"(\d{1,9})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """`30s`, `15m`, `24h`, `7d`: a whole number with a unit."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise CommandError(f"{value!r} is not a duration; use a whole number with s, m, h or d, as in 24h")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


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
        count = executions_expire(older_than=parse_duration(older_than), dry_run=dry_run)
        verb = "would be expired" if dry_run else "expired"
        noun = "execution" if count == 1 else "executions"
        self.stdout.write(f"{count} {noun} {verb} (pending for more than {older_than})")
