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

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from actions.models import FireOn, TriggerStatus
from config.api.families import ActionsErrorResponse, ParameterInvalid
from config.api.fields import (
    JsonObjectField,
    PassThroughField,
    Rfc3339Field,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
)
from config.api.serializers import InputSerializer, OutputSerializer

ACTION_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ACTION_ID_SUGGESTION = (
    "1 to 64 characters: lower-case letters, digits, '_' and '-', starting with a letter or digit."
)
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY_SUGGESTION = "1 to 255 printable ASCII characters, e.g. a UUID."
TARGET_URL_MAX_LENGTH = 2048


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


class ActionPutInput(InputSerializer):
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


class ActionOutput(OutputSerializer):
    """An action as it is now; `action_version` counts its changes."""

    action_id = serializers.CharField()
    action_version = serializers.CharField(
        source="version", help_text='"1" at creation, up by one on every change.'
    )
    target_url = serializers.CharField()
    fire_on = serializers.ChoiceField(choices=FireOn.choices)
    timeout_ms = serializers.IntegerField()
    description = serializers.CharField()
    created_at = Rfc3339Field()
    updated_at = Rfc3339Field()


class TriggerInput(InputSerializer):
    decision = StrictBooleanField(
        required=False, allow_null=True, default=None, help_text="true, false or null (always fires)."
    )
    dry_run = StrictBooleanField(required=False, default=False, help_text="true or false.")
    payload = JsonObjectField(
        required=False, allow_null=True, default=None, help_text="A JSON object, or null."
    )


@extend_schema_field(ActionsErrorResponse)
class StoredErrorField(PassThroughField):
    """A failed trigger's ErrorResponse, stored as `ActionsFamily.error_body` built it."""


class ActionResultOutput(OutputSerializer):
    """What a trigger did; a retry with the same Idempotency-Key gets the same one back."""

    # The trigger comes with its action (`action_trigger` returns it so): rendering queries nothing.
    action_id = serializers.CharField(source="action.action_id")
    action_version = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[c for c in TriggerStatus.values if c != TriggerStatus.IN_PROGRESS]
    )
    payload_sent = JsonObjectField(allow_null=True, help_text="The exact JSON body sent (triggered only).")
    error = StoredErrorField(allow_null=True, help_text="Set only when status is failed.")
