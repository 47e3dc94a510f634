"""The commands part of the scale bench: its growth checks, its table rows, the probe that runs a
command, and the rows it seeds for purge_data and erase_visitor (which the real commands purge)."""

import json
from datetime import timedelta
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from actions.models import ActionExecution, ErasureSource
from actions.services.erasure import visitor_erase, visitor_held
from bench import command_probe, probes, report, scale_commands, seeding
from bench.processes import Budget
from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.services import webhook_payloads_purge
from config.purge import purge_all
from conversations.models import Conversation, Message
from notifications.models import Notification, NotificationRecipient


def levels(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    return {"10000": {"figures": small}, "1000000": {"figures": large}}


def test_flat_memory_and_a_steady_rate_meet_their_goals() -> None:
    found = scale_commands.checks(
        levels(
            {"expire_rss": 80.0, "purge_notifications_rate": 10_000, "erase_p50_ms": 50.0},
            {"expire_rss": 84.0, "purge_notifications_rate": 9_000, "erase_p50_ms": 60.0},
        )
    )
    assert {name: check["meets_goal"] for name, check in found.items()} == {
        "expire_rss_growth": True,
        "purge_notifications_rate_growth": True,
        "erase_p50_ms_growth": True,
    }
    assert found["expire_rss_growth"]["value"] == 1.05


def test_growing_memory_a_collapsing_rate_and_a_slower_erasure_are_shortfalls() -> None:
    found = scale_commands.checks(
        levels(
            {"purge_webhook_payloads_rss": 80.0, "expire_rate": 12_000, "erase_p50_ms": 50.0},
            {"purge_webhook_payloads_rss": 400.0, "expire_rate": 3_000, "erase_p50_ms": 500.0},
        )
    )
    assert not any(check["meets_goal"] for check in found.values())
    lines = report.shortfalls({"scale": {"checks": found}})
    assert len(lines) == 3
    assert any(line.startswith("purge_webhook_payloads_rss: 5.0x") for line in lines)
    assert any("expire_rate: 0.25x the rate" in line for line in lines)


def test_one_size_or_a_missing_figure_checks_nothing() -> None:
    assert scale_commands.checks({"10000": {"figures": {"expire_rss": 80.0}}}) == {}
    assert scale_commands.checks(levels({"expire_rss": 80.0}, {})) == {}


def test_percentiles_pick_a_measured_value() -> None:
    values = [float(number) for number in range(1, 101)]
    assert scale_commands._percentile(values, 95) == 95.0
    assert scale_commands._percentile(values, 50) == 50.0
    assert scale_commands._percentile([7.0], 95) == 7.0


def test_the_table_shows_each_command_measured() -> None:
    scale = {
        "levels": levels(
            {"purge_executions": 2.5, "purge_executions_rate": 40_000, "erase_p50_ms": 12.5},
            {"purge_executions": 30.0, "purge_executions_rate": 38_000, "erase_p50_ms": 14.0},
        ),
        "notes": [],
    }
    machine = {
        "date": "2026-12-02T00:00:00Z",
        "commit": "abc1234",
        "cpu": "Test CPU",
        "cores": 2,
        "memory_gib": 4.0,
        "python": "3.12",
        "postgresql": "15",
        "redis": "7",
        "django": "6",
        "gunicorn": "23",
        "wrk": "",
        "load_average_at_start": [0.5, 0.5, 0.5],
    }
    table = report.scale_markdown(scale, machine, part="commands")
    assert "| `purge_data`, executions alone (over rows ÷ 4 visitors) (s) | 2.5 | 30.0 | 12.00x |" in table
    assert "| `purge_data`, executions purged per second (rows/s) | 40,000.0 | 38,000.0 | 0.95x |" in table
    assert "the command itself, p50 (ms) | 12.5 | 14.0 |" in table
    assert "expire_notifications" not in table


def test_the_last_json_line_is_what_a_command_printed() -> None:
    assert command_probe.last_json('progress\n{"purged": {"executions": 3}}\n') == {
        "purged": {"executions": 3}
    }
    assert command_probe.last_json("no json here\n") is None


@pytest.mark.django_db
def test_the_probe_times_the_command_apart_from_the_start_up(capsys: pytest.CaptureFixture[str]) -> None:
    command_probe.main(["--set=RETAIN_EXECUTIONS=35d", "purge_data", "--json", "--dry-run"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["output"]["dry_run"] is True
    assert printed["command_seconds"] >= 0 and printed["startup_seconds"] >= 0


@pytest.fixture
def bench(settings: Settings) -> scale_commands.CommandsBench:
    settings.ALLOWED_HOSTS = [probes.CLIENT_HOST]
    owners = seeding.seed_owners(callback_url="http://127.0.0.1:9/hooks")
    return scale_commands.CommandsBench(owners=owners, budget=Budget(600), notes=[])


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_seeded_rows_are_what_purge_data_and_erase_visitor_remove(
    bench: scale_commands.CommandsBench, settings: Settings
) -> None:
    heavy = bench.seed_purgeable(400)

    answered = Notification.objects.filter(status="responded")
    assert answered.count() == 400
    assert NotificationRecipient.objects.filter(notification__in=answered).count() == 400
    assert (
        WebhookEvent.objects.filter(subject_id__in=answered.values("pk"), status="delivered").count() == 400
    )
    attempt = DeliveryAttempt.objects.first()
    assert attempt is not None and len(attempt.response_body) == scale_commands.ANSWER_BODY_CHARS
    json.loads(attempt.response_body)
    visitors = ActionExecution.objects.filter(visitor_id__startswith="purge-visitor-")
    assert visitors.count() == 400 and visitors.values("visitor_id").distinct().count() == 100
    assert Message.objects.filter(conversation__visitor_id="purge-visitor-7").count() == 4

    held = visitor_held(bot=bench.owners.bot, visitor_id=scale_commands.HEAVY_VISITOR)
    assert held.executions + held.conversations + held.messages == heavy == 30
    counts, _record = visitor_erase(
        bot=bench.owners.bot, visitor_id="purge-visitor-7", source=ErasureSource.OPERATOR
    )
    assert counts.as_dict() == {"executions": 4, "conversations": 1, "messages": 4}

    for setting, limit in scale_commands.LIMITS.values():
        setattr(settings, setting, limit)
    outcomes = {outcome.kind: outcome.count for outcome in purge_all()}
    assert outcomes == {"webhook_payloads": 400, "executions": 396 + 10, "notifications": 400}
    assert Notification.objects.filter(status="responded").count() == 0
    assert not WebhookEvent.objects.exists() and not DeliveryAttempt.objects.exists()
    assert not ActionExecution.objects.exists()
    # A conversation outlives its executions (RETAIN_EXECUTIONS purges executions only).
    assert Conversation.objects.filter(visitor_id="purge-visitor-8").exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_payloads_seeded_again_are_purgeable(bench: scale_commands.CommandsBench) -> None:
    bench.seed_events(
        source="""
        SELECT %(service)s::uuid AS service_id, NULL::uuid AS subject_id,
               now() - interval '40 days' AS finished, '{"n": 1}'::jsonb AS payload
        FROM generate_series(1, 25) AS g
        """,
        params={"service": str(bench.owners.service.pk)},
    )
    assert WebhookEvent.objects.filter(payload__type="notification.responded").count() == 25
    assert DeliveryAttempt.objects.exclude(response_body="").count() == 25
    assert webhook_payloads_purge(older_than=timedelta(days=30), batch_size=10) == 25
