"""The delivery log for services (contract 10): list, detail, replay of one event and of a set,
and secret rotation, each scoped to the calling service."""

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings

from config.accounts.models import Service
from config.accounts.services import service_webhook_secret_rotate
from config.api.timestamps import rfc3339
from config.outbound.models import WebhookEvent
from config.outbound.services import Outcome, webhook_deliver_next
from tests.concurrency import in_threads
from tests.factories import DeliveryAttemptFactory, ServiceFactory, UserFactory, WebhookEventFactory
from tests.helpers import Api, assert_error, service_key_for
from tests.outbound.receivers import Receiver, answering

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhook-events"
EVENT_FIELDS = {
    "webhook_id",
    "type",
    "status",
    "notification_id",
    "created_at",
    "attempts",
    "last_attempt",
    "next_attempt_at",
}
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def event_at(service: Service, created_at: datetime, **fields: Any) -> WebhookEvent:
    fields.setdefault("event_type", "notification.responded")
    fields.setdefault("subject_id", uuid.uuid4())
    event = WebhookEventFactory(service=service, **fields)
    WebhookEvent.objects.filter(pk=event.pk).update(created_at=created_at)
    event.refresh_from_db()
    return event


@pytest.fixture
def other_api(client: Client) -> Api:
    return Api(client, service_key_for(ServiceFactory()))


# -- the list ---------------------------------------------------------------------------------


def test_the_list_is_the_callers_own_events_newest_first_with_their_last_attempt(
    service: Service, service_api: Api
) -> None:
    older = event_at(service, NOW - timedelta(hours=2))
    newer = event_at(
        service, NOW - timedelta(hours=1), status="failed", attempt_count=2, attempts_since_queued=2
    )
    DeliveryAttemptFactory(
        event=newer,
        started_at=NOW - timedelta(minutes=50),
        status_code=500,
        error="answered 500",
        duration_ms=9,
    )
    DeliveryAttemptFactory(
        event=newer,
        started_at=NOW - timedelta(minutes=40),
        status_code=None,
        error="no answer within 10 s",
        duration_ms=40,
    )
    event_at(ServiceFactory(), NOW)  # another service's

    response = service_api.get(LIST)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    assert [item["webhook_id"] for item in body["results"]] == [newer.pk, older.pk]
    first, second = body["results"]
    assert set(first) == EVENT_FIELDS
    assert first == {
        "webhook_id": newer.pk,
        "type": "notification.responded",
        "status": "failed",
        "notification_id": str(newer.subject_id),
        "created_at": rfc3339(newer.created_at),
        "attempts": 2,
        "last_attempt": {
            "at": rfc3339(NOW - timedelta(minutes=40)),
            "status_code": None,
            "error": "no answer within 10 s",
            "duration_ms": 40,
        },
        "next_attempt_at": None,
    }
    assert second["last_attempt"] is None
    assert second["status"] == "pending"
    assert second["next_attempt_at"] == rfc3339(older.next_attempt_at)
    assert first["created_at"].endswith("Z")


def test_the_list_filters_by_status_type_and_since(service: Service, service_api: Api) -> None:
    failed = event_at(service, NOW - timedelta(days=2), status="failed")
    expired = event_at(service, NOW - timedelta(hours=1), event_type="notification.expired")
    delivered = event_at(service, NOW, status="delivered", delivered_at=NOW)

    def ids(**params: str) -> list[str]:
        response = service_api.get(LIST, **params)
        assert response.status_code == 200, response.content
        return [item["webhook_id"] for item in response.json()["results"]]

    assert ids(status="failed") == [failed.pk]
    assert ids(status="pending") == [expired.pk]
    assert ids(type="notification.expired") == [expired.pk]
    assert ids(type="notification.responded") == [delivered.pk, failed.pk]
    assert ids(since=rfc3339(NOW - timedelta(hours=1))) == [delivered.pk, expired.pk]
    assert ids(since="2026-11-30T10:00:00+01:00", status="delivered") == [delivered.pk]
    assert ids(unknown="ignored") == [delivered.pk, expired.pk, failed.pk]


def test_the_list_pages_by_50_with_a_cursor_that_keeps_the_filters(
    service: Service, service_api: Api
) -> None:
    # Same creation time for all: the id breaks the tie, so no page repeats or skips an event.
    events = [event_at(service, NOW, status="failed") for _ in range(120)]
    event_at(service, NOW)  # pending: filtered out on every page
    seen: list[str] = []
    url: str | None = f"{LIST}?status=failed"
    pages = 0
    while url is not None:
        response = service_api.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200, response.content
        body = response.json()
        seen.extend(item["webhook_id"] for item in body["results"])
        assert len(body["results"]) == (50 if body["next"] else 20)
        url = body["next"]
        if url is not None:
            assert "status=failed" in url
        pages += 1
    assert pages == 3
    assert seen == sorted((event.pk for event in events), reverse=True)


