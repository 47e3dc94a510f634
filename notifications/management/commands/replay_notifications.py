from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.management.base import CommandError, CommandParser

from config.accounts.selectors import service_get_by_id_or_name
from config.commands import OperatorCommand, Report, object_id, timestamp
from notifications.models import Notification
from notifications.services import notification_events_replay


class Command(OperatorCommand):
    help = (
        "Queue the stored webhooks (notification.responded / notification.expired) of the chosen "
        "notifications again, under the same webhook-id. Choose with at least one of --id, --failed, "
        "--since, --service; they combine (AND). Events whose payload was purged "
        "(RETAIN_WEBHOOK_PAYLOADS) cannot be sent again: they are skipped and counted. An unknown "
        "--id or --service is refused and nothing is queued."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--id",
            dest="ids",
            action="append",
            default=[],
            type=object_id("notification"),
            metavar="UUID",
            help="A notification (repeatable).",
        )
        parser.add_argument("--failed", action="store_true", help="Only events whose delivery gave up.")
        parser.add_argument(
            "--since", type=timestamp, metavar="TIMESTAMP", help="Only events stored at or after this time."
        )
        parser.add_argument(
            "--service", metavar="SERVICE", help="Only notifications of this service (id or name)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the events; queue nothing.")

    def operate(
        self,
        *,
        ids: list[UUID],
        failed: bool,
        since: datetime | None,
        service: str | None,
        dry_run: bool,
        **options: Any,
    ) -> Report:
        if not (ids or failed or since or service):
            raise CommandError("Choose what to replay: --id, --failed, --since and/or --service.")
        notifications = Notification.objects.all()
        if ids:
            # An unknown id is a mistake (a typo, another install's id), refused like every
            # command's unknown id rather than replayed as zero events.
            known = set(Notification.objects.filter(pk__in=ids).values_list("pk", flat=True))
            unknown = [str(value) for value in dict.fromkeys(ids) if value not in known]
            if unknown:
                raise CommandError(f"there is no notification with the id {', '.join(unknown)}")
            notifications = notifications.filter(pk__in=ids)
        if service is not None:
            owner = service_get_by_id_or_name(reference=service)
            if owner is None:
                raise CommandError(f"there is no service with the id or name {service!r}")
            notifications = notifications.filter(service=owner)
        with self.progress("events queued") as on_progress:
            counts = notification_events_replay(
                notifications=notifications,
                dry_run=dry_run,
                failed_only=failed,
                since=since,
                on_progress=on_progress,
            )
        line = f"{counts.queued} events {'would be ' if dry_run else ''}queued again"
        if counts.skipped_purged:
            line += f", {counts.skipped_purged} skipped (payload purged)"
        return Report(
            data={"queued": counts.queued, "skipped_purged": counts.skipped_purged, "dry_run": dry_run},
            lines=[line],
        )
