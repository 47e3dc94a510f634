"""Many workers at once, and workers that die or are told to stop (PostgreSQL, real processes)."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.outbound.leases import LEASE_EXPIRED_ERROR
from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.services import (
    DeliveryCounts,
    webhook_enqueue,
    webhooks_deliver_due,
)
from tests.concurrency import in_threads
from tests.factories import ServiceFactory
from tests.outbound.receivers import Receiver, Respond, holding_until_released, reply

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def answering_slowly(handler, number, receiver):  # type: ignore[no-untyped-def]
    time.sleep(0.05)  # long enough for the workers' claims to interleave
    reply(handler, 200)


def enqueue_many(count: int, url: str) -> list[WebhookEvent]:
    service = ServiceFactory(callback_url=url)
    return [
        webhook_enqueue(service=service, event_type="notification.expired", payload={"n": n})
        for n in range(count)
    ]


def received_ids(receiver: Receiver) -> Counter[str]:
    return Counter(r.headers["webhook-id"] for r in receiver.received)


def test_concurrent_workers_send_each_event_exactly_once(
    allow_private: None, receivers: Callable[[Respond], Receiver]
) -> None:
    receiver = receivers(answering_slowly)
    events = enqueue_many(40, receiver.url)
    totals: list[DeliveryCounts] = in_threads([webhooks_deliver_due] * 4)

    assert received_ids(receiver) == Counter({e.pk: 1 for e in events})
    assert sum(t.delivered for t in totals) == 40
    assert sum(t.total for t in totals) == 40
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"delivered"}
    assert DeliveryAttempt.objects.count() == 40


def worker_env() -> dict[str, str]:
    """The environment of a `manage.py deliver_webhooks` process using this test's database."""
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"
    )
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "OUTBOUND_ALLOW_PRIVATE": "true",
    }


@pytest.fixture
def start_worker() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "deliver_webhooks", *args],
            cwd=django_settings.BASE_DIR,
            env=worker_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def delivered_count(stdout: str) -> int:
    match = re.search(r"webhooks: (\d+) delivered", stdout)
    assert match, stdout
    return int(match.group(1))


def test_two_worker_processes_at_once_send_each_event_exactly_once(
    allow_private: None,
    receivers: Callable[[Respond], Receiver],
    start_worker: Callable[..., subprocess.Popen[str]],
) -> None:
    receiver = receivers(answering_slowly)
    events = enqueue_many(30, receiver.url)

    workers = [start_worker("--once"), start_worker("--once")]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert received_ids(receiver) == Counter({e.pk: 1 for e in events})
    assert sum(delivered_count(stdout) for stdout, _ in outputs) == 30
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"delivered"}


def first_holds_then_ok(handler, number, receiver):  # type: ignore[no-untyped-def]
    if number == 1:
        holding_until_released(handler, number, receiver)
    else:
        reply(handler, 200)


def test_a_worker_killed_mid_send_loses_nothing(
    allow_private: None,
    receivers: Callable[[Respond], Receiver],
    start_worker: Callable[..., subprocess.Popen[str]],
) -> None:
    receiver = receivers(first_holds_then_ok)
    [event] = enqueue_many(1, receiver.url)
    worker = start_worker("--poll-interval", "0.2")
    assert receiver.wait_for(1), worker.communicate(timeout=5)

    worker.kill()
    worker.wait(timeout=30)

    event.refresh_from_db()
    assert (event.status, event.attempt_count) == ("pending", 1)
    assert event.lease_token is not None
    assert event.locked_until is not None
    # Until the lease runs out nobody sends it again (the dead worker might still have been alive).
    assert webhooks_deliver_due().total == 0
    after_lease = event.locked_until + timedelta(seconds=1)
    assert webhooks_deliver_due(now=after_lease).delivered == 1
    assert received_ids(receiver) == Counter({event.pk: 2})
    event.refresh_from_db()
    assert (event.status, event.attempt_count) == ("delivered", 2)
    lost, delivered = DeliveryAttempt.objects.filter(event=event).order_by("started_at")
    assert (lost.duration_ms, lost.error) == (None, LEASE_EXPIRED_ERROR)
    assert (delivered.status_code, delivered.error) == (200, "")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_worker_finishes_the_send_in_progress_then_exits_cleanly(
    allow_private: None,
    receivers: Callable[[Respond], Receiver],
    start_worker: Callable[..., subprocess.Popen[str]],
    stop_signal: signal.Signals,
) -> None:
    receiver = receivers(first_holds_then_ok)
    events = enqueue_many(2, receiver.url)
    worker = start_worker("--poll-interval", "0.2")
    assert receiver.wait_for(1), worker.communicate(timeout=5)

    worker.send_signal(stop_signal)
    time.sleep(1)  # let the signal land while the send is still held open
    receiver.release.set()
    stdout, stderr = worker.communicate(timeout=60)

    assert worker.returncode == 0, stderr
    assert stdout.splitlines()[0] == "webhooks: 1 delivered, 0 to retry, 0 failed, 0 superseded"
    assert receiver.count == 1
    statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    sent = receiver.received[0].headers["webhook-id"]
    assert statuses == {e.pk: "delivered" if e.pk == sent else "pending" for e in events}
    assert WebhookEvent.objects.filter(status="pending", attempt_count=0).count() == 1
