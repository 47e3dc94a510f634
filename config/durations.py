"""DURATION values (contract 1): a whole number with a unit, `30s`, `15m`, `24h`, `7d`.

One parser for the command-line options (`--older-than`) and the settings that take a duration
(`WEBHOOK_SECRET_OVERLAP`), so both accept and refuse exactly the same spellings.
"""

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d{1,9})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """The duration `value` spells; ValueError (with a message for people) for anything else."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration; use a whole number with s, m, h or d, as in 24h")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
