"""Schemathesis against our own OpenAPI schema (`/api/schema/`), in-process through the WSGI app:
with valid credentials, on every operation, no 5xx and no answer the schema does not describe.

Path ids are half the time those of real objects (so the checks reach past the 404), and the
rate-limit counters are cleared before each request (so they reach past the 429). Any outbound
request a fuzzed action could make is kept on this machine by `loopback_only`.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test.utils import override_settings
from hypothesis import HealthCheck, settings
from pytest_django import Settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.outbound.services import webhook_enqueue
from tests.reliability import world

DJANGO_APPLICATION = get_wsgi_application()


def APPLICATION(environ: dict[str, Any], start_response: Any) -> Any:
    """The project's WSGI app as a TCP server hands it requests (werkzeug's test client sets no
    REMOTE_ADDR; gunicorn on TCP always does)."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return DJANGO_APPLICATION(environ, start_response)


with override_settings(ALLOWED_HOSTS=["localhost"]):
    SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APPLICATION)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzWorld:
    key: str
    token: str
    ids: dict[str, str]


@pytest.fixture
def test_transaction_kept() -> Iterator[None]:
    """As Django's own test client does: the app must not close the connection holding the test's
    transaction at the end of each request (it would, its autocommit being off inside the test)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(
    db: None, test_transaction_kept: None, settings: Settings, loopback_only: list[Any]
) -> FuzzWorld:
    settings.ALLOWED_HOSTS = ["localhost"]
    tenant = world.tenant(callback_url="https://hooks.example.com/in")
    execution = world.execution(tenant)
    notification = world.notification(tenant)
    world.action(tenant, action_id="fuzz-action", target_url="http://127.0.0.1:9/closed")
    event = webhook_enqueue(
        service=tenant.service, event_type="notification.expired", payload={}, subject_id=notification.pk
    )
    return FuzzWorld(
        key=tenant.key,
        token=tenant.token,
        ids={
            "bot_id": str(tenant.bot.pk),
            "execution_id": str(execution.pk),
            "conversation_id": str(execution.conversation_id),
            "notification_id": str(notification.pk),
            "action_id": "fuzz-action",
            "webhook_id": event.pk,
        },
    )


def credential_for(case: Any, fuzz: FuzzWorld) -> dict[str, str]:
    schemes = {
        name for requirement in case.operation.definition.raw.get("security", []) for name in requirement
    }
    if "serviceKey" in schemes:
        return world.bearer(fuzz.key)
    if "userToken" in schemes:
        return world.bearer(fuzz.token)
    return {}


def aim_at_real_objects(case: Any, fuzz: FuzzWorld) -> None:
    for name, value in (case.path_parameters or {}).items():
        if name in fuzz.ids and len(str(value)) % 2 == 0:
            case.path_parameters[name] = fuzz.ids[name]


@SCHEMA.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_its_schema_says(case: Any, fuzz_world: FuzzWorld) -> None:
    cache.clear()
    aim_at_real_objects(case, fuzz_world)
    case.call_and_validate(headers=credential_for(case, fuzz_world), checks=CHECKS)


def test_the_schema_covers_every_family() -> None:
    paths = {operation.path for operation in (result.ok() for result in SCHEMA.get_all_operations())}
    assert any(path.startswith("/v1/public/") for path in paths)
    assert any(path.startswith("/api/v1/client/") for path in paths)
    assert any(path.startswith("/actions/") for path in paths)
