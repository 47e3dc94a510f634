"""Notifications with their answer, deadline and deliveries; invalidate, expire overdue, replay."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.outbound.models import WebhookEvent
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_create, notifications_sweep
from tests.admin.factories import World, staff_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/admin/notifications/notification/"


def pending(world: World, title: str = "Ship it?", deadline_in: timedelta | None = None) -> Notification:
    return notification_create(
        service=world.service,
        recipients=[UserFactory(username=f"r-{title[:8]}")],
        title=title,
        actions=[{"id": "ok", "label": "OK", "response_type": "simple"}],
        deadline=timezone.now() + deadline_in if deadline_in else None,
    )


def test_notification_page_shows_answer_deadline_and_deliveries(admin_client: Client, world: World) -> None:
    answered = Notification.objects.get(title="Approve the refund?")
    event = WebhookEvent.objects.get(subject_id=answered.pk)

    html = admin_client.get(f"{NOTIFICATIONS}{answered.pk}/change/").content.decode()

    assert "responded" in html and "approve" in html and "&quot;ok&quot;" in html
    assert "alex" in html  # the responder
    assert event.pk in html and "notification.responded" in html
    assert "<td>500</td>" in html  # its attempt
    listing = admin_client.get(NOTIFICATIONS + "?status=responded").content.decode()
    assert f"{NOTIFICATIONS}{answered.pk}/change/" in listing


def test_invalidate_asks_for_a_reason_then_invalidates_pending_ones_only(
    admin_client: Client, world: World
) -> None:
    open_one = pending(world)
    answered = Notification.objects.get(title="Approve the refund?")
    chosen = {"action": "invalidate", "_selected_action": [str(open_one.pk), str(answered.pk)], "index": "0"}

    confirmation = admin_client.post(NOTIFICATIONS, chosen)
    assert confirmation.status_code == 200
    assert 'name="reason"' in confirmation.content.decode()
    open_one.refresh_from_db()
    assert open_one.status == NotificationStatus.PENDING

    done = admin_client.post(
        NOTIFICATIONS, {**chosen, "confirm": "yes", "reason": "Duplicate request"}, follow=True
    )

    open_one.refresh_from_db()
    answered.refresh_from_db()
    assert open_one.status == NotificationStatus.INVALIDATED
    assert open_one.invalidation_reason == "Duplicate request"
    assert answered.status == NotificationStatus.RESPONDED
    messages = done.content.decode()
    assert "1 notification(s) invalidated" in messages and "1 notification(s) left as they were" in messages


def test_invalidate_without_a_reason_changes_nothing(admin_client: Client, world: World) -> None:
    open_one = pending(world)

    response = admin_client.post(
        f"{NOTIFICATIONS}{open_one.pk}/change/",
        {
            "CHANGE_FORM-action": "invalidate",
            "_selected_action": str(open_one.pk),
            "confirm": "yes",
            "reason": " ",
        },
    )

    assert response.status_code == 200
    assert "Give a reason" in response.content.decode()
    open_one.refresh_from_db()
    assert open_one.status == NotificationStatus.PENDING


def test_expire_overdue_shows_the_count_then_expires_and_queues_webhooks(
    admin_client: Client, world: World
) -> None:
    overdue = pending(world, "Late", deadline_in=timedelta(hours=1))
    Notification.objects.filter(pk=overdue.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    pending(world, "Not yet", deadline_in=timedelta(hours=1))
    url = NOTIFICATIONS + "expire-overdue/"
    assert url in admin_client.get(NOTIFICATIONS).content.decode()

    assert "1 pending notification past its deadline: marked" in admin_client.get(url).content.decode()
    response = admin_client.post(url)

    assert response.status_code == 302
    overdue.refresh_from_db()
    assert overdue.status == NotificationStatus.EXPIRED
    assert WebhookEvent.objects.filter(subject_id=overdue.pk, event_type="notification.expired").count() == 1
    assert Notification.objects.get(title="Not yet").status == NotificationStatus.PENDING


def test_replay_queues_the_stored_events_again(admin_client: Client, world: World) -> None:
    answered = Notification.objects.get(title="Approve the refund?")
    WebhookEvent.objects.filter(subject_id=answered.pk).update(status=WebhookEvent.Status.FAILED)

    admin_client.post(
        NOTIFICATIONS, {"action": "replay", "_selected_action": [str(answered.pk)], "index": "0"}
    )

    event = WebhookEvent.objects.get(subject_id=answered.pk)
    assert event.status == WebhookEvent.Status.PENDING


def test_operations_need_the_change_permission(client: Client, world: World) -> None:
    open_one = pending(world)
    client.force_login(staff_user(username="viewer", permissions=("notifications.view_notification",)))

    assert client.get(NOTIFICATIONS).status_code == 200
    assert client.get(NOTIFICATIONS + "expire-overdue/").status_code == 403
    assert client.post(NOTIFICATIONS + "expire-overdue/").status_code == 403
    client.post(
        NOTIFICATIONS,
        {"action": "invalidate", "_selected_action": [str(open_one.pk)], "confirm": "yes", "reason": "x"},
    )
    open_one.refresh_from_db()
    assert open_one.status == NotificationStatus.PENDING


def test_deliveries_show_only_to_staff_who_may_see_the_outbox(client: Client, world: World) -> None:
    answered = Notification.objects.get(title="Approve the refund?")
    event = WebhookEvent.objects.get(subject_id=answered.pk)
    url = f"{NOTIFICATIONS}{answered.pk}/change/"

    client.force_login(staff_user(username="support", permissions=("notifications.view_notification",)))
    assert event.pk not in client.get(url).content.decode()

    client.force_login(
        staff_user(
            username="ops", permissions=("notifications.view_notification", "outbound.view_webhookevent")
        )
    )
    assert event.pk in client.get(url).content.decode()


def test_the_delivery_link_opens_its_event_whatever_the_id_holds(admin_client: Client, world: World) -> None:
    # The admin quotes "_" in primary keys: an unquoted link to "msg_23..." would decode to
    # "msg#..." and land on the admin index instead of the event.
    answered = Notification.objects.get(title="Approve the refund?")
    event = WebhookEvent.objects.get(subject_id=answered.pk)
    event.attempts.all().delete()
    tricky_id = "msg_23" + "0" * 30
    WebhookEvent.objects.filter(pk=event.pk).update(id=tricky_id)

    html = admin_client.get(f"{NOTIFICATIONS}{answered.pk}/change/").content.decode()
    link = re.search(r'href="(/admin/outbound/webhookevent/[^"]+/change/)"', html)

    assert link is not None
    response = admin_client.get(link.group(1))
    assert response.status_code == 200 and tricky_id in response.content.decode()


def test_an_answer_not_yet_delivered_shows_its_event_without_attempts(
    admin_client: Client, world: World
) -> None:
    answered = Notification.objects.get(title="Approve the refund?")
    WebhookEvent.objects.get(subject_id=answered.pk).attempts.all().delete()

    response = admin_client.get(f"{NOTIFICATIONS}{answered.pk}/change/")

    assert response.status_code == 200
    assert "No attempt yet." in response.content.decode()


def test_the_page_shows_recipients_the_default_outcome_and_the_escalation(
    admin_client: Client, world: World
) -> None:
    first, second, later = (UserFactory(username=name) for name in ("first-one", "second-one", "later-one"))
    notification = notification_create(
        service=world.service,
        recipients=[first, second],
        title="Defaults and escalates",
        actions=[{"id": "ok", "label": "OK", "response_type": "binary"}],
        deadline=timezone.now() + timedelta(hours=1),
        on_deadline={"action_id": "ok", "response_data": False},
        escalate={"after_seconds": 60, "recipients": [later.username]},
    )
    Notification.objects.filter(pk=notification.pk).update(escalate_at=timezone.now() - timedelta(seconds=1))
    notifications_sweep()
    Notification.objects.filter(pk=notification.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    notifications_sweep()

    html = admin_client.get(f"{NOTIFICATIONS}{notification.pk}/change/").content.decode()

    assert "first-one, second-one, later-one (escalated)" in html
    assert "Default outcome at the deadline" in html
    assert '<th scope="row">response_data</th><td><code>false</code></td>' in html
    assert re.search(r"Response defaulted.*?icon-yes", html, re.S)
    assert "Escalation:" in html and '<th scope="row">after_seconds</th><td><code>60</code></td>' in html
    notification.refresh_from_db()
    assert notification.escalated_at is not None and notification.response_defaulted


def test_search_finds_a_notification_by_any_recipient(admin_client: Client, world: World) -> None:
    notification = notification_create(
        service=world.service,
        recipients=[UserFactory(username="lead-person"), UserFactory(username="second-person")],
        title="Found by the second",
        actions=[{"id": "ok", "label": "OK", "response_type": "simple"}],
    )
    html = admin_client.get(NOTIFICATIONS, {"q": "second-person"}).content.decode()
    assert str(notification.pk) in html or "Found by the second" in html


def test_the_list_queries_do_not_grow_with_recipients(
    admin_client: Client, world: World, django_assert_max_num_queries: Any
) -> None:
    admin_client.get(NOTIFICATIONS)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        admin_client.get(NOTIFICATIONS)
    for number in range(5):
        notification_create(
            service=world.service,
            recipients=[UserFactory(), UserFactory(), UserFactory()],
            title=f"Many {number}",
            actions=[{"id": "ok", "label": "OK", "response_type": "simple"}],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(NOTIFICATIONS).status_code == 200
