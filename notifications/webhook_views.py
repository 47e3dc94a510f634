"""The delivery log for services (contract 10): a service reads its own webhook events, replays
them (one, or every one failed or delivered since a moment) and rotates its signing secret.

Each view parses, calls one selector or service, and renders with a serializer of
notifications.webhook_serializers. 401 happens in authentication; another service's event is the
same 404 as a missing one (the selector is scoped to the caller).
"""

from typing import Any
from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.accounts.services import service_webhook_secret_rotate
from config.api.errors import ApiError, InvalidRequest, NotFound
from config.api.families import NOTIFICATIONS, Family, InputProblem
from config.api.fields import Rfc3339Field, StrictCharField, StrictChoiceField
from config.api.schema import error_response
from config.api.serializers import InputSerializer
from config.api.views import ServiceApiView
from config.outbound.client import cause_answered
from config.outbound.errors import PayloadPurged
from config.outbound.models import WebhookEvent
from config.outbound.selectors import (
    EventCursor,
    webhook_event_attempts,
    webhook_event_get_for_service,
    webhook_event_list,
    webhook_events_page_for_service,
)
from config.outbound.services import webhook_replay, webhooks_replay
from notifications.serializers import UNAUTHENTICATED, invalid
from notifications.webhook_serializers import (
    QueuedOutput,
    WebhookEventDetailOutput,
    WebhookEventPageOutput,
    WebhookSecretOutput,
)

WEBHOOK_ID = OpenApiParameter(
    "webhook_id",
    str,
    OpenApiParameter.PATH,
    description="The event's `webhook-id`, `msg_...`, as its requests carry it in the `webhook-id` header.",
)
ATTEMPT_EXAMPLE = {
    "at": "2026-11-30T09:15:05Z",
    "status_code": 503,
    "error": cause_answered("hooks.example.com:443", 503),
    "duration_ms": 41,
}
EVENT_EXAMPLE: dict[str, Any] = {
    "webhook_id": "msg_5f0c6a1e2b7d4c3f9a8e1d2c3b4a5f60",
    "type": "notification.responded",
    "status": "failed",
    "notification_id": "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
    "created_at": "2026-11-30T09:15:00Z",
    "attempts": 8,
    "last_attempt": ATTEMPT_EXAMPLE,
    "next_attempt_at": None,
}
NOT_FOUND = error_response(
    NOTIFICATIONS,
    "`NOT_FOUND`: no such event, or another service's.",
    NotFound("There is no such webhook event."),
)
NO_FIELDS = "This request takes no fields; send no body, or {}."


class NoFieldsInput(InputSerializer):
    """The body of a POST that takes no fields: none at all, or a JSON object (contract 0) that is
    empty."""

    refuse_unknown = True

    @classmethod
    def check(cls, request: Request) -> None:
        if request._request.body.strip():
            cls.from_request(request)

    @classmethod
    def input_error(cls, family: Family, problem: InputProblem) -> ApiError:
        return InvalidRequest(NO_FIELDS)


@extend_schema_field(OpenApiTypes.STR)
class EventCursorField(serializers.Field):
    """The previous page's `next` cursor; empty is the same as none."""

    default_error_messages = {"invalid": "not a cursor this server made."}

    def to_internal_value(self, data: Any) -> EventCursor | None:
        if data == "":
            return None
        try:
            return EventCursor.decode(data)
        except ValueError:
            self.fail("invalid")


