import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.purge import DEFAULT_BATCH_SIZE, purge_all


class Command(BaseCommand):
    help = (
        "Apply the retention settings (RETAIN_WEBHOOK_PAYLOADS, RETAIN_NOTIFICATIONS, "
        "RETAIN_EXECUTIONS; 0 keeps forever): purge what is older, in batches. For a daily "
        "schedule; safe to run concurrently and often. Prints how many rows of each kind it purged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args: Any, dry_run: bool, as_json: bool, batch_size: int, **options: Any) -> None:
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size must be from 1 to 100000")
        try:
            outcomes = purge_all(dry_run=dry_run, batch_size=batch_size)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            counts = {outcome.kind: outcome.count or 0 for outcome in outcomes}
            self.stdout.write(json.dumps({"purged": counts, "dry_run": dry_run}))
            return
        verb = "would be purged" if dry_run else "purged"
        for outcome in outcomes:
            if outcome.count is None:
                self.stdout.write(f"{outcome.kind}: kept forever ({outcome.setting}=0)")
            else:
                age = f"older than {outcome.retention}, {outcome.setting}"
                self.stdout.write(f"{outcome.kind}: {outcome.count} {verb} ({age})")
