"""The outbox (contract 5): stored with its cause, sent by workers, retried, replayed."""

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.db import transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from config.accounts.models import Service
from config.outbound import conf
from config.outbound.leases import LEASE_EXPIRED_ERROR
from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.services import (
    NewWebhook,
    Outcome,
    webhook_claim_next,
    webhook_deliver_next,
    webhook_enqueue,
    webhook_record_outcome,
    webhook_replay,
    webhook_send,
    webhooks_deliver_due,
    webhooks_enqueue_many,
    webhooks_replay,
)
from tests.factories import ServiceFactory
from tests.outbound.receivers import Receiver, Respond, answering, hanging_up, holding_until_released

pytestmark = pytest.mark.django_db

PAYLOAD = {"notification_id": "5f0c9d43-4bd4-4d2a-8a4f-4c1f4a0a1a11", "expired_at": "2026-01-01T00:00:00Z"}


def enqueue(service: Service, **payload: Any) -> WebhookEvent:
    return webhook_enqueue(service=service, event_type="notification.expired", payload={**PAYLOAD, **payload})


def reloaded(event: WebhookEvent) -> WebhookEvent:
    event.refresh_from_db()
    return event


def test_an_event_rolled_back_with_its_cause_does_not_exist(service: Service) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(service)
        raise RuntimeError("the change that caused it failed")

    assert not WebhookEvent.objects.exists()


def test_many_events_are_queued_like_one_each_in_one_insert_per_batch(
    service: Service, django_assert_max_num_queries: Any
) -> None:
    other = ServiceFactory()
    subjects = [uuid.uuid4() for _ in range(5)]
    events = [
        NewWebhook(
            service_id=(service if index % 2 else other).pk,
            event_type="notification.expired",
            subject_id=subject,
            payload={**PAYLOAD, "notification_id": str(subject)},
        )
        for index, subject in enumerate(subjects)
    ]
    single = enqueue(service)

    with django_assert_max_num_queries(3):
        assert webhooks_enqueue_many(events=events, batch_size=2) == 5

    queued = {event.subject_id: event for event in WebhookEvent.objects.filter(subject_id__in=subjects)}
    assert set(queued) == set(subjects)
    for index, subject in enumerate(subjects):
        event = queued[subject]
        assert event.service_id == (service if index % 2 else other).pk
        assert event.payload == {"type": "notification.expired", **PAYLOAD, "notification_id": str(subject)}
        assert (event.status, event.attempt_count, event.attempts_since_queued) == ("pending", 0, 0)
        assert event.pk.startswith("msg_") and event.pk != single.pk
        assert event.next_attempt_at <= timezone.now() and event.created_at is not None
        # Every other column as webhook_enqueue leaves it.
        for field in ("event_type", "lease_token", "locked_until", "last_error", "delivered_at"):
            assert getattr(event, field) == getattr(single, field), field
    assert len({event.pk for event in queued.values()}) == 5


def test_many_events_keep_their_payload_exactly(service: Service) -> None:
    payload = {
        "metadata": {"note": 'Grüße \u2603 "quoted" \\ back', "n": [1, 2.5, None, True], "deep": {"a": {}}}
    }

    webhooks_enqueue_many(
        events=[NewWebhook(service_id=service.pk, event_type="test.event", payload=payload)]
    )

    assert WebhookEvent.objects.get().payload == {"type": "test.event", **payload}


def test_many_events_rolled_back_with_their_cause_do_not_exist(service: Service) -> None:
    event = NewWebhook(service_id=service.pk, event_type="notification.expired", payload=PAYLOAD)
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks_enqueue_many(events=[event, event])
        raise RuntimeError("the change that caused it failed")

    assert not WebhookEvent.objects.exists()


def test_a_due_event_is_sent_once_signed_and_recorded(
    hooked_service: Service, receiver: Receiver, django_assert_max_num_queries: Any
) -> None:
    event = enqueue(hooked_service)

    # Claim (pick, lease, attempt row) and record (attempt, event), each in a savepoint here.
    with django_assert_max_num_queries(9):
        outcome = webhook_deliver_next()

    assert outcome == Outcome.DELIVERED
    [received] = receiver.received
    assert received.headers["webhook-id"] == event.pk
    assert received.verified_payload(hooked_service.webhook_secret) == {
        "type": "notification.expired",
        **PAYLOAD,
    }
    event = reloaded(event)
    assert (event.status, event.attempt_count, event.last_error) == ("delivered", 1, "")
    assert event.delivered_at is not None
    assert (event.lease_token, event.locked_until) == (None, None)
    [attempt] = event.attempts.all()
    assert (attempt.status_code, attempt.error) == (204, "")
    assert attempt.duration_ms is not None
    assert webhooks_deliver_due().total == 0
    assert receiver.count == 1


