"""Faults the real world brings: a webhook receiver that is down, slow, failing or redirecting, a
delivery worker killed mid-send, the database dropping every connection under a running server.
Each ends with the event delivered once the receiver is back, or the server answering again,
without a manual step. Time is driven forward in the database, never slept through."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import Settings as SettingsWrapper

from actions.models import ActionExecution
from config.outbound.models import DeliveryAttempt, WebhookEvent
from notifications.models import Notification
from tests.factories import UserFactory
from tests.helpers import Api, assert_error
from tests.reliability import world
from tests.reliability.conftest import GUNICORN_WORKERS, Gunicorn, free_port, server_env, stop_process_group
from tests.reliability.receiver import Mode, SwitchableReceiver

TIMEOUT = 30
PASSWORD = "correct horse battery staple"  # UserFactory's


def answered_event(api: Api, receiver: SwitchableReceiver) -> tuple[world.Tenant, WebhookEvent]:
    """A person answers a notification over HTTP: its `notification.responded` event is queued."""
    tenant = world.tenant(callback_url=receiver.url)
    notification = world.notification(tenant)
    response = api.as_(tenant.token).post(
        "/api/v1/client/respond",
        {"notification_id": str(notification.pk), "action_id": "approve", "response_data": False},
    )
    assert response.status_code == 200, response.content
    return tenant, WebhookEvent.objects.get(subject_id=notification.pk)


def deliver_once() -> str:
    out = []

    class Sink:
        def write(self, text: str) -> None:
            out.append(text)

        def flush(self) -> None:
            pass

    call_command("deliver_webhooks", "--once", stdout=Sink())
    return "".join(out)


def make_due(event: WebhookEvent) -> None:
    """Drive the clock: the retry the schedule put minutes away is due now."""
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def assert_delivered_once(event: WebhookEvent, tenant: world.Tenant, receiver: SwitchableReceiver) -> None:
    event.refresh_from_db()
    assert event.status == "delivered", (event.status, event.last_error)
    assert {item.webhook_id for item in receiver.received} <= {event.pk}
    [delivered] = receiver.answered_in_time()
    assert delivered.path == "/hook"
    payload = delivered.verified(tenant.service.webhook_secret)
    assert payload["type"] == "notification.responded"  # type: ignore[index]
    assert payload["response_data"] is False  # type: ignore[index]


@pytest.fixture
def fast_timeout(settings: SettingsWrapper) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["down", Mode.SLOW, Mode.ERROR, Mode.REDIRECT])
def test_receiver_fault_then_back_delivers_the_event(
    api: Api, switchable_receiver: SwitchableReceiver, fast_timeout: None, fault: str
) -> None:
    receiver = switchable_receiver
    tenant, event = answered_event(api, receiver)
    if fault == "down":
        receiver.stop_serving()
    else:
        receiver.mode = Mode(fault)

    assert "0 delivered, 1 to retry" in deliver_once()
    event.refresh_from_db()
    assert (event.status, event.attempt_count) == ("pending", 1)
    assert event.next_attempt_at > timezone.now(), "the retry is scheduled, not immediate"
    assert event.last_error
    # Not due yet: a worker passing by now sends nothing.
    assert "0 delivered, 0 to retry" in deliver_once()

    receiver.release.set()  # a slow answer still in flight finishes now
    if fault == "down":
        receiver.start_serving()
    receiver.mode = Mode.OK
    make_due(event)
    assert "1 delivered" in deliver_once()

    assert_delivered_once(event, tenant, receiver)
    attempts = DeliveryAttempt.objects.filter(event=event).order_by("started_at")
    assert [(a.status_code or 0) // 100 for a in attempts][-1] == 2
    assert len(attempts) == 2
    assert attempts[0].error, "the failed attempt is on record"


def worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_webhooks", *args],
        cwd=django_settings.BASE_DIR,
        env=server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        stop_process_group(process)
        process.communicate(timeout=TIMEOUT)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_loses_nothing(
    api: Api,
    switchable_receiver: SwitchableReceiver,
    workers: list[subprocess.Popen[str]],
    settings: SettingsWrapper,
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    receiver = switchable_receiver
    receiver.mode = Mode.HOLD
    tenant, event = answered_event(api, receiver)
    workers.append(first := worker("--poll-interval", "0.2"))
    assert receiver.wait_for_arrival(1, timeout=TIMEOUT), "the worker never sent the event"

    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=TIMEOUT)
    receiver.mode = Mode.OK
    receiver.release.set()  # the held answer goes to a dead socket

    event.refresh_from_db()
    assert (event.status, event.attempt_count) == ("pending", 1)
    assert event.locked_until is not None and event.locked_until > timezone.now()
    # The dead worker's lease still holds: a worker passing by now leaves the event alone.
    workers.append(second := worker("--once"))
    out, err = second.communicate(timeout=TIMEOUT)
    assert "0 delivered, 0 to retry" in out, err
    # Drive the clock past the lease instead of waiting the minute out.
    WebhookEvent.objects.filter(pk=event.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    workers.append(third := worker("--once"))
    out, err = third.communicate(timeout=TIMEOUT)
    assert "1 delivered" in out, err

    assert_delivered_once(event, tenant, receiver)
    assert receiver.arrivals == 2


def terminate_server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_server_recovers_when_the_database_drops_its_connections(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    bot_url = f"{gunicorn.url}/v1/bots/{tenant.bot.pk}"
    headers = world.bearer(tenant.key)
    # Every worker opens (and keeps: CONN_MAX_AGE) its connection.
    with requests.Session() as session:
        for _ in range(4 * GUNICORN_WORKERS):
            assert session.get(bot_url, headers=headers, timeout=TIMEOUT).status_code == 200
    assert terminate_server_connections() >= 1

    answers = []
    for index in range(6 * GUNICORN_WORKERS):
        url = bot_url if index % 2 else f"{gunicorn.url}/readyz"
        # A new connection each time, so the requests spread over the workers.
        answers.append(requests.get(url, headers=headers, timeout=TIMEOUT))

    failures = [r for r in answers if r.status_code != 200]
    # At worst one failed request per worker whose connection died (CONN_HEALTH_CHECKS should
    # spare even that), each in the family's JSON shape, never an HTML page.
    assert len(failures) <= GUNICORN_WORKERS, [(r.status_code, r.text[:200]) for r in failures]
    for response in failures:
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
        json.loads(response.text)
    assert all(r.status_code == 200 for r in answers[-2 * GUNICORN_WORKERS :])
    assert requests.get(f"{gunicorn.url}/readyz", timeout=TIMEOUT).json()["status"] == "ok"
    assert requests.get(bot_url, headers=headers, timeout=TIMEOUT).json()["botId"] == str(tenant.bot.pk)


@pytest.mark.django_db
def test_login_behind_a_unix_socket_proxy_is_not_a_500(api: Api) -> None:
    response = api.client.post(
        "/api/v1/client/token",
        data=json.dumps({"username": "nobody", "password": "wrong password"}),
        content_type="application/json",
        REMOTE_ADDR="",
    )
    assert response.status_code == 401, response.content


# --------------------------------------------------------------------------------------------
# Redis down: losing it forgets counters, never data (contract 1)


@dataclass
class OwnRedis:
    """A redis-server this test starts and stops, on a port of its own."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=1).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None


