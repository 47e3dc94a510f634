"""Domain errors: one class per stable code, the HTTP status on the class.

App code raises these anywhere; `config.api.handlers` turns each into the body of the API family
the request belongs to. Callers (and tests) branch on `code`, never on `message`.

The classes here are the codes every family shares. Each family spells them its own way
(`config.api.families`); the codes peculiar to one family live in that app's `errors.py`.
"""

from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "INVALID_REQUEST"
    default_message: ClassVar[str] = "The request is invalid."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        location: str | None = None,
        suggestion: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.location = location
        self.suggestion = suggestion
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidRequest(ApiError):
    status = 400
    code = "INVALID_REQUEST"
    default_message = "The request is invalid."


class DisallowedHost(InvalidRequest):
    code = "DISALLOWED_HOST"
    default_message = "This server does not answer to the Host of the request."


class Unauthenticated(ApiError):
    status = 401
    code = "UNAUTHENTICATED"
    default_message = "A valid credential is required: Authorization: Bearer <secret>."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"
    default_message = "This credential may not do that."


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "This method is not allowed here."


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The body is larger than 64 KiB."


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "The body must be sent as Content-Type: application/json."


class RateLimited(ApiError):
    status = 429
    code = "RATE_LIMITED"
    default_message = "Too many requests; retry after the number of seconds in Retry-After."

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        headers = {"Retry-After": str(retry_after)}
        super().__init__(message, headers=headers, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "A service this request needs is unreachable; retry later."


class InternalError(ApiError):
    status = 500
    code = "INTERNAL_ERROR"
    default_message = "Something went wrong on our side; the request id identifies it in our logs."
