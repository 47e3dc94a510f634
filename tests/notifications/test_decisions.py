"""Decisions that do not stall (contract 7): several recipients, a default outcome at the deadline,
escalation; over HTTP, and the sweep that does what the deadlines and escalations ask."""

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from config.api.timestamps import rfc3339
from config.outbound.models import OutboundEmail, WebhookEvent
from notifications.models import Notification, NotificationRecipient, NotificationStatus
from notifications.services import notifications_sweep
from tests.concurrency import in_threads
from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, assert_error, user_token_for
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/notifications"
RESPOND = "/api/v1/client/respond"
CLIENT = "/api/v1/client/notifications"
APPROVE = {
    "id": "approve",
    "label": "Approve?",
    "response_type": "binary",
    "options": {"true_label": "Yes", "false_label": "No"},
}
NOTE = {
    "id": "note",
    "label": "Why?",
    "response_type": "text",
    "constraints": {"min_length": 2, "max_length": 10},
}


def body(**fields: Any) -> dict[str, Any]:
    return {"title": "Ship it?", "actions": [APPROVE, NOTE], **fields}


def in_an_hour() -> str:
    return rfc3339(timezone.now() + timedelta(hours=1))


def create(service_api: Api, **fields: Any) -> dict[str, Any]:
    response = service_api.post(CREATE, body(**fields))
    assert response.status_code == 201, response.content
    return response.json()


def answer(api: Api, notification_id: str, action_id: str = "approve", data: Any = True) -> Any:
    return api.post(
        RESPOND, {"notification_id": notification_id, "action_id": action_id, "response_data": data}
    )


def as_user(client: Client, user: Any) -> Api:
    return Api(client, user_token_for(user))


def sweep(*args: str) -> str:
    out = StringIO()
    call_command("expire_notifications", *args, stdout=out)
    return out.getvalue().strip()


def past_deadline(notification_id: str) -> Notification:
    """Move the deadline into the past, as time passing would."""
    deadline = timezone.now() - timedelta(minutes=1)
    Notification.objects.filter(pk=notification_id).update(deadline=deadline)
    return Notification.objects.get(pk=notification_id)


def escalation_due(notification_id: str) -> None:
    Notification.objects.filter(pk=notification_id).update(escalate_at=timezone.now() - timedelta(seconds=1))


# --- Several recipients -------------------------------------------------------------------------


def test_recipients_are_stored_in_order_and_every_body_carries_both(service_api: Api) -> None:
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    names = [second.username, first.username, third.username]

    created = create(service_api, recipients=names)

    assert created["recipients"] == names
    assert created["recipient"] == second.username
    assert created["escalated_at"] is None
    assert created["on_deadline"] is None and created["escalate"] is None
    shown = service_api.get(f"{CREATE}/{created['notification_id']}").json()
    assert shown["recipients"] == names and shown["recipient"] == second.username


def test_one_recipient_is_a_list_of_one(service_api: Api, person: Any) -> None:
    created = create(service_api, recipient=person.username)
    assert created["recipients"] == [person.username]
    assert created["recipient"] == person.username


def test_every_recipient_reads_it_and_lists_it(client: Client, service_api: Api) -> None:
    first, second = UserFactory(), UserFactory()
    created = create(service_api, recipients=[first.username, second.username])
    path = f"{CLIENT}/{created['notification_id']}"

    for user in (first, second):
        api = as_user(client, user)
        assert api.get(path).json()["recipients"] == [first.username, second.username]
        listed = api.get(CLIENT).json()["results"]
        assert [item["notification_id"] for item in listed] == [created["notification_id"]]


def test_someone_who_is_not_a_recipient_meets_403(client: Client, service_api: Api) -> None:
    created = create(service_api, recipients=[UserFactory().username, UserFactory().username])
    outsider = as_user(client, UserFactory())

    assert_error(outsider.get(f"{CLIENT}/{created['notification_id']}"), 403, "NOTIFICATION_ACCESS_DENIED")
    assert_error(answer(outsider, created["notification_id"]), 403, "NOTIFICATION_ACCESS_DENIED")
    assert outsider.get(CLIENT).json()["results"] == []


