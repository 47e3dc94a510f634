"""Idempotency-Key under real concurrency (PostgreSQL): of many requests with one key, one sends."""

from typing import Any

import pytest
from django.test import Client

from actions.models import ActionTrigger, TriggerStatus
from tests.actions.trigger_factories import ActionFactory, running_receiver
from tests.concurrency import in_threads
from tests.factories import ServiceFactory
from tests.helpers import Api, assert_error, service_key_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS = 8


def test_concurrent_requests_with_one_key_send_once(settings: Any) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    service = ServiceFactory()
    secret = service_key_for(service)
    # The receiver takes a while, so the others arrive while the first is still sending.
    with running_receiver(slow_seconds=0.5) as receiver:
        ActionFactory(service=service, action_id="a", target_url=receiver.url("/slow"), timeout_ms=5000)

        def post() -> Any:
            return Api(Client(), secret).post(
                "/actions/a/trigger", {"decision": True}, headers={"Idempotency-Key": "once"}
            )

        responses = in_threads([post] * REQUESTS)

        assert len(receiver.requests) == 1
        answered = [response for response in responses if response.status_code == 200]
        in_progress = [response for response in responses if response.status_code != 200]
        assert len(answered) + len(in_progress) == REQUESTS
        assert answered, "the request that claimed the key answers with its result"
        assert all(response.json() == answered[0].json() for response in answered)
        assert answered[0].json()["status"] == "triggered"
        assert answered[0].json()["payload_sent"] == receiver.requests[0].json()
        for response in in_progress:
            error = assert_error(response, 409, "conflict")
            assert "in progress" in error["message"]

        row = ActionTrigger.objects.get()
        assert row.status == TriggerStatus.TRIGGERED

        # Once it has finished, a retry gets the stored result and sends nothing.
        retry = Api(Client(), secret).post(
            "/actions/a/trigger", {"decision": True}, headers={"Idempotency-Key": "once"}
        )
        assert retry.json() == answered[0].json()
        assert len(receiver.requests) == 1


def test_concurrent_dry_runs_with_one_key_record_once() -> None:
    service = ServiceFactory()
    secret = service_key_for(service)
    ActionFactory(service=service, action_id="a")

    def post() -> tuple[int, Any]:
        response = Api(Client(), secret).post(
            "/actions/a/trigger", {"dry_run": True}, headers={"Idempotency-Key": "dry"}
        )
        return response.status_code, response.json()

    results = in_threads([post] * REQUESTS)

    # A dry run's row is final the moment it is written, so every request gets its result.
    assert [status for status, _ in results] == [200] * REQUESTS
    assert all(body == results[0][1] for _, body in results)
    assert results[0][1]["status"] == "would_trigger"
    assert ActionTrigger.objects.count() == 1
