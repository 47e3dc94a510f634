from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser

from actions.services.executions import executions_expire
from config.commands import OperatorCommand, Report, duration


class Command(OperatorCommand):
    help = (
        "Mark widget action executions still pending after --older-than as expired and mask the "
        "params of contact forms and newsletter signups. Prints how many."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration,
            default="24h",
            metavar="DURATION",
            help="Age of a pending execution, as 30s, 15m, 24h or 7d (default 24h).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count them, change nothing.")

    def operate(self, *, older_than: timedelta, dry_run: bool, **options: Any) -> Report:
        with self.progress("executions expired") as on_progress:
            count = executions_expire(older_than=older_than, dry_run=dry_run, on_progress=on_progress)
        verb = "would be expired" if dry_run else "expired"
        noun = "execution" if count == 1 else "executions"
        return Report(
            data={"expired": count, "dry_run": dry_run},
            lines=[f"{count} {noun} {verb} (pending for more than {_words(older_than)})"],
        )


def _words(age: timedelta) -> str:
    """The age as a DURATION in its largest whole unit: 24h reads 1d, 90m stays 90m."""
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
