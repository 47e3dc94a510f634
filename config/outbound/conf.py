"""Outbound delivery settings: defaults here, each overridable by a Django setting of the same name.

Read at call time (not import time), so a deployment's settings and a test's `settings` fixture
both take effect.
"""

from django.conf import settings

# Per request, whole request (connect, send, answer): a total deadline, not a per-socket one.
WEBHOOK_TIMEOUT_SECONDS = 10.0
# How long a worker holds a claimed event. Longer than the timeout, so a live worker never loses
# its event mid-send; short enough that a dead worker's event goes out again within two minutes.
WEBHOOK_LEASE_SECONDS = 60.0
# Delays before the retries after a failed attempt (contract 5): 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h. One first attempt plus one retry per entry; after the last, the event is `failed`.
WEBHOOK_RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
# Each scheduled delay is multiplied by a random factor in [1 - jitter, 1 + jitter], so events
# that failed together (a receiver outage) do not all come back in the same second.
WEBHOOK_RETRY_JITTER = 0.1
# A `Retry-After` longer than the scheduled delay is honoured up to this cap.
WEBHOOK_RETRY_AFTER_MAX_SECONDS = 24 * 3600.0
# How long an idle `deliver_webhooks` worker sleeps between looks at the outbox.
WEBHOOK_POLL_SECONDS = 1.0
# Delays before the retries of an e-mail the mail server did not take (contract 9: at least 3
# tries over 10 minutes): 1 min, 5 min, 30 min, 2 h; five tries in about 2.5 h, then `failed`.
EMAIL_RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (60, 300, 1800, 7200)


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", WEBHOOK_TIMEOUT_SECONDS))


def lease_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_LEASE_SECONDS", WEBHOOK_LEASE_SECONDS))


def retry_schedule_seconds() -> tuple[float, ...]:
    return tuple(getattr(settings, "WEBHOOK_RETRY_SCHEDULE_SECONDS", WEBHOOK_RETRY_SCHEDULE_SECONDS))


def retry_jitter() -> float:
    return float(getattr(settings, "WEBHOOK_RETRY_JITTER", WEBHOOK_RETRY_JITTER))


def retry_after_max_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_RETRY_AFTER_MAX_SECONDS", WEBHOOK_RETRY_AFTER_MAX_SECONDS))


def poll_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_POLL_SECONDS", WEBHOOK_POLL_SECONDS))


def email_retry_schedule_seconds() -> tuple[float, ...]:
    return tuple(getattr(settings, "EMAIL_RETRY_SCHEDULE_SECONDS", EMAIL_RETRY_SCHEDULE_SECONDS))
