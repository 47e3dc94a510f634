"""RETAIN_WEBHOOK_PAYLOADS (contract 8): old payloads and answer bodies go, the record stays, and
a purged event is never sent again."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from config.accounts.models import Service
from config.api.timestamps import rfc3339
from config.outbound.errors import PayloadPurged
from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.services import (
    webhook_deliver_next,
    webhook_enqueue,
    webhook_payloads_purge,
    webhook_replay,
    webhooks_replay,
)
from tests.concurrency import in_threads
from tests.factories import DeliveryAttemptFactory, ServiceFactory
from tests.helpers import Api, assert_error
from tests.outbound.receivers import Receiver, Respond, answering

pytestmark = pytest.mark.django_db

DAYS_30 = timedelta(days=30)
EVENTS = "/api/v1/webhook-events"
ANSWER = b'{"receipt": "answer-body-kept-4k"}'


def finished_event(
    service: Service, *, status: str = "delivered", age: timedelta, attempts: int = 2, **payload: Any
) -> WebhookEvent:
    """An event finished `age` ago, with `attempts` attempts whose answers were kept."""
    event = webhook_enqueue(
        service=service,
        event_type="notification.responded",
        payload={"response_data": "payload-secret-answer", **payload},
    )
    finished = timezone.now() - age
    changes: dict[str, Any] = {"status": status, "attempt_count": attempts}
    changes["delivered_at" if status == "delivered" else "failed_at"] = finished
    WebhookEvent.objects.filter(pk=event.pk).update(**changes)
    for number in range(attempts):
        DeliveryAttemptFactory(
            event=event,
            started_at=finished - timedelta(minutes=number),
            duration_ms=12,
            status_code=200 if status == "delivered" and number == 0 else 500,
            error="" if number == 0 else "answered 500",
            response_body=ANSWER.decode(),
        )
    event.refresh_from_db()
    return event


def test_old_payloads_and_answer_bodies_are_purged_and_the_record_stays(service: Service) -> None:
    old = finished_event(service, age=DAYS_30 + timedelta(hours=1))
    attempts_before = list(
        old.attempts.order_by("started_at").values("started_at", "status_code", "duration_ms", "error")
    )

    assert webhook_payloads_purge(older_than=DAYS_30) == 1

    old.refresh_from_db()
    assert old.payload is None and old.payload_purged_at is not None
    assert (old.status, old.attempt_count) == ("delivered", 2) and old.delivered_at is not None
    attempts = old.attempts.order_by("started_at")
    assert list(attempts.values("started_at", "status_code", "duration_ms", "error")) == attempts_before
    assert set(attempts.values_list("response_body", flat=True)) == {""}


def test_recent_and_pending_events_keep_their_payload(service: Service) -> None:
    recent = finished_event(service, age=DAYS_30 - timedelta(hours=1))
    pending = webhook_enqueue(service=service, event_type="notification.expired", payload={"old": True})
    WebhookEvent.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=400))

    assert webhook_payloads_purge(older_than=DAYS_30) == 0
    assert WebhookEvent.objects.filter(payload_purged_at__isnull=False).count() == 0
    assert DeliveryAttempt.objects.filter(event=recent, response_body=ANSWER.decode()).count() == 2


def test_failed_events_are_purged_by_when_they_failed(service: Service) -> None:
    old = finished_event(service, status="failed", age=DAYS_30 + timedelta(hours=1))
    recent = finished_event(service, status="failed", age=timedelta(days=1))
    # Failed before failed_at existed: the time its last attempt was due stands in.
    legacy = finished_event(service, status="failed", age=DAYS_30 + timedelta(days=1))
    WebhookEvent.objects.filter(pk=legacy.pk).update(
        failed_at=None, next_attempt_at=timezone.now() - DAYS_30 * 2
    )

    assert webhook_payloads_purge(older_than=DAYS_30, dry_run=True) == 2
    assert webhook_payloads_purge(older_than=DAYS_30, batch_size=1) == 2
    purged = set(WebhookEvent.objects.filter(payload__isnull=True).values_list("pk", flat=True))
    assert purged == {old.pk, legacy.pk}
    assert recent.pk not in purged
    assert webhook_payloads_purge(older_than=DAYS_30) == 0


def test_a_worker_records_when_an_event_failed_and_a_replay_clears_it(
    hooked_service: Service, receivers: Callable[[Respond], Receiver], settings: Settings
) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = ()
    hooked_service.callback_url = receivers(answering(500)).url
    hooked_service.save()
    event = webhook_enqueue(service=hooked_service, event_type="notification.expired", payload={})
    webhook_deliver_next()
    event.refresh_from_db()
    assert event.status == "failed" and event.failed_at is not None
    webhook_replay(event=event)
    event.refresh_from_db()
    assert (event.status, event.failed_at) == ("pending", None)


# A purged event is never sent again


def test_replaying_a_purged_event_is_refused(service: Service) -> None:
    event = finished_event(service, age=DAYS_30 * 2)
    webhook_payloads_purge(older_than=DAYS_30)
    with pytest.raises(PayloadPurged):
        webhook_replay(event=event)
    event.refresh_from_db()
    assert event.status == "delivered" and event.payload is None


def test_a_bulk_replay_skips_purged_events(service: Service) -> None:
    purged = finished_event(service, status="failed", age=DAYS_30 * 2)
    kept = finished_event(service, status="failed", age=timedelta(days=1))
    webhook_payloads_purge(older_than=DAYS_30)
    failed = WebhookEvent.objects.filter(status="failed")
    assert webhooks_replay(events=failed, dry_run=True) == 1
    assert webhooks_replay(events=failed) == 1
    assert webhooks_replay(events=[purged.pk]) == 0
    assert WebhookEvent.objects.get(pk=kept.pk).status == "pending"
    assert WebhookEvent.objects.get(pk=purged.pk).status == "failed"


def test_the_delivery_log_refuses_to_replay_a_purged_event(service: Service, service_api: Api) -> None:
    event = finished_event(service, age=DAYS_30 * 2)
    fresh = finished_event(service, age=timedelta(days=1))
    webhook_payloads_purge(older_than=DAYS_30)
    assert_error(service_api.post(f"{EVENTS}/{event.pk}/replay"), 409, "PAYLOAD_PURGED")
    assert WebhookEvent.objects.get(pk=event.pk).status == "delivered"
    response = service_api.post(f"{EVENTS}/{fresh.pk}/replay")
    assert (response.status_code, response.json()) == (202, {"queued": 1})


def test_the_delivery_logs_set_replay_skips_purged_events(service: Service, service_api: Api) -> None:
    since = rfc3339(timezone.now() - timedelta(days=365))
    purged = finished_event(service, status="failed", age=DAYS_30 * 2)
    kept = finished_event(service, status="failed", age=timedelta(days=1))
    webhook_payloads_purge(older_than=DAYS_30)
    response = service_api.post(f"{EVENTS}/replay", {"status": "failed", "since": since})
    assert (response.status_code, response.json()) == (202, {"queued": 1})
    assert WebhookEvent.objects.get(pk=kept.pk).status == "pending"
    assert WebhookEvent.objects.get(pk=purged.pk).status == "failed"


def test_the_delivery_log_shows_a_purged_events_payload_as_null(service: Service, service_api: Api) -> None:
    event = finished_event(service, age=DAYS_30 * 2)
    before = service_api.get(f"{EVENTS}/{event.pk}").json()
    assert before["payload"]["response_data"] == "payload-secret-answer"
    webhook_payloads_purge(older_than=DAYS_30)
    response = service_api.get(f"{EVENTS}/{event.pk}")
    assert response.status_code == 200
    after = response.json()
    assert after["payload"] is None and "payload-secret-answer" not in response.content.decode()
    # The record stays: status, counts and every attempt's outcome.
    assert {key: value for key, value in after.items() if key != "payload"} == {
        key: value for key, value in before.items() if key != "payload"
    }


def test_the_admin_replay_skips_purged_events_and_says_so(admin_client: Client, service: Service) -> None:
    purged = finished_event(service, age=DAYS_30 * 2)
    kept = finished_event(service, age=timedelta(days=1))
    webhook_payloads_purge(older_than=DAYS_30)
    response = admin_client.post(
        "/admin/outbound/webhookevent/",
        {"action": "replay", "_selected_action": [purged.pk, kept.pk], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 event(s) queued again" in text and "1 event(s) skipped: their payload was purged" in text
    page = admin_client.get(f"/admin/outbound/webhookevent/{quote(purged.pk)}/change/")
    assert page.status_code == 200 and "payload-secret-answer" not in page.content.decode()
    assert "Purged (RETAIN_WEBHOOK_PAYLOADS)" in page.content.decode()


# Exactly once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_purges_purge_each_event_once() -> None:
    service = ServiceFactory()
    events = [finished_event(service, age=DAYS_30 * 2, attempts=1) for _ in range(40)]
    counts = in_threads([lambda: webhook_payloads_purge(older_than=DAYS_30, batch_size=3)] * 4)
    assert sum(counts) == len(events), counts
    assert not WebhookEvent.objects.filter(payload__isnull=False).exists()
    assert not DeliveryAttempt.objects.exclude(response_body="").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_replay_racing_a_purge_either_wins_or_is_refused() -> None:
    service = ServiceFactory()
    events = [finished_event(service, age=DAYS_30 * 2, attempts=1) for _ in range(20)]

    def replay(event: WebhookEvent) -> str:
        try:
            webhook_replay(event=event)
        except PayloadPurged:
            return "refused"
        return "queued"

    outcomes = in_threads(
        [lambda: webhook_payloads_purge(older_than=DAYS_30, batch_size=2)]
        + [(lambda event=event: replay(event)) for event in events]
    )
    purged, replies = outcomes[0], outcomes[1:]
    assert purged == replies.count("refused")
    # A replayed event is pending again (never purged); a refused one lost its payload.
    for event, reply in zip(events, replies, strict=True):
        event.refresh_from_db()
        assert (event.status == "pending" and event.payload is not None) == (reply == "queued")
