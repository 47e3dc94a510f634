"""The once-only promises of the result post, with real threads against PostgreSQL (contract 2)."""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from actions.models import ActionExecution, ExecutionKind
from actions.services.executions import executions_expire
from conversations.models import Message
from tests.actions.execution_factories import ExecutionFactory, result_path
from tests.concurrency import in_threads
from tests.factories import BotFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def poster(execution_id: Any, body: dict[str, Any]) -> Callable[[], int]:
    def post() -> int:
        response = Client().post(result_path(str(execution_id)), body, content_type="application/json")
        return response.status_code

    return post


def test_of_twenty_concurrent_posts_exactly_one_wins(settings: Any) -> None:
    # One execution means one (bot, visitor): the limit is raised so all twenty reach the race.
    settings.WIDGET_RESULT_POST_RATE = f"{THREADS}/h"
    execution = ExecutionFactory(label="Send the contact form")
    results = ["success", "failure", "cancelled", "success"] * (THREADS // 4)
    statuses = in_threads([poster(execution.id, {"result": result}) for result in results])
    assert Counter(statuses) == {200: 1, 409: THREADS - 1}, statuses
    row = ActionExecution.objects.get(pk=execution.pk)
    winner = results[statuses.index(200)]
    assert row.result == winner
    suffix = {"success": "done", "failure": "failed", "cancelled": "cancelled"}[winner]
    messages = list(
        Message.objects.filter(conversation_id=execution.conversation_id).values_list("content", flat=True)
    )
    assert messages == [f"Send the contact form — {suffix}."]


def test_concurrent_posts_at_the_real_limit_let_exactly_five_through() -> None:
    execution = ExecutionFactory()
    statuses = in_threads([poster(execution.id, {"result": "success"}) for _ in range(THREADS)])
    assert Counter(statuses) == {429: THREADS - 5, 200: 1, 409: 4}, statuses
    assert Message.objects.filter(conversation_id=execution.conversation_id).count() == 1


def test_the_rate_limit_counts_concurrent_posts_on_different_executions() -> None:
    bot = BotFactory()
    executions = [ExecutionFactory(bot=bot, visitor_id="same-visitor") for _ in range(THREADS)]
    statuses = in_threads([poster(execution.id, {"result": "success"}) for execution in executions])
    assert Counter(statuses) == {200: 5, 429: THREADS - 5}, statuses
    assert ActionExecution.objects.filter(result="success").count() == 5
    assert Message.objects.count() == 5


def test_expiry_racing_result_posts_finishes_each_row_once(settings: Any) -> None:
    settings.WIDGET_RESULT_POST_RATE = "1000/h"
    executions = ExecutionFactory.create_batch(THREADS, kind=ExecutionKind.NEWSLETTER)
    ActionExecution.objects.update(created_at=timezone.now() - timedelta(days=2))
    calls: list[Callable[[], Any]] = [poster(execution.id, {"result": "success"}) for execution in executions]
    calls.append(lambda: executions_expire(older_than=timedelta(hours=24), batch_size=3))
    *statuses, expired = in_threads(calls)
    assert set(statuses) <= {200, 409}, statuses
    won = statuses.count(200)
    assert won + expired == THREADS
    assert ActionExecution.objects.filter(result="success").count() == won
    assert ActionExecution.objects.filter(result="expired").count() == expired
    assert Message.objects.count() == won
    assert not ActionExecution.objects.filter(params_masked_at__isnull=True).exists()
    assert not ActionExecution.objects.exclude(params__email="j***@example.com").exists()
