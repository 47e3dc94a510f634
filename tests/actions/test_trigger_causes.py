"""What a trigger records for the admin's trigger page (issue 18): the payload the service sent,
and the precise cause of a failure, naming where it went (host:port)."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from actions.models import ActionTrigger
from config.accounts.models import Service
from tests.actions.trigger_factories import ActionFactory, Receiver, running_receiver, unused_port
from tests.helpers import Api
from tests.outbound.receivers import Receiver as OutboundReceiver
from tests.outbound.receivers import answering, resetting

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
    assert row.failure_cause == f"connection refused to 127.0.0.1:{port}"
    assert row.failure_cause in row.error["error"]["message"]
    assert row.request_payload == PAYLOAD


def test_a_non_2xx_answer_names_its_status(service_api: Api, service: Service, receiver: Receiver) -> None:
    row = trigger(service_api, service, receiver.url("/error"), {"payload": PAYLOAD})
    assert row.failure_cause == f"{receiver.url('/').split('//')[1].rstrip('/')} answered 500"
    assert row.request_payload == PAYLOAD


def test_a_timeout_says_after_how_long(service_api: Api, service: Service, receiver: Receiver) -> None:
    row = trigger(service_api, service, receiver.url("/slow"), {}, timeout_ms=200)
    assert (
        row.failure_cause
        == f"timed out after 200 ms waiting for {receiver.url('/').split('//')[1].rstrip('/')}"
    )
    assert row.request_payload is None


def test_a_sent_trigger_and_a_dry_run_record_no_cause_and_keep_the_payload(
    service_api: Api, service: Service, receiver: Receiver
) -> None:
    row = trigger(service_api, service, receiver.url("/ok"), {"payload": PAYLOAD})
    assert row.status == "triggered" and row.failure_cause == "" and row.request_payload == PAYLOAD
    service_api.post("/actions/a/trigger", {"payload": {"dry": True}, "dry_run": True})
    dry = ActionTrigger.objects.get(dry_run=True)
    assert dry.status == "would_trigger" and dry.request_payload == {"dry": True}


@contextmanager
def target(kind: str) -> Iterator[tuple[str, str]]:
    """A real destination failing in one way: (its URL, the cause a trigger to it records)."""
    if kind == "refused":
        port = unused_port()
        yield f"http://127.0.0.1:{port}/hook", f"connection refused to 127.0.0.1:{port}"
    elif kind == "unresolvable":
        yield "https://nonexistent.invalid/hook", "could not resolve nonexistent.invalid"
    elif kind == "never answers":
        # Listening (so the connection is made) and never reading nor answering.
        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            yield f"http://127.0.0.1:{port}/hook", f"timed out after 200 ms waiting for 127.0.0.1:{port}"
    else:
        receiver = OutboundReceiver(resetting if kind == "reset" else answering(502))
        where = f"127.0.0.1:{receiver.server.server_port}"
        try:
            yield (
                receiver.url,
                (f"connection reset by {where}" if kind == "reset" else f"{where} answered 502"),
            )
        finally:
            receiver.close()


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [
        ("refused", "execution_error"),
        ("reset", "execution_error"),
        ("unresolvable", "execution_error"),
        ("never answers", "execution_timeout"),
        ("502", "execution_error"),
    ],
)
def test_each_cause_is_recorded_and_answered_precisely(
    service_api: Api, service: Service, settings: SettingsWrapper, kind: str, error_type: str
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with target(kind) as (url, cause):
        ActionFactory(service=service, action_id="a", target_url=url, timeout_ms=200)
        answer = service_api.post("/actions/a/trigger", {"payload": PAYLOAD}).json()

    assert ActionTrigger.objects.get().failure_cause == cause
    assert answer["error"]["error"]["type"] == error_type
    assert answer["error"]["error"]["message"] == f"Delivery to the target failed: {cause}."


def test_a_refused_destination_says_which_address_was_refused(
    service_api: Api, service: Service, settings: SettingsWrapper
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    row = trigger(service_api, service, "http://user:s3cret@10.0.0.1/hook?token=t0ken", {})

    assert row.failure_cause == "refused 10.0.0.1:80: 10.0.0.1 is not a public address"
    assert row.error["error"]["message"] == f"The target was refused before sending ({row.failure_cause})."


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
