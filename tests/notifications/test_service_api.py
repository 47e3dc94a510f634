"""The service's side: create, read and invalidate notifications (contract section 3)."""

import uuid
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from config.accounts.models import Service
from config.outbound.models import WebhookEvent
from notifications.models import Notification, NotificationStatus
from tests.concurrency import in_threads
from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, assert_error, service_key_for, user_token_for
from tests.notifications.conftest import ACTIONS
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/notifications"


def body_for(person: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "recipient": person.username,
        "title": "Approve the refund?",
        "actions": [{"id": "approve", "label": "Approve", "response_type": "binary"}],
        **overrides,
    }


def test_create_answers_201_with_the_notification(service_api: Api, service: Service, person: Any) -> None:
    deadline = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    body = body_for(
        person,
        description="Order 1234, 40 EUR.",
        deadline=deadline.isoformat().replace("+00:00", "Z"),
        metadata={"order": 1234, "tags": ["refund"]},
        actions=ACTIONS,
    )
    response = service_api.post(CREATE, body)

    assert response.status_code == 201, response.content
    created = response.json()
    notification = Notification.objects.get()
    assert created["notification_id"] == str(notification.pk)
    assert created["status"] == "pending"
    assert created["recipient"] == person.username
    assert created["title"] == "Approve the refund?"
    assert created["description"] == "Order 1234, 40 EUR."
    assert created["deadline"] == deadline.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert created["metadata"] == {"order": 1234, "tags": ["refund"]}
    assert created["created_at"].endswith("Z")
    assert created["response"] is None
    assert [action["id"] for action in created["actions"]] == [a["id"] for a in ACTIONS]
    assert created["actions"][6]["constraints"] == {
        "min": 0,
        "max": 10,
        "step": 2,
        "labels": {"0": "Bad", "10": "Great"},
    }
    assert notification.service == service
    assert notification.recipient == person


def test_defaults_are_filled_in_and_shown(service_api: Api, person: Any) -> None:
    actions = [
        {"id": "ok", "label": "OK", "response_type": "binary"},
        {"id": "text", "label": "Say", "response_type": "text"},
        {
            "id": "many",
            "label": "Pick",
            "response_type": "multi_choice",
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
        },
        {"id": "num", "label": "Number", "response_type": "numeric"},
        {"id": "scale", "label": "Scale", "response_type": "scale", "constraints": {"min": 1, "max": 5}},
        {"id": "ack", "label": "Ack", "response_type": "simple", "options": None},
    ]
    created = service_api.post(CREATE, body_for(person, actions=actions)).json()
    assert created["description"] == ""
    assert created["deadline"] is None
    assert created["metadata"] == {}
    assert created["actions"] == [
        {
            "id": "ok",
            "label": "OK",
            "response_type": "binary",
            "options": {"true_label": "Yes", "false_label": "No"},
        },
        {
            "id": "text",
            "label": "Say",
            "response_type": "text",
            "constraints": {"min_length": 0, "max_length": 5000},
        },
        {
            "id": "many",
            "label": "Pick",
            "response_type": "multi_choice",
            "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
            "constraints": {"min_selections": 0, "max_selections": 2},
        },
        {
            "id": "num",
            "label": "Number",
            "response_type": "numeric",
            "constraints": {"min": None, "max": None, "decimal_places": None},
        },
        {
            "id": "scale",
            "label": "Scale",
            "response_type": "scale",
            "constraints": {"min": 1, "max": 5, "step": 1},
        },
        {"id": "ack", "label": "Ack", "response_type": "simple"},
    ]


def action(response_type: str, **extra: Any) -> dict[str, Any]:
    return {"id": "a", "label": "A", "response_type": response_type, **extra}


OPTIONS = [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}, {"value": "z", "label": "Z"}]
GOOD = action("simple")

