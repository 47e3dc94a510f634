"""POST /actions/{id}/trigger (contract 4) against a real local receiver."""

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper
from standardwebhooks import Webhook

from actions.models import Action, ActionTrigger, FireOn, TriggerStatus
from config.accounts.models import Service
from config.accounts.services import service_webhook_secret_rotate
from config.api.families import ActionsErrorType
from tests.actions.trigger_factories import ActionFactory, Receiver, running_receiver, unused_port
from tests.helpers import Api, assert_error, service_key_for

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@pytest.fixture
def receiver(settings: SettingsWrapper) -> Iterator[Receiver]:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with running_receiver(slow_seconds=1.0) as running:
        yield running


def make_action(
    service: Service, receiver: Receiver | None = None, path: str = "/ok", **fields: Any
) -> Action:
    if receiver is not None:
        fields.setdefault("target_url", receiver.url(path))
    return ActionFactory(service=service, **fields)


def trigger(api: Api, action_id: str, body: Any = None, **kwargs: Any) -> Any:
    return api.post(f"/actions/{action_id}/trigger", {} if body is None else body, **kwargs)


def assert_failed(response: Any, error_type: str) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["status"] == "failed"
    assert result["payload_sent"] is None
    assert list(result["error"]) == ["error"]
    error = result["error"]["error"]
    assert set(error) == {"type", "message", "location", "suggestion"}
    assert error["type"] == error_type
    assert error["location"] is None
    assert error["message"] and error["suggestion"]
    return error


def test_the_error_types_are_the_seeds() -> None:
    assert [member.value for member in ActionsErrorType] == [
        "syntax_error",
        "type_error",
        "semantic_error",
        "reference_error",
        "parameter_error",
        "graph_error",
        "execution_error",
        "execution_timeout",
        "auth_error",
        "not_found",
        "conflict",
        "rate_limit_exceeded",
        "bounds_exceeded",
        "action_binding_failed",
    ]


# ---------------------------------------------------------------------------------------------
# triggered


