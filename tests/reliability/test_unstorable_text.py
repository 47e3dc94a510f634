"""U+0000 and a lone UTF-16 surrogate are valid JSON escapes but no storable text: PostgreSQL
stores neither in text or jsonb, and a lone surrogate cannot even be encoded as UTF-8. A body
carrying either, anywhere, is refused as unparseable on every database, before anything is stored,
sent or logged, never a 500 after half the work (a trigger already sent, say). A surrogate pair
(an emoji) is ordinary text."""

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from pytest_django import Settings

from actions.models import ActionExecution, ActionTrigger
from conversations.models import Bot
from notifications.models import Notification
from tests.helpers import Api, assert_error
from tests.reliability import world
from tests.reliability.receiver import SwitchableReceiver
from tests.reliability.scan import text_holding

pytestmark = pytest.mark.django_db(transaction=True)

# Every spelling of a lone surrogate is tried once below, on one endpoint.
UNSTORABLE = {"nul": "a\u0000b", "lone surrogate": "a\ud800b"}
Case = Callable[[world.Tenant, str, str], tuple[str, str, dict[str, Any], str, int, str]]


def widget_params_value(
    t: world.Tenant, url: str, bad: str
) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {
        "visitorId": "v",
        "kind": "contact_form",
        "label": "L",
        "targetUrl": "https://example.com/",
        "params": {"email": world.CLEAR_EMAIL, "phone": world.CLEAR_PHONE, "message": bad},
    }
    return "POST", f"/v1/bots/{t.bot.pk}/action-executions", body, t.key, 400, "INVALID_REQUEST"


