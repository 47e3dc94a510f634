"""POST /api/v1/client/respond: every code of the seed, in the contract's order, for every type."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from config.accounts.services import credential_revoke, user_token_issue
from config.outbound.models import WebhookEvent
from notifications.models import Notification, NotificationStatus
from notifications.validation import actions_validate
from tests.concurrency import in_threads
from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, assert_error, service_key_for, user_token_for
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

RESPOND = "/api/v1/client/respond"
ABSENT = object()


def respond(api: Api, notification: Notification, action_id: Any, data: Any = ABSENT) -> Any:
    body: dict[str, Any] = {"notification_id": str(notification.pk), "action_id": action_id}
    if data is not ABSENT:
        body["response_data"] = data
    return api.post(RESPOND, body)


VALID = [
    ("ack", ABSENT),
    ("ack", None),
    ("approve", True),
    ("approve", False),
    ("colour", "red"),
    ("toppings", ["ham"]),
    ("toppings", ["egg", "ham"]),
    ("note", "ok"),
    ("note", "0123456789"),
    ("amount", 0),
    ("amount", 100),
    ("amount", 12.34),
    ("amount", 7.5),
    ("rating", 0),
    ("rating", 4),
    ("rating", 10),
]


@pytest.mark.parametrize(("action_id", "data"), VALID)
def test_a_valid_answer_is_recorded_with_its_webhook(
    person_api: Api, pending: Notification, person: Any, action_id: str, data: Any
) -> None:
    response = respond(person_api, pending, action_id, data)

    assert response.status_code == 200, response.content
    body = response.json()
    stored = None if data is ABSENT else data
    assert body["notification_id"] == str(pending.pk)
    assert body["action_id"] == action_id
    assert body["status"] == "responded"
    assert body["responded_at"].endswith("Z")
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.RESPONDED
    assert pending.response_action_id == action_id
    assert pending.response_data == stored
    assert pending.responder == person
    event = WebhookEvent.objects.get()
    assert event.event_type == "notification.responded"
    assert event.subject_id == pending.pk
    assert event.service_id == pending.service_id
    assert event.payload == {
        "type": "notification.responded",
        "notification_id": str(pending.pk),
        "action_id": action_id,
        "response_data": stored,
        "responded_at": body["responded_at"],
        "responder": {"id": person.pk, "username": person.username},
        "defaulted": False,
        "metadata": {"ticket": "T-1"},
    }


INVALID_SHAPE = [
    ("ack", True),
    ("ack", "yes"),
    ("ack", 0),
    ("ack", {}),
    ("ack", []),
    ("approve", "true"),
    ("approve", 1),
    ("approve", 0),
    ("approve", [True]),
    ("approve", {"value": True}),
    ("colour", 1),
    ("colour", ["red"]),
    ("colour", True),
    ("toppings", "ham"),
    ("toppings", ["ham", "ham"]),
    ("toppings", [1]),
    ("toppings", [None]),
    ("toppings", {"ham": True}),
    ("note", 12),
    ("note", ["ab"]),
    ("note", True),
    ("amount", "5"),
    ("amount", True),
    ("amount", False),
    ("amount", [5]),
    ("amount", {"n": 5}),
    ("rating", 2.0),
    ("rating", 4.5),
    ("rating", "4"),
    ("rating", True),
]


@pytest.mark.parametrize(("action_id", "data"), INVALID_SHAPE)
def test_a_wrong_shape_is_invalid_response_data(
    person_api: Api, pending: Notification, action_id: str, data: Any
) -> None:
    assert_error(respond(person_api, pending, action_id, data), 400, "INVALID_RESPONSE_DATA")
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.PENDING
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("action_id", ["approve", "colour", "toppings", "note", "amount", "rating"])
@pytest.mark.parametrize("data", [ABSENT, None])
def test_absent_or_null_response_data_is_missing_where_required(
    person_api: Api, pending: Notification, action_id: str, data: Any
) -> None:
    error = assert_error(respond(person_api, pending, action_id, data), 400, "MISSING_REQUIRED_FIELD")
    assert error["details"] == {"field": "response_data"}


VIOLATIONS = [
    ("colour", "green", {"rule": "options"}),
    ("toppings", ["ham", "pie"], {"rule": "options"}),
    ("toppings", [], {"rule": "min_selections", "limit": 1}),
    ("toppings", ["ham", "egg", "kale"], {"rule": "max_selections", "limit": 2}),
    ("note", "a", {"rule": "min_length", "limit": 2}),
    ("note", "", {"rule": "min_length", "limit": 2}),
    ("note", "x" * 11, {"rule": "max_length", "limit": 10}),
    ("amount", -1, {"rule": "min", "limit": 0}),
    ("amount", 100.5, {"rule": "max", "limit": 100}),
    ("amount", 1.234, {"rule": "decimal_places", "limit": 2}),
    ("rating", -2, {"rule": "min", "limit": 0}),
    ("rating", 12, {"rule": "max", "limit": 10}),
    ("rating", 3, {"rule": "step", "limit": 2}),
]


@pytest.mark.parametrize(("action_id", "data", "details"), VIOLATIONS)
def test_the_right_type_outside_the_rules_is_a_constraint_violation(
    person_api: Api, pending: Notification, action_id: str, data: Any, details: dict[str, Any]
) -> None:
    error = assert_error(respond(person_api, pending, action_id, data), 422, "CONSTRAINT_VIOLATION")
    assert error["details"] == details
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.PENDING


def test_numeric_with_zero_decimal_places_takes_whole_numbers_only(person_api: Api, person: Any) -> None:
    actions = [
        {"id": "n", "label": "How many?", "response_type": "numeric", "constraints": {"decimal_places": 0}}
    ]
    notification = NotificationFactory(recipient=person, actions=actions_validate(actions))
    error = assert_error(respond(person_api, notification, "n", 2.5), 422, "CONSTRAINT_VIOLATION")
    assert error["details"] == {"rule": "decimal_places", "limit": 0}
    assert respond(person_api, notification, "n", 3).status_code == 200


def test_defaults_allow_an_empty_text_and_no_selection(person_api: Api, person: Any) -> None:
    actions = [
        {"id": "t", "label": "Say something", "response_type": "text"},
        {
            "id": "m",
            "label": "Pick any",
            "response_type": "multi_choice",
            "options": [{"value": "a", "label": "A"}],
        },
    ]
    notification = NotificationFactory(recipient=person, actions=actions_validate(actions))
    error = assert_error(respond(person_api, notification, "t", "x" * 5001), 422, "CONSTRAINT_VIOLATION")
    assert error["details"] == {"rule": "max_length", "limit": 5000}
    assert respond(person_api, notification, "m", []).status_code == 200


# --- The order of the checks -------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer ut_unknown", "Bearer ", "Basic abc", "Token ut_x"])
def test_a_missing_or_unknown_token_is_401(api: Api, pending: Notification, header: str | None) -> None:
    headers = {"Authorization": header} if header else None
    response = api.post(
        RESPOND, {"notification_id": str(pending.pk), "action_id": "approve"}, headers=headers
    )
    assert_error(response, 401, "AUTH_INVALID_TOKEN")


def test_a_revoked_token_is_401(api: Api, pending: Notification, person: Any) -> None:
    issued = user_token_issue(user=person)
    credential_revoke(credential=issued.token)
    assert_error(respond(api.as_(issued.secret), pending, "approve", True), 401, "AUTH_INVALID_TOKEN")


def test_the_token_of_a_person_deactivated_since_is_401(api: Api, pending: Notification, person: Any) -> None:
    issued = user_token_issue(user=person)
    person.is_active = False
    person.save(update_fields=["is_active"])
    assert_error(respond(api.as_(issued.secret), pending, "approve", True), 401, "AUTH_INVALID_TOKEN")
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.PENDING


def test_a_service_key_is_not_a_user_token(api: Api, pending: Notification) -> None:
    key = service_key_for(pending.service)
    assert_error(respond(api.as_(key), pending, "approve", True), 401, "AUTH_INVALID_TOKEN")


def test_401_comes_before_everything_else(api: Api) -> None:
    assert_error(api.post(RESPOND, raw="{not json"), 401, "AUTH_INVALID_TOKEN")


def test_a_body_that_is_not_json_is_invalid_request(person_api: Api) -> None:
    assert_error(person_api.post(RESPOND, raw="{not json"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "notification_id"),
        ({"action_id": "approve"}, "notification_id"),
        ({"notification_id": None, "action_id": "approve"}, "notification_id"),
        ({"notification_id": str(uuid.uuid4())}, "action_id"),
        ({"notification_id": "not-a-uuid", "action_id": None}, "action_id"),
    ],
)
def test_missing_ids_come_before_the_lookup(person_api: Api, body: dict[str, Any], field: str) -> None:
    error = assert_error(person_api.post(RESPOND, body), 400, "MISSING_REQUIRED_FIELD")
    assert error["details"] == {"field": field}


@pytest.mark.parametrize("notification_id", [str(uuid.uuid4()), "not-a-uuid", "", 42, ["x"]])
def test_an_unknown_or_malformed_id_is_404(person_api: Api, notification_id: Any) -> None:
    response = person_api.post(RESPOND, {"notification_id": notification_id, "action_id": "approve"})
    assert_error(response, 404, "NOTIFICATION_NOT_FOUND")


def test_someone_elses_notification_is_403_even_when_answered(api: Api, pending: Notification) -> None:
    stranger = Api(api.client, user_token_for(UserFactory()))
    assert_error(respond(stranger, pending, "nope", "anything"), 403, "NOTIFICATION_ACCESS_DENIED")
    Notification.objects.filter(pk=pending.pk).update(
        status=NotificationStatus.RESPONDED, response_action_id="approve", responded_at=timezone.now()
    )
    assert_error(respond(stranger, pending, "approve", True), 403, "NOTIFICATION_ACCESS_DENIED")


def test_answering_twice_is_already_responded(person_api: Api, pending: Notification) -> None:
    assert respond(person_api, pending, "approve", True).status_code == 200
    # The state is checked before the action and the data.
    assert_error(respond(person_api, pending, "nope", "junk"), 409, "NOTIFICATION_ALREADY_RESPONDED")
    assert_error(respond(person_api, pending, "approve", False), 409, "NOTIFICATION_ALREADY_RESPONDED")
    pending.refresh_from_db()
    assert pending.response_data is True
    assert WebhookEvent.objects.count() == 1


def test_an_invalidated_notification_is_409(person_api: Api, service_api: Api, pending: Notification) -> None:
    response = service_api.patch(
        f"/api/v1/notifications/{pending.pk}", {"status": "invalidated", "reason": "moot"}
    )
    assert response.status_code == 200
    assert_error(respond(person_api, pending, "nope", "junk"), 409, "NOTIFICATION_INVALIDATED")


def test_an_expired_notification_is_409(person_api: Api, pending: Notification) -> None:
    now = timezone.now()
    Notification.objects.filter(pk=pending.pk).update(
        status=NotificationStatus.EXPIRED, deadline=now - timedelta(minutes=1), expired_at=now
    )
    assert_error(respond(person_api, pending, "nope", "junk"), 409, "NOTIFICATION_EXPIRED")


def test_the_deadline_counts_before_the_sweep_marks_it(person_api: Api, pending: Notification) -> None:
    Notification.objects.filter(pk=pending.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert_error(respond(person_api, pending, "approve", True), 409, "NOTIFICATION_EXPIRED")
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.PENDING
    assert not WebhookEvent.objects.exists()


def test_a_future_deadline_still_takes_answers(person_api: Api, pending: Notification) -> None:
    Notification.objects.filter(pk=pending.pk).update(deadline=timezone.now() + timedelta(minutes=5))
    assert respond(person_api, pending, "approve", True).status_code == 200


@pytest.mark.parametrize("action_id", ["nope", "", 7, True, ["approve"], {"id": "approve"}, "APPROVE"])
def test_an_action_the_notification_lacks_is_invalid_action_id(
    person_api: Api, pending: Notification, action_id: Any
) -> None:
    # Before the data is looked at: response_data is missing too.
    assert_error(respond(person_api, pending, action_id), 400, "INVALID_ACTION_ID")


def test_unknown_keys_in_the_body_are_ignored(person_api: Api, pending: Notification) -> None:
    body = {"notification_id": str(pending.pk), "action_id": "approve", "response_data": True, "extra": 1}
    assert person_api.post(RESPOND, body).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_answer_and_webhook_share_one_transaction() -> None:
    """When the outbox row cannot be written, the answer is not kept either."""
    person = UserFactory()
    notification = NotificationFactory(recipient=person)
    api = Api(Client(), user_token_for(person))
    table = WebhookEvent._meta.db_table
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT test_refuse_all CHECK (false) NOT VALID")
        else:
            cursor.execute(
                f"CREATE TRIGGER test_refuse_all BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'no'); END"
            )
    try:
        assert_error(respond(api, notification, "approve", True), 500, "INTERNAL_ERROR")
    finally:
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT test_refuse_all")
            else:
                cursor.execute("DROP TRIGGER test_refuse_all")
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.responded_at is None
    assert respond(api, notification, "approve", True).status_code == 200


# --- Cost and concurrency ----------------------------------------------------------------------


def test_respond_costs_at_most_five_queries(
    person_api: Api, pending: Notification, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(5) as captured:
        response = respond(person_api, pending, "toppings", ["ham", "egg"])
    assert response.status_code == 200
    if connection.vendor == "postgresql":
        # The token, the notification, then the answer and its webhook event in one statement.
        statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
        assert statements == ["SELECT", "SELECT", "WITH"]
    assert (
        WebhookEvent.objects.filter(subject_id=pending.pk, event_type="notification.responded").count() == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_ten_concurrent_answers_exactly_one_wins() -> None:
    person = UserFactory()
    notification = NotificationFactory(service=ServiceFactory(), recipient=person)
    token = user_token_for(person)
    threads = 10

    def answer(choice: bool) -> tuple[int, str | None]:
        response = respond(Api(Client(), token), notification, "approve", choice)
        return response.status_code, response.json()["error"]["code"] if response.status_code != 200 else None

    outcomes = in_threads([lambda choice=index % 2 == 0: answer(choice) for index in range(threads)])

    assert len(outcomes) == threads
    assert [status for status, _ in outcomes].count(200) == 1
    assert sorted(outcomes)[1:] == [(409, "NOTIFICATION_ALREADY_RESPONDED")] * (threads - 1)
    events = WebhookEvent.objects.filter(event_type="notification.responded", subject_id=notification.pk)
    assert events.count() == 1
    notification.refresh_from_db()
    assert events.get().payload["response_data"] is notification.response_data
