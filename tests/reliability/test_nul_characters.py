"""U+0000 is valid JSON but PostgreSQL stores it in neither text nor jsonb: a body carrying it must
be a 400 on every database, never a 500 after half the work (a trigger already sent, say)."""

from collections.abc import Callable
from typing import Any

import pytest
from pytest_django import Settings

from tests.helpers import Api, assert_error
from tests.reliability import world
from tests.reliability.receiver import SwitchableReceiver

pytestmark = pytest.mark.django_db(transaction=True)

NUL = "a\u0000b"
Case = Callable[[world.Tenant, str], tuple[str, str, dict[str, Any], str, int, str]]


def widget_params_value(t: world.Tenant, url: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {
        "visitorId": "v",
        "kind": "booking",
        "label": "L",
        "targetUrl": "https://example.com/",
        "params": {"a": NUL},
    }
    return "POST", f"/v1/bots/{t.bot.pk}/action-executions", body, t.key, 400, "INVALID_REQUEST"


def widget_params_key(t: world.Tenant, url: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {
        "visitorId": "v",
        "kind": "contact_form",
        "label": "L",
        "targetUrl": "https://example.com/",
        "params": {"list": [{NUL: 1}]},
    }
    return "POST", f"/v1/bots/{t.bot.pk}/action-executions", body, t.key, 400, "INVALID_REQUEST"


def trigger_payload(t: world.Tenant, url: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    world.action(t, action_id="nul", target_url=url)
    return "POST", "/actions/nul/trigger", {"payload": {"deep": [NUL]}}, t.key, 400, "syntax_error"


def notification_metadata(t: world.Tenant, url: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    body = {"recipient": t.person.username, "title": "T", "metadata": {"a": NUL}, "actions": [world.APPROVE]}
    return "POST", "/api/v1/notifications", body, t.key, 400, "INVALID_REQUEST"


def notification_option(t: world.Tenant, url: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    actions = [
        {"id": "c", "label": "C", "response_type": "choice", "options": [{"value": NUL, "label": "x"}]}
    ]
    body = {"recipient": t.person.username, "title": "T", "actions": actions}
    return "POST", "/api/v1/notifications", body, t.key, 400, "INVALID_REQUEST"


def text_answer(t: world.Tenant, url: str) -> tuple[str, str, dict[str, Any], str, int, str]:
    notification = world.notification(t, actions=[{"id": "t", "label": "T", "response_type": "text"}])
    body = {"notification_id": str(notification.pk), "action_id": "t", "response_data": NUL}
    return "POST", "/api/v1/client/respond", body, t.token, 400, "INVALID_REQUEST"


@pytest.mark.parametrize(
    "case",
    [
        widget_params_value,
        widget_params_key,
        trigger_payload,
        notification_metadata,
        notification_option,
        text_answer,
    ],
)
def test_a_nul_character_is_a_400_and_nothing_is_sent(
    api: Api, settings: Settings, switchable_receiver: SwitchableReceiver, case: Case
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    tenant = world.tenant()
    method, path, body, credential, status, code = case(tenant, switchable_receiver.url)

    response = api.as_(credential).send(method, path, body)

    assert_error(response, status, code)
    assert switchable_receiver.arrivals == 0
