import json
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.accounts.models import Service
from notifications.models import Notification
from notifications.services import notification_events_replay


def _timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a timestamp such as 2026-11-01T00:00:00Z") from None
    # A timestamp without an offset is read as UTC, the server's time zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class Command(BaseCommand):
    help = (
        "Queue the stored webhooks (notification.responded / notification.expired) of the chosen "
        "notifications again, under the same webhook-id. Choose with at least one of --id, --failed, "
        "--since, --service; they combine (AND). Events whose payload was purged "
        "(RETAIN_WEBHOOK_PAYLOADS) cannot be sent again: they are skipped and counted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--id",
            dest="ids",
            action="append",
            default=[],
            metavar="UUID",
            help="A notification (repeatable).",
        )
        parser.add_argument("--failed", action="store_true", help="Only events whose delivery gave up.")
        parser.add_argument("--since", metavar="TIMESTAMP", help="Only events stored at or after this time.")
        parser.add_argument("--service", metavar="NAME", help="Only notifications of this service.")
        parser.add_argument("--dry-run", action="store_true", help="Count the events; queue nothing.")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(
        self,
        *args: Any,
        ids: list[str],
        failed: bool,
        since: str | None,
        service: str | None,
        dry_run: bool,
        as_json: bool,
        **options: Any,
    ) -> None:
        if not (ids or failed or since or service):
            raise CommandError("Choose what to replay: --id, --failed, --since and/or --service.")
        notifications = Notification.objects.all()
        if ids:
            try:
                notifications = notifications.filter(pk__in=[uuid.UUID(value) for value in ids])
            except ValueError:
                raise CommandError("--id takes a notification's UUID.") from None
        if service:
            owner = Service.objects.filter(name=service).first()
            if owner is None:
                raise CommandError(f"There is no service named {service!r}.")
            notifications = notifications.filter(service=owner)
        counts = notification_events_replay(
            notifications=notifications,
            dry_run=dry_run,
            failed_only=failed,
            since=_timestamp(since) if since else None,
        )
        if as_json:
            self.stdout.write(json.dumps({"queued": counts.queued, "skipped_purged": counts.skipped_purged}))
            return
        line = f"{counts.queued} events {'would be ' if dry_run else ''}queued again"
        if counts.skipped_purged:
            line += f", {counts.skipped_purged} skipped (payload purged)"
        self.stdout.write(line)
