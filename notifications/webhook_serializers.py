"""The delivery log and secret rotation on the wire (contract 10): each response body is one of
these serializers, which both render it and describe it in the OpenAPI schema."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import PassThroughField, Rfc3339Field
from config.api.serializers import OutputSerializer
from config.api.timestamps import rfc3339
from config.outbound.models import DeliveryAttempt, WebhookEvent


@extend_schema_field({"type": "string", "nullable": True})
class BlankAsNullField(serializers.Field):
    """A text column whose "" means "none": null on the wire."""

    def to_representation(self, value: Any) -> str | None:
        return value or None


class WebhookAttemptOutput(OutputSerializer):
    at = Rfc3339Field(source="started_at")
    status_code = serializers.IntegerField(allow_null=True, help_text="null: no HTTP answer")
    error = BlankAsNullField(help_text="null after a 2xx")
    duration_ms = serializers.IntegerField(allow_null=True, help_text="null: in flight, or the worker died")


def attempt_render(attempt: DeliveryAttempt | None) -> dict[str, Any] | None:
    return None if attempt is None else WebhookAttemptOutput.render(attempt)


@extend_schema_field(OpenApiTypes.DATETIME)
class NextAttemptField(serializers.Field):
    """When a pending event goes out next; null once it is delivered or failed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", allow_null=True, **kwargs)

    def to_representation(self, event: WebhookEvent) -> str | None:
        if event.status != WebhookEvent.Status.PENDING:
            return None
        return rfc3339(event.next_attempt_at)


# An event of the log; rendered with `last_attempts=` (each event's latest attempt, by event id).
class WebhookEventOutput(OutputSerializer):
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
        return attempt_render(self.context["last_attempts"].get(event.pk))


# One event with its payload and every attempt; rendered with `attempt_log=` (oldest first) too.
class WebhookEventDetailOutput(WebhookEventOutput):
    payload = PassThroughField(allow_null=True, help_text="the JSON sent (or to be sent); null once purged")
    attempt_log = serializers.SerializerMethodField(help_text="every attempt, oldest first")

    @extend_schema_field(WebhookAttemptOutput(many=True))
    def get_attempt_log(self, event: WebhookEvent) -> list[dict[str, Any] | None]:
        return [attempt_render(attempt) for attempt in self.context["attempt_log"]]


class WebhookEventPageOutput(OutputSerializer):
    results = WebhookEventOutput(many=True)
    next = serializers.URLField(allow_null=True)


class QueuedOutput(OutputSerializer):
    queued = serializers.IntegerField(source="*", help_text="how many events were queued again")


class WebhookSecretOutput(OutputSerializer):
    webhook_secret = serializers.CharField(source="secret", help_text="`whsec_...`, shown only here")
    previous_valid_until = Rfc3339Field(
        help_text="until then every request is signed with the previous secret too"
    )
