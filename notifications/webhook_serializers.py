"""The delivery log and secret rotation on the wire (contract 10): each response body is one of
these serializers, which both render it and describe it in the OpenAPI schema."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.selectors import EventPage
from notifications.schema import AnyJsonField
from notifications.views import Rfc3339Field


@extend_schema_field({"type": "string", "nullable": True})
class BlankAsNullField(serializers.Field):
    """A text column whose "" means "none": null on the wire."""

    def to_representation(self, value: Any) -> str | None:
        return value or None


class WebhookAttemptOutput(serializers.Serializer[DeliveryAttempt]):
    at = Rfc3339Field(source="started_at")
    status_code = serializers.IntegerField(allow_null=True, help_text="null: no HTTP answer")
    error = BlankAsNullField(help_text="null after a 2xx")
    duration_ms = serializers.IntegerField(allow_null=True, help_text="null: in flight, or the worker died")


@extend_schema_field(OpenApiTypes.DATETIME)
class NextAttemptField(serializers.Field):
    """When a pending event goes out next; null once it is delivered or failed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", allow_null=True, **kwargs)

    def to_representation(self, event: WebhookEvent) -> str | None:
        if event.status != WebhookEvent.Status.PENDING:
            return None
        return Rfc3339Field().to_representation(event.next_attempt_at)


class WebhookEventOutput(serializers.Serializer[WebhookEvent]):
    webhook_id = serializers.CharField(source="pk", help_text="the `webhook-id` header of every send")
    type = serializers.CharField(source="event_type")
    status = serializers.ChoiceField(choices=WebhookEvent.Status.choices)
    notification_id = serializers.UUIDField(source="subject_id", allow_null=True)
    created_at = Rfc3339Field()
    attempts = serializers.IntegerField(source="attempt_count")
    last_attempt = serializers.SerializerMethodField()
    next_attempt_at = NextAttemptField()

    @extend_schema_field(WebhookAttemptOutput(allow_null=True))
    def get_last_attempt(self, event: WebhookEvent) -> dict[str, Any] | None:
        attempt = self.context["last_attempts"].get(event.pk)
        return None if attempt is None else WebhookAttemptOutput(attempt).data


class WebhookEventDetailOutput(WebhookEventOutput):
    payload = AnyJsonField(allow_null=True, help_text="the JSON sent (or to be sent); null once purged")
    attempt_log = serializers.SerializerMethodField(help_text="every attempt, oldest first")

    @extend_schema_field(WebhookAttemptOutput(many=True))
    def get_attempt_log(self, event: WebhookEvent) -> list[dict[str, Any]]:
        return list(WebhookAttemptOutput(self.context["attempt_log"], many=True).data)


class WebhookEventPageOutput(serializers.Serializer[EventPage]):
    results = serializers.SerializerMethodField()
    next = serializers.SerializerMethodField()

    @extend_schema_field(WebhookEventOutput(many=True))
    def get_results(self, page: EventPage) -> list[dict[str, Any]]:
        context = {"last_attempts": page.last_attempts}
        return [WebhookEventOutput(event, context=context).data for event in page.events]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_next(self, page: EventPage) -> str | None:
        return self.context["next_url"]


class QueuedOutput(serializers.Serializer[int]):
    queued = serializers.IntegerField(source="*", help_text="how many events were queued again")


class WebhookSecretOutput(serializers.Serializer[Any]):
    webhook_secret = serializers.CharField(source="secret", help_text="`whsec_...`, shown only here")
    previous_valid_until = Rfc3339Field(
        help_text="until then every request is signed with the previous secret too"
    )
