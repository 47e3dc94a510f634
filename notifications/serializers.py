"""The notification family's bodies (contract 3): each one class, read alike by the views to
render and by drf-spectacular for the schema; and the descriptions of its errors."""

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from config.api.errors import InvalidRequest, Unauthenticated
from config.api.families import NOTIFICATIONS
from config.api.fields import PassThroughField, Rfc3339Field
from config.api.schema import error_response
from config.api.serializers import OutputSerializer
from notifications.errors import (
    NotificationAccessDenied,
    NotificationAlreadyResponded,
    NotificationExpired,
    NotificationInvalidated,
    NotificationNotFound,
)
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


DEFAULT_OUTCOME = inline_serializer(
    "NotificationDefaultOutcome",
    {
        "action_id": serializers.CharField(max_length=64, help_text="one of the notification's actions"),
        "response_data": PassThroughField(
            allow_null=True, help_text="a valid answer to that action, by the rules of client/respond"
        ),
    },
    allow_null=True,
    help_text=(
        "The answer the deadline gives when nobody has answered by then (needs `deadline`): the "
        "notification reads as responded from the deadline on, with `responder: null` and "
        "`defaulted: true`."
    ),
)
ESCALATION = inline_serializer(
    "NotificationEscalation",
    {
        "after_seconds": serializers.IntegerField(min_value=60, max_value=604800),
        "recipients": serializers.ListField(
            child=serializers.CharField(max_length=150), min_length=1, max_length=20
        ),
    },
    allow_null=True,
    help_text=(
        "People added as recipients (and e-mailed) `after_seconds` after creation if it is still "
        "pending then; distinct, and not already recipients."
    ),
)


@extend_schema_field(DEFAULT_OUTCOME)
class DefaultOutcomeField(PassThroughField):
    """Taken as sent: notification_create checks it by the rules of an answer."""


@extend_schema_field(ESCALATION)
class EscalationField(PassThroughField):
    """Taken as sent: notification_create checks it and its usernames."""


class NotificationResponder(OutputSerializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField(source="get_username")


def responder_render(responder: User | None) -> dict[str, Any] | None:
    """The responder as the API and the `notification.responded` webhook show them."""
    return None if responder is None else NotificationResponder.render(responder)


class NotificationAnswer(OutputSerializer):
    action_id = serializers.CharField()
    response_data = PassThroughField(allow_null=True)
    responded_at = Rfc3339Field(help_text="the deadline, for the default outcome")
    responder = NotificationResponder(allow_null=True, help_text="null for the default outcome")
    defaulted = serializers.BooleanField(help_text="true when the deadline gave the default outcome")

    # Rendered from the notification itself at the request's `now`: null until it is answered,
    # the default outcome from the deadline on (models.Notification.answer_at).
    def to_representation(self, instance: Notification) -> dict[str, Any] | None:  # type: ignore[override]
        answer = instance.answer_at(self.context["now"])
        if answer is None:
            return None
        return super().to_representation(answer)


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
    recipient = serializers.CharField(source="recipient.get_username", help_text="the first of `recipients`")
    recipients = serializers.ListField(
        child=serializers.CharField(),
        source="recipient_usernames",
        help_text="every recipient's username: in the order given, then the escalated ones",
    )
    title = serializers.CharField()
    description = serializers.CharField()
    deadline = Rfc3339Field(allow_null=True)
    metadata = serializers.DictField()
    actions = ActionDefinitionsField()
    on_deadline = DefaultOutcomeField(allow_null=True)
    escalate = EscalationField(allow_null=True)
    escalated_at = Rfc3339Field(
        allow_null=True, help_text="when the escalation added its recipients; null until then"
    )
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


# The answers every notification route may give, each with its real body as the example.
UNAUTHENTICATED = error_response(
    NOTIFICATIONS,
    "`AUTH_INVALID_TOKEN`: no `Authorization: Bearer ...` header, or a credential that is unknown, "
    "revoked or of the wrong kind.",
    Unauthenticated(),
)


def invalid(message: str, *, field: str | None) -> OpenApiResponse:
    """The route's 400, with one of its real messages as the example."""
    return error_response(
        NOTIFICATIONS,
        "`INVALID_REQUEST`: the body or query is not what this route takes; `details.field` names the field.",
        InvalidRequest(message, details=None if field is None else {"field": field}),
    )


NOT_FOUND = error_response(
    NOTIFICATIONS,
    "`NOTIFICATION_NOT_FOUND`: no such notification (also for an id that is not a UUID), or, for a "
    "service, another service's.",
    NotificationNotFound(),
)
TERMINAL = error_response(
    NOTIFICATIONS,
    "The notification is no longer pending; the code says which state it is in.",
    NotificationAlreadyResponded(),
    NotificationExpired(),
    NotificationInvalidated(),
)
ACCESS_DENIED = error_response(
    NOTIFICATIONS,
    "`NOTIFICATION_ACCESS_DENIED`: the notification exists but the caller is not (yet) one of its "
    "recipients.",
    NotificationAccessDenied(),
)