class WebhookEventsApi(ServiceApiView):
    class ListQuery(InputSerializer):
        status = StrictChoiceField(choices=WebhookEvent.Status.values, required=False)
        type = StrictCharField(
            max_length=64, required=False, help_text="an event type, e.g. notification.responded"
        )
        since = Rfc3339Field(required=False, help_text="RFC 3339: events created at or after it")
        cursor = EventCursorField(required=False, help_text="from the previous page's `next`")

    @extend_schema(
        operation_id="webhook_event_list",
        summary="List my webhook events",
        description="Your service (service key) reads the webhooks Loopback owes it, newest first, "
        "50 a page; `next` is the URL of the next page, or null on the last. Filter by `status` "
        "(`pending`: not delivered yet, retries to come; `delivered`: a 2xx answer; `failed`: "
        "every retry used up), `type` (`notification.responded`, `notification.expired`, "
        "`notification.escalated`) and `since` (created at or after). `last_attempt` is the latest "
        "try, null before the first; `next_attempt_at` is when the next one is due, null once "
        "delivered or failed.",
        parameters=[ListQuery],
        responses={
            200: WebhookEventPageOutput,
            400: invalid("status: must be one of pending, delivered, failed.", field="status"),
            401: UNAUTHENTICATED,
        },
        examples=[
            OpenApiExample(
                "A page",
                value={"results": [EVENT_EXAMPLE], "next": None},
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = self.ListQuery.from_query(request)
        page = webhook_events_page_for_service(
            service=self.service(request),
            status=query.get("status"),
            event_type=query.get("type"),
            created_since=query.get("since"),
            after=query.get("cursor"),
        )
        next_url = None
        if page.next is not None:
            params = {key: value for key, value in request.query_params.items() if key != "cursor"}
            params["cursor"] = page.next.encode()
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
        body = {"results": page.events, "next": next_url}
        return Response(WebhookEventPageOutput.render(body, last_attempts=page.last_attempts))


class WebhookEventDetailApi(ServiceApiView):
    @extend_schema(
        operation_id="webhook_event_get",
        summary="Read a webhook event and its attempts",
        description="Your service (service key) reads one of its events: the fields of the list, "
        "`payload` (exactly the JSON that was or will be sent; null once purged after the "
        "retention period) and `attempt_log`, every attempt oldest first, each with its time, the "
        "status code answered (null when there was no answer), the error and the duration. "
        "Another service's event is a 404, as if it did not exist.",
        parameters=[WEBHOOK_ID],
        responses={200: WebhookEventDetailOutput, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A failed event",
                value={
                    **EVENT_EXAMPLE,
                    "payload": {
                        "type": "notification.responded",
                        "notification_id": "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
                        "action_id": "approve",
                        "response_data": True,
                        "responded_at": "2026-11-30T09:15:00Z",
                        "responder": {"id": 7, "username": "alex"},
                        "metadata": {"order": 1042},
                    },
                    "attempt_log": [ATTEMPT_EXAMPLE],
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request, webhook_id: str) -> Response:
        event = webhook_event_get_for_service(service=self.service(request), webhook_id=webhook_id)
        attempt_log = list(webhook_event_attempts(event=event, oldest_first=True))
        last_attempts = {event.pk: attempt_log[-1]} if attempt_log else {}
        return Response(
            WebhookEventDetailOutput.render(event, attempt_log=attempt_log, last_attempts=last_attempts)
        )


class WebhookEventReplayApi(ServiceApiView):
    @extend_schema(
        operation_id="webhook_event_replay",
        summary="Send a webhook event again",
        description="Your service (service key) has one event sent again, with the same payload "
        "and the same `webhook-id` (so a receiver that deduplicates by it sees a repeat), signed "
        "anew; it goes out through the delivery workers like any event. "
        'Takes no body (or `{}`). 202 `{"queued": 1}`. An event whose payload was purged cannot '
        "be sent again: 409 `PAYLOAD_PURGED`.",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={
            202: QueuedOutput,
            400: invalid(NO_FIELDS, field=None),
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: error_response(
                NOTIFICATIONS,
                "`PAYLOAD_PURGED`: the payload is gone after the retention period; nothing to send again.",
                PayloadPurged(),
            ),
        },
        examples=[OpenApiExample("Queued", value={"queued": 1}, response_only=True, status_codes=["202"])],
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        event = webhook_event_get_for_service(service=self.service(request), webhook_id=webhook_id)
        NoFieldsInput.check(request)
        return Response(QueuedOutput.render(webhook_replay(event=event)), status=202)


class WebhookEventsReplayApi(ServiceApiView):
    class ReplayInput(InputSerializer):
        status = StrictChoiceField(
            choices=[WebhookEvent.Status.FAILED.value, WebhookEvent.Status.DELIVERED.value]
        )
        since = Rfc3339Field(help_text="events created at or after it")

    @extend_schema(
        operation_id="webhook_events_replay",
        summary="Send again every failed (or delivered) event since a moment",
        description="After an outage on your side: your service (service key) has every one of "
        "its events with this `status` (`failed` or `delivered`) created at or after `since` sent "
        "again, each under its own `webhook-id`. Both fields are required. Purged events are "
        'skipped. 202 `{"queued": N}`, the number queued.',
        request=ReplayInput,
        responses={
            202: QueuedOutput,
            400: invalid("since: This field is required.", field="since"),
            401: UNAUTHENTICATED,
        },
        examples=[
            OpenApiExample(
                "Every failed event since the outage began",
                value={"status": "failed", "since": "2026-11-30T08:00:00Z"},
                request_only=True,
            ),
            OpenApiExample("Queued", value={"queued": 42}, response_only=True, status_codes=["202"]),
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.ReplayInput.from_request(request)
        events = webhook_event_list(
            service=self.service(request), status=data["status"], created_since=data["since"]
        )
        return Response(QueuedOutput.render(webhooks_replay(events=events)), status=202)


class WebhookSecretRotateApi(ServiceApiView):
    @extend_schema(
        operation_id="webhook_secret_rotate",
        summary="Rotate the webhook signing secret",
        description="Your service (service key) gets a new `whsec_` secret, shown this once. Until "
        "`previous_valid_until` (`WEBHOOK_SECRET_OVERLAP`, 24 hours by default) every request "
        "Loopback sends you is signed with both secrets (`webhook-signature: v1,<new> "
        "v1,<previous>`), so a receiver holding either one verifies it; after that, with the new "
        "one only. Rotating again within the window drops the oldest. Takes no body (or `{}`).",
        request=None,
        responses={
            200: WebhookSecretOutput,
            400: invalid(NO_FIELDS, field=None),
            401: UNAUTHENTICATED,
        },
        examples=[
            OpenApiExample(
                "Rotated",
                value={
                    "webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "previous_valid_until": "2026-12-02T09:00:00Z",
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def post(self, request: Request) -> Response:
        NoFieldsInput.check(request)
        rotated = service_webhook_secret_rotate(service=self.service(request))
        response = Response(WebhookSecretOutput.render(rotated))
        response["Cache-Control"] = "no-store"
        return response