def test_any_recipient_answers_and_the_first_answer_wins(client: Client, service_api: Api) -> None:
    first, second = UserFactory(), UserFactory()
    created = create(service_api, recipients=[first.username, second.username])

    assert answer(as_user(client, second), created["notification_id"], data=False).status_code == 200
    late = answer(as_user(client, first), created["notification_id"])

    assert_error(late, 409, "NOTIFICATION_ALREADY_RESPONDED")
    shown = service_api.get(f"{CREATE}/{created['notification_id']}").json()
    assert shown["response"]["responder"] == {"id": second.pk, "username": second.username}
    assert shown["response"]["defaulted"] is False


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"recipients": ["nobody-here"]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"recipients": "alex"}, "recipients"),
        ({"recipients": [1]}, "recipients"),
        ({"recipients": [f"user{i}" for i in range(21)]}, "recipients"),
        ({"recipient": "nobody-here"}, "recipient"),
        ({}, "recipient"),
    ],
)
def test_bad_recipients_are_400_naming_the_field_given(
    service_api: Api, fields: dict[str, Any], field: str
) -> None:
    error = assert_error(service_api.post(CREATE, body(**fields)), 400, "INVALID_REQUEST")
    assert error["details"]["field"] == field


def test_a_repeated_or_inactive_recipient_is_400(service_api: Api, person: Any) -> None:
    repeated = service_api.post(CREATE, body(recipients=[person.username, person.username]))
    assert assert_error(repeated, 400, "INVALID_REQUEST")["details"]["field"] == "recipients"
    inactive = UserFactory(is_active=False)
    refused = service_api.post(CREATE, body(recipients=[person.username, inactive.username]))
    assert assert_error(refused, 400, "INVALID_REQUEST")["details"]["field"] == "recipients"


def test_recipient_and_recipients_together_are_400(service_api: Api, person: Any) -> None:
    response = service_api.post(CREATE, body(recipient=person.username, recipients=[person.username]))
    assert assert_error(response, 400, "INVALID_REQUEST")["details"]["field"] == "recipients"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_several_recipients_answering_at_once_have_one_winner() -> None:
    people = [UserFactory() for _ in range(6)]
    notification = NotificationFactory(service=ServiceFactory(), recipient=people[0], recipients=people[1:])
    tokens = [user_token_for(person) for person in people]

    def respond(token: str) -> tuple[int, str | None]:
        response = answer(Api(Client(), token), str(notification.pk))
        return response.status_code, None if response.status_code == 200 else response.json()["error"]["code"]

    outcomes = in_threads([lambda token=token: respond(token) for token in tokens])

    assert sorted(outcomes) == [(200, None)] + [(409, "NOTIFICATION_ALREADY_RESPONDED")] * 5
    assert (
        WebhookEvent.objects.filter(subject_id=notification.pk, event_type="notification.responded").count()
        == 1
    )


