"""Exactly-once promises under real concurrency: many clients at once against gunicorn with four
worker processes, PostgreSQL and Redis. A barrier makes the requests leave together."""

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from actions.models import ActionExecution
from config.outbound.models import WebhookEvent
from conversations.models import Message
from tests.reliability import world
from tests.reliability.conftest import Gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30


def all_at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> Callable[[], requests.Response]:
    return lambda: requests.post(url, json=body, headers=headers, timeout=TIMEOUT)


def statuses(responses: list[requests.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def codes(responses: list[requests.Response], status: int) -> Counter[str]:
    return Counter(r.json()["error"]["code"] for r in responses if r.status_code == status)


def test_fifty_result_posts_to_one_execution_one_wins(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    execution = world.execution(tenant)
    url = f"{gunicorn.url}/v1/public/actions/{execution.id}/result"

    responses = all_at_once([post(url, {"result": "success"}) for _ in range(50)])

    # 5 posts per hour per (bot, visitor), counted in Redis across the four workers: 5 get past
    # the limit, of which exactly one records the result and four find it already completed.
    assert statuses(responses) == Counter({200: 1, 409: 4, 429: 45}), statuses(responses)
    assert codes(responses, 409) == Counter({"ALREADY_COMPLETED": 4})
    assert codes(responses, 429) == Counter({"RATE_LIMITED": 45})
    assert all(1 <= int(r.headers["Retry-After"]) <= 3600 for r in responses if r.status_code == 429)
    execution.refresh_from_db()
    assert execution.result == "success"
    follow_ups = Message.objects.filter(conversation_id=execution.conversation_id, role="assistant")
    assert list(follow_ups.values_list("content", flat=True)) == ["Send the contact form — done."]


def test_fifty_answers_to_one_notification_one_wins_one_webhook(gunicorn: Gunicorn) -> None:
    tenant = world.tenant(callback_url="https://hooks.example.com/loopback")
    notification = world.notification(tenant)
    body = {"notification_id": str(notification.pk), "action_id": "approve", "response_data": True}
    url = f"{gunicorn.url}/api/v1/client/respond"

    responses = all_at_once([post(url, body, world.bearer(tenant.token)) for _ in range(50)])

    assert statuses(responses) == Counter({200: 1, 409: 49}), statuses(responses)
    assert codes(responses, 409) == Counter({"NOTIFICATION_ALREADY_RESPONDED": 49})
    events = WebhookEvent.objects.filter(subject_id=notification.pk)
    assert list(events.values_list("event_type", flat=True)) == ["notification.responded"]
    notification.refresh_from_db()
    assert (notification.status, notification.response_data) == ("responded", True)


def test_twenty_posts_by_one_visitor_across_twenty_executions_five_accepted(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    executions = [world.execution(tenant, visitor_id="the-same-visitor") for _ in range(20)]
    urls = [f"{gunicorn.url}/v1/public/actions/{e.id}/result" for e in executions]

    responses = all_at_once([post(url, {"result": "cancelled"}) for url in urls])

    assert statuses(responses) == Counter({200: 5, 429: 15}), statuses(responses)
    results = ActionExecution.objects.filter(pk__in=[e.pk for e in executions]).values_list(
        "result", flat=True
    )
    assert Counter(results) == Counter({"cancelled": 5, None: 15})
    assert Message.objects.filter(role="assistant").count() == 5


def test_forty_eight_guesses_at_once_check_at_most_five_passwords(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    url = f"{gunicorn.url}/api/v1/client/token"
    guesses = [{"username": tenant.person.username, "password": f"guess-{index}"} for index in range(48)]

    responses = all_at_once([post(url, guess) for guess in guesses])

    # Each guess is counted before its password is checked, atomically in Redis across the four
    # workers: 5 reach the check (and fail), the other 43 are refused unchecked.
    assert statuses(responses) == Counter({401: 5, 429: 43}), statuses(responses)
    assert codes(responses, 401) == Counter({"AUTH_INVALID_TOKEN": 5})
    assert all(1 <= int(r.headers["Retry-After"]) <= 15 * 60 for r in responses if r.status_code == 429)
    # The right password too is refused until the window ends: the account is what is protected.
    right = {"username": tenant.person.username, "password": "not-used-here-42"}
    assert requests.post(url, json=right, timeout=TIMEOUT).status_code == 429
