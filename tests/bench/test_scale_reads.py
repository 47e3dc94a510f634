"""The read paths' bench data is data the real pages accept; its checks say what missed (PostgreSQL)."""

from typing import Any

import pytest

from bench import probes, scale_reads, seeding
from config.outbound.models import DeliveryAttempt, WebhookEvent
from notifications.models import Notification, NotificationRecipient, NotificationStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _probe_host(settings) -> None:  # type: ignore[no-untyped-def]
    """The probes call as 127.0.0.1, a host the bench's production settings allow."""
    settings.ALLOWED_HOSTS = [probes.CLIENT_HOST]


@pytest.fixture
def owners() -> seeding.Owners:
    return seeding.seed_owners(callback_url="http://127.0.0.1:9/hooks")


def test_the_inbox_is_one_persons_mix_of_every_status(owners: seeding.Owners) -> None:
    seeded = scale_reads.seed_inbox(owners=owners, rows=4000)
    assert seeded == {"notifications": 4000, "open": scale_reads.INBOX_OPEN}
    rows = Notification.objects.filter(recipient=owners.person)
    assert rows.count() == 4000
    assert NotificationRecipient.objects.filter(user=owners.person).count() == 4000
    statuses = {status: rows.filter(status=status).count() for status in NotificationStatus.values}
    assert statuses == {"pending": 20, "responded": 2780, "expired": 1000, "invalidated": 200}
    assert rows.filter(response_defaulted=True, responder__isnull=True).count() == 200


def test_the_inbox_pages_answer_with_the_seeded_rows(owners: seeding.Owners) -> None:
    result = scale_reads.measure_inbox(owners=owners, rows=4000, repeat=1)
    pages = result["pages"]
    assert {name: page["status"] for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert pages["inbox_later"]["url"] == "/inbox/?page=20"
    # Each page's SQL on the big tables was explained.
    assert all(page["explain"] for page in pages.values())
    assert all("execution_ms" in item for page in pages.values() for item in page["explain"])


def test_the_delivery_log_is_the_services_events_among_others(owners: seeding.Owners) -> None:
    seeded = scale_reads.seed_delivery_log(owners=owners, rows=1000)
    assert seeded["events"] == 2000
    assert seeded["own"] == 1000
    assert seeded["own_failed"] == 20
    own = WebhookEvent.objects.filter(service=owners.service)
    assert own.filter(status="pending").count() == 1
    # One attempt per finished event of the bench service, a failed one's last three.
    assert DeliveryAttempt.objects.count() == (1000 - 20 - 1) + 20 * 3
    assert WebhookEvent.objects.exclude(service=owners.service).values("service").distinct().count() == 4


def test_the_delivery_log_pages_and_the_replay_answer(owners: seeding.Owners) -> None:
    result = scale_reads.measure_delivery_log(owners=owners, rows=1000, repeat=1)
    pages = result["pages"]
    assert {name: page["status"] for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert "cursor=" in pages["log_cursor_500k"]["url"]
    assert result["replay"]["status"] == 202
    assert result["replay"]["queued"] == 20
    assert WebhookEvent.objects.filter(service=owners.service, status="failed").count() == 0


def test_explain_flags_a_sequential_scan_of_a_big_table() -> None:
    table = WebhookEvent._meta.db_table
    explained = scale_reads.explain(f'SELECT count(*) FROM "{table}"', None)
    assert explained["seq_scans"] == [table]
    assert explained["execution_ms"] >= 0


def _level(**figures: Any) -> dict[str, Any]:
    return {"figures": {"log_slowest_db": 1.0, "log_seq_scans": 0, **figures}}


def test_the_checks_compare_the_largest_size_with_the_smallest() -> None:
    checks = scale_reads.checks(
        {
            "10000": _level(inbox_first=25.0, inbox_first_min=20.0),
            "1000000": _level(inbox_first=40.0, inbox_first_min=50.0, log_slowest_db=12.0),
        }
    )
    assert checks["inbox_first_growth"] == {
        "value": 2.5,
        "goal": 2.0,
        "meets_goal": False,
        "says": "inbox_first_growth: 2.5x slower at the largest size, fastest request (goal 2.0x)",
    }
    assert checks["log_slowest_db"]["meets_goal"] is False
    assert checks["log_slowest_db"]["says"] == (
        "delivery log: a page took 12.0 ms in the database (goal 10.0 ms)"
    )
    assert checks["log_seq_scans"]["meets_goal"] is True
    assert scale_reads.checks({"10000": {"figures": {"changelist": 3.0}}}) == {}