def test_a_later_recipient_answers_in_three_statements(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    first, second = UserFactory(), UserFactory()
    notification = NotificationFactory(recipient=first, recipients=[second])
    api = as_user(client, second)
    with django_assert_max_num_queries(5) as captured:
        response = answer(api, str(notification.pk))
    assert response.status_code == 200
    if connection.vendor == "postgresql":
        statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
        assert statements == ["SELECT", "SELECT", "WITH"]


# --- A default outcome at the deadline -----------------------------------------------------------


def test_a_default_outcome_is_shown_as_given(service_api: Api, person: Any) -> None:
    created = create(
        service_api,
        recipient=person.username,
        deadline=in_an_hour(),
        on_deadline={"action_id": "note", "response_data": "late"},
    )
    assert created["on_deadline"] == {"action_id": "note", "response_data": "late"}
    assert created["status"] == "pending" and created["response"] is None


@pytest.mark.parametrize(
    "on_deadline",
    [
        {"action_id": "nope", "response_data": True},
        {"action_id": "approve"},
        {"action_id": "approve", "response_data": "yes"},
        {"action_id": "note", "response_data": "x"},
        {"action_id": "note", "response_data": "far too long"},
        {"action_id": "approve", "response_data": True, "extra": 1},
        "approve",
        [],
    ],
)
def test_a_default_outcome_that_is_no_valid_answer_is_400(
    service_api: Api, person: Any, on_deadline: Any
) -> None:
    response = service_api.post(
        CREATE, body(recipient=person.username, deadline=in_an_hour(), on_deadline=on_deadline)
    )
    assert assert_error(response, 400, "INVALID_REQUEST")["details"]["field"] == "on_deadline"


def test_a_default_outcome_needs_a_deadline(service_api: Api, person: Any) -> None:
    response = service_api.post(
        CREATE, body(recipient=person.username, on_deadline={"action_id": "approve", "response_data": True})
    )
    assert assert_error(response, 400, "INVALID_REQUEST")["details"]["field"] == "on_deadline"


def defaulted(service_api: Api, person: Any) -> dict[str, Any]:
    created = create(
        service_api,
        recipient=person.username,
        deadline=in_an_hour(),
        on_deadline={"action_id": "approve", "response_data": False},
    )
    return created


def assert_default_outcome(shown: dict[str, Any], deadline: str) -> None:
    assert shown["status"] == "responded"
    assert shown["response"] == {
        "action_id": "approve",
        "response_data": False,
        "responded_at": deadline,
        "responder": None,
        "defaulted": True,
    }


def test_from_the_deadline_on_every_read_shows_the_default_outcome(
    service_api: Api, person_api: Api, person: Any
) -> None:
    created = defaulted(service_api, person)
    notification_id = created["notification_id"]
    deadline = rfc3339(past_deadline(notification_id).deadline)

    for _ in ("before the sweep", "after the sweep"):
        assert_default_outcome(service_api.get(f"{CREATE}/{notification_id}").json(), deadline)
        assert_default_outcome(person_api.get(f"{CLIENT}/{notification_id}").json(), deadline)
        listed = person_api.get(CLIENT, status="responded").json()["results"]
        assert [item["notification_id"] for item in listed] == [notification_id]
        assert_default_outcome(listed[0], deadline)
        assert person_api.get(CLIENT, status="expired").json()["results"] == []
        assert person_api.get(CLIENT, status="pending").json()["results"] == []
        sweep()


def test_a_person_answering_after_the_deadline_meets_expired(
    service_api: Api, person_api: Api, person: Any
) -> None:
    notification_id = defaulted(service_api, person)["notification_id"]
    past_deadline(notification_id)

    assert_error(answer(person_api, notification_id), 409, "NOTIFICATION_EXPIRED")
    sweep()
    assert_error(answer(person_api, notification_id), 409, "NOTIFICATION_EXPIRED")


def test_the_sweep_records_the_default_outcome_and_queues_one_webhook(service_api: Api, person: Any) -> None:
    notification_id = defaulted(service_api, person)["notification_id"]
    deadline = past_deadline(notification_id).deadline

    assert sweep().splitlines() == [
        "0 notifications expired",
        "1 notifications answered by their default outcome",
        "0 notifications escalated",
    ]
    assert sweep().splitlines()[1] == "0 notifications answered by their default outcome"

    stored = Notification.objects.get(pk=notification_id)
    assert stored.status == NotificationStatus.RESPONDED
    assert (stored.response_action_id, stored.response_data, stored.responded_at) == (
        "approve",
        False,
        deadline,
    )
    assert stored.responder is None and stored.response_defaulted
    event = WebhookEvent.objects.get(subject_id=notification_id)
    assert event.payload == {
        "type": "notification.responded",
        "notification_id": notification_id,
        "action_id": "approve",
        "response_data": False,
        "responded_at": rfc3339(deadline),
        "responder": None,
        "defaulted": True,
        "metadata": {},
    }


def test_a_default_outcome_of_a_simple_action_is_null(service_api: Api, person: Any) -> None:
    created = service_api.post(
        CREATE,
        {
            "recipient": person.username,
            "title": "Seen?",
            "deadline": in_an_hour(),
            "actions": [{"id": "ack", "label": "OK", "response_type": "simple"}],
            "on_deadline": {"action_id": "ack"},
        },
    ).json()
    past_deadline(created["notification_id"])
    sweep()
    shown = service_api.get(f"{CREATE}/{created['notification_id']}").json()
    assert shown["response"]["action_id"] == "ack" and shown["response"]["response_data"] is None
    assert WebhookEvent.objects.get().payload["response_data"] is None


def test_an_answer_before_the_deadline_leaves_the_default_unused(
    service_api: Api, person_api: Api, person: Any
) -> None:
    notification_id = defaulted(service_api, person)["notification_id"]
    assert answer(person_api, notification_id, data=True).status_code == 200
    past_deadline(notification_id)

    assert sweep().splitlines()[1] == "0 notifications answered by their default outcome"
    shown = service_api.get(f"{CREATE}/{notification_id}").json()
    assert shown["response"]["response_data"] is True and shown["response"]["defaulted"] is False
    assert WebhookEvent.objects.get().payload["defaulted"] is False


def test_patching_a_defaulted_notification_is_409_already_responded(service_api: Api, person: Any) -> None:
    notification_id = defaulted(service_api, person)["notification_id"]
    past_deadline(notification_id)
    patch = {"status": "invalidated", "reason": "late"}
    assert_error(
        service_api.patch(f"{CREATE}/{notification_id}", patch), 409, "NOTIFICATION_ALREADY_RESPONDED"
    )


# --- Escalation ------------------------------------------------------------------------------------


def escalating(service_api: Api, people: list[Any], later: list[Any], **fields: Any) -> dict[str, Any]:
    return create(
        service_api,
        recipients=[person.username for person in people],
        escalate={"after_seconds": 60, "recipients": [person.username for person in later]},
        **fields,
    )


def test_escalation_is_shown_as_given_and_not_yet_done(client: Client, service_api: Api) -> None:
    first, later = UserFactory(), UserFactory()
    created = escalating(service_api, [first], [later])

    assert created["escalate"] == {"after_seconds": 60, "recipients": [later.username]}
    assert created["escalated_at"] is None
    assert created["recipients"] == [first.username]
    waiting = as_user(client, later)
    assert_error(waiting.get(f"{CLIENT}/{created['notification_id']}"), 403, "NOTIFICATION_ACCESS_DENIED")
    assert_error(answer(waiting, created["notification_id"]), 403, "NOTIFICATION_ACCESS_DENIED")


def test_escalation_before_its_moment_does_nothing(service_api: Api) -> None:
    escalating(service_api, [UserFactory()], [UserFactory()])
    assert sweep().splitlines()[2] == "0 notifications escalated"
    assert not WebhookEvent.objects.exists()


def test_the_sweep_escalates_once_and_the_added_recipients_may_answer(
    client: Client, service_api: Api
) -> None:
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    created = escalating(service_api, [first], [third, second], metadata={"ticket": 9})
    notification_id = created["notification_id"]
    escalation_due(notification_id)

    assert sweep().splitlines()[2] == "1 notifications escalated"
    assert sweep().splitlines()[2] == "0 notifications escalated"

    shown = service_api.get(f"{CREATE}/{notification_id}").json()
    assert shown["recipients"] == [first.username, third.username, second.username]
    assert shown["recipient"] == first.username
    assert shown["escalated_at"] is not None
    event = WebhookEvent.objects.get(subject_id=notification_id)
    assert event.payload == {
        "type": "notification.escalated",
        "notification_id": notification_id,
        "escalated_at": shown["escalated_at"],
        "recipients": [third.username, second.username],
        "metadata": {"ticket": 9},
    }
    assert list(
        NotificationRecipient.objects.filter(notification_id=notification_id).values_list("user", "escalated")
    ) == [(first.pk, False), (third.pk, True), (second.pk, True)]
    added = as_user(client, second)
    assert [item["notification_id"] for item in added.get(CLIENT).json()["results"]] == [notification_id]
    assert answer(added, notification_id).status_code == 200
    assert_error(answer(as_user(client, first), notification_id), 409, "NOTIFICATION_ALREADY_RESPONDED")


@pytest.mark.parametrize("first", ["answer", "invalidation", "deadline"])
def test_an_answer_an_invalidation_or_the_deadline_first_means_no_escalation(
    client: Client, service_api: Api, first: str
) -> None:
    person, later = UserFactory(), UserFactory()
    created = escalating(service_api, [person], [later], deadline=in_an_hour())
    notification_id = created["notification_id"]
    if first == "answer":
        assert answer(as_user(client, person), notification_id).status_code == 200
    elif first == "invalidation":
        patch = {"status": "invalidated", "reason": "moot"}
        assert service_api.patch(f"{CREATE}/{notification_id}", patch).status_code == 200
    else:
        past_deadline(notification_id)
    escalation_due(notification_id)

    assert sweep().splitlines()[2] == "0 notifications escalated"
    shown = service_api.get(f"{CREATE}/{notification_id}").json()
    assert shown["escalated_at"] is None and shown["recipients"] == [person.username]
    assert not WebhookEvent.objects.filter(event_type="notification.escalated").exists()


@pytest.mark.parametrize(
    "escalate",
    [
        {"after_seconds": 59, "recipients": ["later"]},
        {"after_seconds": 604801, "recipients": ["later"]},
        {"after_seconds": 60.0, "recipients": ["later"]},
        {"after_seconds": True, "recipients": ["later"]},
        {"recipients": ["later"]},
        {"after_seconds": 60},
        {"after_seconds": 60, "recipients": []},
        {"after_seconds": 60, "recipients": ["later", "later"]},
        {"after_seconds": 60, "recipients": ["nobody-here"]},
        {"after_seconds": 60, "recipients": ["first"]},
        {"after_seconds": 60, "recipients": ["later"], "extra": 1},
        {"after_seconds": 60, "recipients": [f"u{i}" for i in range(21)]},
        "later",
    ],
)
def test_a_bad_escalation_is_400_naming_escalate(service_api: Api, escalate: Any) -> None:
    UserFactory(username="first")
    UserFactory(username="later")
    response = service_api.post(CREATE, body(recipient="first", escalate=escalate))
    assert assert_error(response, 400, "INVALID_REQUEST")["details"]["field"] == "escalate"


# --- The command ------------------------------------------------------------------------------------


def test_the_command_counts_every_kind_dry_and_in_json(service_api: Api, person: Any) -> None:
    expiring = create(service_api, recipient=person.username, deadline=in_an_hour())
    past_deadline(expiring["notification_id"])
    past_deadline(defaulted(service_api, person)["notification_id"])
    escalation_due(escalating(service_api, [person], [UserFactory()])["notification_id"])

    assert json.loads(sweep("--dry-run", "--json")) == {
        "expired": 1,
        "defaulted": 1,
        "escalated": 1,
        "dry_run": True,
    }
    assert not WebhookEvent.objects.exists()
    assert json.loads(sweep("--json")) == {"expired": 1, "defaulted": 1, "escalated": 1, "dry_run": False}
    assert sorted(WebhookEvent.objects.values_list("event_type", flat=True)) == [
        "notification.escalated",
        "notification.expired",
        "notification.responded",
    ]


def test_the_sweep_works_through_batches_of_each_kind() -> None:
    service = ServiceFactory()
    past = timezone.now() - timedelta(minutes=1)
    for _ in range(5):
        NotificationFactory(service=service, deadline=past)
        NotificationFactory(
            service=service, deadline=past, on_deadline={"action_id": "approve", "response_data": True}
        )
        later = UserFactory()
        NotificationFactory(
            service=service,
            escalate={"after_seconds": 60, "recipients": [later.username]},
            escalation_user_ids=[later.pk],
            escalate_at=past,
        )
    counts = notifications_sweep(batch_size=2)
    assert (counts.expired, counts.defaulted, counts.escalated) == (5, 5, 5)
    assert WebhookEvent.objects.count() == 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_do_each_transition_once() -> None:
    service = ServiceFactory()
    past = timezone.now() - timedelta(minutes=1)
    later = UserFactory()
    rows = 60
    Notification.objects.bulk_create(
        [NotificationFactory.build(service=service, recipient=later, deadline=past) for _ in range(rows)]
        + [
            NotificationFactory.build(
                service=service,
                recipient=later,
                deadline=past,
                on_deadline={"action_id": "approve", "response_data": True},
            )
            for _ in range(rows)
        ]
    )
    escalating = [NotificationFactory(service=service) for _ in range(rows)]
    Notification.objects.filter(pk__in=[row.pk for row in escalating]).update(
        escalate={"after_seconds": 60, "recipients": [later.username]},
        escalation_user_ids=[later.pk],
        escalate_at=past,
    )

    counts = in_threads([lambda: notifications_sweep(batch_size=7)] * 2)

    assert sum(count.expired for count in counts) == rows
    assert sum(count.defaulted for count in counts) == rows
    assert sum(count.escalated for count in counts) == rows
    for event_type in ("notification.expired", "notification.responded", "notification.escalated"):
        events = WebhookEvent.objects.filter(event_type=event_type)
        assert events.count() == rows
        assert len(set(events.values_list("subject_id", flat=True))) == rows
    assert NotificationRecipient.objects.filter(user=later, escalated=True).count() == rows


def test_the_escalated_recipients_get_their_email_once(service_api: Api, settings: Any) -> None:
    settings.EMAIL_DELIVERY = "outbox"
    settings.PUBLIC_BASE_URL = "https://loopback.example.com"
    first = UserFactory(email="first@example.com")
    later = UserFactory(email="later@example.com")
    nobody = UserFactory(email="")
    notification_id = escalating(service_api, [first], [later, nobody])["notification_id"]
    assert list(OutboundEmail.objects.values_list("to_address", flat=True)) == ["first@example.com"]
    escalation_due(notification_id)

    sweep()
    sweep()

    emails = OutboundEmail.objects.order_by("created_at")
    assert [email.to_address for email in emails] == ["first@example.com", "later@example.com"]
    assert f"https://loopback.example.com/inbox/{notification_id}/" in emails[1].body
