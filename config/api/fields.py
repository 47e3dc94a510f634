"""Strict input fields: JSON types taken as sent, for every family.

DRF's own fields coerce (`CharField` takes 42 as "42", `IntegerField` takes true as 1 and "5" as
5, `ChoiceField` quotes the value sent back in its message). These refuse a value of the wrong
JSON type with the error code `type` (`null` for a null where none is allowed), which is how
`InputSerializer.from_request` tells a wrong type from a wrong value: the actions family answers
the first `type_error`, the second `parameter_error`; the other families answer both as their
invalid-request code.
"""

import re
from datetime import UTC, datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.timestamps import rfc3339

# The error codes that mean "this is not the JSON type the field takes".
TYPE_ERROR_CODES = frozenset({"type", "null"})


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else. Kept as sent unless the field asks for `trim_whitespace`."""

    default_error_messages = {"type": "Must be a string.", "null": "Must be a string, not null."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("type")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a boolean, not a float such as 200.0, not a string."""

    default_error_messages = {"type": "Must be a JSON integer.", "null": "Must be an integer, not null."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type")
        return data


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query string: ASCII digits only (no sign, no space, no `²`)."""

    DIGITS = re.compile(r"[0-9]{1,9}")
    default_error_messages = {"type": "Must be a whole number."}

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not self.DIGITS.fullmatch(data):
            self.fail("type")
        return int(data)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """true or false: not 1, not "true"."""

    default_error_messages = {"type": "Must be true or false.", "null": "Must be true or false, not null."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("type")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictChoiceField(serializers.ChoiceField):
    """One of `choices`, a string. The message lists the choices and never quotes the value sent,
    which may be markup (DRF's own repeats it: `"<script>" is not a valid choice.`)."""

    default_error_messages = {"type": "Must be a string.", "null": "Must be a string, not null."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["invalid_choice"] = f"must be one of {', '.join(map(str, self.choices))}."

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("type")
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.Field):
    """A JSON object, passed through as it is."""

    default_error_messages = {"type": "Must be a JSON object.", "null": "Must be a JSON object, not null."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("type")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class Rfc3339Field(serializers.Field):
    """An RFC 3339 timestamp with its time zone (contract 0), read as UTC; written with a `Z`."""

    default_error_messages = {
        "type": "Must be an RFC 3339 timestamp with a time zone.",
        "invalid": "Must be an RFC 3339 timestamp with a time zone.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("type")
        if len(data) > 64 or "T" not in data.upper():
            self.fail("invalid")
        try:
            moment = datetime.fromisoformat(data)
        except (ValueError, OverflowError):
            self.fail("invalid")
        if moment.tzinfo is None:
            self.fail("invalid")
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            self.fail("invalid")

    def to_representation(self, value: datetime) -> str | None:
        return rfc3339(value)


@extend_schema_field(OpenApiTypes.ANY)
class PassThroughField(serializers.Field):
    """Any JSON value, as sent: what it must be is checked further on, with that check's own code."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value
