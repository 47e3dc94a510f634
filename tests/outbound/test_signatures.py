"""Signatures as receivers check them (contract 5 and 10): every request the server sends is
verified by the Standard Webhooks libraries, in Python and in TypeScript (run with node), with
the service's secret; after a rotation, with either secret during WEBHOOK_SECRET_OVERLAP and with
the new one only after it."""

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings
from standardwebhooks import Webhook, WebhookVerificationError

from config.accounts.models import Service
from config.accounts.services import service_webhook_secret_rotate
from config.outbound.services import Outcome, webhook_deliver_next, webhook_enqueue
from tests.factories import ServiceFactory
from tests.outbound.receivers import Received, Receiver, Respond, answering

TYPESCRIPT = Path(__file__).parent / "typescript"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="no node on PATH (apt-get install nodejs npm)")

pytestmark = pytest.mark.django_db


def python_verifies(received: Received, secret: str) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


def typescript_verifies(received: Received, secret: str) -> bool:
    """The TypeScript `standardwebhooks` package verifies it (tests/outbound/typescript)."""
    assert NODE is not None
    assert (TYPESCRIPT / "node_modules" / "standardwebhooks").is_dir(), "run `make test` (npm ci) first"
    headers = {name.lower(): value for name, value in received.headers.items()}
    given = json.dumps({"secret": secret, "headers": headers, "body": received.body.decode()})
    done = subprocess.run(
        [NODE, "verify.mjs"],
        cwd=TYPESCRIPT,
        input=given,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return bool(json.loads(done.stdout)["ok"])


def verifiers(received: Received, secret: str) -> tuple[bool, bool]:
    return python_verifies(received, secret), typescript_verifies(received, secret)


@pytest.fixture
def hooked(settings: Settings, receivers: Callable[[Respond], Receiver]) -> tuple[Service, Receiver]:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    receiver = receivers(answering(204))
    return ServiceFactory(callback_url=receiver.url), receiver


def deliver_one(service: Service, receiver: Receiver, **when: Any) -> Received:
    webhook_enqueue(
        service=service, event_type="notification.responded", payload={"n": len(receiver.received)}
    )
    assert webhook_deliver_next(**when) == Outcome.DELIVERED
    return receiver.received[-1]


@needs_node
def test_a_webhook_verifies_with_the_services_secret_in_python_and_typescript(
    hooked: tuple[Service, Receiver],
) -> None:
    service, receiver = hooked
    received = deliver_one(service, receiver)

    assert received.headers["webhook-signature"].count("v1,") == 1
    assert verifiers(received, service.webhook_secret) == (True, True)
    assert verifiers(received, ServiceFactory.build().webhook_secret) == (False, False)


@needs_node
def test_during_the_overlap_both_secrets_verify_and_after_it_only_the_new_one(
    hooked: tuple[Service, Receiver], settings: Settings
) -> None:
    settings.WEBHOOK_SECRET_OVERLAP = "2h"
    service, receiver = hooked
    old = service.webhook_secret
    rotated = service_webhook_secret_rotate(service=service)
    new = rotated.secret
    assert rotated.previous_valid_until - timezone.now() <= timedelta(hours=2)

    during = deliver_one(service, receiver)
    signatures = during.headers["webhook-signature"].split(" ")
    assert [signature[:3] for signature in signatures] == ["v1,", "v1,"]
    assert verifiers(during, new) == (True, True)
    assert verifiers(during, old) == (True, True)

    # A worker claiming after the window: the old secret no longer signs.
    after = deliver_one(service, receiver, now=rotated.previous_valid_until + timedelta(seconds=1))
    assert after.headers["webhook-signature"].count("v1,") == 1
    assert verifiers(after, new) == (True, True)
    assert verifiers(after, old) == (False, False)


@needs_node
def test_rotating_again_within_the_window_drops_the_oldest_secret(
    hooked: tuple[Service, Receiver],
) -> None:
    service, receiver = hooked
    first = service.webhook_secret
    second = service_webhook_secret_rotate(service=service).secret
    third = service_webhook_secret_rotate(service=service).secret

    received = deliver_one(service, receiver)

    assert received.headers["webhook-signature"].count("v1,") == 2
    assert verifiers(received, third) == (True, True)
    assert verifiers(received, second) == (True, True)
    assert verifiers(received, first) == (False, False)


def test_an_overlap_of_zero_signs_with_the_new_secret_only(
    hooked: tuple[Service, Receiver], settings: Settings
) -> None:
    settings.WEBHOOK_SECRET_OVERLAP = "0s"
    service, receiver = hooked
    old = service.webhook_secret
    new = service_webhook_secret_rotate(service=service).secret

    received = deliver_one(service, receiver)

    assert received.headers["webhook-signature"].count("v1,") == 1
    assert python_verifies(received, new)
    assert not python_verifies(received, old)
