"""After an erasure or a purge, what went is nowhere: not in any column of any table (the
database's own catalogue, so tables added later are scanned too), not in any log line."""

import logging
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from pytest_django.fixtures import Settings

from actions.models import ActionExecution
from config.api.logging import JsonFormatter
from config.outbound.models import WebhookEvent
from config.outbound.services import webhook_enqueue
from notifications.models import Notification
from tests.factories import DeliveryAttemptFactory
from tests.helpers import Api
from tests.reliability import world
from tests.reliability.conftest import Gunicorn
from tests.reliability.scan import database_holding, text_holding

VISITOR = "visitor-erase-me-5d1e"
ERROR_TEXT = "the form said: call Zelda back"
SIGNAL = "signal-erase-me"
# What an erasure must leave nowhere: the id, the personal data in clear and masked forms alike.
ERASED = (VISITOR, ERROR_TEXT, SIGNAL, *world.CLEAR_VALUES)

Call = Callable[[str, str, Any, str | None], tuple[int, Any]]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record as the server writes it: a JSON line with all its fields."""
    return "\n".join(JsonFormatter().format(record) for record in caplog.records)


def visitor_history(call: Call, tenant: world.Tenant) -> list[str]:
    """A visitor's proposals (two conversations), one answered with a message, one left pending."""
    ids, conversation_id = [], None
    for kind in ("contact_form", "newsletter", "booking"):
        body = {
            "visitorId": VISITOR,
            "kind": kind,
            "label": "Send the form",
            "targetUrl": "https://example.com/contact",
            "params": {"name": world.CLEAR_NAME, "email": world.CLEAR_EMAIL, "phone": world.CLEAR_PHONE},
            **({"conversationId": conversation_id} if conversation_id else {}),
        }
        status, created = call("POST", f"/v1/bots/{tenant.bot.pk}/action-executions", body, tenant.key)
        assert status == 201, created
        conversation_id = conversation_id or created["data"]["conversationId"]
        ids.append(created["id"])
    status, _ = call(
        "POST",
        f"/v1/public/actions/{ids[0]}/result",
        {"result": "failure", "error": ERROR_TEXT, "contactMetadata": {"signalSource": SIGNAL}},
        None,
    )
    assert status == 200
    status, _ = call(
        "POST",
        f"/v1/bots/{tenant.bot.pk}/action-executions",
        {"visitorId": VISITOR, "kind": "booking", "label": "Book", "targetUrl": "https://example.com/b"},
        tenant.key,
    )
    assert status == 201
    return ids


def erase_and_check(call: Call, tenant: world.Tenant) -> None:
    ids = visitor_history(call, tenant)
    assert database_holding([VISITOR, ERROR_TEXT, SIGNAL]), "the scan must see what is there"
    status, body = call("DELETE", f"/v1/bots/{tenant.bot.pk}/visitors/{VISITOR}", None, tenant.key)
    assert status == 200, body
    assert body["erased"] == {"executions": 4, "conversations": 2, "messages": 1}
    for execution_id in ids:
        status, _ = call(
            "GET", f"/v1/bots/{tenant.bot.pk}/action-executions/{execution_id}", None, tenant.key
        )
        assert status == 404
    assert database_holding(ERASED) == {}


@pytest.mark.django_db
def test_an_erased_visitor_is_in_no_table_and_no_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = world.tenant()

    def call(method: str, path: str, body: Any, credential: str | None) -> tuple[int, Any]:
        response = (
            api.as_(credential).get(path) if method == "GET" else api.as_(credential).send(method, path, body)
        )
        return response.status_code, response.json()

    erase_and_check(call, tenant)
    lines = logged(caplog)
    assert "/visitors/REDACTED" in lines  # the request's line is there, its visitor id is not
    assert text_holding(lines, ERASED) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_erased_visitor_is_in_no_line_of_a_real_servers_log(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    log_start = gunicorn.log_size()

    def call(method: str, path: str, body: Any, credential: str | None) -> tuple[int, Any]:
        headers = world.bearer(credential) if credential else {}
        response = requests.request(method, f"{gunicorn.url}{path}", json=body, headers=headers, timeout=30)
        return response.status_code, response.json()

    erase_and_check(call, tenant)
    server_log = gunicorn.log_since(log_start)
    assert "/visitors/REDACTED" in server_log, server_log[-2000:]
    assert text_holding(server_log, ERASED) == []


# Purge

PAYLOAD_VALUE = "payload-purge-me-77"
ANSWER_BODY = "answer-body-purge-me-78"
TITLE = "Refund order purge-me-79?"
METADATA_VALUE = "ticket-purge-me-80"
ANSWER_TEXT = "because purge-me-81"
EXECUTION_ERROR = "execution-error-purge-me-82"
PURGED = (PAYLOAD_VALUE, ANSWER_BODY, TITLE, METADATA_VALUE, ANSWER_TEXT, EXECUTION_ERROR, SIGNAL)


@pytest.mark.django_db
def test_purged_data_is_in_no_table_and_no_log_line(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.RETAIN_NOTIFICATIONS = "7d"
    settings.RETAIN_EXECUTIONS = "7d"
    tenant = world.tenant()
    long_ago = timezone.now() - timedelta(days=40)

    # A delivered webhook whose payload and answer were kept.
    event = webhook_enqueue(service=tenant.service, event_type="test.event", payload={"value": PAYLOAD_VALUE})
    WebhookEvent.objects.filter(pk=event.pk).update(status="delivered", delivered_at=long_ago)
    DeliveryAttemptFactory(event=event, started_at=long_ago, status_code=200, response_body=ANSWER_BODY)

    # A notification answered by a person, over the API.
    created = api.as_(tenant.key).post(
        "/api/v1/notifications",
        {
            "recipient": tenant.person.username,
            "title": TITLE,
            "metadata": {"ticket": METADATA_VALUE},
            "actions": [{"id": "why", "label": "Why?", "response_type": "text"}],
        },
    )
    assert created.status_code == 201, created.content
    notification_id = created.json()["notification_id"]
    answer = {"notification_id": notification_id, "action_id": "why", "response_data": ANSWER_TEXT}
    assert api.as_(tenant.token).post("/api/v1/client/respond", answer).status_code == 200
    Notification.objects.filter(pk=notification_id).update(responded_at=long_ago)

    # An execution the visitor's browser answered.
    execution = world.execution(tenant)
    result = {"result": "failure", "error": EXECUTION_ERROR, "contactMetadata": {"signalSource": SIGNAL}}
    assert api.post(f"/v1/public/actions/{execution.pk}/result", result).status_code == 200
    ActionExecution.objects.filter(pk=execution.pk).update(completed_at=long_ago)

    assert set(database_holding(PURGED)) == set(PURGED), "the scan must see what is there"
    out = StringIO()
    call_command("purge_data", stdout=out)
    assert "webhook_payloads: 1 purged" in out.getvalue()
    assert "notifications: 1 purged" in out.getvalue() and "executions: 1 purged" in out.getvalue()

    assert database_holding(PURGED) == {}
    assert text_holding(logged(caplog) + out.getvalue(), PURGED) == []
    # What the retention keeps: the event's record and its attempt's time and status.
    event.refresh_from_db()
    assert event.status == "delivered" and event.attempts.get().status_code == 200
