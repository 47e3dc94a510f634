"""OpenAPI descriptions of the notification endpoints (documentation only: the views validate
with their own input serializers and render with notifications.render)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from notifications.models import NotificationStatus, ResponseType


@extend_schema_field(OpenApiTypes.ANY)
class AnyJsonField(serializers.JSONField):
    pass


# Built from a dict: a Serializer class cannot declare a field named `label` (Field.label).
ACTION_DEFINITIONS = inline_serializer(
    "NotificationAction",
    {
        "id": serializers.CharField(max_length=64),
        "label": serializers.CharField(max_length=200),
        "response_type": serializers.ChoiceField(choices=ResponseType.choices),
        "options": AnyJsonField(
            required=False,
            help_text="binary: {true_label, false_label}; choice and multi_choice: [{value, label}], 1-50.",
        ),
        "constraints": AnyJsonField(
            required=False,
            help_text=(
                "multi_choice: min_selections, max_selections; text: min_length, max_length (at most 5000); "
                "numeric: min, max, decimal_places; scale: min, max (required), step, labels."
            ),
        ),
    },
    many=True,
)


class NotificationResponder(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class NotificationAnswer(serializers.Serializer):
    action_id = serializers.CharField()
    response_data = AnyJsonField(allow_null=True)
    responded_at = serializers.DateTimeField()
    responder = NotificationResponder()


class Notification(serializers.Serializer):
    notification_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=NotificationStatus.choices)
    recipient = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    deadline = serializers.DateTimeField(allow_null=True)
    metadata = serializers.DictField()
    actions = ACTION_DEFINITIONS
    created_at = serializers.DateTimeField()
    response = NotificationAnswer(allow_null=True)


class NotificationPage(serializers.Serializer):
    results = Notification(many=True)
    next = serializers.URLField(allow_null=True)


class ClientToken(serializers.Serializer):
    token = serializers.CharField()


class RespondRequest(serializers.Serializer):
    notification_id = serializers.UUIDField()
    action_id = serializers.CharField()
    response_data = AnyJsonField(required=False, allow_null=True)


class Responded(serializers.Serializer):
    notification_id = serializers.UUIDField()
    action_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[NotificationStatus.RESPONDED.value])
    responded_at = serializers.DateTimeField()


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(description=description)


UNAUTHENTICATED = error("AUTH_INVALID_TOKEN: missing, unknown or revoked credential")
INVALID = error("INVALID_REQUEST, details.field names the field")
NOT_FOUND = error("NOTIFICATION_NOT_FOUND (also for an id that is not a UUID)")
TERMINAL = error("NOTIFICATION_ALREADY_RESPONDED, NOTIFICATION_EXPIRED or NOTIFICATION_INVALIDATED")


@extend_schema_field(ACTION_DEFINITIONS)
class ActionDefinitionsField(serializers.JSONField):
    """Passed through as JSON: notifications.validation checks it and names the exact bad field."""
