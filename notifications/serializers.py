"""The notification family's bodies (contract 3): each one class, read alike by the views to
render and by drf-spectacular for the schema; and the descriptions of its errors."""

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from config.api.fields import PassThroughField, Rfc3339Field
from config.api.serializers import OutputSerializer
from notifications.models import Notification, NotificationStatus, ResponseType

# Built from a dict: a Serializer class cannot declare a field named `label` (Field.label).
ACTION_DEFINITIONS = inline_serializer(
    "NotificationAction",
    {
        "id": serializers.CharField(max_length=64),
        "label": serializers.CharField(max_length=200),
        "response_type": serializers.ChoiceField(choices=ResponseType.choices),
        "options": PassThroughField(
            required=False,
            help_text="binary: {true_label, false_label}; choice and multi_choice: [{value, label}], 1-50.",
        ),
        "constraints": PassThroughField(
            required=False,
            help_text=(
                "multi_choice: min_selections, max_selections; text: min_length, max_length (at most 5000); "
                "numeric: min, max, decimal_places; scale: min, max (required), step, labels."
            ),
        ),
    },
    many=True,
)


@extend_schema_field(ACTION_DEFINITIONS)
class ActionDefinitionsField(serializers.JSONField):
    """Passed through as JSON: notifications.validation checks it and names the exact bad field."""


class NotificationResponder(OutputSerializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField(source="get_username")


def responder_render(responder: User | None) -> dict[str, Any] | None:
    """The responder as the API and the `notification.responded` webhook show them."""
    return None if responder is None else NotificationResponder.render(responder)


class NotificationAnswer(OutputSerializer):
    action_id = serializers.CharField(source="response_action_id")
    response_data = PassThroughField(allow_null=True)
    responded_at = Rfc3339Field()
    responder = NotificationResponder()

    # Rendered from the notification itself: null until it is answered.
    def to_representation(self, instance: Notification) -> dict[str, Any] | None:  # type: ignore[override]
        if instance.responded_at is None:
            return None
        return super().to_representation(instance)


class StatusNowField(serializers.ChoiceField):
    """The notification's status at the request's `now` (context): overdue reads as expired."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=NotificationStatus.choices, source="*", **kwargs)

    def to_representation(self, value: Notification) -> str:  # type: ignore[override]
        return value.status_at(self.context["now"])


# The notification, alike to its service and to its recipient; rendered with `now=`.
class NotificationSerializer(OutputSerializer):
    notification_id = serializers.UUIDField(source="pk")
    status = StatusNowField()
    recipient = serializers.CharField(source="recipient.get_username")
    title = serializers.CharField()
    description = serializers.CharField()
    deadline = Rfc3339Field(allow_null=True)
    metadata = serializers.DictField()
    actions = ActionDefinitionsField()
    created_at = Rfc3339Field()
    response = NotificationAnswer(source="*", allow_null=True)


class NotificationPage(OutputSerializer):
    results = NotificationSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class ClientToken(OutputSerializer):
    token = serializers.CharField()


class Responded(OutputSerializer):
    notification_id = serializers.UUIDField(source="pk")
    action_id = serializers.CharField(source="response_action_id")
    status = serializers.ChoiceField(choices=[NotificationStatus.RESPONDED.value])
    responded_at = Rfc3339Field()


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(description=description)


UNAUTHENTICATED = error("AUTH_INVALID_TOKEN: missing, unknown or revoked credential")
INVALID = error("INVALID_REQUEST, details.field names the field")
NOT_FOUND = error("NOTIFICATION_NOT_FOUND (also for an id that is not a UUID)")
TERMINAL = error("NOTIFICATION_ALREADY_RESPONDED, NOTIFICATION_EXPIRED or NOTIFICATION_INVALIDATED")