def test_an_event_goes_to_the_services_current_callback_url(
    hooked_service: Service, receivers: Callable[[Respond], Receiver], receiver: Receiver
) -> None:
    enqueue(hooked_service)
    moved = receivers(answering(200))
    Service.objects.filter(pk=hooked_service.pk).update(callback_url=moved.url)

    webhooks_deliver_due()

    assert (receiver.count, moved.count) == (0, 1)


def test_the_answer_is_recorded_up_to_4_kib(
    allow_private: None, receivers: Callable[[Respond], Receiver]
) -> None:
    receiver = receivers(answering(500, b"\x00oops" + b"!" * 9000))
    event = enqueue(ServiceFactory(callback_url=receiver.url))

    webhooks_deliver_due()

    [attempt] = event.attempts.all()
    assert (attempt.status_code, attempt.error) == (
        500,
        f"127.0.0.1:{receiver.server.server_port} answered 500",
    )
    assert attempt.response_body.startswith("\ufffdoops!!!")
    assert len(attempt.response_body) == 4096
    assert reloaded(event).last_error == attempt.error


def test_the_whole_retry_schedule_is_walked_to_failed(
    allow_private: None, receivers: Callable[[Respond], Receiver]
) -> None:
    receiver = receivers(answering(500))
    service = ServiceFactory(callback_url=receiver.url)
    event = enqueue(service)
    now = event.next_attempt_at
    outcomes, delays = [], []

    for _ in range(8):
        assert webhook_deliver_next(now=now - timedelta(milliseconds=1)) is None  # not due yet
        outcomes.append(webhook_deliver_next(now=now))
        event = reloaded(event)
        delays.append((event.next_attempt_at - now).total_seconds())
        now = event.next_attempt_at

    assert outcomes == [Outcome.RETRYING] * 7 + [Outcome.FAILED]
    for delay, scheduled in zip(delays, [5, 300, 1800, 7200, 18000, 36000, 36000], strict=False):
        assert scheduled * 0.9 <= delay <= scheduled * 1.1
    assert (event.status, event.attempt_count, event.attempts_since_queued) == ("failed", 8, 8)
    assert webhook_deliver_next(now=now + timedelta(days=365)) is None
    assert receiver.count == 8
    assert {r.headers["webhook-id"] for r in receiver.received} == {event.pk}
    for received in receiver.received:
        received.verified_payload(service.webhook_secret)
    assert DeliveryAttempt.objects.filter(event=event, status_code=500).count() == 8


@pytest.mark.parametrize(
    ("retry_after", "expected_seconds"),
    [("120", (120, 120)), ("1", (4.5, 5.5)), ("864000", (86400, 86400)), ("soon", (4.5, 5.5))],
)
def test_a_longer_retry_after_is_honoured_up_to_a_day(
    allow_private: None,
    receivers: Callable[[Respond], Receiver],
    retry_after: str,
    expected_seconds: tuple[float, float],
) -> None:
    receiver = receivers(answering(429, headers={"Retry-After": retry_after}))
    event = enqueue(ServiceFactory(callback_url=receiver.url))
    now = event.next_attempt_at

    assert webhook_deliver_next(now=now) == Outcome.RETRYING

    delay = (reloaded(event).next_attempt_at - now).total_seconds()
    assert expected_seconds[0] <= delay <= expected_seconds[1]


def _refusing_receiver(receivers: Callable[[Respond], Receiver], settings: Settings) -> Receiver:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    return receivers(answering(200))


