"""DURATION values of the operator commands and settings (contract 1): `30s`, `15m`, `24h`, `7d`."""

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d{1,9})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A retention of `0` keeps forever (contract 8).
KEEP_FOREVER = "0"


def parse_duration(value: str) -> timedelta:
    """A whole number with a unit; ValueError (with a message fit for an operator) otherwise."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration; use a whole number with s, m, h or d, as in 24h")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def parse_retention(value: str) -> timedelta | None:
    """A DURATION, or `0` for "keep forever" (None). A zero duration (`0d`) is refused: read
    literally it would purge everything at once, the opposite of what `0` means."""
    if value == KEEP_FOREVER:
        return None
    try:
        duration = parse_duration(value)
    except ValueError:
        duration = timedelta(0)
    if not duration:
        raise ValueError(f"{value!r} is not a retention; use 0 (keep forever) or a duration such as 30d")
    return duration
