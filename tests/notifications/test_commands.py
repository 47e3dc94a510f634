"""expire_notifications and replay_notifications (contract sections 1 and 3)."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.outbound.models import WebhookEvent
from config.outbound.services import webhook_enqueue
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_events_replay, notifications_sweep
from tests.concurrency import in_threads
from tests.factories import ServiceFactory, UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def overdue(**kwargs: Any) -> Notification:
    return NotificationFactory(deadline=timezone.now() - timedelta(minutes=1), **kwargs)


# --- expire_notifications -----------------------------------------------------------------------


def test_expire_marks_overdue_notifications_and_queues_their_webhook() -> None:
    late = overdue(metadata={"order": 7})
    also_late = overdue()
    future = NotificationFactory(deadline=timezone.now() + timedelta(hours=1))
    no_deadline = NotificationFactory()
    answered = overdue()
    Notification.objects.filter(pk=answered.pk).update(
        status=NotificationStatus.RESPONDED, response_action_id="approve", responded_at=timezone.now()
    )

    assert run("expire_notifications").splitlines()[0] == "2 notifications expired"

    late.refresh_from_db()
    assert late.status == NotificationStatus.EXPIRED
    assert late.expired_at is not None
    for untouched, status in ((future, "pending"), (no_deadline, "pending"), (answered, "responded")):
        untouched.refresh_from_db()
        assert untouched.status == status
    events = WebhookEvent.objects.filter(event_type="notification.expired")
    assert {event.subject_id for event in events} == {late.pk, also_late.pk}
    event = events.get(subject_id=late.pk)
    assert event.service_id == late.service_id
    assert event.payload == {
        "type": "notification.expired",
        "notification_id": str(late.pk),
        "expired_at": late.expired_at.isoformat().replace("+00:00", "Z"),
        "metadata": {"order": 7},
    }


def test_expire_again_finds_nothing_and_queues_nothing() -> None:
    overdue()
    assert run("expire_notifications").splitlines()[0] == "1 notifications expired"
    assert run("expire_notifications").splitlines()[0] == "0 notifications expired"
    assert WebhookEvent.objects.count() == 1


def test_expire_dry_run_counts_and_changes_nothing() -> None:
    late = overdue()
    assert run("expire_notifications", "--dry-run").splitlines() == [
        "1 notifications would be expired",
        "0 notifications would be answered by their default outcome",
        "0 notifications would be escalated",
    ]
    late.refresh_from_db()
    assert late.status == NotificationStatus.PENDING
    assert not WebhookEvent.objects.exists()


def test_expire_works_through_batches() -> None:
    made = {overdue().pk for _ in range(7)}
    assert notifications_sweep(batch_size=3).expired == 7
    assert set(Notification.objects.filter(status="expired").values_list("pk", flat=True)) == made
    assert WebhookEvent.objects.count() == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_expiry_runs_never_expire_one_notification_twice() -> None:
    service, recipient = ServiceFactory(), UserFactory()
    past = timezone.now() - timedelta(minutes=1)
    Notification.objects.bulk_create(
        NotificationFactory.build(service=service, recipient=recipient, deadline=past) for _ in range(300)
    )
    counts = in_threads([lambda: notifications_sweep(batch_size=10)] * 4)

    assert sum(count.expired for count in counts) == 300
    assert Notification.objects.filter(status="expired").count() == 300
    events = WebhookEvent.objects.filter(event_type="notification.expired")
    assert events.count() == 300
    assert len(set(events.values_list("subject_id", flat=True))) == 300


# --- replay_notifications -----------------------------------------------------------------------


def with_event(
    notification: Notification, *, status: str = "delivered", age: timedelta | None = None
) -> WebhookEvent:
    event = webhook_enqueue(
        service=notification.service,
        event_type="notification.responded",
        payload={"notification_id": str(notification.pk)},
        subject_id=notification.pk,
    )
    changes: dict[str, Any] = {"status": status, "next_attempt_at": timezone.now() + timedelta(days=365)}
    if status == "delivered":
        changes["delivered_at"] = timezone.now()
    if age is not None:
        changes["created_at"] = timezone.now() - age
    WebhookEvent.objects.filter(pk=event.pk).update(**changes)
    return event


def queued_again(event: WebhookEvent) -> bool:
    event.refresh_from_db()
    return event.status == "pending" and event.next_attempt_at <= timezone.now()


def test_replay_by_id_queues_the_same_event_again() -> None:
    chosen, other = NotificationFactory(), NotificationFactory()
    event, other_event = with_event(chosen), with_event(other)

    assert run("replay_notifications", "--id", str(chosen.pk)) == "1 events queued again"

    assert queued_again(event)
    assert not queued_again(other_event)
    assert WebhookEvent.objects.count() == 2  # the same row, so the same webhook-id


def test_replay_failed_only_takes_events_that_gave_up() -> None:
    failed = with_event(NotificationFactory(), status="failed")
    delivered = with_event(NotificationFactory())
    assert run("replay_notifications", "--failed") == "1 events queued again"
    assert queued_again(failed)
    assert not queued_again(delivered)


def test_replay_since_and_service_narrow_the_choice() -> None:
    service = ServiceFactory(name="billing-bot")
    recent = with_event(NotificationFactory(service=service), age=timedelta(hours=1))
    old = with_event(NotificationFactory(service=service), age=timedelta(days=10))
    elsewhere = with_event(NotificationFactory(), age=timedelta(hours=1))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")

    assert (
        run("replay_notifications", "--service", "billing-bot", "--since", since) == "1 events queued again"
    )
    assert queued_again(recent)
    assert not queued_again(old)
    assert not queued_again(elsewhere)


def test_replay_dry_run_counts_and_changes_nothing() -> None:
    event = with_event(NotificationFactory(), status="failed")
    assert run("replay_notifications", "--failed", "--dry-run") == "1 events would be queued again"
    assert not queued_again(event)


def test_the_replay_service_takes_a_queryset_of_notifications() -> None:
    notifications = [NotificationFactory() for _ in range(3)]
    events = [with_event(notification) for notification in notifications]
    chosen = Notification.objects.filter(pk__in=[notifications[0].pk, notifications[2].pk])
    assert notification_events_replay(notifications=chosen).queued == 2
    assert [queued_again(event) for event in events] == [True, False, True]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--id", "not-a-uuid"],
        ["--service", "no-such-service"],
        ["--since", "last tuesday"],
    ],
)
def test_replay_refuses_bad_arguments(args: list[str]) -> None:
    with pytest.raises(CommandError):
        run("replay_notifications", *args)
