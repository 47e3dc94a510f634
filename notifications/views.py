"""Notifications (contract section 3): services ask, people answer.

Each view parses, calls selectors and one service, and renders; read top to bottom, the checks
are in the contract's order. 401 happens in authentication, before any of this runs.
"""

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import ApiError
from config.api.families import Family, InputProblem
from config.api.fields import (
    JsonObjectField,
    PassThroughField,
    QueryIntegerField,
    Rfc3339Field,
    StrictCharField,
    StrictChoiceField,
)
from config.api.serializers import InputSerializer
from config.api.views import PublicApiView, ServiceApiView, UserApiView
from notifications.errors import MissingRequiredField
from notifications.models import MAX_RECIPIENTS, NotificationStatus
from notifications.selectors import (
    Cursor,
    notification_get_for_recipient,
    notification_get_for_service,
    notification_get_to_respond,
    notifications_for_recipient,
    recipients_get,
)
from notifications.serializers import (
    INVALID,
    NOT_FOUND,
    TERMINAL,
    UNAUTHENTICATED,
    ActionDefinitionsField,
    ClientToken,
    DefaultOutcomeField,
    EscalationField,
    NotificationPage,
    NotificationSerializer,
    Responded,
    error,
)
from notifications.services import (
    TOKEN_FAILURES_PER_ADDRESS,
    TOKEN_FAILURES_PER_USERNAME,
    client_token_obtain,
    notification_create,
    notification_invalidate,
    notification_respond,
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
LIMIT_MESSAGE = f"must be a whole number from 1 to {MAX_PAGE_SIZE}."


@extend_schema_field(OpenApiTypes.STR)
class CursorField(serializers.Field):
    """The previous page's `next` cursor; empty is the same as none."""

    default_error_messages = {"invalid": "not a cursor this server made."}

    def to_internal_value(self, data: Any) -> Cursor | None:
        if data == "":
            return None
        try:
            return Cursor.decode(data)
        except ValueError:
            self.fail("invalid")


@extend_schema_field(OpenApiTypes.UUID)
class NotificationIdField(PassThroughField):
    """Taken as sent: the selector answers anything but the id of one's own notification with 404."""


@extend_schema_field(OpenApiTypes.STR)
class ActionIdField(PassThroughField):
    """Taken as sent: the service answers an id the notification does not have with INVALID_ACTION_ID."""


class UsernamesField(serializers.ListField):
    """Distinct usernames, 1 to MAX_RECIPIENTS; any problem with one names the list itself."""

    child = StrictCharField(max_length=150)
    default_error_messages = {"invalid": f"must be a list of 1 to {MAX_RECIPIENTS} usernames."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=MAX_RECIPIENTS, **kwargs)
        for code in ("min_length", "max_length", "empty", "not_a_list"):
            self.error_messages[code] = self.error_messages["invalid"]

    def to_internal_value(self, data: Any) -> list[str]:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            self.fail("invalid")


CREATE_EXAMPLE = {
    "recipients": ["alex", "sam"],
    "title": "Approve the refund for order 1042?",
    "description": "The customer returned the blender unopened; 89.00 EUR.",
    "deadline": "2026-12-02T12:00:00Z",
    "metadata": {"order": 1042},
    "actions": [{"id": "approve", "label": "Approve the refund", "response_type": "binary"}],
    "on_deadline": {"action_id": "approve", "response_data": False},
    "escalate": {"after_seconds": 3600, "recipients": ["morgan"]},
}


class NotificationsApi(ServiceApiView):
    class NotificationCreateInput(InputSerializer):
        recipient = StrictCharField(
            max_length=150, required=False, trim_whitespace=True, help_text="one username; or recipients"
        )
        recipients = UsernamesField(
            required=False, help_text=f"1 to {MAX_RECIPIENTS} distinct usernames; or recipient"
        )
        title = StrictCharField(max_length=200, trim_whitespace=True)
        description = StrictCharField(
            max_length=5000, required=False, allow_blank=True, allow_null=True, trim_whitespace=True
        )
        deadline = Rfc3339Field(required=False, allow_null=True)
        metadata = JsonObjectField(required=False, allow_null=True)
        actions = ActionDefinitionsField()
        on_deadline = DefaultOutcomeField(required=False, allow_null=True)
        escalate = EscalationField(required=False, allow_null=True)

    @extend_schema(
        operation_id="notification_create",
        request=NotificationCreateInput,
        responses={201: NotificationSerializer, 400: INVALID, 401: UNAUTHENTICATED},
        examples=[
            OpenApiExample(
                "Two people, a default outcome at the deadline, an escalation after an hour",
                value=CREATE_EXAMPLE,
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    "notification_id": "3f2c1a9e-8d4b-4c6e-9a1f-2b7d5e8c0a13",
                    "status": "pending",
                    "recipient": "alex",
                    **{key: value for key, value in CREATE_EXAMPLE.items() if key != "actions"},
                    "actions": [
                        {
                            "id": "approve",
                            "label": "Approve the refund",
                            "response_type": "binary",
                            "options": {"true_label": "Yes", "false_label": "No"},
                        }
                    ],
                    "escalated_at": None,
                    "created_at": "2026-12-01T12:00:00Z",
                    "response": None,
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.NotificationCreateInput.from_request(request)
        notification = notification_create(
            service=self.service(request),
            recipients=recipients_get(recipient=data.get("recipient"), recipients=data.get("recipients")),
            title=data["title"],
            description=data.get("description") or "",
            deadline=data.get("deadline"),
            metadata=data.get("metadata"),
            actions=data["actions"],
            on_deadline=data.get("on_deadline"),
            escalate=data.get("escalate"),
        )
        return Response(NotificationSerializer.render(notification, now=timezone.now()), status=201)


DEFAULTED_EXAMPLE = OpenApiExample(
    "Answered by its default outcome at the deadline",
    value={
        "notification_id": "3f2c1a9e-8d4b-4c6e-9a1f-2b7d5e8c0a13",
        "status": "responded",
        "recipient": "alex",
        **{key: value for key, value in CREATE_EXAMPLE.items() if key != "actions"},
        "recipients": ["alex", "sam", "morgan"],
        "actions": [
            {
                "id": "approve",
                "label": "Approve the refund",
                "response_type": "binary",
                "options": {"true_label": "Yes", "false_label": "No"},
            }
        ],
        "escalated_at": "2026-12-01T13:00:00Z",
        "created_at": "2026-12-01T12:00:00Z",
        "response": {
            "action_id": "approve",
            "response_data": False,
            "responded_at": "2026-12-02T12:00:00Z",
            "responder": None,
            "defaulted": True,
        },
    },
    response_only=True,
    status_codes=["200"],
)


class NotificationDetailApi(ServiceApiView):
    class NotificationPatchInput(InputSerializer):
        status = StrictChoiceField(choices=[NotificationStatus.INVALIDATED.value])
        reason = StrictCharField(
            max_length=500, required=False, allow_blank=True, allow_null=True, trim_whitespace=True
        )

    @extend_schema(
        operation_id="notification_get",
        responses={200: NotificationSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        examples=[DEFAULTED_EXAMPLE],
    )
    def get(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_service(
            service=self.service(request), notification_id=notification_id
        )
        return Response(NotificationSerializer.render(notification, now=timezone.now()))

    @extend_schema(
        operation_id="notification_invalidate",
        request=NotificationPatchInput,
        responses={
            200: NotificationSerializer,
            400: INVALID,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: TERMINAL,
        },
    )
    def patch(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_service(
            service=self.service(request), notification_id=notification_id
        )
        data = self.NotificationPatchInput.from_request(request)
        notification = notification_invalidate(notification=notification, reason=data.get("reason") or "")
        return Response(NotificationSerializer.render(notification, now=timezone.now()))


class ClientTokenApi(PublicApiView):
    class ClientTokenInput(InputSerializer):
        username = StrictCharField(max_length=150, trim_whitespace=True)
        password = StrictCharField(max_length=4096, trim_whitespace=False)

    @extend_schema(
        operation_id="client_token",
        request=ClientTokenInput,
        responses={
            200: ClientToken,
            400: INVALID,
            401: error("AUTH_INVALID_TOKEN: wrong username or password"),
            429: error(
                f"RATE_LIMITED, with Retry-After: failed logins are capped at {TOKEN_FAILURES_PER_USERNAME} "
                f"per username and {TOKEN_FAILURES_PER_ADDRESS} per client address"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.ClientTokenInput.from_request(request)
        token = client_token_obtain(
            request=request._request, username=data["username"], password=data["password"]
        )
        return Response(ClientToken.render({"token": token}))


class ClientNotificationsApi(UserApiView):
    class InboxQuery(InputSerializer):
        status = StrictChoiceField(choices=NotificationStatus.values, required=False)
        limit = QueryIntegerField(
            min_value=1,
            max_value=MAX_PAGE_SIZE,
            default=PAGE_SIZE,
            help_text=f"1-{MAX_PAGE_SIZE}, default {PAGE_SIZE}",
            error_messages={"type": LIMIT_MESSAGE, "min_value": LIMIT_MESSAGE, "max_value": LIMIT_MESSAGE},
        )
        cursor = CursorField(required=False, help_text="from the previous page's `next`")

    @extend_schema(
        operation_id="client_notification_list",
        parameters=[InboxQuery],
        responses={200: NotificationPage, 400: INVALID, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        query = self.InboxQuery.from_query(request)
        status, limit = query.get("status"), query["limit"]
        now = timezone.now()
        page, next_cursor = notifications_for_recipient(
            user=request.user, now=now, status=status, after=query.get("cursor"), limit=limit
        )
        next_url = None
        if next_cursor is not None:
            params = {"status": status} if status else {}
            params.update(limit=str(limit), cursor=next_cursor.encode())
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
        return Response(NotificationPage.render({"results": page, "next": next_url}, now=now))


class ClientNotificationDetailApi(UserApiView):
    @extend_schema(
        operation_id="client_notification_get",
        responses={
            200: NotificationSerializer,
            401: UNAUTHENTICATED,
            403: error("NOTIFICATION_ACCESS_DENIED: the caller is not (yet) one of its recipients"),
            404: NOT_FOUND,
        },
        examples=[DEFAULTED_EXAMPLE],
    )
    def get(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_recipient(user=request.user, notification_id=notification_id)
        return Response(NotificationSerializer.render(notification, now=timezone.now()))


class RespondApi(UserApiView):
    @extend_schema_serializer(component_name="RespondRequest")
    class RespondInput(InputSerializer):
        # Keys beyond the seed's three have always been ignored here.
        refuse_unknown = False

        notification_id = NotificationIdField()
        action_id = ActionIdField()
        response_data = PassThroughField(required=False, allow_null=True)

        @classmethod
        def input_error(cls, family: Family, problem: InputProblem) -> ApiError:
            # Only absence (or null) can be wrong here; the seed calls it MISSING_REQUIRED_FIELD.
            return MissingRequiredField(f"{problem.field} is required.", details={"field": problem.field})

    @extend_schema(
        operation_id="client_respond",
        request=RespondInput,
        responses={
            200: Responded,
            400: error(
                "INVALID_REQUEST (not JSON), MISSING_REQUIRED_FIELD, INVALID_ACTION_ID, INVALID_RESPONSE_DATA"
            ),
            401: UNAUTHENTICATED,
            403: error("NOTIFICATION_ACCESS_DENIED"),
            404: NOT_FOUND,
            409: TERMINAL,
            422: error("CONSTRAINT_VIOLATION, details.rule names the rule"),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.RespondInput.from_request(request)
        notification = notification_get_to_respond(user=request.user, notification_id=data["notification_id"])
        notification = notification_respond(
            notification=notification,
            responder=cast(User, request.user),
            action_id=data["action_id"],
            response_data=data.get("response_data"),
        )
        return Response(Responded.render(notification))
