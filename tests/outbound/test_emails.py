"""E-mail to the people asked (contract 9): stored with the notification, sent by the workers to a
real local SMTP server, retried when the server refuses, every try recorded."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from config.accounts.models import Service
from config.outbound.emails import (
    NewEmail,
    email_claim_next,
    email_deliver_next,
    email_record_outcome,
    email_send,
    emails_deliver_due,
    emails_enqueue,
)
from config.outbound.leases import LEASE_EXPIRED_ERROR
from config.outbound.models import EmailAttempt, OutboundEmail
from config.outbound.services import Outcome
from notifications.models import Notification
from notifications.services import notification_create
from tests.concurrency import in_threads
from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, service_key_for
from tests.outbound.smtp import Reply, SmtpServer, accepting, free_port, refusing

pytestmark = pytest.mark.django_db

BASE = "https://loopback.example.com"


@pytest.fixture
def smtp_servers() -> Iterator[Callable[[Reply], SmtpServer]]:
    started: list[SmtpServer] = []

    def start(reply: Reply = accepting) -> SmtpServer:
        server = SmtpServer(reply)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def send_to(settings: Settings, mailer: dict[str, Any]) -> None:
    settings.EMAIL_DELIVERY = "outbox"
    settings.MAILERS = {"default": mailer}
    settings.DEFAULT_FROM_EMAIL = "Loopback <loopback@example.com>"
    settings.PUBLIC_BASE_URL = BASE


@pytest.fixture
def smtp(settings: Settings, smtp_servers: Callable[[Reply], SmtpServer]) -> SmtpServer:
    """A mail server that takes every e-mail, and the settings that send there."""
    server = smtp_servers(accepting)
    send_to(settings, server.mailer())
    return server


def create(client: Any, service: Service, **body: Any) -> Any:
    body = {
        "recipient": "dana",
        "title": "Approve the refund?",
        "actions": [{"id": "ok", "label": "OK", "response_type": "simple"}],
        **body,
    }
    return Api(client, service_key_for(service)).post("/api/v1/notifications", body)


def test_a_new_notification_queues_one_email_that_the_worker_sends(
    client: Any, smtp: SmtpServer, service: Service
) -> None:
    UserFactory(username="dana", email="dana@example.com")
    deadline = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    response = create(
        client,
        service,
        description="The blender came back unopened.\nRefund 89 EUR.",
        deadline=deadline.isoformat(),
    )
    assert response.status_code == 201
    notification_id = response.json()["notification_id"]

    email = OutboundEmail.objects.get()
    assert (email.to_address, email.status, str(email.about_id)) == (
        "dana@example.com",
        "pending",
        notification_id,
    )
    assert smtp.received == []  # never inside the request

    counts = emails_deliver_due()

    assert counts.delivered == 1
    [received] = smtp.received
    assert received.recipients == ["dana@example.com"]
    message = received.message
    assert message["Subject"] == "Approve the refund?"
    assert message["To"] == "dana@example.com"
    assert message["From"] == "Loopback <loopback@example.com>"
    text = message.get_content().replace("\r\n", "\n")
    assert "The blender came back unopened.\nRefund 89 EUR." in text
    assert f"{deadline:%H:%M} UTC" in text
    assert f"{BASE}/inbox/{notification_id}/" in text
    email.refresh_from_db()
    assert email.status == "sent" and email.sent_at is not None and email.attempt_count == 1
    [attempt] = EmailAttempt.objects.filter(email=email)
    assert (attempt.smtp_code, attempt.error) == (250, "")
    assert attempt.duration_ms is not None


def test_a_recipient_without_an_address_gets_no_email(
    client: Any, smtp: SmtpServer, service: Service
) -> None:
    UserFactory(username="dana", email="")
    assert create(client, service).status_code == 201
    assert not OutboundEmail.objects.exists()


def test_an_email_rolled_back_with_its_notification_does_not_exist(smtp: SmtpServer) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        emails_enqueue(emails=[NewEmail(to="dana@example.com", subject="x", body="y")])
        raise RuntimeError("the notification was not stored")
    assert not OutboundEmail.objects.exists()


def test_without_email_url_nothing_is_queued(client: Any, settings: Settings, service: Service) -> None:
    settings.EMAIL_DELIVERY = "off"
    UserFactory(username="dana", email="dana@example.com")
    assert create(client, service).status_code == 201
    assert not OutboundEmail.objects.exists()


def test_with_debug_and_no_email_url_the_email_is_printed_once_committed(
    client: Any, settings: Settings, service: Service, capsys: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_DELIVERY = "console"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    UserFactory(username="dana", email="dana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = create(client, service)
    printed = capsys.readouterr().out
    assert "Subject: Approve the refund?" in printed
    assert f"http://127.0.0.1:8000/inbox/{response.json()['notification_id']}/" in printed
    assert not OutboundEmail.objects.exists()


def test_a_title_with_line_breaks_is_one_subject_line(smtp: SmtpServer) -> None:
    emails_enqueue(
        emails=[NewEmail(to="dana@example.com", subject="Approve\r\nBcc: x@evil.example", body="b")]
    )
    assert emails_deliver_due().delivered == 1
    [received] = smtp.received
    assert received.message["Subject"] == "Approve Bcc: x@evil.example"
    assert received.recipients == ["dana@example.com"]


def queue_one() -> OutboundEmail:
    emails_enqueue(emails=[NewEmail(to="dana@example.com", subject="Waiting", body="Answer here")])
    return OutboundEmail.objects.get()


def test_a_refusing_server_is_retried_on_the_schedule_then_failed(
    settings: Settings, smtp_servers: Callable[[Reply], SmtpServer]
) -> None:
    server = smtp_servers(refusing("451 4.3.0 Try again later"))
    send_to(settings, server.mailer())
    settings.EMAIL_RETRY_SCHEDULE_SECONDS = (60, 300, 1800, 7200)
    email = queue_one()
    moments = []
    now = timezone.now()
    for _ in range(5):
        email.refresh_from_db()
        now = max(now, email.next_attempt_at)
        moments.append(now)
        assert emails_deliver_due(now=now).total == 1
    email.refresh_from_db()
    assert email.status == "failed"
    assert email.attempt_count == 5
    assert "451" in email.last_error
    attempts = list(EmailAttempt.objects.filter(email=email).order_by("started_at"))
    assert [attempt.smtp_code for attempt in attempts] == [451] * 5
    # At least three tries within the first ten minutes, and tries spread over more than ten.
    assert (moments[2] - moments[0]) <= timedelta(minutes=10)
    assert (moments[-1] - moments[0]) > timedelta(minutes=10)
    assert emails_deliver_due(now=now + timedelta(days=1)).total == 0
    assert server.offered == 5 and server.received == []


def test_a_server_that_recovers_gets_the_email_on_the_next_try(
    settings: Settings, smtp_servers: Callable[[Reply], SmtpServer]
) -> None:
    server = smtp_servers(lambda number: "421 4.7.0 Busy" if number == 1 else "250 OK")
    send_to(settings, server.mailer())
    email = queue_one()
    assert emails_deliver_due().retrying == 1
    email.refresh_from_db()
    assert emails_deliver_due(now=email.next_attempt_at).delivered == 1
    email.refresh_from_db()
    assert (email.status, email.attempt_count) == ("sent", 2)
    assert [a.smtp_code for a in EmailAttempt.objects.filter(email=email).order_by("started_at")] == [
        421,
        250,
    ]
    assert len(server.received) == 1


def test_a_server_that_is_down_is_a_recorded_failure(settings: Settings) -> None:
    send_to(
        settings,
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        },
    )
    email = queue_one()
    assert emails_deliver_due().retrying == 1
    [attempt] = EmailAttempt.objects.filter(email=email)
    assert attempt.smtp_code is None
    assert "ConnectionRefusedError" in attempt.error
    assert "dana@example.com" not in attempt.error


def test_a_refused_recipient_is_recorded_without_the_address(
    settings: Settings, smtp_servers: Callable[[Reply], SmtpServer]
) -> None:
    server = smtp_servers(accepting)
    send_to(settings, server.mailer())

    async def refuse_rcpt(smtp: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.1.1 No such user"

    server.controller.handler.handle_RCPT = refuse_rcpt  # type: ignore[attr-defined]
    email = queue_one()
    assert emails_deliver_due().retrying == 1
    [attempt] = EmailAttempt.objects.filter(email=email)
    assert attempt.smtp_code == 550
    assert "dana@example.com" not in attempt.error


def test_a_claimed_email_is_not_claimed_again_until_its_lease_runs_out(smtp: SmtpServer) -> None:
    email = queue_one()
    first = email_claim_next()
    assert first is not None
    assert email_claim_next() is None
    later = first.locked_until + timedelta(seconds=1)
    second = email_claim_next(now=later)
    assert second is not None and second.lease_token != first.lease_token
    assert EmailAttempt.objects.get(pk=first.attempt_id).error == LEASE_EXPIRED_ERROR
    # The first worker comes back: its send is recorded, the e-mail is no longer its to move on.
    assert email_record_outcome(claim=first, result=email_send(claim=first)) == Outcome.SUPERSEDED
    assert email_record_outcome(claim=second, result=email_send(claim=second), now=later) == Outcome.DELIVERED
    email.refresh_from_db()
    assert email.status == "sent"


def test_the_claim_keeps_the_address_out_of_its_repr(smtp: SmtpServer) -> None:
    queue_one()
    claim = email_claim_next()
    assert "dana@example.com" not in repr(claim)
    assert "Answer here" not in repr(claim)


def test_deliver_webhooks_sends_the_emails_too(smtp: SmtpServer) -> None:
    queue_one()
    out = StringIO()
    call_command("deliver_webhooks", "--once", stdout=out)
    assert out.getvalue().splitlines()[1] == "e-mails: 1 sent, 0 to retry, 0 failed, 0 superseded"
    assert len(smtp.received) == 1


def test_nothing_due_is_none(smtp: SmtpServer) -> None:
    assert email_deliver_next() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_email_once(
    settings: Settings, smtp_servers: Callable[[Reply], SmtpServer]
) -> None:
    assert connection.vendor == "postgresql"
    server = smtp_servers(accepting)
    send_to(settings, server.mailer())
    emails_enqueue(emails=[NewEmail(to=f"p{n}@example.com", subject="s", body="b") for n in range(4)])
    outcomes = in_threads([email_deliver_next for _ in range(8)])
    assert sorted(str(outcome) for outcome in outcomes).count("delivered") == 4, outcomes
    assert sorted(r.recipients[0] for r in server.received) == [f"p{n}@example.com" for n in range(4)]
    assert EmailAttempt.objects.count() == 4
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_the_notification_service_emails_the_recipient(smtp: SmtpServer) -> None:
    person = UserFactory(email="sam@example.com")
    notification = notification_create(
        service=ServiceFactory(name="crm-assistant"),
        recipients=[person],
        title="Call back?",
        actions=[{"id": "ok", "label": "OK", "response_type": "simple"}],
    )
    email = OutboundEmail.objects.get(about_id=notification.pk)
    assert email.body.startswith("crm-assistant asks you:")
    assert "There is no deadline." in email.body
    assert Notification.objects.filter(pk=notification.pk).exists()
