"""How the API appears in the OpenAPI schema (`/api/schema/`, shown at `/api/docs/`).

What the docs say is written for the API's callers and given to each operation with
`extend_schema(summary=..., description=...)`; a view's docstring is for developers and is never
published. The tags, one per operation, come from the path (`tag_for_path`); their descriptions
are in `config/api/docs.py`. The credentials' schemes are found by drf-spectacular by subclassing.
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from config.api.errors import ApiError, Unauthenticated
from config.api.families import ACTIONS, NOTIFICATIONS, WIDGET, ActionsErrorResponse, Family

# Longest prefix first: the delivery log lives under the notifications family's prefix.
TAGS_BY_PREFIX = (
    ("/api/v1/webhook-events", "delivery"),
    ("/api/v1/webhook-secret/", "delivery"),
    (NOTIFICATIONS.prefix, "notifications"),
    (WIDGET.prefix, "widget"),
    (ACTIONS.prefix, "actions"),
)


def tag_for_path(path: str) -> str:
    for prefix, tag in TAGS_BY_PREFIX:
        if path.startswith(prefix):
            return tag
    raise ValueError(f"{path} is under no API family; give it a tag here")


class AutoSchema(openapi.AutoSchema):
    def get_tags(self) -> list[str]:
        return [tag_for_path(self.path)]

    def get_description(self) -> str:  # type: ignore[override]
        # Only `extend_schema(description=...)` is published: a docstring says how the code works.
        return ""


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A service key, `Authorization: Bearer sk_...`: held by the machine that "
            "owns bots, notifications and actions; shown once when it is created (`create_service`).",
        }


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A person's token, `Authorization: Bearer ut_...`: from `POST "
            "/api/v1/client/token` or `issue_token`; shown once.",
        }


# The error bodies of the widget and notifications families, as `config.api.families` renders
# them (tests/config/test_openapi_docs.py holds the two together); the actions family's body is
# `ActionsErrorResponse`, which renders it. (Comments, not docstrings: a docstring would be
# published as the component's description.)
class WidgetErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: branch on it, never on `message`.")
    message = serializers.CharField(help_text="For people; its wording may change.")


class WidgetError(serializers.Serializer):
    error = WidgetErrorDetail()


class NotificationsErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: branch on it, never on `message`.")
    message = serializers.CharField(help_text="For people; its wording may change.")
    details = serializers.DictField(
        required=False,
        help_text="Present when there is more to say: `field` names the field in error, `rule` the "
        "constraint an answer breaks.",
    )


class NotificationsError(serializers.Serializer):
    error = NotificationsErrorDetail()


ERROR_BODIES: dict[str, type[serializers.Serializer]] = {
    WIDGET.name: WidgetError,
    NOTIFICATIONS.name: NotificationsError,
    ACTIONS.name: ActionsErrorResponse,
}


def error_response(family: Family, description: str, *errors: ApiError) -> OpenApiResponse:
    """One status's answer: the family's error body, each error an example rendered by the family
    itself, so an example is exactly what a caller receives."""
    examples, names = [], []
    for error in errors:
        code = family.code_for(error)
        names.append(code)
        name = code if names.count(code) == 1 else f"{code} ({names.count(code)})"
        examples.append(
            OpenApiExample(name, summary=code, description=error.message, value=family.body(error))
        )
    return OpenApiResponse(ERROR_BODIES[family.name], description=description, examples=examples)


# Every widget route called with a service key answers 401 without a valid one (before anything else).
WIDGET_UNAUTHENTICATED = error_response(
    WIDGET,
    "`UNAUTHENTICATED`: no `Authorization: Bearer sk_...` header, or a key that is unknown or revoked.",
    Unauthenticated(),
)
