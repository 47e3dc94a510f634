"""Shapes of the /actions requests and answers (contract 4). They validate; they never write.

JSON types are taken strictly: `1` is not a boolean, `"5000"` is not an integer, a list is not an
object. A value of the wrong JSON type is a `type_error`; a value of the right type that is not
acceptable (out of range, not a choice, not a URL) or a key nobody asked for is a
`parameter_error`. Each error names its field in `location` (`body.decision`) and carries the
field's help text, which says what would be accepted, as its `suggestion`.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from actions.error_types import ParameterInvalid, TypeMismatch
from actions.models import FireOn, TriggerStatus
from config.api.serializers import InputSerializer

ACTION_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ACTION_ID_SUGGESTION = (
    "1 to 64 characters: lower-case letters, digits, '_' and '-', starting with a letter or digit."
)
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_SUGGESTION = "1 to 255 printable ASCII characters, e.g. a UUID."
TARGET_URL_MAX_LENGTH = 2048
# DRF error codes that mean "this is not the JSON type the field takes".
TYPE_ERROR_CODES = frozenset({"type", "null"})


def parse_action_id(value: str) -> str:
    if not ACTION_ID_PATTERN.fullmatch(value):
        raise ParameterInvalid(
            "The action id is not valid.", location="path.id", suggestion=ACTION_ID_SUGGESTION
        )
    return value


def parse_idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header, or None when it was not sent."""
    value = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if value is None:
        return None
    printable = all(0x20 <= ord(char) <= 0x7E for char in value)
    if not 1 <= len(value) <= IDEMPOTENCY_KEY_MAX_LENGTH or not printable:
        raise ParameterInvalid(
            "The Idempotency-Key header is not valid.",
            location="header.Idempotency-Key",
            suggestion=IDEMPOTENCY_KEY_SUGGESTION,
        )
    return value


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    default_error_messages = {"type": "Must be true or false.", "null": "Must be true or false, not null."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("type")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"type": "Must be a JSON integer.", "null": "Must be an integer, not null."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type")
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"type": "Must be a string.", "null": "Must be a string, not null."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("type")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    default_error_messages = {"type": "Must be a string.", "null": "Must be a string, not null."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("type")
        return super().to_internal_value(data)


class HttpUrlField(StrictCharField):
    default_error_messages = {"url": "Must be an absolute http or https URL: {problem}."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", TARGET_URL_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        problem = _http_url_problem(value)
        if problem:
            self.fail("url", problem=problem)
        return value


def _http_url_problem(value: str) -> str | None:
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "it contains spaces or control characters"
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"}:
        return "the scheme is not http or https"
    if not parts.hostname:
        return "it has no host"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "the port is not a number from 0 to 65535"
    return None


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class JsonObjectField(serializers.Field):
    default_error_messages = {
        "type": "Must be a JSON object or null.",
        "null": "Must be a JSON object.",
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("type")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class StrictInputSerializer(InputSerializer):
    """A body whose keys are all known and whose values have the declared JSON types."""

    @classmethod
    def validated(cls, data: dict[str, Any]) -> dict[str, Any]:
        serializer = cls(data=data)
        known = list(serializer.fields)
        unknown = [key for key in data if key not in serializer.fields]
        if unknown:
            raise ParameterInvalid(
                f"Unknown field {unknown[0]!r}.",
                location=f"body.{unknown[0]}",
                suggestion=f"Send only these fields: {', '.join(known)}.",
            )
        if serializer.is_valid():
            return dict(serializer.validated_data)
        name, details = next(iter(serializer.errors.items()))
        detail = details[0]
        error_class = TypeMismatch if detail.code in TYPE_ERROR_CODES else ParameterInvalid
        help_text = serializer.fields[name].help_text
        raise error_class(
            f"{name}: {detail}", location=f"body.{name}", suggestion=str(help_text) if help_text else None
        )


class ActionPutInput(StrictInputSerializer):
    target_url = HttpUrlField(help_text="An absolute http or https URL, e.g. https://example.com/hook.")
    fire_on = StrictChoiceField(
        choices=FireOn.choices,
        default=FireOn.TRUE,
        help_text='"true" (fire on a true decision), "false" (on a false one) or "always".',
    )
    timeout_ms = StrictIntegerField(
        min_value=100,
        max_value=30_000,
        default=5000,
        help_text="An integer number of milliseconds from 100 to 30000.",
    )
    description = StrictCharField(
        required=False, allow_blank=True, allow_null=True, default="", help_text="A string, or null."
    )


class ActionOutput(serializers.Serializer):
    """The action as `PUT` and `GET /actions/{id}` answer it (for the schema)."""

    action_id = serializers.CharField()
    action_version = serializers.CharField(help_text='"1" at creation, up by one on every change.')
    target_url = serializers.CharField()
    fire_on = serializers.ChoiceField(choices=FireOn.choices)
    timeout_ms = serializers.IntegerField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TriggerInput(StrictInputSerializer):
    decision = StrictBooleanField(
        required=False, allow_null=True, default=None, help_text="true, false or null (always fires)."
    )
    dry_run = StrictBooleanField(required=False, default=False, help_text="true or false.")
    payload = JsonObjectField(
        required=False, allow_null=True, default=None, help_text="A JSON object, or null."
    )


class ActionsErrorDetail(serializers.Serializer):
    type = serializers.CharField()
    message = serializers.CharField()
    location = serializers.CharField(allow_null=True)
    suggestion = serializers.CharField(allow_null=True)


class ActionsErrorResponse(serializers.Serializer):
    error = ActionsErrorDetail()


class ActionResultOutput(serializers.Serializer):
    """The seed's ActionResult (for the schema)."""

    action_id = serializers.CharField()
    action_version = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[c for c in TriggerStatus.values if c != TriggerStatus.IN_PROGRESS]
    )
    payload_sent = JsonObjectField(allow_null=True, help_text="The exact JSON body sent (triggered only).")
    error = ActionsErrorResponse(allow_null=True, help_text="Set only when status is failed.")
