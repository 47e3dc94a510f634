"""The formats settings and operator arguments are written in, each parsed here and nowhere else.

Each parser raises ValueError with a sentence an operator can act on; the system checks
(`config/checks.py`) and the commands turn it into their own kind of error.
"""

import math
import re
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# django-ratelimit's rates: N per unit, or per a whole number of units ("20/15m").
_RATE = re.compile(r"([1-9]\d{0,8})/([1-9]\d{0,5})?([smhd])")
_DURATION = re.compile(r"(\d{1,9})([smhd])")
# A retention of `0` keeps forever (contract 8).
KEEP_FOREVER = "0"


class Rate(NamedTuple):
    limit: int
    seconds: int


def parse_rate(value: str) -> Rate:
    """`600/m`, `5/h`, `20/15m`: at most `limit` requests per window of `seconds`."""
    match = _RATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{value!r} is not a rate; use a whole number of requests per s, m, h or d, as in 600/m"
        )
    return Rate(limit=int(match[1]), seconds=int(match[2] or 1) * _UNIT_SECONDS[match[3]])


def parse_duration(value: str) -> timedelta:
    """`30s`, `15m`, `24h`, `7d`: a whole number with a unit."""
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a duration; use a whole number with s, m, h or d, as in 24h")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def parse_retention(value: str) -> timedelta | None:
    """A DURATION, or `0` for "keep forever" (None; contract 8). A zero duration (`0d`) is refused:
    read literally it would purge everything at once, the opposite of what `0` means."""
    if value == KEEP_FOREVER:
        return None
    try:
        duration = parse_duration(value)
    except ValueError:
        duration = timedelta(0)
    if not duration:
        raise ValueError(f"{value!r} is not a retention; use 0 (keep forever) or a duration such as 30d")
    return duration


def parse_seconds(value: object, *, low: float = 0.0, high: float = math.inf, above: bool = False) -> float:
    """A number of seconds from `low` (or above it, when `above`) to `high`, given as a number or text."""
    seconds = _number(value)
    if not ((seconds > low if above else seconds >= low) and seconds <= high):
        bounds = f"above {low:g}" if above else f"from {low:g}"
        if high != math.inf:
            bounds += f" to {high:g}"
        raise ValueError(f"{value!r} is not a number of seconds {bounds}")
    return seconds


def _number(value: object) -> float:
    """The number `value` is or spells; NaN (which no range holds) for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def parse_redis_url(value: str) -> str:
    """`redis://host:6379/0`, `rediss://…` (TLS) or `unix:///path/redis.sock`."""
    parts = urlsplit(value)
    located = parts.path if parts.scheme == "unix" else parts.hostname
    if parts.scheme not in {"redis", "rediss", "unix"} or not located:
        raise ValueError(f"{value!r} is not a Redis URL; use redis://host:6379/0")
    return value


# EMAIL_URL's schemes: (default port, STARTTLS, implicit TLS).
EMAIL_SCHEMES: dict[str, tuple[int, bool, bool]] = {
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtps": (465, False, True),
}
EMAIL_TIMEOUT_SECONDS = 10
EMAIL_MAX_TIMEOUT_SECONDS = 300
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def _email_timeout(query: str) -> int:
    params = parse_qs(query, keep_blank_values=True)
    if set(params) - {"timeout"}:
        raise ValueError("the URL takes only the query parameter timeout")
    values = params.get("timeout")
    if values is None:
        return EMAIL_TIMEOUT_SECONDS
    if len(values) != 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= EMAIL_MAX_TIMEOUT_SECONDS:
        raise ValueError(
            f"its timeout must be a whole number of seconds from 1 to {EMAIL_MAX_TIMEOUT_SECONDS}"
        )
    return int(values[0])


def parse_email_url(value: str) -> dict[str, Any]:
    """`smtp://user:password@host:port` (plain, port 25), `smtp+starttls://...` (STARTTLS, 587),
    `smtps://...` (TLS from the first byte, 465); user and password percent-encoded; the one query
    parameter `timeout` (seconds, default 10). The `MAILERS` entry it describes: Django's SMTP
    backend and its OPTIONS.

    Our own parser rather than `dj-email-url` (docs/decisions.md), which knows no `smtp+starttls`,
    reads `smtps` as STARTTLS and lets an unknown scheme or a malformed port through. Its errors
    never repeat the URL, which holds a password.
    """
    parts = urlsplit(value.strip()) if isinstance(value, str) else urlsplit("")
    scheme = parts.scheme.lower()
    if scheme not in EMAIL_SCHEMES:
        raise ValueError("the URL must start with smtp://, smtp+starttls:// or smtps://")
    default_port, starttls, implicit_tls = EMAIL_SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError("the URL names no host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the URL has a port that is not a number from 1 to 65535")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("the URL takes no path (smtp://user:password@host:port)")
    return {
        "BACKEND": SMTP_BACKEND,
        "OPTIONS": {
            "host": parts.hostname,
            "port": port or default_port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": starttls,
            "use_ssl": implicit_tls,
            "timeout": _email_timeout(parts.query),
        },
    }


def parse_public_base_url(value: str) -> str:
    """`https://loopback.example.com` (or `http://`, a port, a path prefix): where people reach
    this server; the e-mails' links start with it."""
    parts = urlsplit(value) if isinstance(value, str) else urlsplit("")
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{value!r} is not a base URL; use https://host, without a query")
    return value


def parse_from_address(value: str) -> str:
    """`Loopback <loopback@example.com>` or `loopback@example.com`: one sender address."""
    name, address = parseaddr(value) if isinstance(value, str) else ("", "")
    try:
        if not isinstance(value, str) or any(ord(char) < 32 for char in value):
            raise ValueError  # a line break would start another header
        validate_email(address)
        Address(display_name=name, addr_spec=address)
    except (ValidationError, ValueError):
        raise ValueError(
            f"{value!r} is not an e-mail address, as in Loopback <loopback@example.com>"
        ) from None
    return value
