"""System checks of our own: every setting with a format, and the deployment's shared cache.

`manage.py` runs them before every command (check, migrate, deliver_webhooks...); a server
started without `manage.py` runs them through `at_server_start` (config/wsgi.py). An error stops
either with the setting's name, the value it has and a hint.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from config.accounts.encryption import key_errors
from config.formats import (
    parse_duration,
    parse_email_url,
    parse_from_address,
    parse_public_base_url,
    parse_rate,
    parse_redis_url,
    parse_retention,
    parse_seconds,
)
from config.outbound import conf

logger = logging.getLogger("config")

IN_PROCESS_CACHE_MESSAGE = (
    "REDIS_URL is not set: the cache and every rate limit live inside each process, so with more "
    "than one process (gunicorn workers, several hosts) each keeps its own count."
)


def _problem(parse: Callable[[Any], object], value: object) -> str | None:
    try:
        parse(value)
    except ValueError as exc:
        return str(exc)
    return None


def _whole_seconds(value: object) -> float:
    seconds = parse_seconds(value)
    if not float(seconds).is_integer():
        raise ValueError(f"{value!r} is not a whole number of seconds")
    return seconds


def _schedule(value: object) -> object:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{value!r} is not a list of delays in seconds")
    for delay in value:
        parse_seconds(delay)
    return value


def _jitter(value: object) -> float:
    try:
        return parse_seconds(value, high=0.99)
    except ValueError:
        raise ValueError(f"{value!r} is not a fraction from 0 to 0.99") from None


# (id, setting, its default when it may be absent, parser, hint)
FORMATS: list[tuple[str, str, object, Callable[[Any], object], str]] = [
    ("config.E001", "ACTIONS_TRIGGER_RATE", None, parse_rate, "Trigger requests per service, as in 600/m."),
    (
        "config.E002",
        "OUTBOUND_KEEP_ALIVE_SECONDS",
        None,
        lambda value: parse_seconds(value, high=3600),
        "From 0 to 3600, below the shortest idle timeout of the servers you send to (gunicorn's is "
        "2 s); 0 opens a new connection every time.",
    ),
    ("config.E003", "SECURE_HSTS_SECONDS", None, _whole_seconds, "0 leaves HSTS off; a year is 31536000."),
    (
        "config.E004",
        "WEBHOOK_TIMEOUT_SECONDS",
        conf.WEBHOOK_TIMEOUT_SECONDS,
        lambda value: parse_seconds(value, above=True),
        "The whole deadline of one webhook or trigger request, as in 10.",
    ),
    (
        "config.E005",
        "WEBHOOK_LEASE_SECONDS",
        conf.WEBHOOK_LEASE_SECONDS,
        lambda value: parse_seconds(value, above=True),
        "How long a worker holds a claimed event, as in 60.",
    ),
    (
        "config.E006",
        "WEBHOOK_RETRY_SCHEDULE_SECONDS",
        conf.WEBHOOK_RETRY_SCHEDULE_SECONDS,
        _schedule,
        "The delays before each retry, as in (5, 300, 1800).",
    ),
    ("config.E007", "WEBHOOK_RETRY_JITTER", conf.WEBHOOK_RETRY_JITTER, _jitter, "As in 0.1 (±10 %)."),
    (
        "config.E008",
        "WEBHOOK_RETRY_AFTER_MAX_SECONDS",
        conf.WEBHOOK_RETRY_AFTER_MAX_SECONDS,
        parse_seconds,
        "The longest Retry-After honoured, as in 86400.",
    ),
    (
        "config.E009",
        "WEBHOOK_POLL_SECONDS",
        conf.WEBHOOK_POLL_SECONDS,
        lambda value: parse_seconds(value, above=True),
        "How long an idle deliver_webhooks worker sleeps, as in 1.",
    ),
    (
        "config.E012",
        "WEBHOOK_SECRET_OVERLAP",
        None,
        parse_duration,
        "How long the previous webhook secret keeps signing after a rotation, as in 24h; 0s ends it at once.",
    ),
    (
        "config.E014",
        "RETAIN_WEBHOOK_PAYLOADS",
        None,
        parse_retention,
        "How long purge_data keeps delivered webhook payloads, as in 30d; 0 keeps them forever.",
    ),
    (
        "config.E015",
        "RETAIN_NOTIFICATIONS",
        None,
        parse_retention,
        "How long purge_data keeps finished notifications, as in 365d; 0 keeps them forever.",
    ),
    (
        "config.E016",
        "RETAIN_EXECUTIONS",
        None,
        parse_retention,
        "How long purge_data keeps finished executions, as in 90d; 0 keeps them forever.",
    ),
    (
        "config.E017",
        "EMAIL_RETRY_SCHEDULE_SECONDS",
        conf.EMAIL_RETRY_SCHEDULE_SECONDS,
        _schedule,
        "The delays before each retry of an e-mail, as in (60, 300, 1800).",
    ),
    (
        "config.E018",
        "DEFAULT_FROM_EMAIL",
        None,
        parse_from_address,
        "The sender of the inbox's e-mails, as in Loopback <loopback@example.com>.",
    ),
]

# Settings that may be empty (off), checked only when set: (id, setting, parser, hint).
OPTIONAL_FORMATS: list[tuple[str, str, Callable[[Any], object], str]] = [
    ("config.E010", "REDIS_URL", parse_redis_url, "Or leave it unset."),
    (
        "config.E019",
        "EMAIL_URL",
        parse_email_url,
        "As in smtp+starttls://user:password@smtp.example.com:587 (user and password percent-encoded); "
        "or leave it unset: no e-mail.",
    ),
    ("config.E020", "PUBLIC_BASE_URL", parse_public_base_url, "As in https://loopback.example.com."),
]


@checks.register()
def check_setting_formats(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for check_id, name, default, parse, hint in FORMATS:
        problem = _problem(parse, getattr(settings, name, default))
        if problem:
            errors.append(checks.Error(f"{name}: {problem}.", hint=hint, id=check_id))
    for check_id, name, parse, hint in OPTIONAL_FORMATS:
        value = getattr(settings, name, "")
        problem = _problem(parse, value) if value else None
        if problem:
            errors.append(checks.Error(f"{name}: {problem}.", hint=hint, id=check_id))
    if getattr(settings, "EMAIL_URL", "") and not getattr(settings, "PUBLIC_BASE_URL", ""):
        errors.append(
            checks.Error(
                "PUBLIC_BASE_URL is not set: the e-mails link to <PUBLIC_BASE_URL>/inbox/<id>/.",
                hint="Set it to the address people reach this server at (https://loopback.example.com).",
                id="config.E021",
            )
        )
    refused = {error.id for error in errors}
    if not refused & {"config.E004", "config.E005"} and conf.lease_seconds() <= conf.timeout_seconds():
        errors.append(
            checks.Error(
                "WEBHOOK_LEASE_SECONDS must be longer than WEBHOOK_TIMEOUT_SECONDS, or a slow send could "
                "lose its lease and go out twice at once.",
                hint=f"Now {conf.lease_seconds():g} s and {conf.timeout_seconds():g} s; the defaults are "
                f"{conf.WEBHOOK_LEASE_SECONDS:g} s and {conf.WEBHOOK_TIMEOUT_SECONDS:g} s.",
                id="config.E011",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_webhook_secret_keys(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    # Its own check, not a FORMATS row: a message must name the key by position, never quote it.
    return [
        checks.Error(
            message,
            hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'",
            id="config.E013",
        )
        for message in key_errors(list(settings.WEBHOOK_SECRET_KEYS))
    ]


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.REDIS_URL:
        return []
    return [
        checks.Warning(IN_PROCESS_CACHE_MESSAGE, hint="Set REDIS_URL=redis://host:6379/0.", id="config.W001")
    ]


def at_server_start() -> None:
    """What `manage.py` does before a command, for gunicorn, which runs none: refuse to serve on
    settings a check refuses, and warn about an unshared cache."""
    errors = [
        message for message in checks.run_checks() if message.is_serious() and not message.is_silenced()
    ]
    if errors:
        raise ImproperlyConfigured("\n".join(["The system checks found errors:", *map(str, errors)]))
    if not settings.DEBUG and not settings.REDIS_URL:
        logger.warning(IN_PROCESS_CACHE_MESSAGE)