@pytest.mark.parametrize(
    ("start_receiver", "status_code", "error"),
    [
        (lambda receivers, settings: receivers(answering(503)), 503, "{where} answered 503"),
        (
            lambda receivers, settings: receivers(
                answering(302, headers={"Location": "https://example.com/"})
            ),
            302,
            "{where} answered 302, a redirect (not followed)",
        ),
        (
            lambda receivers, settings: receivers(hanging_up),
            None,
            "{where} closed the connection without answering",
        ),
        (
            lambda receivers, settings: receivers(holding_until_released),
            None,
            "timed out after 500 ms waiting for {where}",
        ),
        (_refusing_receiver, None, "refused {where}: 127.0.0.1 is not a public address"),
    ],
    ids=["5xx", "redirect", "hang-up", "too-slow", "refused"],
)
def test_every_failure_is_recorded_and_retried(
    allow_private: None,
    settings: Settings,
    receivers: Callable[[Respond], Receiver],
    start_receiver: Callable[[Callable[[Respond], Receiver], Settings], Receiver],
    status_code: int | None,
    error: str,
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver = start_receiver(receivers, settings)
    event = enqueue(ServiceFactory(callback_url=receiver.url))

    assert webhook_deliver_next() == Outcome.RETRYING

    [attempt] = event.attempts.all()
    assert attempt.status_code == status_code
    # The precise cause, naming where it went (the delivery log and the admin show it).
    assert attempt.error == error.format(where=f"127.0.0.1:{receiver.server.server_port}")
    assert reloaded(event).last_error == attempt.error
    assert reloaded(event).status == "pending"


def test_a_service_without_callback_url_fails_each_attempt_clearly_until_it_has_one(
    receiver: Receiver, allow_private: None
) -> None:
    service = ServiceFactory(callback_url="")
    event = enqueue(service)
    now = event.next_attempt_at

    assert webhook_deliver_next(now=now) == Outcome.RETRYING

    [attempt] = event.attempts.all()
    assert (attempt.status_code, attempt.error, attempt.duration_ms) == (
        None,
        "the service has no callback_url",
        0,
    )
    Service.objects.filter(pk=service.pk).update(callback_url=receiver.url)
    assert webhook_deliver_next(now=reloaded(event).next_attempt_at) == Outcome.DELIVERED
    assert receiver.count == 1


def test_a_replay_sends_the_same_webhook_id_again_with_the_schedule_restarted(
    allow_private: None, settings: Settings, receivers: Callable[[Respond], Receiver]
) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = (5, 300)
    receiver = receivers(
        lambda handler, number, r: answering(500 if number <= 3 else 200)(handler, number, r)
    )
    event = enqueue(ServiceFactory(callback_url=receiver.url))
    now = event.next_attempt_at
    for _ in range(3):
        webhook_deliver_next(now=now)
        now = reloaded(event).next_attempt_at
    assert reloaded(event).status == "failed"

    assert webhook_replay(event=event, now=now) == 1

    replayed = reloaded(event)
    assert (replayed.status, replayed.attempts_since_queued, replayed.next_attempt_at) == ("pending", 0, now)
    assert replayed.last_error == ""
    assert webhook_deliver_next(now=now) == Outcome.DELIVERED
    delivered = reloaded(event)
    assert (delivered.status, delivered.attempt_count, delivered.attempts_since_queued) == ("delivered", 4, 1)
    assert [r.headers["webhook-id"] for r in receiver.received] == [event.pk] * 4

    webhook_replay(event=delivered, now=now)
    assert reloaded(event).delivered_at is None
    assert webhook_deliver_next(now=now) == Outcome.DELIVERED
    assert receiver.count == 5


def test_a_replayed_event_that_fails_again_starts_from_the_first_delay(
    allow_private: None, receivers: Callable[[Respond], Receiver]
) -> None:
    receiver = receivers(answering(500))
    event = enqueue(ServiceFactory(callback_url=receiver.url))
    now = event.next_attempt_at
    for _ in range(3):
        webhook_deliver_next(now=now)
        previous, now = now, reloaded(event).next_attempt_at
    assert 1620 <= (now - previous).total_seconds() <= 1980  # the third delay: 30 min

    webhook_replay(event=event, now=now)
    webhook_deliver_next(now=now)

    assert 4.5 <= (reloaded(event).next_attempt_at - now).total_seconds() <= 5.5
    assert reloaded(event).attempt_count == 4


def test_webhooks_replay_queues_a_set_in_batches_and_can_dry_run(service: Service) -> None:
    events = [enqueue(service) for _ in range(5)]
    failed_ids = [e.pk for e in events[:3]]
    WebhookEvent.objects.filter(pk__in=failed_ids).update(
        status="failed", attempt_count=8, attempts_since_queued=8, last_error="answered 500"
    )
    WebhookEvent.objects.filter(pk=events[3].pk).update(status="delivered", delivered_at=timezone.now())
    failed = WebhookEvent.objects.filter(status="failed")

    assert webhooks_replay(events=failed, dry_run=True) == 3
    assert failed.count() == 3
    assert webhooks_replay(events=failed, batch_size=2) == 3
    assert webhooks_replay(events=[events[3].pk, "msg_unknown"]) == 1

    rows = WebhookEvent.objects.filter(pk__in=[*failed_ids, events[3].pk])
    assert {(e.status, e.attempts_since_queued, e.last_error, e.delivered_at) for e in rows} == {
        ("pending", 0, "", None)
    }
    assert {e.attempt_count for e in rows if e.pk in failed_ids} == {8}


def test_a_claimed_event_is_not_claimed_again_until_its_lease_runs_out(
    hooked_service: Service, receiver: Receiver
) -> None:
    event = enqueue(hooked_service)
    now = event.next_attempt_at
    first = webhook_claim_next(now=now)
    assert first is not None

    assert webhook_claim_next(now=now + timedelta(seconds=conf.WEBHOOK_LEASE_SECONDS - 1)) is None
    later = now + timedelta(seconds=conf.WEBHOOK_LEASE_SECONDS + 1)
    second = webhook_claim_next(now=later)
    assert second is not None
    assert second.event_id == first.event_id
    assert second.lease_token != first.lease_token
    assert DeliveryAttempt.objects.get(pk=first.attempt_id).error == LEASE_EXPIRED_ERROR

    assert (
        webhook_record_outcome(claim=second, result=webhook_send(claim=second), now=later)
        == Outcome.DELIVERED
    )
    # The first worker comes back late with a failure: it cannot undo the delivery.
    late = webhook_send(claim=first, timeout_seconds=1)
    assert webhook_record_outcome(claim=first, result=late, now=later) == Outcome.SUPERSEDED
    assert reloaded(event).status == "delivered"
    assert receiver.count == 2
    assert DeliveryAttempt.objects.filter(event=event, duration_ms__isnull=False).count() == 2


def test_a_replay_during_a_send_waits_for_that_send_then_goes_out_again(
    hooked_service: Service, receiver: Receiver
) -> None:
    event = enqueue(hooked_service)
    claim = webhook_claim_next()
    assert claim is not None

    webhook_replay(event=event)

    assert webhook_claim_next() is None  # no second send while the first holds the lease
    assert webhook_record_outcome(claim=claim, result=webhook_send(claim=claim)) == Outcome.SUPERSEDED
    assert reloaded(event).status == "pending"
    assert webhook_deliver_next() == Outcome.DELIVERED
    assert receiver.count == 2


def test_a_drain_does_not_chase_events_that_come_due_during_it(
    allow_private: None, receivers: Callable[[Respond], Receiver], settings: Settings
) -> None:
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = (0,)
    receiver = receivers(answering(500))
    enqueue(ServiceFactory(callback_url=receiver.url))

    counts = webhooks_deliver_due()

    assert (counts.retrying, counts.total) == (1, 1)
    assert webhooks_deliver_due().failed == 1


def test_deliver_webhooks_once_sends_what_is_due_and_prints_the_counts(
    allow_private: None, receivers: Callable[[Respond], Receiver]
) -> None:
    ok, broken = receivers(answering(200)), receivers(answering(500))
    enqueue(ServiceFactory(callback_url=ok.url))
    enqueue(ServiceFactory(callback_url=ok.url))
    enqueue(ServiceFactory(callback_url=broken.url))
    later = enqueue(ServiceFactory(callback_url=ok.url))
    WebhookEvent.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    out = StringIO()

    call_command("deliver_webhooks", "--once", stdout=out)

    assert out.getvalue().splitlines() == [
        "webhooks: 2 delivered, 1 to retry, 0 failed, 0 superseded",
        "e-mails: 0 sent, 0 to retry, 0 failed, 0 superseded",
    ]
    assert (ok.count, broken.count) == (2, 1)


def test_deliver_webhooks_refuses_a_lease_shorter_than_the_timeout(settings: Settings) -> None:
    """The system check config.E011, which the command runs first as every manage.py command does."""
    settings.WEBHOOK_LEASE_SECONDS = 5

    with pytest.raises(SystemCheckError, match="WEBHOOK_LEASE_SECONDS must be longer"):
        call_command("deliver_webhooks", "--once", skip_checks=False)


def test_deliver_webhooks_refuses_a_poll_interval_that_would_spin() -> None:
    with pytest.raises(CommandError, match="--poll-interval: '0' is not a number of seconds above 0"):
        call_command("deliver_webhooks", "--poll-interval", "0")


def test_the_stored_body_is_the_payload_with_its_type(service: Service) -> None:
    event = enqueue(service, metadata={"ticket": 7})

    assert reloaded(event).payload == {"type": "notification.expired", **PAYLOAD, "metadata": {"ticket": 7}}
    assert json.loads(json.dumps(event.payload))["type"] == "notification.expired"
