"""The formats settings and operator arguments are written in, each parsed here and nowhere else.

Each parser raises ValueError with a sentence an operator can act on; the system checks
(`config/checks.py`) and the commands turn it into their own kind of error.
"""

import math
import re
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# django-ratelimit's rates: N per unit, or per a whole number of units ("20/15m").
_RATE = re.compile(r"([1-9]\d{0,8})/([1-9]\d{0,5})?([smhd])")
_DURATION = re.compile(r"(\d{1,9})([smhd])")


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
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration; use a whole number with s, m, h or d, as in 24h")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


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
