"""The e-mail outbox: queueing e-mails in the causing transaction, claiming, sending, recording.

The life of an e-mail follows a webhook event's (config/outbound/services.py), with the mail
server in place of the callback URL:

1. `emails_enqueue` writes one row per e-mail, pending and due now, in the transaction of what
   it tells about (a notification): no notification, no e-mail. Which way e-mail goes is
   `EMAIL_DELIVERY` (config/settings.py): `outbox` stores them; `console` (DEBUG without
   EMAIL_URL) prints each once the transaction commits, storing nothing; `off` does nothing.
2. A `deliver_webhooks` worker claims ONE due e-mail in a short transaction: the candidate is
   picked with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, the claim is a conditional
   UPDATE that sets a lease (`lease_token`, `locked_until` = now + WEBHOOK_LEASE_SECONDS), and the
   EmailAttempt row is written with it.
3. The worker sends outside any transaction, through Django's default mailer (MAILERS).
4. It records the outcome only while the lease is still its own: sent; or the next try after
   EMAIL_RETRY_SCHEDULE_SECONDS (1 min, 5 min, 30 min, 2 h, +-10 % jitter); after the last,
   `failed`. A worker that dies mid-send leaves its lease, and the e-mail goes out again once
   it has run out (at least once).

Addresses and bodies are personal data: they are never logged (a log line names the e-mail's id,
the attempt, the outcome and the SMTP code).
"""

import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from config.outbound import conf
from config.outbound.leases import lease_next
from config.outbound.models import EmailAttempt, OutboundEmail
from config.outbound.services import (
    ERROR_MAX_LENGTH,
    DeliveryCounts,
    Outcome,
    retry_delay,
)

logger = logging.getLogger(__name__)

OUTBOX = "outbox"
CONSOLE = "console"


@dataclass(frozen=True)
class NewEmail:
    to: str
    subject: str
    body: str
    about_id: UUID | None = None


@dataclass(frozen=True)
class EmailClaim:
    email_id: UUID
    lease_token: UUID
    locked_until: datetime
    attempt_id: int
    attempt_number: int
    # Kept out of repr: a claim in a traceback or a log must not carry the address or the text.
    to: str = field(repr=False)
    subject: str = field(repr=False)
    body: str = field(repr=False)


@dataclass(frozen=True)
class EmailResult:
    ok: bool
    duration_ms: int
    smtp_code: int | None = None
    error: str = ""


def _one_line(text: str) -> str:
    # A header is one line: a title with line breaks must not become a header injection.
    return " ".join(text.split())


def _message(*, to: str, subject: str, body: str) -> EmailMessage:
    return EmailMessage(
        subject=_one_line(subject), body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )


def emails_enqueue(*, emails: Iterable[NewEmail]) -> int:
    """Queue e-mails; call it inside the causing transaction. Returns how many were stored."""
    emails = [email for email in emails if email.to]
    delivery = getattr(settings, "EMAIL_DELIVERY", "off")
    if not emails or delivery not in (OUTBOX, CONSOLE):
        return 0
    if delivery == CONSOLE:
        transaction.on_commit(lambda: _print(emails))
        return 0
    now = timezone.now()
    OutboundEmail.objects.bulk_create(
        OutboundEmail(
            to_address=email.to,
            subject=_one_line(email.subject)[:255],
            body=email.body,
            about_id=email.about_id,
            next_attempt_at=now,
        )
        for email in emails
    )
    return len(emails)


def _print(emails: list[NewEmail]) -> None:
    for email in emails:
        _message(to=email.to, subject=email.subject, body=email.body).send(using="default")


def email_claim_next(*, now: datetime | None = None, due_by: datetime | None = None) -> EmailClaim | None:
    """Take the lease on the next due e-mail, or None when none is due."""
    now = now or timezone.now()
    lease = lease_next(
        model=OutboundEmail, attempt_model=EmailAttempt, attempt_of="email", now=now, due_by=due_by or now
    )
    if lease is None:
        return None
    email: OutboundEmail = lease.row
    return EmailClaim(
        email_id=email.pk,
        lease_token=lease.token,
        locked_until=lease.locked_until,
        attempt_id=lease.attempt_id,
        attempt_number=email.attempt_count + 1,
        to=email.to_address,
        subject=email.subject,
        body=email.body,
    )


def _describe(exc: Exception) -> tuple[int | None, str]:
    """The SMTP code and a short error for the attempt log."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return (codes[0] if codes else None), "the mail server refused the recipient"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return exc.smtp_code, f"{type(exc).__name__}: {exc.smtp_code} {reply}"
    return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def email_send(*, claim: EmailClaim) -> EmailResult:
    """Send the claimed e-mail (no database work here: it runs outside any transaction)."""
    started = time.perf_counter()
    try:
        _message(to=claim.to, subject=claim.subject, body=claim.body).send(using="default")
    except Exception as exc:  # whatever the mail server or the network did, it is one failed try
        code, error = _describe(exc)
        return EmailResult(
            ok=False, duration_ms=_ms_since(started), smtp_code=code, error=error[:ERROR_MAX_LENGTH]
        )
    return EmailResult(ok=True, duration_ms=_ms_since(started), smtp_code=250)


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def email_record_outcome(*, claim: EmailClaim, result: EmailResult, now: datetime | None = None) -> Outcome:
    """Record the attempt, and move the e-mail on if the lease is still ours."""
    now = now or timezone.now()
    changes: dict[str, Any]
    if result.ok:
        outcome = Outcome.DELIVERED
        changes = {"status": OutboundEmail.Status.SENT, "sent_at": now, "last_error": ""}
    else:
        delay = retry_delay(attempt_number=claim.attempt_number, schedule=conf.email_retry_schedule_seconds())
        if delay is None:
            outcome = Outcome.FAILED
            changes = {"status": OutboundEmail.Status.FAILED, "last_error": result.error}
        else:
            outcome = Outcome.RETRYING
            changes = {"next_attempt_at": now + delay, "last_error": result.error}
    with transaction.atomic():
        EmailAttempt.objects.filter(pk=claim.attempt_id).update(
            duration_ms=result.duration_ms, smtp_code=result.smtp_code, error=result.error
        )
        ours = OutboundEmail.objects.filter(pk=claim.email_id, lease_token=claim.lease_token)
        if not ours.update(**changes, lease_token=None, locked_until=None):
            outcome = Outcome.SUPERSEDED
    logger.info(
        "email attempt",
        extra={
            "email_id": str(claim.email_id),
            "attempt": claim.attempt_number,
            "outcome": outcome.value,
            "smtp_code": result.smtp_code,
            "duration_ms": result.duration_ms,
        },
    )
    return outcome


def email_deliver_next(*, now: datetime | None = None, due_by: datetime | None = None) -> Outcome | None:
    """Claim, send and record one due e-mail; None when nothing is due."""
    claim = email_claim_next(now=now, due_by=due_by)
    if claim is None:
        return None
    return email_record_outcome(claim=claim, result=email_send(claim=claim), now=now)


def emails_deliver_due(
    *, now: datetime | None = None, should_stop: Callable[[], bool] | None = None
) -> DeliveryCounts:
    """Send every e-mail due when the call starts, one at a time; stops early when asked.

    In the counts, `delivered` means the mail server took the e-mail.
    """
    due_by = now or timezone.now()
    counts = DeliveryCounts()
    while should_stop is None or not should_stop():
        outcome = email_deliver_next(now=now, due_by=due_by)
        if outcome is None:
            break
        counts.add(outcome)
    return counts
