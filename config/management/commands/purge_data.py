from typing import Any

from django.core.management.base import CommandParser

from config.commands import OperatorCommand, Report, whole_number
from config.purge import DEFAULT_BATCH_SIZE, purge_all


class Command(OperatorCommand):
    help = (
        "Apply the retention settings (RETAIN_WEBHOOK_PAYLOADS, RETAIN_NOTIFICATIONS, "
        "RETAIN_EXECUTIONS; 0 keeps forever): purge what is older, in batches. For a daily "
        "schedule; safe to run concurrently and often. Prints how many rows of each kind it purged."
    )
    # A retention setting that is not one: purge_all names it before purging anything.
    refused = (ValueError,)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument(
            "--batch-size",
            type=whole_number(1, 100_000),
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction, 1 to 100000 (default {DEFAULT_BATCH_SIZE}).",
        )

    def operate(self, *, dry_run: bool, batch_size: int, **options: Any) -> Report:
        with self.progress("rows purged") as on_progress:
            outcomes = purge_all(dry_run=dry_run, batch_size=batch_size, on_progress=on_progress)
        verb = "would be purged" if dry_run else "purged"
        lines = []
        for outcome in outcomes:
            if outcome.count is None:
                lines.append(f"{outcome.kind}: kept forever ({outcome.setting}=0)")
            else:
                age = f"older than {outcome.retention}, {outcome.setting}"
                lines.append(f"{outcome.kind}: {outcome.count} {verb} ({age})")
        return Report(
            data={"purged": {outcome.kind: outcome.count or 0 for outcome in outcomes}, "dry_run": dry_run},
            lines=lines,
        )
