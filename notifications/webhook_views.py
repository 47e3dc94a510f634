"""The delivery log for services (contract 10): a service reads its own webhook events, replays
them (one, or every one failed or delivered since a moment) and rotates its signing secret.

Each view parses, calls one selector or service, and renders with a serializer of
notifications.webhook_serializers. 401 happens in authentication; another service's event is the
same 404 as a missing one (the selector is scoped to the caller).
"""

from typing import Any
from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.accounts.services import service_webhook_secret_rotate
from config.api.errors import InvalidRequest
from config.api.parsing import json_body
from config.api.serializers import InputSerializer
from config.api.views import ServiceApiView
from config.outbound.models import WebhookEvent
from config.outbound.selectors import (
    EventCursor,
    webhook_event_attempts,
    webhook_event_get_for_service,
    webhook_event_list,
    webhook_events_page_for_service,
)
from config.outbound.services import webhook_replay, webhooks_replay
from notifications import schema
from notifications.views import Rfc3339Field, StrictCharField, validated
from notifications.webhook_serializers import (
    QueuedOutput,
    WebhookEventDetailOutput,
    WebhookEventPageOutput,
    WebhookSecretOutput,
)

WEBHOOK_ID = OpenApiParameter("webhook_id", str, OpenApiParameter.PATH, description="`msg_...`")
ATTEMPT_EXAMPLE = {
    "at": "2026-11-30T09:15:05Z",
    "status_code": 503,
    "error": "answered 503",
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
NOT_FOUND = schema.error("NOT_FOUND: no such event, or another service's")


def no_fields_body(request: Request) -> None:
    """These POSTs take no fields: no body at all, or a JSON object (contract 0) that is empty."""
    if request._request.body.strip() and json_body(request):
        raise InvalidRequest("This request takes no fields; send no body, or {}.")


class WebhookEventsApi(ServiceApiView):
    class ListQuery(InputSerializer):
        status = serializers.ChoiceField(choices=WebhookEvent.Status.values, required=False)
        type = StrictCharField(max_length=64, required=False)
        since = Rfc3339Field(required=False)
        cursor = StrictCharField(max_length=512, required=False)

    @extend_schema(
        operation_id="webhook_event_list",
        parameters=[
            OpenApiParameter("status", enum=WebhookEvent.Status.values),
            OpenApiParameter("type", str, description="an event type, e.g. notification.responded"),
            OpenApiParameter("since", str, description="RFC 3339: events created at or after it"),
            OpenApiParameter("cursor", str, description="from the previous page's `next`"),
        ],
        responses={200: WebhookEventPageOutput, 400: schema.INVALID, 401: schema.UNAUTHENTICATED},
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
        # Parameters this list does not take are ignored, as a link with extra ones should still work.
        known = self.ListQuery().fields
        query = validated(
            self.ListQuery, {key: value for key, value in request.query_params.items() if key in known}
        )
        page = webhook_events_page_for_service(
            service=self.service(request),
            status=query.get("status"),
            event_type=query.get("type"),
            created_since=query.get("since"),
            after=EventCursor.decode(query["cursor"]) if "cursor" in query else None,
        )
        next_url = None
        if page.next is not None:
            params = {key: value for key, value in request.query_params.items() if key != "cursor"}
            params["cursor"] = page.next.encode()
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
        return Response(WebhookEventPageOutput(page, context={"next_url": next_url}).data)


class WebhookEventDetailApi(ServiceApiView):
    @extend_schema(
        operation_id="webhook_event_get",
        parameters=[WEBHOOK_ID],
        responses={200: WebhookEventDetailOutput, 401: schema.UNAUTHENTICATED, 404: NOT_FOUND},
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
        context = {
            "attempt_log": attempt_log,
            "last_attempts": {event.pk: attempt_log[-1]} if attempt_log else {},
        }
        return Response(WebhookEventDetailOutput(event, context=context).data)


class WebhookEventReplayApi(ServiceApiView):
    @extend_schema(
        operation_id="webhook_event_replay",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={
            202: QueuedOutput,
            400: schema.INVALID,
            401: schema.UNAUTHENTICATED,
            404: NOT_FOUND,
            409: schema.error("PAYLOAD_PURGED: the payload is gone, nothing to send again"),
        },
        examples=[OpenApiExample("Queued", value={"queued": 1}, response_only=True, status_codes=["202"])],
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        event = webhook_event_get_for_service(service=self.service(request), webhook_id=webhook_id)
        no_fields_body(request)
        return Response(QueuedOutput(webhook_replay(event=event)).data, status=202)


class WebhookEventsReplayApi(ServiceApiView):
    class ReplayInput(InputSerializer):
        status = serializers.ChoiceField(
            choices=[WebhookEvent.Status.FAILED.value, WebhookEvent.Status.DELIVERED.value]
        )
        since = Rfc3339Field(help_text="events created at or after it")

    @extend_schema(
        operation_id="webhook_events_replay",
        request=ReplayInput,
        responses={202: QueuedOutput, 400: schema.INVALID, 401: schema.UNAUTHENTICATED},
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
        data = validated(self.ReplayInput, json_body(request))
        events = webhook_event_list(
            service=self.service(request), status=data["status"], created_since=data["since"]
        )
        return Response(QueuedOutput(webhooks_replay(events=events)).data, status=202)


class WebhookSecretRotateApi(ServiceApiView):
    @extend_schema(
        operation_id="webhook_secret_rotate",
        request=None,
        responses={200: WebhookSecretOutput, 400: schema.INVALID, 401: schema.UNAUTHENTICATED},
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
        no_fields_body(request)
        rotated = service_webhook_secret_rotate(service=self.service(request))
        response = Response(WebhookSecretOutput(rotated).data)
        response["Cache-Control"] = "no-store"
        return response
