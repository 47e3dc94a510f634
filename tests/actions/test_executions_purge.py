"""RETAIN_EXECUTIONS (contract 8): terminal executions completed longer ago than the limit go;
their conversations and messages stay."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from actions.models import ActionExecution
from actions.services.erasure import executions_purge
from conversations.models import Conversation, Message
from tests.actions.execution_factories import ExecutionFactory, post_result
from tests.concurrency import in_threads
from tests.helpers import Api

pytestmark = pytest.mark.django_db

LIMIT = timedelta(days=7)


def completed(api: Api, age: timedelta, result: str = "success") -> ActionExecution:
    execution = ExecutionFactory()
    assert post_result(api, execution, {"result": result}).status_code == 200
    ActionExecution.objects.filter(pk=execution.pk).update(completed_at=timezone.now() - age)
    return execution


def test_terminal_executions_older_than_the_limit_go(api: Api) -> None:
    old = [completed(api, LIMIT * 2), completed(api, LIMIT + timedelta(minutes=1), "cancelled")]
    young = completed(api, LIMIT - timedelta(minutes=1))
    pending = ExecutionFactory()
    ActionExecution.objects.filter(pk=pending.pk).update(created_at=timezone.now() - LIMIT * 10)

    assert executions_purge(older_than=LIMIT, dry_run=True) == 2
    assert executions_purge(older_than=LIMIT, batch_size=1) == 2
    assert set(ActionExecution.objects.values_list("pk", flat=True)) == {young.pk, pending.pk}
    # A conversation outlives its actions.
    assert Conversation.objects.filter(pk__in=[e.conversation_id for e in old]).count() == 2
    assert Message.objects.filter(conversation_id__in=[e.conversation_id for e in old]).count() == 2
    assert executions_purge(older_than=LIMIT) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_purges_delete_each_execution_once(api: Api) -> None:
    for _ in range(30):
        completed(api, LIMIT * 2)
    counts: list[Any] = in_threads([lambda: executions_purge(older_than=LIMIT, batch_size=4)] * 3)
    assert sum(counts) == 30, counts
    assert not ActionExecution.objects.exists()