@pytest.fixture
def own_redis(settings: SettingsWrapper) -> Iterator[OwnRedis]:
    """The cache and every rate limit on a Redis of this test's own (restored afterwards)."""
    server = OwnRedis(port=free_port())
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.django_db
def test_with_redis_down_data_is_kept_and_logins_answer_503(
    api: Api,
    own_redis: OwnRedis,
    switchable_receiver: SwitchableReceiver,
    settings: SettingsWrapper,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    tenant = world.tenant()
    world.action(tenant, action_id="while-redis-is-down", target_url=switchable_receiver.url)
    executions = [world.execution(tenant, visitor_id="one-visitor") for _ in range(7)]
    notification = world.notification(tenant)
    login = {"username": tenant.person.username, "password": "not-used-here-42"}
    # Up, the limits count in this Redis.
    assert api.post("/api/v1/client/token", login).status_code == 200
    assert redis.Redis(port=own_redis.port).dbsize() > 0

    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="config.api.ratelimit")

    # Seven result posts by one visitor (the limit is 5 an hour): every one recorded.
    for execution in executions:
        response = api.post(f"/v1/public/actions/{execution.pk}/result", {"result": "success"})
        assert response.status_code == 200, response.content
    assert ActionExecution.objects.filter(pk__in=[e.pk for e in executions], result="success").count() == 7
    response = api.as_(tenant.token).post(
        "/api/v1/client/respond",
        {"notification_id": str(notification.pk), "action_id": "approve", "response_data": True},
    )
    assert response.status_code == 200, response.content
    assert Notification.objects.get(pk=notification.pk).status == "responded"
    response = api.as_(tenant.key).post("/actions/while-redis-is-down/trigger", {"payload": {"a": 1}})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "triggered"
    assert switchable_receiver.wait_for_arrival(1)
    # Logins are not let through unthrottled: 503, in the family's shape.
    assert_error(api.post("/api/v1/client/token", login), 503, "SERVICE_UNAVAILABLE")
    ready = api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["cache"] == "unreachable"
    # One warning for the outage, not one per request.
    warnings = [r for r in caplog.records if r.name == "config.api.ratelimit"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING

    own_redis.start()
    assert api.post("/api/v1/client/token", login).status_code == 200
    assert api.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_with_redis_down_the_inbox_login_answers_a_503_page(client: Client, own_redis: OwnRedis) -> None:
    person = UserFactory(username="robin")
    login = {"username": "robin", "password": PASSWORD}
    own_redis.stop()
    # The inbox shares the token endpoint's counters: without them, no login is checked.
    response = client.post("/inbox/login/", login)
    assert response.status_code == 503
    page = response.content.decode()
    assert "Logging in is not possible at the moment" in page
    assert 'value="robin"' in page
    assert client.get("/inbox/").status_code == 302  # not logged in

    own_redis.start()
    response = client.post("/inbox/login/", login)
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    assert int(client.session["_auth_user_id"]) == person.pk
