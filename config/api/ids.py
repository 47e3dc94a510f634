"""Ids from URL paths."""

import uuid
from typing import Any

from config.api.errors import ApiError, NotFound


def parse_id(value: Any, *, what: str | None = None, error: type[ApiError] = NotFound) -> uuid.UUID:
    """The UUID a path names; a value that is not one names nothing, so it is `error` (a 404).

    `what` words the message ("There is no bot with that id ..."); without it the error's own
    default message is used. The value is never quoted back: it came from the path and may be
    markup.
    """
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise error(f"There is no {what} with that id (ids are UUIDs)." if what else None)
