"""Timestamps on the wire: RFC 3339 in UTC with a `Z` (contract 0), with any fraction of a second."""

from datetime import UTC, datetime
from typing import overload


@overload
def rfc3339(moment: datetime) -> str: ...
@overload
def rfc3339(moment: None) -> None: ...
def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_words(moment: datetime) -> str:
    """A moment for people, in UTC: "Tue 1 Dec 2026, 21:30 UTC"."""
    moment = moment.astimezone(UTC)
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} UTC"


def utc_stamp(moment: datetime | None) -> str:
    """A moment for the admin, in UTC and saying so: "2026-12-02 00:31:05 UTC" (the admin's one
    format, `config.locale_formats`); "-" for none."""
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
