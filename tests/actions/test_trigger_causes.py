"""What a trigger records for the admin's trigger page (issue 18): the payload the service sent,
and the precise cause of a failure, naming where it went (host:port)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from actions.models import ActionTrigger
from actions.services.triggers import failure_cause
from config.accounts.models import Service
from config.outbound.client import ErrorKind, OutboundResult
from tests.actions.trigger_factories import ActionFactory, Receiver, running_receiver, unused_port
from tests.helpers import Api

pytestmark = pytest.mark.django_db

PAYLOAD = {"order": 1042, "note": "returned unopened"}


@pytest.fixture
def receiver(settings: SettingsWrapper) -> Iterator[Receiver]:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with running_receiver(slow_seconds=1.0) as running:
        yield running


def trigger(
    api: Api, service: Service, target_url: str, body: dict[str, Any], **fields: Any
) -> ActionTrigger:
    action = ActionFactory(service=service, action_id="a", target_url=target_url, **fields)
    assert api.post(f"/actions/{action.action_id}/trigger", body).status_code == 200
    return ActionTrigger.objects.get()


def test_a_refused_connection_names_host_and_port(
    service_api: Api, service: Service, settings: SettingsWrapper
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    port = unused_port()
    row = trigger(service_api, service, f"http://127.0.0.1:{port}/hook", {"payload": PAYLOAD})
    assert f"127.0.0.1:{port}" in row.failure_cause
    # The outbound client's own words decide "refused" (see failure_cause); either way, where.
    assert row.failure_cause.startswith(("connection refused to", "could not connect to"))
    assert row.failure_cause in row.error["error"]["message"]
    assert row.request_payload == PAYLOAD


def test_a_non_2xx_answer_names_its_status(service_api: Api, service: Service, receiver: Receiver) -> None:
    row = trigger(service_api, service, receiver.url("/error"), {"payload": PAYLOAD})
    assert row.failure_cause == f"{receiver.url('/').split('//')[1].rstrip('/')} answered 500"
    assert row.request_payload == PAYLOAD


def test_a_timeout_says_after_how_long(service_api: Api, service: Service, receiver: Receiver) -> None:
    row = trigger(service_api, service, receiver.url("/slow"), {}, timeout_ms=200)
    assert row.failure_cause.startswith("timed out after 200 ms waiting for 127.0.0.1:")
    assert row.request_payload is None


def test_a_sent_trigger_and_a_dry_run_record_no_cause_and_keep_the_payload(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    row = trigger(service_api, service, receiver.url("/ok"), {"payload": PAYLOAD})
    assert row.status == "triggered" and row.failure_cause == "" and row.request_payload == PAYLOAD
    service_api.post("/actions/a/trigger", {"payload": {"dry": True}, "dry_run": True})
    dry = ActionTrigger.objects.get(dry_run=True)
    assert dry.status == "would_trigger" and dry.request_payload == {"dry": True}


def outcome(kind: str, error: str = "", status: int | None = None) -> OutboundResult:
    return OutboundResult(
        status_code=status,
        duration_ms=3,
        error_kind=kind,
        error=error,
        body_prefix="",
        retry_after_seconds=None,
    )


@pytest.mark.parametrize(
    ("url", "result", "cause"),
    [
        (
            "https://hooks.example.com/x",
            outcome(ErrorKind.CONNECTION, "NewConnectionError: [Errno 111] Connection refused"),
            "connection refused to hooks.example.com:443",
        ),
        (
            "http://hooks.example.com:8080/x",
            outcome(ErrorKind.CONNECTION, "ProtocolError: Connection reset by peer"),
            "hooks.example.com:8080 closed the connection",
        ),
        (
            "https://nowhere.example/x",
            outcome(ErrorKind.CONNECTION, "NameResolutionError: Failed to resolve 'nowhere.example'"),
            "could not resolve nowhere.example",
        ),
        (
            "https://hooks.example.com/x",
            outcome(ErrorKind.CONNECTION, "ConnectionError: could not complete the request"),
            "could not connect to hooks.example.com:443 (ConnectionError: could not complete the request)",
        ),
        (
            "http://[::1]:9/x",
            outcome(ErrorKind.TIMEOUT, "no answer within 5 s"),
            "timed out after 5000 ms waiting for [::1]:9",
        ),
        (
            "https://h.example.com/x",
            outcome(ErrorKind.HTTP_STATUS, "answered 502", 502),
            "h.example.com:443 answered 502",
        ),
        (
            "https://h.example.com/x",
            outcome(ErrorKind.REDIRECT, "answered 302 (redirects are not followed)", 302),
            "h.example.com:443 answered 302, a redirect (not followed)",
        ),
        (
            "http://10.0.0.1/x",
            outcome(ErrorKind.REFUSED_DESTINATION, "refused: 10.0.0.1 is not a public address"),
            "not sent to 10.0.0.1:80: refused: 10.0.0.1 is not a public address",
        ),
    ],
)
def test_the_cause_in_words(url: str, result: OutboundResult, cause: str) -> None:
    assert failure_cause(url=url, timeout_ms=5000, result=result) == cause


def test_the_trigger_page_shows_the_payload_and_the_cause(
    service_api: Api, service: Service, settings: SettingsWrapper, admin_client: Client
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    port = unused_port()
    row = trigger(service_api, service, f"http://127.0.0.1:{port}/hook", {"payload": PAYLOAD})

    page = admin_client.get(f"/admin/actions/actiontrigger/{row.pk}/change/").content.decode()
    assert "returned unopened" in page and "Payload (as the service sent it)" in page
    assert f"127.0.0.1:{port}" in page and "Why it failed" in page
    listed = admin_client.get("/admin/actions/actiontrigger/").content.decode()
    assert f"127.0.0.1:{port}" in listed