def widget_params_key(t: world.Tenant, url: str, bad: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {
        "visitorId": "v",
        "kind": "contact_form",
        "label": "L",
        "targetUrl": "https://example.com/",
        "params": {"list": [{bad: 1}]},
    }
    return "POST", f"/v1/bots/{t.bot.pk}/action-executions", body, t.key, 400, "INVALID_REQUEST"


def widget_result_error(
    t: world.Tenant, url: str, bad: str
) -> tuple[str, str, dict[str, Any], str, int, str]:
    execution = world.execution(t)
    body = {"result": "failure", "error": bad}
    return "POST", f"/v1/public/actions/{execution.pk}/result", body, "", 400, "INVALID_REQUEST"


def bot_allowlist(t: world.Tenant, url: str, bad: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {"allowedTargets": [f"https://{bad}.example.com"]}
    return "PATCH", f"/v1/bots/{t.bot.pk}", body, t.key, 400, "INVALID_REQUEST"


def trigger_payload(t: world.Tenant, url: str, bad: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    world.action(t, action_id="unstorable", target_url=url)
    return "POST", "/actions/unstorable/trigger", {"payload": {"deep": [bad]}}, t.key, 400, "syntax_error"


def notification_metadata(
    t: world.Tenant, url: str, bad: str
) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {"recipient": t.person.username, "title": "T", "metadata": {"a": bad}, "actions": [world.APPROVE]}
    return "POST", "/api/v1/notifications", body, t.key, 400, "INVALID_REQUEST"


def notification_option(
    t: world.Tenant, url: str, bad: str
) -> tuple[str, str, dict[str, Any], str, int, str]:
    actions = [
        {"id": "c", "label": "C", "response_type": "choice", "options": [{"value": bad, "label": "x"}]}
    ]
    body = {"recipient": t.person.username, "title": "T", "actions": actions}
    return "POST", "/api/v1/notifications", body, t.key, 400, "INVALID_REQUEST"


def text_answer(t: world.Tenant, url: str, bad: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    notification = world.notification(t, actions=[{"id": "t", "label": "T", "response_type": "text"}])
    body = {"notification_id": str(notification.pk), "action_id": "t", "response_data": bad}
    return "POST", "/api/v1/client/respond", body, t.token, 400, "INVALID_REQUEST"


def login(t: world.Tenant, url: str, bad: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    return "POST", "/api/v1/client/token", {"username": bad, "password": bad}, "", 400, "INVALID_REQUEST"


def stored() -> dict[str, Any]:
    """What the refused requests could have changed."""
    return {
        "executions": sorted(ActionExecution.objects.values_list("pk", "result", "error")),
        "bots": sorted(
            (str(pk), targets) for pk, targets in Bot.objects.values_list("pk", "allowed_targets")
        ),
        "notifications": sorted(Notification.objects.values_list("pk", "status")),
        "triggers": ActionTrigger.objects.count(),
    }


@pytest.mark.parametrize("bad", list(UNSTORABLE.values()), ids=list(UNSTORABLE))
@pytest.mark.parametrize(
    "case",
    [
        widget_params_value,
        widget_params_key,
        widget_result_error,
        bot_allowlist,
        trigger_payload,
        notification_metadata,
        notification_option,
        text_answer,
        login,
    ],
)
def test_unstorable_text_is_a_400_and_nothing_is_stored_sent_or_logged(
    api: Api,
    settings: Settings,
    switchable_receiver: SwitchableReceiver,
    caplog: pytest.LogCaptureFixture,
    case: Case,
    bad: str,
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    caplog.set_level(logging.DEBUG)
    tenant = world.tenant()
    method, path, body, credential, status, code = case(tenant, switchable_receiver.url, bad)
    before = stored()

    response = api.as_(credential or None).send(method, path, body)

    assert_error(response, status, code)
    assert switchable_receiver.arrivals == 0
    assert stored() == before
    assert text_holding(caplog.text, world.CLEAR_VALUES) == []


@pytest.mark.parametrize(
    "spelling", ["\\ud800", "\\uD800", "\\udbff\\u0041", "\\udfff", "\\ude00\\ud83d", "\\ud83d\\ud83d\\ude00"]
)
def test_a_lone_surrogate_escape_in_any_spelling_is_refused(api: Api, spelling: str) -> None:
    raw = '{"username": "a' + spelling + '", "password": "b"}'
    assert_error(api.post("/api/v1/client/token", raw=raw), 400, "INVALID_REQUEST")


def test_a_lone_surrogate_encoded_in_the_bytes_is_refused(api: Api) -> None:
    # UTF-8's encoding of U+D800 (which strict UTF-8 forbids), not an escape.
    raw = b'{"username": "a\xed\xa0\x80", "password": "b"}'
    assert_error(api.post("/api/v1/client/token", raw=raw), 400, "INVALID_REQUEST")


def test_a_trigger_refused_for_a_surrogate_leaves_its_idempotency_key_free(
    api: Api, settings: Settings, switchable_receiver: SwitchableReceiver
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    tenant = world.tenant()
    world.action(tenant, action_id="retry-me", target_url=switchable_receiver.url)
    headers = {"Idempotency-Key": "order-1"}
    trigger = api.as_(tenant.key)

    refused = trigger.post("/actions/retry-me/trigger", {"payload": {"a": "\ud800"}}, headers=headers)
    retried = trigger.post("/actions/retry-me/trigger", {"payload": {"a": "ok"}}, headers=headers)

    assert_error(refused, 400, "syntax_error")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "triggered"
    assert switchable_receiver.wait_for_arrival(1)
    assert switchable_receiver.arrivals == 1


def test_a_surrogate_pair_is_ordinary_text(api: Api) -> None:
    tenant = world.tenant()
    notification = world.notification(tenant, actions=[{"id": "t", "label": "T", "response_type": "text"}])
    # json.dumps escapes the emoji as the pair \ud83d\ude00.
    raw = json.dumps({"notification_id": str(notification.pk), "action_id": "t", "response_data": "ok 😀"})
    assert "\\ud83d\\ude00" in raw

    response = api.as_(tenant.token).post("/api/v1/client/respond", raw=raw)

    assert response.status_code == 200, response.content
    notification.refresh_from_db()
    assert notification.response_data == "ok 😀"