def test_a_trigger_sends_exactly_payload_sent_signed(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    action = make_action(service, receiver, action_id="notify-crm")

    response = trigger(service_api, "notify-crm", {"decision": True, "payload": {"lead": {"id": 7}}})

    assert response.status_code == 200
    result = response.json()
    assert set(result) == {"action_id", "action_version", "status", "payload_sent", "error"}
    assert result["action_id"] == "notify-crm"
    assert result["action_version"] == "1"
    assert result["status"] == "triggered"
    assert result["error"] is None
    sent = result["payload_sent"]
    assert set(sent) == {"action_id", "action_version", "decision", "payload", "triggered_at"}
    assert sent["action_id"] == "notify-crm"
    assert sent["action_version"] == "1"
    assert sent["decision"] is True
    assert sent["payload"] == {"lead": {"id": 7}}
    assert TIMESTAMP.match(sent["triggered_at"])

    [received] = receiver.requests
    assert received.path == "/ok"
    assert received.json() == sent
    assert received.headers["Content-Type"] == "application/json"
    assert Webhook(service.webhook_secret).verify(received.body, received.headers) == sent
    assert received.headers["webhook-id"].startswith("msg_")

    row = ActionTrigger.objects.get()
    assert (row.action_id, row.action_version, row.status) == (action.pk, 1, TriggerStatus.TRIGGERED)
    assert row.decision is True and row.dry_run is False
    assert row.payload_sent == sent
    assert row.error is None
    assert row.duration_ms is not None


def test_any_2xx_is_triggered(service_api: Api, service: Service, receiver: Receiver) -> None:
    make_action(service, receiver, "/created", action_id="a")
    assert trigger(service_api, "a").json()["status"] == "triggered"


def test_an_absent_or_null_decision_always_fires(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, action_id="on-false", fire_on=FireOn.FALSE)

    assert trigger(service_api, "on-false", {}).json()["status"] == "triggered"
    null = trigger(service_api, "on-false", {"decision": None, "payload": None}).json()

    assert null["status"] == "triggered"
    assert null["payload_sent"]["decision"] is None
    assert null["payload_sent"]["payload"] is None
    assert len(receiver.requests) == 2


def test_each_trigger_gets_its_own_message_id(service_api: Api, service: Service, receiver: Receiver) -> None:
    make_action(service, receiver, action_id="a")
    trigger(service_api, "a")
    trigger(service_api, "a")
    assert len({received.headers["webhook-id"] for received in receiver.requests}) == 2


def test_the_version_sent_follows_the_action(service_api: Api, service: Service, receiver: Receiver) -> None:
    service_api.put("/actions/a", {"target_url": receiver.url("/ok")})
    service_api.put("/actions/a", {"target_url": receiver.url("/ok"), "description": "now v2"})

    result = trigger(service_api, "a").json()

    assert result["action_version"] == "2"
    assert result["payload_sent"]["action_version"] == "2"
    assert receiver.requests[0].json()["action_version"] == "2"
    assert ActionTrigger.objects.get().action_version == 2


def test_a_rotated_secret_and_a_moved_target_are_used_by_the_next_trigger(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    # Decrypted secrets and parsed target URLs are kept per process: neither may outlive a change.
    make_action(service, receiver, action_id="a")
    old = service.webhook_secret
    trigger(service_api, "a")
    rotated = service_webhook_secret_rotate(service=service, now=timezone.now() - timedelta(days=30))
    service_api.put("/actions/a", {"target_url": receiver.url("/moved")})

    trigger(service_api, "a")

    first, second = receiver.requests
    assert first.path == "/ok" and second.path == "/moved"
    Webhook(old).verify(first.body, first.headers)
    # The overlap of the old secret is long over: only the new one signs.
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(second.body, second.headers)


# ---------------------------------------------------------------------------------------------
# skipped and would_trigger


@pytest.mark.parametrize(
    ("fire_on", "decision", "fires"),
    [
        ("true", True, True),
        ("true", False, False),
        ("false", True, False),
        ("false", False, True),
        ("always", True, True),
        ("always", False, True),
        ("true", None, True),
        ("false", None, True),
    ],
)
def test_fire_on_decides_skipped_or_would_trigger(
    service_api: Api, service: Service, receiver: Receiver, fire_on: str, decision: bool | None, fires: bool
) -> None:
    make_action(service, receiver, action_id="a", fire_on=fire_on)

    result = trigger(service_api, "a", {"decision": decision, "dry_run": True}).json()

    expected = "would_trigger" if fires else "skipped"
    assert result == {
        "action_id": "a",
        "action_version": "1",
        "status": expected,
        "payload_sent": None,
        "error": None,
    }
    assert receiver.requests == []
    row = ActionTrigger.objects.get()
    assert (row.status, row.decision, row.dry_run, row.action_version) == (expected, decision, True, 1)


@pytest.mark.parametrize(("fire_on", "decision"), [("true", False), ("false", True)])
def test_a_decision_that_does_not_meet_fire_on_is_skipped_and_not_sent(
    service_api: Api, service: Service, receiver: Receiver, fire_on: str, decision: bool
) -> None:
    make_action(service, receiver, action_id="a", fire_on=fire_on)

    result = trigger(service_api, "a", {"decision": decision}).json()

    assert result["status"] == "skipped"
    assert result["payload_sent"] is None and result["error"] is None
    assert receiver.requests == []
    assert ActionTrigger.objects.get().status == TriggerStatus.SKIPPED


def test_a_dry_run_costs_at_most_four_queries(
    service_api: Api, service: Service, django_assert_max_num_queries: Any
) -> None:
    make_action(service, action_id="a")
    with django_assert_max_num_queries(4):
        response = trigger(service_api, "a", {"decision": True, "dry_run": True})
    assert response.json()["status"] == "would_trigger"


# ---------------------------------------------------------------------------------------------
# failed


def test_a_non_2xx_answer_is_an_execution_error(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, "/error", action_id="a")

    error = assert_failed(trigger(service_api, "a"), "execution_error")

    assert "500" in error["message"]
    assert len(receiver.requests) == 1
    row = ActionTrigger.objects.get()
    assert row.status == TriggerStatus.FAILED
    assert row.error == {"error": error}
    assert row.payload_sent is None


def test_an_answer_past_timeout_ms_is_an_execution_timeout(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, "/slow", action_id="a", timeout_ms=200)

    error = assert_failed(trigger(service_api, "a"), "execution_timeout")

    assert "200 ms" in error["message"]
    assert len(receiver.requests) == 1
    assert ActionTrigger.objects.get().status == TriggerStatus.FAILED


def test_a_refused_connection_is_an_execution_error(
    service_api: Api, service: Service, settings: SettingsWrapper
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    make_action(service, action_id="a", target_url=f"http://127.0.0.1:{unused_port()}/hook")

    assert_failed(trigger(service_api, "a"), "execution_error")
    assert ActionTrigger.objects.get().status == TriggerStatus.FAILED


def test_a_redirect_is_an_execution_error_and_not_followed(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, "/redirect", action_id="a")

    error = assert_failed(trigger(service_api, "a"), "execution_error")

    assert "302" in error["message"]
    assert [received.path for received in receiver.requests] == ["/redirect"]


def test_a_private_address_is_action_binding_failed_and_nothing_is_sent(
    service_api: Api, service: Service, receiver: Receiver, settings: SettingsWrapper
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    make_action(service, receiver, action_id="a")

    assert_failed(trigger(service_api, "a"), "action_binding_failed")

    assert receiver.requests == []
    assert ActionTrigger.objects.get().status == TriggerStatus.FAILED


def test_a_dry_run_to_a_private_address_would_trigger(
    service_api: Api, service: Service, settings: SettingsWrapper
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    make_action(service, action_id="a", target_url="http://10.0.0.1/hook")
    assert trigger(service_api, "a", {"dry_run": True}).json()["status"] == "would_trigger"


# ---------------------------------------------------------------------------------------------
# refused requests


@pytest.mark.parametrize(
    ("body", "error_type", "location"),
    [
        ({"decision": 1}, "type_error", "body.decision"),
        ({"decision": 0}, "type_error", "body.decision"),
        ({"decision": "true"}, "type_error", "body.decision"),
        ({"decision": [True]}, "type_error", "body.decision"),
        ({"dry_run": 1}, "type_error", "body.dry_run"),
        ({"dry_run": "false"}, "type_error", "body.dry_run"),
        ({"dry_run": None}, "type_error", "body.dry_run"),
        ({"payload": []}, "type_error", "body.payload"),
        ({"payload": "text"}, "type_error", "body.payload"),
        ({"payload": 3}, "type_error", "body.payload"),
        ({"decision": True, "dryRun": True}, "parameter_error", "body.dryRun"),
        ({"action_id": "b"}, "parameter_error", "body.action_id"),
    ],
)
def test_a_bad_body_names_the_field(
    service_api: Api,
    service: Service,
    receiver: Receiver,
    body: dict[str, Any],
    error_type: str,
    location: str,
) -> None:
    make_action(service, receiver, action_id="a")

    error = assert_error(trigger(service_api, "a", body), 400, error_type)

    assert error["location"] == location
    assert error["message"] and error["suggestion"]
    assert receiver.requests == []
    assert not ActionTrigger.objects.exists()


@pytest.mark.parametrize("raw", ["[]", "true", "null", '"x"', "{bad json", '{"payload": {"x": NaN}}', ""])
def test_a_body_that_is_not_a_json_object_is_a_syntax_error(
    service_api: Api, service: Service, raw: str
) -> None:
    make_action(service, action_id="a")
    assert_error(service_api.post("/actions/a/trigger", raw=raw), 400, "syntax_error")
    assert not ActionTrigger.objects.exists()


def test_a_body_not_sent_as_json_is_a_syntax_error(service_api: Api, service: Service) -> None:
    make_action(service, action_id="a")
    response = service_api.post("/actions/a/trigger", raw='{"dry_run": true}', content_type="text/plain")
    assert_error(response, 415, "syntax_error")


def test_a_body_over_64_kib_is_bounds_exceeded(service_api: Api, service: Service) -> None:
    make_action(service, action_id="a")
    response = trigger(service_api, "a", {"payload": {"blob": "x" * (64 * 1024)}})
    assert_error(response, 413, "bounds_exceeded")


def test_without_a_valid_service_key_it_is_auth_error(api: Api, service: Service) -> None:
    make_action(service, action_id="a")
    assert_error(trigger(api, "a"), 401, "auth_error")
    assert_error(trigger(api.as_("sk_unknown"), "a"), 401, "auth_error")
    assert not ActionTrigger.objects.exists()


def test_an_unknown_action_is_not_found(service_api: Api) -> None:
    assert_error(trigger(service_api, "nothing"), 404, "not_found")


def test_another_services_action_is_not_found(client: Client, service_api: Api, receiver: Receiver) -> None:
    theirs = ActionFactory(action_id="theirs", target_url=receiver.url("/ok"))

    assert_error(trigger(service_api, "theirs"), 404, "not_found")

    assert receiver.requests == []
    assert not ActionTrigger.objects.exists()
    assert trigger(Api(client, service_key_for(theirs.service)), "theirs").json()["status"] == "triggered"


def test_a_malformed_id_is_a_parameter_error(service_api: Api) -> None:
    error = assert_error(trigger(service_api, "Not_Valid"), 400, "parameter_error")
    assert error["location"] == "path.id"


def test_not_found_comes_before_a_bad_body(service_api: Api) -> None:
    assert_error(trigger(service_api, "nothing", {"decision": 1}), 404, "not_found")


# ---------------------------------------------------------------------------------------------
# Idempotency-Key


def test_a_retry_with_the_key_returns_the_stored_result_without_sending(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, action_id="a")
    headers = {"Idempotency-Key": "order-42"}
    body = {"decision": True, "payload": {"order": 42}}

    first = trigger(service_api, "a", body, headers=headers)
    # The same request, spelled differently, is the same request.
    again = service_api.post(
        "/actions/a/trigger", raw='{"payload":{"order":42},  "decision":true}', headers=headers
    )

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "triggered"
    assert again.json() == first.json()
    assert len(receiver.requests) == 1
    row = ActionTrigger.objects.get()
    assert row.idempotency_key == "order-42"
    assert row.status == TriggerStatus.TRIGGERED


def test_a_failed_result_is_replayed_too(service_api: Api, service: Service, receiver: Receiver) -> None:
    make_action(service, receiver, "/error", action_id="a")
    headers = {"Idempotency-Key": "k"}
    first = trigger(service_api, "a", headers=headers)
    again = trigger(service_api, "a", headers=headers)
    assert first.json()["status"] == "failed"
    assert again.json() == first.json()
    assert len(receiver.requests) == 1


def test_a_replay_keeps_the_version_it_was_answered_with(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    service_api.put("/actions/a", {"target_url": receiver.url("/ok")})
    first = trigger(service_api, "a", headers={"Idempotency-Key": "k"}).json()
    service_api.put("/actions/a", {"target_url": receiver.url("/ok"), "timeout_ms": 1000})

    again = trigger(service_api, "a", headers={"Idempotency-Key": "k"}).json()

    assert again == first
    assert again["action_version"] == "1"


@pytest.mark.parametrize("body", [{"dry_run": True}, {"decision": False}])
def test_results_that_send_nothing_are_replayed(
    service_api: Api, service: Service, receiver: Receiver, body: dict[str, Any]
) -> None:
    make_action(service, receiver, action_id="a")
    first = trigger(service_api, "a", body, headers={"Idempotency-Key": "k"})
    again = trigger(service_api, "a", body, headers={"Idempotency-Key": "k"})
    assert first.json()["status"] in {"would_trigger", "skipped"}
    assert again.json() == first.json()
    assert ActionTrigger.objects.count() == 1
    assert receiver.requests == []


@pytest.mark.parametrize(
    "second",
    [
        {"decision": False},
        {"decision": True, "dry_run": True},
        {"decision": True, "payload": {"order": 43}},
    ],
)
def test_the_key_with_a_different_body_is_a_conflict(
    service_api: Api, service: Service, receiver: Receiver, second: dict[str, Any]
) -> None:
    make_action(service, receiver, action_id="a")
    headers = {"Idempotency-Key": "k"}
    trigger(service_api, "a", {"decision": True, "payload": {"order": 42}}, headers=headers)

    error = assert_error(trigger(service_api, "a", second, headers=headers), 409, "conflict")

    assert error["suggestion"]
    assert len(receiver.requests) == 1
    assert ActionTrigger.objects.count() == 1


def test_the_key_for_another_action_is_a_conflict(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, action_id="a")
    make_action(service, receiver, action_id="b")
    trigger(service_api, "a", headers={"Idempotency-Key": "k"})
    assert_error(trigger(service_api, "b", headers={"Idempotency-Key": "k"}), 409, "conflict")
    assert len(receiver.requests) == 1


def test_keys_belong_to_their_service(
    client: Client, service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, action_id="a")
    other = ActionFactory(action_id="a", target_url=receiver.url("/ok"))
    other_api = Api(client, service_key_for(other.service))

    trigger(service_api, "a", headers={"Idempotency-Key": "k"})
    response = trigger(other_api, "a", headers={"Idempotency-Key": "k"})

    assert response.json()["status"] == "triggered"
    assert len(receiver.requests) == 2


def test_a_key_in_progress_is_a_conflict(service_api: Api, service: Service, receiver: Receiver) -> None:
    make_action(service, receiver, action_id="a")
    trigger(service_api, "a", headers={"Idempotency-Key": "k"})
    # As the row stands while its first request is still sending.
    ActionTrigger.objects.update(status=TriggerStatus.IN_PROGRESS, payload_sent=None)

    error = assert_error(trigger(service_api, "a", headers={"Idempotency-Key": "k"}), 409, "conflict")

    assert "in progress" in error["message"]
    assert len(receiver.requests) == 1


def test_a_key_abandoned_mid_send_is_recorded_failed_and_never_sent_again(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, action_id="a")
    trigger(service_api, "a", headers={"Idempotency-Key": "k"})
    # As a process that died mid-send leaves the row, past the action's timeout and the grace.
    ActionTrigger.objects.update(
        status=TriggerStatus.IN_PROGRESS, payload_sent=None, created_at=timezone.now() - timedelta(minutes=2)
    )

    response = trigger(service_api, "a", headers={"Idempotency-Key": "k"})
    again = trigger(service_api, "a", headers={"Idempotency-Key": "k"})

    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "failed"
    assert result["error"]["error"]["type"] == "execution_error"
    assert "unknown" in result["error"]["error"]["message"]
    assert again.json() == result
    assert len(receiver.requests) == 1
    assert ActionTrigger.objects.get().status == TriggerStatus.FAILED


def test_a_key_older_than_24_hours_is_new(service_api: Api, service: Service, receiver: Receiver) -> None:
    make_action(service, receiver, action_id="a")
    trigger(service_api, "a", headers={"Idempotency-Key": "k"})
    old = ActionTrigger.objects.get()
    old.created_at = old.created_at - timedelta(hours=24, seconds=1)
    old.save(update_fields=["created_at"])

    # Even a different body is accepted: the old use of the key has lapsed.
    again = trigger(service_api, "a", {"payload": {"x": 1}}, headers={"Idempotency-Key": "k"}).json()

    assert again["status"] == "triggered"
    assert len(receiver.requests) == 2
    assert ActionTrigger.objects.count() == 2
    assert ActionTrigger.objects.get(idempotency_key="k").payload_sent == again["payload_sent"]


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there", "new\x7fline"])
def test_a_malformed_key_is_a_parameter_error(
    service_api: Api, service: Service, receiver: Receiver, key: str
) -> None:
    make_action(service, receiver, action_id="a")

    error = assert_error(trigger(service_api, "a", headers={"Idempotency-Key": key}), 400, "parameter_error")

    assert error["location"] == "header.Idempotency-Key"
    assert error["suggestion"]
    assert receiver.requests == []


@pytest.mark.parametrize("key", ["x", "x" * 255, "a b ~!@#$%^&*()", "550e8400-e29b-41d4-a716-446655440000"])
def test_a_well_formed_key_is_accepted(service_api: Api, service: Service, key: str) -> None:
    make_action(service, action_id="a")
    response = trigger(service_api, "a", {"dry_run": True}, headers={"Idempotency-Key": key})
    assert response.json()["status"] == "would_trigger"
    assert ActionTrigger.objects.get().idempotency_key == key


# ---------------------------------------------------------------------------------------------
# rate limit


def test_beyond_the_rate_it_is_rate_limit_exceeded_with_retry_after(
    client: Client, service_api: Api, service: Service, settings: SettingsWrapper
) -> None:
    # Per hour, so the window does not roll over in the middle of the test.
    settings.ACTIONS_TRIGGER_RATE = "3/h"
    make_action(service, action_id="a")
    # Every trigger request counts: dry runs, unknown actions and bad bodies too.
    assert trigger(service_api, "a", {"dry_run": True}).status_code == 200
    assert trigger(service_api, "nothing").status_code == 404
    assert trigger(service_api, "a", {"dry_run": 1}).status_code == 400

    response = trigger(service_api, "a", {"dry_run": True})

    assert_error(response, 429, "rate_limit_exceeded")
    assert 1 <= int(response["Retry-After"]) <= 3600
    # Checked before the action is looked up or the body read.
    assert_error(trigger(service_api, "nothing"), 429, "rate_limit_exceeded")
    assert_error(trigger(service_api, "a", {"dry_run": 1}), 429, "rate_limit_exceeded")
    assert ActionTrigger.objects.count() == 1

    # Another service has its own budget; PUT and GET are not counted.
    other = ActionFactory(action_id="a")
    assert trigger(Api(client, service_key_for(other.service)), "a", {"dry_run": True}).status_code == 200
    assert service_api.get("/actions/a").status_code == 200


def test_an_unauthenticated_request_is_401_not_429(
    api: Api, service_api: Api, service: Service, settings: SettingsWrapper
) -> None:
    settings.ACTIONS_TRIGGER_RATE = "1/h"
    make_action(service, action_id="a")
    trigger(service_api, "a", {"dry_run": True})
    assert_error(trigger(api, "a", {"dry_run": True}), 401, "auth_error")
    assert_error(trigger(service_api, "a", {"dry_run": True}), 429, "rate_limit_exceeded")


def test_the_payload_is_sent_as_one_json_serialization(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    make_action(service, receiver, action_id="a")
    payload = {"text": "caf\u00e9 \u2603", "n": 1.5, "nested": [1, None, {"k": "v"}]}

    result = trigger(service_api, "a", {"payload": payload}).json()

    assert json.loads(receiver.requests[0].body) == result["payload_sent"]
    assert result["payload_sent"]["payload"] == payload
