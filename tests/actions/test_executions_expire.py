"""manage.py expire_executions [--older-than DURATION] [--dry-run] (contract 1 and 2)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from actions.models import ActionExecution, ExecutionKind
from actions.services.executions import executions_expire
from tests.actions.execution_factories import ExecutionFactory, post_result
from tests.helpers import Api, assert_error

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("expire_executions", *args, stdout=out)
    return out.getvalue()


def aged(execution: ActionExecution, age: timedelta) -> ActionExecution:
    ActionExecution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - age)
    execution.refresh_from_db()
    return execution


def test_pending_rows_older_than_24h_expire_and_are_masked() -> None:
    old_contact = aged(ExecutionFactory(), timedelta(hours=25))
    old_newsletter = aged(
        ExecutionFactory(kind=ExecutionKind.NEWSLETTER, params={"email": "sam@example.com"}),
        timedelta(days=3),
    )
    old_booking = aged(
        ExecutionFactory(kind=ExecutionKind.BOOKING, params={"date": "2026-01-02"}), timedelta(days=2)
    )
    recent = aged(ExecutionFactory(), timedelta(hours=23))
    assert run().startswith("3 executions expired")
    contact = ActionExecution.objects.get(pk=old_contact.pk)
    assert contact.result == "expired" and contact.completed_at is not None
    assert contact.params_masked_at == contact.completed_at
    assert contact.params["email"] == "j***@example.com" and contact.params["name"] == "J***"
    assert ActionExecution.objects.get(pk=old_newsletter.pk).params == {"email": "s***@example.com"}
    booking = ActionExecution.objects.get(pk=old_booking.pk)
    assert (booking.result, booking.params, booking.params_masked_at) == (
        "expired",
        {"date": "2026-01-02"},
        None,
    )
    untouched = ActionExecution.objects.get(pk=recent.pk)
    assert untouched.result is None and untouched.params == recent.params


def test_terminal_rows_are_left_alone(api: Api) -> None:
    done = ExecutionFactory()
    post_result(api, done, {"result": "failure", "error": "x"})
    aged(done, timedelta(days=5))
    before = ActionExecution.objects.get(pk=done.pk)
    assert run().startswith("0 executions expired")
    after = ActionExecution.objects.get(pk=done.pk)
    assert (after.result, after.completed_at, after.params_masked_at) == (
        "failure",
        before.completed_at,
        before.params_masked_at,
    )


def test_dry_run_counts_and_changes_nothing() -> None:
    execution = aged(ExecutionFactory(), timedelta(days=2))
    assert run("--dry-run").startswith("1 execution would be expired")
    row = ActionExecution.objects.get(pk=execution.pk)
    assert row.result is None and row.params == execution.params


@pytest.mark.parametrize(("duration", "expired"), [("30s", 3), ("15m", 2), ("2h", 1), ("7d", 0)])
def test_older_than_takes_seconds_minutes_hours_and_days(duration: str, expired: int) -> None:
    for age in [timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)]:
        aged(ExecutionFactory(), age)
    output = run("--older-than", duration)
    assert output.split()[0] == str(expired) and "expired" in output


@pytest.mark.parametrize("duration", ["24", "h", "1.5h", "-1h", "1w", "1 h", "24H", "", "1h30m"])
def test_a_bad_duration_is_a_command_error(duration: str) -> None:
    with pytest.raises(CommandError, match="duration"):
        run(f"--older-than={duration}")


def test_an_expired_execution_refuses_a_late_result(api: Api) -> None:
    execution = aged(ExecutionFactory(), timedelta(days=2))
    run()
    assert_error(post_result(api, execution), 409, "ALREADY_COMPLETED")


def test_many_rows_expire_in_batches() -> None:
    executions = ExecutionFactory.create_batch(
        23, kind=ExecutionKind.NEWSLETTER, params={"email": "many@example.com", "n": 12345}
    )
    ExecutionFactory.create_batch(7, kind=ExecutionKind.BOOKING, params={"slot": "10:00"})
    ActionExecution.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert executions_expire(older_than=timedelta(hours=24), batch_size=4) == 30
    assert not ActionExecution.objects.filter(result__isnull=True).exists()
    masked = ActionExecution.objects.filter(pk__in=[e.pk for e in executions])
    assert {tuple(sorted(row.params.items())) for row in masked} == {
        (("email", "m***@example.com"), ("n", "1***"))
    }
    assert not masked.filter(params_masked_at__isnull=True).exists()
    bookings = ActionExecution.objects.filter(kind=ExecutionKind.BOOKING)
    assert all(row.params == {"slot": "10:00"} and row.params_masked_at is None for row in bookings)
