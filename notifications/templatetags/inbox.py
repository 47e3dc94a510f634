"""Template filters of the inbox: a deadline as time left, and in UTC."""

from datetime import datetime

from django import template
from django.utils import timezone

from config.api.timestamps import rfc3339, utc_words

register = template.Library()

SOON_SECONDS = 3600


def _left(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "in less than a minute"
    if minutes < 60:
        return f"in {minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"in {hours} h"
    return f"in {hours // 24} days"


@register.filter
def time_left(deadline: datetime | None, now: datetime | None = None) -> str:
    """ "in 2 h", "in 35 min", "overdue"; empty without a deadline."""
    if deadline is None:
        return ""
    seconds = (deadline - (now or timezone.now())).total_seconds()
    return "overdue" if seconds <= 0 else _left(seconds)


@register.filter
def deadline_class(deadline: datetime | None, now: datetime | None = None) -> str:
    """`overdue`, `soon` (under an hour left) or empty, for the deadline's colour."""
    if deadline is None:
        return ""
    seconds = (deadline - (now or timezone.now())).total_seconds()
    if seconds <= 0:
        return "overdue"
    return "soon" if seconds < SOON_SECONDS else ""


@register.filter
def utc(moment: datetime | None) -> str:
    """ "Tue 1 Dec 2026, 21:30 UTC"."""
    return "" if moment is None else utc_words(moment)


@register.filter
def iso(moment: datetime | None) -> str:
    return rfc3339(moment) or ""
