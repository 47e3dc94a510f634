"""purge_data (contract 8): every app's purge step under its own setting, counts per kind."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from pytest_django.fixtures import Settings

from actions.models import ActionExecution, ExecutionResult
from config.outbound.models import WebhookEvent
from config.outbound.services import webhook_enqueue
from config.purge import purge_steps
from notifications.models import Notification
from tests.actions.execution_factories import ExecutionFactory
from tests.config.test_settings import manage, run_python
from tests.factories import ServiceFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_data", *args, stdout=out)
    return out.getvalue().strip()


def one_of_each(age: timedelta) -> None:
    """A delivered event, an invalidated notification and a finished execution, all `age` old."""
    then = timezone.now() - age
    event = webhook_enqueue(service=ServiceFactory(), event_type="notification.expired", payload={"x": 1})
    WebhookEvent.objects.filter(pk=event.pk).update(status="delivered", delivered_at=then)
    notification = NotificationFactory()
    Notification.objects.filter(pk=notification.pk).update(status="invalidated", invalidated_at=then)
    execution = ExecutionFactory()
    ActionExecution.objects.filter(pk=execution.pk).update(
        result=ExecutionResult.CANCELLED, completed_at=then
    )


def test_each_app_brings_its_step() -> None:
    assert [(step.kind, step.setting) for step in purge_steps()] == [
        ("webhook_payloads", "RETAIN_WEBHOOK_PAYLOADS"),
        ("executions", "RETAIN_EXECUTIONS"),
        ("notifications", "RETAIN_NOTIFICATIONS"),
    ]


def test_the_defaults_purge_old_webhook_payloads_and_keep_the_rest() -> None:
    one_of_each(timedelta(days=31))
    assert purge() == "\n".join(
        [
            "webhook_payloads: 1 purged (older than 30d, RETAIN_WEBHOOK_PAYLOADS)",
            "executions: kept forever (RETAIN_EXECUTIONS=0)",
            "notifications: kept forever (RETAIN_NOTIFICATIONS=0)",
        ]
    )
    assert WebhookEvent.objects.get().payload is None
    assert Notification.objects.count() == 1 and ActionExecution.objects.count() == 1


def test_every_limit_applies_with_json_and_dry_run(settings: Settings) -> None:
    settings.RETAIN_NOTIFICATIONS = "24h"
    settings.RETAIN_EXECUTIONS = "15m"
    one_of_each(timedelta(days=2))
    one_of_each(timedelta(minutes=20))
    expected = {"webhook_payloads": 0, "executions": 2, "notifications": 1}
    assert json.loads(purge("--dry-run", "--json")) == {"purged": expected, "dry_run": True}
    assert ActionExecution.objects.count() == 2
    assert json.loads(purge("--json")) == {"purged": expected, "dry_run": False}
    assert ActionExecution.objects.count() == 0 and Notification.objects.count() == 1
    assert json.loads(purge("--json"))["purged"] == {
        "webhook_payloads": 0,
        "executions": 0,
        "notifications": 0,
    }


@pytest.mark.parametrize("value", ["30", "1w", "-1d", "", "1.5h", "0d"])
def test_a_bad_setting_is_refused_before_anything_is_purged(settings: Settings, value: str) -> None:
    settings.RETAIN_EXECUTIONS = value
    one_of_each(timedelta(days=60))
    with pytest.raises(CommandError, match="RETAIN_EXECUTIONS"):
        purge()
    assert WebhookEvent.objects.get().payload is not None


def test_a_bad_batch_size_is_refused() -> None:
    with pytest.raises(CommandError):
        purge("--batch-size", "0")


@pytest.mark.parametrize("value", ["30", "forever", "0d"])
def test_the_server_refuses_to_start_with_a_bad_retention(value: str) -> None:
    """A system check (config.E014): manage.py stops, and so does the WSGI app gunicorn imports."""
    solid = {"SECRET_KEY": "s" * 50, "REDIS_URL": "redis://127.0.0.1:6379/0"}
    for result in (
        manage("check", **solid, RETAIN_WEBHOOK_PAYLOADS=value),
        run_python("import config.wsgi", **solid, RETAIN_WEBHOOK_PAYLOADS=value),
    ):
        assert result.returncode != 0
        assert f"(config.E014) RETAIN_WEBHOOK_PAYLOADS: {value!r} is not a retention" in result.stderr
