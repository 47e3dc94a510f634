"""Nothing a caller must keep secret is stored or logged in clear: issued `sk_`/`ut_` secrets live
only as digests, the `whsec_` signing secrets only encrypted, and the personal data of contact
forms nowhere once their results are in (tables and log lines, gunicorn's included)."""

import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from actions.models import ActionExecution
from config.accounts.models import Service
from config.accounts.services import service_key_rotate, user_token_issue
from config.outbound.services import webhooks_deliver_due
from tests.helpers import Api
from tests.outbound.receivers import Receiver, answering
from tests.reliability import world
from tests.reliability.conftest import Gunicorn
from tests.reliability.scan import database_holding, text_holding

SECRET = re.compile(r"\b(?:sk|ut|whsec)_[A-Za-z0-9_\-+/=]{20,}")


def command_json(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_issued_secrets_are_stored_only_as_digests(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    created = command_json("create_service", "scan-me", "--callback-url", "https://hooks.example.com/in")
    service = Service.objects.get(pk=created["service_id"])
    rotated = service_key_rotate(service=service).secret
    cli_token = command_json("issue_token", "scanned-person", "--create")["token"]
    person = get_user_model().objects.create_user(username="logs-in", password="a long enough password 9")
    login = api.post("/api/v1/client/token", {"username": "logs-in", "password": "a long enough password 9"})
    assert login.status_code == 200, login.content
    api_token = login.json()["token"]
    direct_token = user_token_issue(user=person).secret
    other = world.tenant()
    secrets = [created["api_key"], rotated, cli_token, api_token, direct_token, other.key, other.token]
    assert all(SECRET.fullmatch(secret) for secret in secrets), secrets

    # Use them all, the refused ones included: request logs must not carry them either.
    notification = world.notification(other)
    assert api.as_(rotated).get(f"/api/v1/notifications/{notification.pk}").status_code == 404
    assert api.as_(created["api_key"]).get("/actions/some-action").status_code == 401
    assert api.as_(other.key).get(f"/api/v1/notifications/{notification.pk}").status_code == 200
    for token in (cli_token, api_token, direct_token, other.token):
        assert api.as_(token).get("/api/v1/client/notifications").status_code == 200
    respond = {"notification_id": str(notification.pk), "action_id": "approve", "response_data": True}
    assert api.as_(other.token).post("/api/v1/client/respond", respond).status_code == 200

    assert database_holding(secrets) == {}
    webhook_secrets = [created["webhook_secret"], other.service.webhook_secret]
    assert database_holding(webhook_secrets) == {}
    assert text_holding(caplog.text, secrets + webhook_secrets) == []
    assert SECRET.search(caplog.text) is None, SECRET.search(caplog.text)


@pytest.mark.django_db
def test_no_table_holds_a_webhook_secret_in_clear(
    api: Api, client: Client, caplog: pytest.LogCaptureFixture, settings: Settings
) -> None:
    """Every column of every table (the database's own catalogue), after secrets were issued,
    rotated by the API and the admin, used to sign webhooks and re-encrypted under a new key."""
    caplog.set_level(logging.DEBUG)
    settings.OUTBOUND_ALLOW_PRIVATE = True
    receiver = Receiver(answering(204))
    try:
        created = command_json("create_service", "signs-webhooks", "--callback-url", receiver.url)
        rotated = api.as_(created["api_key"]).post("/api/v1/webhook-secret/rotate").json()["webhook_secret"]
        other = world.tenant(callback_url=receiver.url)
        notification = world.notification(other)
        respond = {"notification_id": str(notification.pk), "action_id": "approve", "response_data": True}
        assert api.as_(other.token).post("/api/v1/client/respond", respond).status_code == 200
        client.force_login(get_user_model().objects.create_superuser(username="rotates", password="x-9-long"))
        page = client.post(
            "/admin/accounts/service/",
            {
                "action": "rotate_webhook_secret",
                "_selected_action": [str(other.service.pk)],
                "confirm": "yes",
            },
        )
        assert page.status_code == 200
        webhooks_deliver_due()
        assert receiver.count == 1
        settings.WEBHOOK_SECRET_KEYS = [Fernet.generate_key().decode(), *settings.WEBHOOK_SECRET_KEYS]
        command_json("rotate_webhook_encryption")
    finally:
        receiver.close()

    secrets = [
        created["webhook_secret"],
        rotated,
        *Service.objects.get(pk=other.service.pk).signing_secrets(now=timezone.now()),
    ]
    assert len(set(secrets)) == 4
    assert database_holding(["whsec_", *secrets]) == {}
    assert text_holding(caplog.text, [*secrets, "whsec_"]) == []


# --------------------------------------------------------------------------------------------
# Personal data of contact forms

Call = Callable[[str, str, Any, str | None], tuple[int, Any]]


def contact_form_flow(call: Call, tenant: world.Tenant) -> list[str]:
    """Proposals with personal data, then every kind of ending; the execution ids."""
    params = {
        "name": world.CLEAR_NAME,
        "email": world.CLEAR_EMAIL,
        "phone": world.CLEAR_PHONE,
        "extra": [world.CLEAR_EMAIL, {"again": world.CLEAR_PHONE}],
    }
    ids = []
    for index, (kind, result) in enumerate(
        [
            ("contact_form", "success"),
            ("contact_form", "failure"),
            ("newsletter", "cancelled"),
            ("newsletter", "success"),
            ("contact_form", None),  # never answered: expired by the sweep
        ]
    ):
        status, body = call(
            "POST",
            f"/v1/bots/{tenant.bot.pk}/action-executions",
            {
                "visitorId": f"visitor-{index}",
                "kind": kind,
                "label": "Send the form",
                "targetUrl": "https://example.com/contact",
                "params": params,
            },
            tenant.key,
        )
        assert status == 201, body
        execution_id = body["id"]
        ids.append(execution_id)
        if result is not None:
            status, body = call(
                "POST",
                f"/v1/public/actions/{execution_id}/result",
                {
                    "result": result,
                    "contactMetadata": {"deliveryStatus": "delivered", "signalSource": "network_200"},
                },
                None,
            )
            assert status == 200, body
    ActionExecution.objects.filter(result__isnull=True).update(created_at=timezone.now() - timedelta(days=2))
    call_command("expire_executions", "--older-than", "24h", stdout=StringIO())
    for execution_id in ids:
        status, body = call(
            "GET", f"/v1/bots/{tenant.bot.pk}/action-executions/{execution_id}", None, tenant.key
        )
        assert status == 200, body
        assert body["params"]["email"] == "z***@reliability.example"
        assert body["params"]["phone"] == "+** ** **** **58"
        assert body["result"] is not None
    return ids


def assert_no_clear_personal_data(*logs: str) -> None:
    assert database_holding(world.CLEAR_VALUES) == {}
    for log in logs:
        assert text_holding(log, world.CLEAR_VALUES) == []


@pytest.mark.django_db
def test_contact_form_personal_data_is_nowhere_in_clear(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = world.tenant()

    def call(method: str, path: str, body: Any, credential: str | None) -> tuple[int, Any]:
        response = api.as_(credential).get(path) if method == "GET" else api.as_(credential).post(path, body)
        return response.status_code, response.json()

    contact_form_flow(call, tenant)
    assert_no_clear_personal_data(caplog.text)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_contact_form_personal_data_is_nowhere_in_clear_on_a_real_server(
    gunicorn: Gunicorn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = world.tenant()
    log_start = gunicorn.log_size()

    def call(method: str, path: str, body: Any, credential: str | None) -> tuple[int, Any]:
        headers = world.bearer(credential) if credential else {}
        response = requests.request(method, f"{gunicorn.url}{path}", json=body, headers=headers, timeout=30)
        return response.status_code, response.json()

    ids = contact_form_flow(call, tenant)
    server_log = gunicorn.log_since(log_start)
    # The log did record these requests (so it was the right log to search).
    assert all(execution_id in server_log for execution_id in ids), server_log[-2000:]
    assert_no_clear_personal_data(caplog.text, server_log)