BAD_FIELDS = [
    ({"recipient": None}, "recipient"),
    ({"recipient": 5}, "recipient"),
    ({"recipient": "nobody-by-this-name"}, "recipient"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"description": "x" * 5001}, "description"),
    ({"description": ["x"]}, "description"),
    ({"deadline": "2001-01-01T00:00:00Z"}, "deadline"),
    ({"deadline": "tomorrow"}, "deadline"),
    ({"deadline": "2099-01-01T00:00:00"}, "deadline"),
    ({"deadline": "2099-01-01"}, "deadline"),
    ({"deadline": 4102444800}, "deadline"),
    ({"deadline": "9999-12-31T23:59:59-23:59"}, "deadline"),
    ({"metadata": ["a"]}, "metadata"),
    ({"metadata": "a"}, "metadata"),
    ({"priority": "high"}, "priority"),
    ({"actions": None}, "actions"),
    ({"actions": []}, "actions"),
    ({"actions": "approve"}, "actions"),
    ({"actions": [dict(GOOD, id=f"a{n}") for n in range(11)]}, "actions"),
    ({"actions": ["approve"]}, "actions[0]"),
    ({"actions": [GOOD, GOOD]}, "actions[1].id"),
    ({"actions": [{"label": "A", "response_type": "simple"}]}, "actions[0].id"),
    ({"actions": [dict(GOOD, id="")]}, "actions[0].id"),
    ({"actions": [dict(GOOD, id=5)]}, "actions[0].id"),
    ({"actions": [dict(GOOD, id="x" * 65)]}, "actions[0].id"),
    ({"actions": [{"id": "a", "response_type": "simple"}]}, "actions[0].label"),
    ({"actions": [dict(GOOD, label="x" * 201)]}, "actions[0].label"),
    ({"actions": [action("slider")]}, "actions[0].response_type"),
    ({"actions": [action("simple", style="red")]}, "actions[0].style"),
    ({"actions": [action("simple", options=[{"value": "x", "label": "X"}])]}, "actions[0].options"),
    ({"actions": [action("simple", constraints={})]}, "actions[0].constraints"),
    ({"actions": [action("binary", options={"true_label": "Y"})]}, "actions[0].options.false_label"),
    ({"actions": [action("binary", options=["Y", "N"])]}, "actions[0].options"),
    (
        {"actions": [action("binary", options={"true_label": "Y", "false_label": "N", "x": "?"})]},
        "actions[0].options.x",
    ),
    ({"actions": [action("binary", constraints={"min": 1})]}, "actions[0].constraints"),
    ({"actions": [action("choice")]}, "actions[0].options"),
    ({"actions": [action("choice", options=[])]}, "actions[0].options"),
    (
        {"actions": [action("choice", options=[{"value": f"v{n}", "label": "V"} for n in range(51)])]},
        "actions[0].options",
    ),
    (
        {"actions": [action("choice", options=[{"value": "x", "label": "X"}, {"value": "y"}])]},
        "actions[0].options[1].label",
    ),
    (
        {"actions": [action("choice", options=[{"value": "x", "label": "X"}, {"value": "x", "label": "Y"}])]},
        "actions[0].options[1].value",
    ),
    ({"actions": [action("choice", options=[{"value": 1, "label": "One"}])]}, "actions[0].options[0].value"),
    (
        {"actions": [action("choice", options=OPTIONS, constraints={"max_selections": 1})]},
        "actions[0].constraints",
    ),
    (
        {"actions": [action("multi_choice", options=OPTIONS, constraints={"max_selections": 4})]},
        "actions[0].constraints.max_selections",
    ),
    (
        {"actions": [action("multi_choice", options=OPTIONS, constraints={"max_selections": 0})]},
        "actions[0].constraints.max_selections",
    ),
    (
        {
            "actions": [
                action(
                    "multi_choice", options=OPTIONS, constraints={"min_selections": 3, "max_selections": 2}
                )
            ]
        },
        "actions[0].constraints.min_selections",
    ),
    (
        {"actions": [action("multi_choice", options=OPTIONS, constraints={"min_selections": -1})]},
        "actions[0].constraints.min_selections",
    ),
    (
        {"actions": [action("multi_choice", options=OPTIONS, constraints={"min_selections": 1.5})]},
        "actions[0].constraints.min_selections",
    ),
    (
        {"actions": [action("multi_choice", options=OPTIONS, constraints={"maximum": 1})]},
        "actions[0].constraints.maximum",
    ),
    ({"actions": [action("text", constraints={"max_length": 5001})]}, "actions[0].constraints.max_length"),
    ({"actions": [action("text", constraints={"max_length": 0})]}, "actions[0].constraints.max_length"),
    (
        {"actions": [action("text", constraints={"min_length": 10, "max_length": 5})]},
        "actions[0].constraints.min_length",
    ),
    ({"actions": [action("text", constraints={"min_length": True})]}, "actions[0].constraints.min_length"),
    ({"actions": [action("text", constraints="short")]}, "actions[0].constraints"),
    ({"actions": [action("text", options=OPTIONS)]}, "actions[0].options"),
    (
        {"actions": [GOOD, dict(action("numeric", constraints={"min": 10, "max": 5}), id="b")]},
        "actions[1].constraints.max",
    ),
    ({"actions": [action("numeric", constraints={"min": "0"})]}, "actions[0].constraints.min"),
    ({"actions": [action("numeric", constraints={"max": False})]}, "actions[0].constraints.max"),
    (
        {"actions": [action("numeric", constraints={"decimal_places": -1})]},
        "actions[0].constraints.decimal_places",
    ),
    (
        {"actions": [action("numeric", constraints={"decimal_places": 1.5})]},
        "actions[0].constraints.decimal_places",
    ),
    (
        {"actions": [action("numeric", constraints={"decimal_places": 11})]},
        "actions[0].constraints.decimal_places",
    ),
    ({"actions": [action("scale")]}, "actions[0].constraints"),
    ({"actions": [action("scale", constraints={"max": 5})]}, "actions[0].constraints.min"),
    ({"actions": [action("scale", constraints={"min": 1})]}, "actions[0].constraints.max"),
    ({"actions": [action("scale", constraints={"min": 1.0, "max": 5})]}, "actions[0].constraints.min"),
    ({"actions": [action("scale", constraints={"min": 5, "max": 5})]}, "actions[0].constraints.max"),
    ({"actions": [action("scale", constraints={"min": 5, "max": 1})]}, "actions[0].constraints.max"),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "step": 0})]},
        "actions[0].constraints.step",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "step": 0.5})]},
        "actions[0].constraints.step",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "step": 5})]},
        "actions[0].constraints.step",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "labels": {"one": "Low"}})]},
        "actions[0].constraints.labels.one",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "labels": {"6": "High"}})]},
        "actions[0].constraints.labels.6",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "step": 2, "labels": {"2": "Mid"}})]},
        "actions[0].constraints.labels.2",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "labels": ["Low", "High"]})]},
        "actions[0].constraints.labels",
    ),
    (
        {"actions": [action("scale", constraints={"min": 1, "max": 5, "labels": {"1": ""}})]},
        "actions[0].constraints.labels.1",
    ),
    ({"actions": [action("scale", options=OPTIONS, constraints={"min": 1, "max": 5})]}, "actions[0].options"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_FIELDS)