def test_a_page_costs_the_same_few_queries_however_many_attempts(service: Service, service_api: Api) -> None:
    for index in range(60):
        event = event_at(service, NOW - timedelta(seconds=index))
        for _ in range(index % 4):
            DeliveryAttemptFactory(event=event, status_code=503, error="answered 503", duration_ms=40)
    with CaptureQueriesContext(connection) as queries:
        response = service_api.get(LIST)
    assert response.status_code == 200
    # The key (with its service), the page, the latest attempts' ids, those attempts.
    assert len(queries) == 4, [query["sql"] for query in queries]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-30T09:00:00"}, "since"),
        ({"type": "x" * 65}, "type"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJub3QgYSB0aW1lIiwgMV0"}, "cursor"),
    ],
)
def test_a_bad_filter_is_invalid_request_naming_it(
    service_api: Api, params: dict[str, str], field: str
) -> None:
    error = assert_error(service_api.get(LIST, **params), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": field}


def test_the_delivery_log_needs_a_service_key(api: Api, person: Any) -> None:
    assert_error(api.get(LIST), 401, "AUTH_INVALID_TOKEN")
    assert_error(api.as_("sk_unknown").get(LIST), 401, "AUTH_INVALID_TOKEN")
    assert_error(api.as_("sk_unknown").post(f"{LIST}/replay", {}), 401, "AUTH_INVALID_TOKEN")
    assert_error(api.post("/api/v1/webhook-secret/rotate"), 401, "AUTH_INVALID_TOKEN")


# -- one event --------------------------------------------------------------------------------


def test_an_event_shows_its_payload_and_every_attempt_oldest_first(
    service: Service, service_api: Api
) -> None:
    event = event_at(service, NOW, status="delivered", delivered_at=NOW, attempt_count=2)
    DeliveryAttemptFactory(
        event=event, started_at=NOW + timedelta(seconds=5), status_code=200, error="", duration_ms=40
    )
    DeliveryAttemptFactory(event=event, started_at=NOW, status_code=503, error="answered 503", duration_ms=12)

    response = service_api.get(f"{LIST}/{event.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == EVENT_FIELDS | {"payload", "attempt_log"}
    assert body["payload"] == event.payload
    assert body["attempt_log"] == [
        {"at": rfc3339(NOW), "status_code": 503, "error": "answered 503", "duration_ms": 12},
        {"at": rfc3339(NOW + timedelta(seconds=5)), "status_code": 200, "error": None, "duration_ms": 40},
    ]
    assert body["last_attempt"] == body["attempt_log"][-1]
    assert (body["status"], body["attempts"], body["next_attempt_at"]) == ("delivered", 2, None)


def test_another_services_event_is_not_found_as_is_an_unknown_one(
    service: Service, service_api: Api, other_api: Api
) -> None:
    event = event_at(service, NOW)
    assert_error(other_api.get(f"{LIST}/{event.pk}"), 404, "NOT_FOUND")
    assert_error(other_api.post(f"{LIST}/{event.pk}/replay"), 404, "NOT_FOUND")
    assert_error(service_api.get(f"{LIST}/msg_unknown"), 404, "NOT_FOUND")
    assert_error(service_api.post(f"{LIST}/msg_unknown/replay"), 404, "NOT_FOUND")
    assert other_api.get(LIST).json()["results"] == []


# -- replay -----------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(answering(204))
    yield receiver
    receiver.close()


def test_replaying_one_event_queues_it_again_under_the_same_webhook_id(
    settings: Settings, receiver: Receiver, client: Client
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    service = ServiceFactory(callback_url=receiver.url)
    service_api = Api(client, service_key_for(service))
    event = event_at(service, NOW, status="failed", attempt_count=8, attempts_since_queued=8)

    response = service_api.post(f"{LIST}/{event.pk}/replay")

    assert response.status_code == 202, response.content
    assert response.json() == {"queued": 1}
    event.refresh_from_db()
    assert (event.status, event.attempts_since_queued) == ("pending", 0)
    assert webhook_deliver_next() == Outcome.DELIVERED
    assert [received.headers["webhook-id"] for received in receiver.received] == [event.pk]
    # An empty JSON object is no body either; a field is refused.
    assert service_api.post(f"{LIST}/{event.pk}/replay", {}).status_code == 202
    assert_error(service_api.post(f"{LIST}/{event.pk}/replay", {"force": True}), 400, "INVALID_REQUEST")
    assert_error(service_api.post(f"{LIST}/{event.pk}/replay", raw="[]"), 400, "INVALID_REQUEST")


def test_replaying_a_set_queues_every_matching_event_of_the_caller_only(
    service: Service, service_api: Api
) -> None:
    since = NOW - timedelta(hours=1)
    matching = [event_at(service, since + timedelta(minutes=index), status="failed") for index in range(3)]
    before = event_at(service, since - timedelta(seconds=1), status="failed")
    delivered = event_at(service, NOW, status="delivered", delivered_at=NOW)
    foreign = event_at(ServiceFactory(), NOW, status="failed")

    response = service_api.post(f"{LIST}/replay", {"status": "failed", "since": rfc3339(since)})

    assert response.status_code == 202, response.content
    assert response.json() == {"queued": 3}
    statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    assert {statuses[event.pk] for event in matching} == {"pending"}
    assert (statuses[before.pk], statuses[delivered.pk], statuses[foreign.pk]) == (
        "failed",
        "delivered",
        "failed",
    )

    response = service_api.post(f"{LIST}/replay", {"status": "delivered", "since": rfc3339(since)})
    assert response.json() == {"queued": 1}


def test_replaying_a_set_is_set_based(service: Service, service_api: Api) -> None:
    def queries_to_replay(count: int) -> int:
        WebhookEvent.objects.all().delete()
        for _ in range(count):
            event_at(service, NOW, status="failed")
        with CaptureQueriesContext(connection) as queries:
            response = service_api.post(f"{LIST}/replay", {"status": "failed", "since": rfc3339(NOW)})
        assert response.json() == {"queued": count}
        return len(queries)

    assert queries_to_replay(3) == queries_to_replay(40)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "2026-11-30T09:00:00Z"}, "status"),
        ({"status": "failed"}, "since"),
        ({"status": "pending", "since": "2026-11-30T09:00:00Z"}, "status"),
        ({"status": "failed", "since": "2026-11-30"}, "since"),
        ({"status": "failed", "since": "2026-11-30T09:00:00Z", "limit": 5}, "limit"),
    ],
)
def test_a_set_replay_needs_status_and_since(service_api: Api, body: dict[str, Any], field: str) -> None:
    error = assert_error(service_api.post(f"{LIST}/replay", body), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": field}


def test_a_set_replay_with_a_body_that_is_no_json_object_is_refused(service_api: Api) -> None:
    assert_error(service_api.post(f"{LIST}/replay"), 400, "INVALID_REQUEST")
    assert_error(service_api.post(f"{LIST}/replay", raw="{"), 400, "INVALID_REQUEST")
    assert_error(
        service_api.post(f"{LIST}/replay", raw="{}", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"
    )
    assert_error(service_api.get(f"{LIST}/replay"), 405, "METHOD_NOT_ALLOWED")


# -- secret rotation --------------------------------------------------------------------------


def test_rotating_the_secret_answers_the_new_one_and_when_the_previous_stops(
    service: Service, service_api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.WEBHOOK_SECRET_OVERLAP = "6h"
    old = service.webhook_secret
    before = timezone.now()

    response = service_api.post("/api/v1/webhook-secret/rotate")

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"webhook_secret", "previous_valid_until"}
    assert body["webhook_secret"].startswith("whsec_") and body["webhook_secret"] != old
    until = datetime.fromisoformat(body["previous_valid_until"])
    assert body["previous_valid_until"].endswith("Z")
    assert before + timedelta(hours=6) <= until <= timezone.now() + timedelta(hours=6)
    stored = Service.objects.get(pk=service.pk)
    assert stored.signing_secrets(now=timezone.now()) == [body["webhook_secret"], old]
    assert stored.signing_secrets(now=until) == [body["webhook_secret"]]
    assert old not in caplog.text and body["webhook_secret"] not in caplog.text
    assert_error(
        service_api.post("/api/v1/webhook-secret/rotate", {"secret": "mine"}), 400, "INVALID_REQUEST"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rotations_follow_each_other_and_lose_no_secret() -> None:
    service = ServiceFactory()
    original = service.webhook_secret

    results = in_threads(
        [lambda: service_webhook_secret_rotate(service=Service.objects.get(pk=service.pk))] * 4
    )

    issued = [result.secret for result in results]
    assert len(set(issued)) == 4, results
    stored = Service.objects.get(pk=service.pk)
    # Each rotation kept the secret the one before it issued: the last one kept the third's.
    assert stored.webhook_secret in issued
    assert stored.previous_webhook_secret in issued
    assert stored.previous_webhook_secret not in (original, stored.webhook_secret)


def test_the_admin_rotates_the_webhook_secret_through_the_same_service(
    client: Client, service: Service, settings: Settings
) -> None:
    settings.WEBHOOK_SECRET_OVERLAP = "1h"
    old = service.webhook_secret
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.post(
        "/admin/accounts/service/",
        {"action": "rotate_webhook_secret", "_selected_action": [str(service.pk)], "confirm": "yes"},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    stored = Service.objects.get(pk=service.pk)
    new = stored.webhook_secret
    assert new != old and new in response.content.decode()
    assert stored.signing_secrets(now=timezone.now()) == [new, old]
    entry = LogEntry.objects.get(object_id=str(service.pk))
    assert new not in entry.change_message and old not in entry.change_message
