"""The three API families of the contract (section 0) and how each renders an error.

A request belongs to a family by its path prefix. Every error under a family's prefix, the
framework's included, is rendered with that family's body; `family_for_path` returns None for
paths outside the APIs (admin, health checks, docs), which keep Django's own pages.
"""

from dataclasses import dataclass
from typing import Any

from config.api.errors import ApiError


@dataclass(frozen=True)
class Family:
    name: str
    prefix: str
    # How this family spells the shared codes; codes not listed are used as they are.
    spelling: dict[str, str]

    def code_for(self, error: ApiError) -> str:
        return self.spelling.get(error.code, error.code)

    def body(self, error: ApiError) -> dict[str, Any]:
        if self.name == "actions":
            return {
                "error": {
                    "type": self.code_for(error),
                    "message": error.message,
                    "location": error.location,
                    "suggestion": error.suggestion,
                }
            }
        inner: dict[str, Any] = {"code": self.code_for(error), "message": error.message}
        if self.name == "notifications" and error.details is not None:
            inner["details"] = error.details
        return {"error": inner}


# A disallowed Host is a bad request, spelled as each family spells one (contract 0).
WIDGET = Family(name="widget", prefix="/v1/", spelling={"DISALLOWED_HOST": "INVALID_REQUEST"})
NOTIFICATIONS = Family(
    name="notifications",
    prefix="/api/v1/",
    spelling={"UNAUTHENTICATED": "AUTH_INVALID_TOKEN", "DISALLOWED_HOST": "INVALID_REQUEST"},
)
ACTIONS = Family(
    name="actions",
    prefix="/actions/",
    spelling={
        "INVALID_REQUEST": "syntax_error",
        "DISALLOWED_HOST": "parameter_error",
        "UNAUTHENTICATED": "auth_error",
        "FORBIDDEN": "auth_error",
        "NOT_FOUND": "not_found",
        "METHOD_NOT_ALLOWED": "not_found",
        "CONFLICT": "conflict",
        "PAYLOAD_TOO_LARGE": "bounds_exceeded",
        "UNSUPPORTED_MEDIA_TYPE": "syntax_error",
        "RATE_LIMITED": "rate_limit_exceeded",
        "INTERNAL_ERROR": "execution_error",
    },
)

FAMILIES = (WIDGET, NOTIFICATIONS, ACTIONS)


def family_for_path(path: str) -> Family | None:
    for family in FAMILIES:
        if path.startswith(family.prefix) or path == family.prefix.rstrip("/"):
            return family
    return None
