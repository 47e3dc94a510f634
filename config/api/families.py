"""The three API families of the contract (section 0) and how each renders an error.

A request belongs to a family by its path prefix. Every error under a family's prefix, the
framework's included, is rendered with that family's body; `family_for_path` returns None for
paths outside the APIs (admin, health checks, docs), which keep Django's own pages.

Each family is a subclass that renders its own body. The shared codes of `config.api.errors` are
the widget family's spelling; the others map the ones they spell differently.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, ClassVar

from rest_framework import serializers

from config.api.errors import ApiError, InvalidRequest

# An unknown key is quoted back only when it looks like a field name: it is the caller's text.
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class ActionsErrorType(StrEnum):
    """The actions family's error types (seed `action-trigger-result.txt`), spelled in this one place.

    The value is the wire's `type`; callers branch on it, never on a message. It lives with the
    family because the family spells the shared codes with it (`ActionsFamily.spelling`); the
    errors peculiar to /actions are in `actions.error_types`.
    """

    SYNTAX_ERROR = "syntax_error"
    TYPE_ERROR = "type_error"
    SEMANTIC_ERROR = "semantic_error"
    REFERENCE_ERROR = "reference_error"
    PARAMETER_ERROR = "parameter_error"
    GRAPH_ERROR = "graph_error"
    EXECUTION_ERROR = "execution_error"
    EXECUTION_TIMEOUT = "execution_timeout"
    AUTH_ERROR = "auth_error"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
    BOUNDS_EXCEEDED = "bounds_exceeded"
    ACTION_BINDING_FAILED = "action_binding_failed"


class TypeMismatch(ApiError):
    status = 400
    code = ActionsErrorType.TYPE_ERROR.value
    default_message = "A field has the wrong JSON type."


class ParameterInvalid(ApiError):
    status = 400
    code = ActionsErrorType.PARAMETER_ERROR.value
    default_message = "A parameter is not acceptable."


@dataclass(frozen=True)
class InputProblem:
    """What is wrong with a body or query string, for the family to say in its own words."""

    source: str  # "body" or "query"
    path: tuple[str, ...]  # the names down to the field in error; () for the input as a whole
    message: str  # the field's message (empty for an unknown key)
    known: tuple[str, ...]  # the names the input takes
    unknown: bool = False  # a key no field takes (path names it)
    wrong_type: bool = False  # the value is not of the JSON type the field takes
    error_code: str | None = None  # the field's error code (`required`, `null`, `max_value`, ...)
    help_text: str | None = None  # what the field accepts, when it says

    @property
    def field(self) -> str:
        return ".".join(self.path)

    @property
    def text(self) -> str:
        return f"{self.field}: {self.message}" if self.path else self.message


class Family:
    name: ClassVar[str]
    prefix: ClassVar[str]
    # How this family spells the shared codes; codes not listed are used as they are.
    spelling: ClassVar[dict[str, str]] = {}
    # Whether a body key that no field takes is refused (else it is dropped).
    refuses_unknown_fields: ClassVar[bool] = True

    def code_for(self, error: ApiError) -> str:
        return self.spelling.get(error.code, error.code)

    def body(self, error: ApiError) -> dict[str, Any]:
        raise NotImplementedError

    def input_error(self, problem: InputProblem) -> ApiError:
        raise NotImplementedError


class WidgetFamily(Family):
    """`{"error": {"code", "message"}}` (contract 2)."""

    name = "widget"
    prefix = "/v1/"
    refuses_unknown_fields = False
    # A disallowed Host is a bad request, spelled as each family spells one (contract 0).
    spelling = {"DISALLOWED_HOST": "INVALID_REQUEST"}

    def body(self, error: ApiError) -> dict[str, Any]:
        return {"error": {"code": self.code_for(error), "message": error.message}}

    def input_error(self, problem: InputProblem) -> ApiError:
        return InvalidRequest(problem.text)


class NotificationsFamily(Family):
    """`{"error": {"code", "message", "details"?}}` (contract 3)."""

    name = "notifications"
    prefix = "/api/v1/"
    spelling = {"UNAUTHENTICATED": "AUTH_INVALID_TOKEN", "DISALLOWED_HOST": "INVALID_REQUEST"}

    def body(self, error: ApiError) -> dict[str, Any]:
        inner: dict[str, Any] = {"code": self.code_for(error), "message": error.message}
        if error.details is not None:
            inner["details"] = error.details
        return {"error": inner}

    def input_error(self, problem: InputProblem) -> ApiError:
        if problem.unknown:
            return InvalidRequest(
                f"The body has a field this request does not take; it takes {', '.join(problem.known)}.",
                details={"field": problem.field} if FIELD_NAME.fullmatch(problem.field) else None,
            )
        return InvalidRequest(problem.text, details={"field": problem.field} if problem.path else None)


class ActionsErrorDetail(serializers.Serializer):
    type = serializers.CharField()
    message = serializers.CharField()
    location = serializers.CharField(allow_null=True)
    suggestion = serializers.CharField(allow_null=True)


# The seed's ErrorResponse: the body of every /actions error and the `error` of a failed
# ActionResult, rendered by `ActionsFamily.error_body` and read by the schema.
class ActionsErrorResponse(serializers.Serializer):
    error = ActionsErrorDetail(source="*")


class ActionsFamily(Family):
    """The seed's ErrorResponse, `{"error": {"type", "message", "location", "suggestion"}}` (contract 4)."""

    name = "actions"
    prefix = "/actions/"
    spelling = {
        "INVALID_REQUEST": ActionsErrorType.SYNTAX_ERROR,
        "DISALLOWED_HOST": ActionsErrorType.PARAMETER_ERROR,
        "UNAUTHENTICATED": ActionsErrorType.AUTH_ERROR,
        "FORBIDDEN": ActionsErrorType.AUTH_ERROR,
        "NOT_FOUND": ActionsErrorType.NOT_FOUND,
        "METHOD_NOT_ALLOWED": ActionsErrorType.NOT_FOUND,
        "PAYLOAD_TOO_LARGE": ActionsErrorType.BOUNDS_EXCEEDED,
        "UNSUPPORTED_MEDIA_TYPE": ActionsErrorType.SYNTAX_ERROR,
        "RATE_LIMITED": ActionsErrorType.RATE_LIMIT_EXCEEDED,
        "INTERNAL_ERROR": ActionsErrorType.EXECUTION_ERROR,
    }

    @staticmethod
    def error_body(
        *, error_type: str, message: str, location: str | None = None, suggestion: str | None = None
    ) -> dict[str, Any]:
        """The ErrorResponse: the body of an error, and the `error` of a failed ActionResult."""
        detail = SimpleNamespace(type=error_type, message=message, location=location, suggestion=suggestion)
        return ActionsErrorResponse(detail).to_representation(detail)

    def input_error(self, problem: InputProblem) -> ApiError:
        location = f"{problem.source}.{problem.field}" if problem.path else problem.source
        if problem.unknown:
            return ParameterInvalid(
                f"Unknown field {problem.field!r}.",
                location=location,
                suggestion=f"Send only these fields: {', '.join(problem.known)}.",
            )
        error_class = TypeMismatch if problem.wrong_type else ParameterInvalid
        return error_class(problem.text, location=location, suggestion=problem.help_text)

    def body(self, error: ApiError) -> dict[str, Any]:
        return self.error_body(
            error_type=self.code_for(error),
            message=error.message,
            location=error.location,
            suggestion=error.suggestion,
        )


WIDGET = WidgetFamily()
NOTIFICATIONS = NotificationsFamily()
ACTIONS = ActionsFamily()

FAMILIES: tuple[Family, ...] = (WIDGET, NOTIFICATIONS, ACTIONS)


def family_for_path(path: str) -> Family | None:
    for family in FAMILIES:
        if path.startswith(family.prefix) or path == family.prefix.rstrip("/"):
            return family
    return None
