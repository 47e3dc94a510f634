"""Notifications (contract section 3): services ask, people answer.

Each view parses, calls selectors and one service, and renders; read top to bottom, the checks
are in the contract's order. 401 happens in authentication, before any of this runs.
"""

import re
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import InvalidRequest
from config.api.parsing import json_body
from config.api.serializers import InputSerializer
from config.api.timestamps import rfc3339
from config.api.views import PublicApiView, ServiceApiView, UserApiView
from notifications import schema
from notifications.models import NotificationStatus
from notifications.render import notification_render
from notifications.selectors import (
    Cursor,
    notification_get_for_recipient,
    notification_get_for_service,
    notification_get_to_respond,
    notifications_for_recipient,
    recipient_get,
)
from notifications.services import (
    TOKEN_FAILURES_PER_ADDRESS,
    TOKEN_FAILURES_PER_USERNAME,
    client_token_obtain,
    notification_create,
    notification_invalidate,
    notification_respond,
)
from notifications.validation import required_present

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
LIMIT_PATTERN = re.compile(r"[0-9]{1,3}")
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField would turn 42 or 4.2 into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.DATETIME)
class Rfc3339Field(serializers.Field):
    default_error_messages = {"invalid": "Must be an RFC 3339 timestamp with a time zone."}

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or len(data) > 64 or "T" not in data.upper():
            self.fail("invalid")
        try:
            moment = datetime.fromisoformat(data)
            if moment.tzinfo is None:
                self.fail("invalid")
            return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            self.fail("invalid")

    def to_representation(self, value: datetime) -> str | None:
        return rfc3339(value)


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.Field):
    default_error_messages = {"invalid": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        return value


def validated(serializer_class: type[serializers.Serializer], data: dict[str, Any]) -> dict[str, Any]:
    """The body checked against the serializer, or 400 INVALID_REQUEST naming the first bad field."""
    known = serializer_class().fields
    for key in data:
        if key not in known:
            # The key is the caller's text: named in details only when it looks like a field name.
            details = {"field": key} if FIELD_NAME.fullmatch(key) else None
            raise InvalidRequest(
                f"The body has a field this request does not take; it takes {', '.join(known)}.",
                details=details,
            )
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        field, messages = next(iter(serializer.errors.items()))
        message = messages[0] if isinstance(messages, list) and messages else "is invalid."
        raise InvalidRequest(f"{field}: {message}", details={"field": field})
    return dict(serializer.validated_data)


class NotificationsApi(ServiceApiView):
    class NotificationCreateInput(InputSerializer):
        recipient = StrictCharField(max_length=150)
        title = StrictCharField(max_length=200)
        description = StrictCharField(max_length=5000, required=False, allow_blank=True, allow_null=True)
        deadline = Rfc3339Field(required=False, allow_null=True)
        metadata = JsonObjectField(required=False, allow_null=True)
        actions = schema.ActionDefinitionsField()

    @extend_schema(
        operation_id="notification_create",
        request=NotificationCreateInput,
        responses={201: schema.Notification, 400: schema.INVALID, 401: schema.UNAUTHENTICATED},
    )
    def post(self, request: Request) -> Response:
        data = validated(self.NotificationCreateInput, json_body(request))
        notification = notification_create(
            service=self.service(request),
            recipient=recipient_get(username=data["recipient"]),
            title=data["title"],
            description=data.get("description") or "",
            deadline=data.get("deadline"),
            metadata=data.get("metadata"),
            actions=data["actions"],
        )
        return Response(notification_render(notification, now=timezone.now()), status=201)


class NotificationDetailApi(ServiceApiView):
    class NotificationPatchInput(InputSerializer):
        status = serializers.ChoiceField(choices=[NotificationStatus.INVALIDATED.value])
        reason = StrictCharField(max_length=500, required=False, allow_blank=True, allow_null=True)

    @extend_schema(
        operation_id="notification_get",
        responses={200: schema.Notification, 401: schema.UNAUTHENTICATED, 404: schema.NOT_FOUND},
    )
    def get(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_service(
            service=self.service(request), notification_id=notification_id
        )
        return Response(notification_render(notification, now=timezone.now()))

    @extend_schema(
        operation_id="notification_invalidate",
        request=NotificationPatchInput,
        responses={
            200: schema.Notification,
            400: schema.INVALID,
            401: schema.UNAUTHENTICATED,
            404: schema.NOT_FOUND,
            409: schema.TERMINAL,
        },
    )
    def patch(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_service(
            service=self.service(request), notification_id=notification_id
        )
        data = validated(self.NotificationPatchInput, json_body(request))
        notification = notification_invalidate(notification=notification, reason=data.get("reason") or "")
        return Response(notification_render(notification, now=timezone.now()))


class ClientTokenApi(PublicApiView):
    class ClientTokenInput(InputSerializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        operation_id="client_token",
        request=ClientTokenInput,
        responses={
            200: schema.ClientToken,
            400: schema.INVALID,
            401: schema.error("AUTH_INVALID_TOKEN: wrong username or password"),
            429: schema.error(
                f"RATE_LIMITED, with Retry-After: failed logins are capped at {TOKEN_FAILURES_PER_USERNAME} "
                f"per username and {TOKEN_FAILURES_PER_ADDRESS} per client address"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(self.ClientTokenInput, json_body(request))
        token = client_token_obtain(
            request=request._request, username=data["username"], password=data["password"]
        )
        return Response({"token": token})


class ClientNotificationsApi(UserApiView):
    @extend_schema(
        operation_id="client_notification_list",
        parameters=[
            OpenApiParameter("status", enum=NotificationStatus.values),
            OpenApiParameter("limit", int, description=f"1-{MAX_PAGE_SIZE}, default {PAGE_SIZE}"),
            OpenApiParameter("cursor", str, description="from the previous page's `next`"),
        ],
        responses={200: schema.NotificationPage, 400: schema.INVALID, 401: schema.UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        status = request.query_params.get("status")
        if status is not None and status not in NotificationStatus.values:
            raise InvalidRequest(
                f"status: must be one of {', '.join(NotificationStatus.values)}.", details={"field": "status"}
            )
        cursor = request.query_params.get("cursor")
        limit = request.query_params.get("limit", str(PAGE_SIZE))
        if not LIMIT_PATTERN.fullmatch(limit) or not 1 <= int(limit) <= MAX_PAGE_SIZE:
            raise InvalidRequest(
                f"limit: must be a whole number from 1 to {MAX_PAGE_SIZE}.", details={"field": "limit"}
            )
        now = timezone.now()
        page, next_cursor = notifications_for_recipient(
            user=request.user,
            now=now,
            status=status,
            after=Cursor.decode(cursor) if cursor else None,
            limit=int(limit),
        )
        next_url = None
        if next_cursor is not None:
            params = {key: value for key, value in (("status", status), ("limit", limit)) if value}
            params["cursor"] = next_cursor.encode()
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
        return Response({"results": [notification_render(item, now=now) for item in page], "next": next_url})


class ClientNotificationDetailApi(UserApiView):
    @extend_schema(
        operation_id="client_notification_get",
        responses={
            200: schema.Notification,
            401: schema.UNAUTHENTICATED,
            403: schema.error("NOTIFICATION_ACCESS_DENIED: addressed to someone else"),
            404: schema.NOT_FOUND,
        },
    )
    def get(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_recipient(user=request.user, notification_id=notification_id)
        return Response(notification_render(notification, now=timezone.now()))


class RespondApi(UserApiView):
    @extend_schema(
        operation_id="client_respond",
        request=schema.RespondRequest,
        responses={
            200: schema.Responded,
            400: schema.error(
                "INVALID_REQUEST (not JSON), MISSING_REQUIRED_FIELD, INVALID_ACTION_ID, INVALID_RESPONSE_DATA"
            ),
            401: schema.UNAUTHENTICATED,
            403: schema.error("NOTIFICATION_ACCESS_DENIED"),
            404: schema.NOT_FOUND,
            409: schema.TERMINAL,
            422: schema.error("CONSTRAINT_VIOLATION, details.rule names the rule"),
        },
    )
    def post(self, request: Request) -> Response:
        body = json_body(request)
        for field in ("notification_id", "action_id"):
            required_present(body.get(field), field=field)
        notification = notification_get_to_respond(user=request.user, notification_id=body["notification_id"])
        notification = notification_respond(
            notification=notification,
            responder=cast(User, request.user),
            action_id=body["action_id"],
            response_data=body.get("response_data"),
        )
        return Response(
            {
                "notification_id": str(notification.pk),
                "action_id": notification.response_action_id,
                "status": notification.status,
                "responded_at": rfc3339(notification.responded_at),
            }
        )
