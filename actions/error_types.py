"""The actions family's error types (seed `action-trigger-result.txt`), spelled in this one place.

The string value of each `ErrorType` is the wire value; callers branch on it, never on a message.
The `ApiError` subclasses below carry their type as `code`, so the one exception handler renders
them unchanged as `{"error": {"type", "message", "location", "suggestion"}}`. The shared codes
(`NOT_FOUND`, `CONFLICT`, ...) are spelled for this family in `config.api.families.ACTIONS`.
"""

from enum import StrEnum
from typing import Any

from config.api.errors import ApiError


class ErrorType(StrEnum):
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


def error_response_body(
    *, error_type: ErrorType, message: str, location: str | None = None, suggestion: str | None = None
) -> dict[str, Any]:
    """The seed's ErrorResponse, as nested in an ActionResult's `error`."""
    return {
        "error": {
            "type": error_type.value,
            "message": message,
            "location": location,
            "suggestion": suggestion,
        }
    }


class SyntaxInvalid(ApiError):
    status = 400
    code = ErrorType.SYNTAX_ERROR.value
    default_message = "The body must be a JSON object."


class TypeMismatch(ApiError):
    status = 400
    code = ErrorType.TYPE_ERROR.value
    default_message = "A field has the wrong JSON type."


class ParameterInvalid(ApiError):
    status = 400
    code = ErrorType.PARAMETER_ERROR.value
    default_message = "A parameter is not acceptable."


class ActionNotFound(ApiError):
    status = 404
    code = ErrorType.NOT_FOUND.value
    default_message = "There is no such action."


class IdempotencyConflict(ApiError):
    status = 409
    code = ErrorType.CONFLICT.value
    default_message = "This Idempotency-Key was already used."
