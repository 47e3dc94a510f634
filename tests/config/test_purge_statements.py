"""On PostgreSQL each purge batch, and each batch of escalations' recipients, is one statement:
nothing is read into Python row by row (contract 8's bounded memory, at a million rows)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions.models import ActionExecution, ExecutionResult
from actions.services.erasure import executions_purge
from config.outbound.models import WebhookEvent
from config.outbound.services import webhook_enqueue, webhook_payloads_purge
from notifications.models import Notification, NotificationRecipient
from notifications.services import notifications_purge, notifications_sweep
from tests.actions.execution_factories import ExecutionFactory
from tests.factories import ServiceFactory, UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

OLD = timedelta(days=60)


def statements(captured: CaptureQueriesContext, marker: str) -> int:
    return sum(marker in query["sql"] for query in captured.captured_queries)


def test_each_batch_of_executions_is_one_delete() -> None:
    then = timezone.now() - OLD
    for _ in range(7):
        execution = ExecutionFactory()
        ActionExecution.objects.filter(pk=execution.pk).update(
            result=ExecutionResult.CANCELLED, completed_at=then
        )
    with CaptureQueriesContext(connection) as captured:
        assert executions_purge(older_than=timedelta(days=30), batch_size=3) == 7
    # Three batches (3, 3, 1), then one that finds nothing left.
    assert statements(captured, "WITH chosen(id)") == 4
    assert statements(captured, "DELETE") == 4
    assert not ActionExecution.objects.exists()


def test_each_batch_of_payloads_and_notifications_is_one_statement() -> None:
    service, then = ServiceFactory(), timezone.now() - OLD
    for _ in range(5):
        notification = NotificationFactory(service=service)
        Notification.objects.filter(pk=notification.pk).update(status="invalidated", invalidated_at=then)
        event = webhook_enqueue(
            service=service, event_type="notification.expired", payload={"n": 1}, subject_id=notification.pk
        )
        WebhookEvent.objects.filter(pk=event.pk).update(status="delivered", delivered_at=then)
    with CaptureQueriesContext(connection) as captured:
        assert webhook_payloads_purge(older_than=timedelta(days=30), batch_size=2) == 5
        assert notifications_purge(older_than=timedelta(days=30), batch_size=2) == 5
    # Payloads: delivered (2, 2, 1, none left), then failed (none); notifications: (2, 2, 1, none).
    assert statements(captured, "WITH chosen(id)") == 5 + 4
    # Nothing else but the savepoints of compiling each locking SELECT (inside the test's transaction).
    others = [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert len(others) == 5 + 4
    assert not Notification.objects.exists() and not WebhookEvent.objects.exists()
    assert not NotificationRecipient.objects.exists()


def test_a_batch_of_escalations_adds_its_recipients_in_one_insert() -> None:
    added = [UserFactory(), UserFactory()]
    for _ in range(4):
        NotificationFactory(
            escalate={"after_seconds": 60, "recipients": [user.username for user in added]},
            escalation_user_ids=[user.pk for user in added],
            escalate_at=timezone.now() - timedelta(minutes=1),
        )
    with CaptureQueriesContext(connection) as captured:
        assert notifications_sweep().escalated == 4
    assert statements(captured, f'INSERT INTO "{NotificationRecipient._meta.db_table}"') == 1
    escalated = NotificationRecipient.objects.filter(escalated=True)
    assert escalated.count() == 8
    assert set(escalated.values_list("position", flat=True)) == {20, 21}
    assert set(escalated.values_list("user", flat=True)) == {user.pk for user in added}