def test_an_invalid_body_is_400_naming_the_field(
    service_api: Api, person: Any, overrides: dict[str, Any], field: str
) -> None:
    body = body_for(person, **overrides)
    body = {key: value for key, value in body.items() if value is not None or key in overrides}
    error = assert_error(service_api.post(CREATE, body), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": field}
    assert not Notification.objects.exists()


@pytest.mark.parametrize("missing", ["recipient", "title", "actions"])
def test_a_missing_required_field_is_400_naming_it(service_api: Api, person: Any, missing: str) -> None:
    body = body_for(person)
    del body[missing]
    error = assert_error(service_api.post(CREATE, body), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": missing}


@pytest.mark.parametrize("raw", ['{"order": 1e400}', '{"nested": [1, -1e999]}'])
def test_numbers_too_large_for_json_are_refused(service_api: Api, person: Any, raw: str) -> None:
    actions = '[{"id": "a", "label": "A", "response_type": "simple"}]'
    body = f'{{"recipient": "{person.username}", "title": "T", "metadata": {raw}, "actions": {actions}}}'
    error = assert_error(service_api.post(CREATE, raw=body), 400, "INVALID_REQUEST")
    assert "finite" in error["message"]
    assert not Notification.objects.exists()


def test_an_inactive_user_cannot_be_addressed(service_api: Api) -> None:
    inactive = UserFactory(is_active=False)
    error = assert_error(service_api.post(CREATE, body_for(inactive)), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": "recipient"}


def test_a_body_that_is_not_json_is_invalid_request(service_api: Api) -> None:
    assert_error(service_api.post(CREATE, raw="[1]"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("credential", [None, "sk_unknown"])
def test_create_needs_a_service_key(api: Api, person: Any, credential: str | None) -> None:
    assert_error(api.as_(credential).post(CREATE, body_for(person)), 401, "AUTH_INVALID_TOKEN")


def test_a_user_token_is_not_a_service_key(api: Api, person: Any) -> None:
    response = api.as_(user_token_for(person)).post(CREATE, body_for(person))
    assert_error(response, 401, "AUTH_INVALID_TOKEN")


# --- GET ----------------------------------------------------------------------------------------


def test_get_shows_the_notification_then_its_answer(service_api: Api, person_api: Api, person: Any) -> None:
    created = service_api.post(CREATE, body_for(person, metadata={"k": "v"})).json()
    path = f"{CREATE}/{created['notification_id']}"
    assert service_api.get(path).json() == created

    answered = person_api.post(
        "/api/v1/client/respond",
        {"notification_id": created["notification_id"], "action_id": "approve", "response_data": False},
    ).json()

    shown = service_api.get(path).json()
    assert shown["status"] == "responded"
    assert shown["response"] == {
        "action_id": "approve",
        "response_data": False,
        "responded_at": answered["responded_at"],
        "responder": {"id": person.pk, "username": person.username},
        "defaulted": False,
    }


@pytest.mark.parametrize("notification_id", ["not-a-uuid", "123", str(uuid.uuid4())])
def test_get_an_unknown_or_malformed_id_is_404(service_api: Api, notification_id: str) -> None:
    assert_error(service_api.get(f"{CREATE}/{notification_id}"), 404, "NOTIFICATION_NOT_FOUND")


def test_another_services_notification_does_not_exist(service_api: Api) -> None:
    foreign = NotificationFactory(service=ServiceFactory())
    assert_error(service_api.get(f"{CREATE}/{foreign.pk}"), 404, "NOTIFICATION_NOT_FOUND")
    response = service_api.patch(f"{CREATE}/{foreign.pk}", {"status": "invalidated"})
    assert_error(response, 404, "NOTIFICATION_NOT_FOUND")
    foreign.refresh_from_db()
    assert foreign.status == NotificationStatus.PENDING


def test_a_pending_notification_past_its_deadline_reads_as_expired(
    service_api: Api, service: Service
) -> None:
    overdue = NotificationFactory(service=service, deadline=timezone.now() - timedelta(seconds=1))
    assert service_api.get(f"{CREATE}/{overdue.pk}").json()["status"] == "expired"


def test_an_unknown_method_is_405(service_api: Api, service: Service) -> None:
    notification = NotificationFactory(service=service)
    response = service_api.send("DELETE", f"{CREATE}/{notification.pk}")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


# --- PATCH (invalidate) -------------------------------------------------------------------------


def test_patch_invalidates_a_pending_notification(service_api: Api, service: Service) -> None:
    notification = NotificationFactory(service=service)
    response = service_api.patch(
        f"{CREATE}/{notification.pk}", {"status": "invalidated", "reason": "Refunded"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "invalidated"
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.INVALIDATED
    assert notification.invalidation_reason == "Refunded"
    assert notification.invalidated_at is not None


def test_invalidating_twice_is_409_invalidated(service_api: Api, service: Service) -> None:
    notification = NotificationFactory(service=service)
    assert service_api.patch(f"{CREATE}/{notification.pk}", {"status": "invalidated"}).status_code == 200
    response = service_api.patch(f"{CREATE}/{notification.pk}", {"status": "invalidated"})
    assert_error(response, 409, "NOTIFICATION_INVALIDATED")


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (
            {"status": "responded", "response_action_id": "approve", "responded_at": timezone.now()},
            "NOTIFICATION_ALREADY_RESPONDED",
        ),
        ({"status": "expired", "expired_at": timezone.now()}, "NOTIFICATION_EXPIRED"),
        ({"deadline": timezone.now() - timedelta(seconds=1)}, "NOTIFICATION_EXPIRED"),
    ],
)
def test_patching_a_terminal_notification_is_409_with_its_state(
    service_api: Api, service: Service, state: dict[str, Any], code: str
) -> None:
    notification = NotificationFactory(service=service)
    Notification.objects.filter(pk=notification.pk).update(**state)
    response = service_api.patch(f"{CREATE}/{notification.pk}", {"status": "invalidated", "reason": "late"})
    assert_error(response, 409, code)
    notification.refresh_from_db()
    assert notification.invalidated_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "status"),
        ({"status": "responded"}, "status"),
        ({"status": "invalidated", "reason": "x" * 501}, "reason"),
        ({"status": "invalidated", "reason": 5}, "reason"),
        ({"status": "invalidated", "title": "new"}, "title"),
    ],
)
def test_a_bad_patch_is_400(service_api: Api, service: Service, body: dict[str, Any], field: str) -> None:
    notification = NotificationFactory(service=service)
    error = assert_error(service_api.patch(f"{CREATE}/{notification.pk}", body), 400, "INVALID_REQUEST")
    assert error["details"] == {"field": field}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_answer_and_an_invalidation_racing_have_one_winner() -> None:
    service = ServiceFactory()
    person = UserFactory()
    notification = NotificationFactory(service=service, recipient=person)
    key, token = service_key_for(service), user_token_for(person)
    threads = 10

    def act(index: int) -> int:
        if index % 2:
            response = Api(Client(), key).patch(f"{CREATE}/{notification.pk}", {"status": "invalidated"})
        else:
            response = Api(Client(), token).post(
                "/api/v1/client/respond",
                {"notification_id": str(notification.pk), "action_id": "approve", "response_data": True},
            )
        return response.status_code

    statuses = in_threads([lambda index=index: act(index) for index in range(threads)])

    assert sorted(statuses) == [200] + [409] * (threads - 1)
    notification.refresh_from_db()
    assert notification.status in (NotificationStatus.RESPONDED, NotificationStatus.INVALIDATED)
    responded = notification.status == NotificationStatus.RESPONDED
    assert (notification.invalidated_at is None) == responded
    assert WebhookEvent.objects.filter(subject_id=notification.pk).count() == (1 if responded else 0)
