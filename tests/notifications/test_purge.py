"""RETAIN_NOTIFICATIONS (contract 8): terminal notifications older than the limit go, with their
answers and their webhook events."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from config.outbound.models import DeliveryAttempt, WebhookEvent
from notifications.models import Notification
from notifications.services import (
    notification_invalidate,
    notification_respond,
    notifications_expire_overdue,
    notifications_purge,
)
from tests.concurrency import in_threads
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
    DeliveryAttempt.objects.create(
        event=event, started_at=timezone.now(), status_code=200, response_body="ok"
    )
    return aged(notification, "responded_at", age)


def expired(age: timedelta) -> Notification:
    notification = NotificationFactory(deadline=timezone.now() + timedelta(hours=1))
    Notification.objects.filter(pk=notification.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    notifications_expire_overdue()
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
