"""RETAIN_NOTIFICATIONS (contract 8): terminal notifications older than the limit go, with their
answers and their webhook events."""

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.services import webhook_payloads_purge
from notifications.models import Notification
from notifications.services import (
    notification_invalidate,
    notification_respond,
    notifications_purge,
    notifications_sweep,
)
from tests.concurrency import in_threads
from tests.factories import DeliveryAttemptFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

LIMIT = timedelta(days=90)


def aged(notification: Notification, field: str, age: timedelta) -> Notification:
    Notification.objects.filter(pk=notification.pk).update(**{field: timezone.now() - age})
    return notification


def responded(age: timedelta) -> Notification:
    notification = NotificationFactory(title="Refund for order 99-secret?")
    notification_respond(
        notification=notification, responder=notification.recipient, action_id="approve", response_data=True
    )
    event = WebhookEvent.objects.get(subject_id=notification.pk)
    DeliveryAttemptFactory(event=event, status_code=200, response_body="ok")
    return aged(notification, "responded_at", age)


def expired(age: timedelta) -> Notification:
    notification = NotificationFactory(deadline=timezone.now() + timedelta(hours=1))
    Notification.objects.filter(pk=notification.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    notifications_sweep()
    return aged(notification, "expired_at", age)


def invalidated(age: timedelta) -> Notification:
    notification = NotificationFactory()
    notification_invalidate(notification=notification, reason="withdrawn")
    return aged(notification, "invalidated_at", age)


def test_terminal_notifications_older_than_the_limit_go_with_their_events() -> None:
    old = [responded(LIMIT * 2), expired(LIMIT + timedelta(hours=1)), invalidated(LIMIT * 3)]
    young = [responded(LIMIT - timedelta(hours=1)), expired(timedelta(days=1)), invalidated(timedelta(0))]
    pending = aged(NotificationFactory(), "created_at", LIMIT * 10)

    assert notifications_purge(older_than=LIMIT, dry_run=True) == 3
    assert Notification.objects.count() == 7
    assert notifications_purge(older_than=LIMIT, batch_size=2) == 3

    assert set(Notification.objects.values_list("pk", flat=True)) == {n.pk for n in [*young, pending]}
    assert not WebhookEvent.objects.filter(subject_id__in=[n.pk for n in old]).exists()
    assert WebhookEvent.objects.filter(subject_id__in=[n.pk for n in young]).count() == 2
    assert DeliveryAttempt.objects.count() == 1
    assert notifications_purge(older_than=LIMIT) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_purges_delete_each_notification_once() -> None:
    for _ in range(30):
        responded(LIMIT * 2)
    counts: list[Any] = in_threads([lambda: notifications_purge(older_than=LIMIT, batch_size=4)] * 3)
    assert sum(counts) == 30, counts
    assert not Notification.objects.exists() and not WebhookEvent.objects.exists()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_replay_notifications_skips_and_counts_purged_events() -> None:
    purged, kept = responded(timedelta(days=1)), responded(timedelta(days=1))
    old = timezone.now() - timedelta(days=60)
    WebhookEvent.objects.filter(subject_id=purged.pk).update(status="delivered", delivered_at=old)
    WebhookEvent.objects.filter(subject_id=kept.pk).update(status="delivered", delivered_at=timezone.now())
    assert webhook_payloads_purge(older_than=timedelta(days=30)) == 1
    ids = ["--id", str(purged.pk), "--id", str(kept.pk)]

    assert run("replay_notifications", *ids, "--dry-run") == (
        "1 events would be queued again, 1 skipped (payload purged)"
    )
    assert json.loads(run("replay_notifications", *ids, "--json")) == {
        "queued": 1,
        "skipped_purged": 1,
        "dry_run": False,
    }
    assert WebhookEvent.objects.get(subject_id=kept.pk).status == "pending"
    assert WebhookEvent.objects.get(subject_id=purged.pk).status == "delivered"


def test_the_admin_replay_says_how_many_were_skipped(admin_client: Client) -> None:
    purged = responded(timedelta(days=1))
    old = timezone.now() - timedelta(days=60)
    WebhookEvent.objects.filter(subject_id=purged.pk).update(status="delivered", delivered_at=old)
    webhook_payloads_purge(older_than=timedelta(days=30))
    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "replay", "_selected_action": [str(purged.pk)], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "0 webhook event(s) queued again" in html and "1 webhook event(s) skipped" in html
