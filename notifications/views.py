"""Notifications (contract section 3): services ask, people answer.

Each view parses, calls selectors and one service, and renders; read top to bottom, the checks
are in the contract's order. 401 happens in authentication, before any of this runs.
"""

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import ApiError, InvalidRequest, RateLimited, Unauthenticated
from config.api.families import NOTIFICATIONS, Family, InputProblem
from config.api.fields import (
    JsonObjectField,
    PassThroughField,
    QueryIntegerField,
    Rfc3339Field,
    StrictCharField,
    StrictChoiceField,
)
from config.api.schema import error_response
from config.api.serializers import InputSerializer
from config.api.views import PublicApiView, ServiceApiView, UserApiView
from notifications.errors import (
    ConstraintViolation,
    InvalidActionId,
    InvalidResponseData,
    MissingRequiredField,
)
from notifications.examples import (
    RESPONDED,
    RESPONSE_TYPES_TABLE,
    TYPE_EXAMPLES,
    create_request,
    notification_body,
    respond_request,
)
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
    ACCESS_DENIED,
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
    invalid,
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
        summary="Create a notification (ask people a question)",
        description=f"""Your service (service key) asks one or more people to decide something.

**Who**: `recipient` (one username) or `recipients` (1 to {MAX_RECIPIENTS} distinct usernames), not \
both. Every recipient may read and answer it; the first answer wins.

**What**: a `title` (1-200 characters), an optional `description` (up to 5,000), optional \
`metadata` (any JSON object, echoed in every webhook about it) and 1 to 10 `actions`, each \
`{{"id", "label", "response_type", "options"?, "constraints"?}}` with ids unique. The \
`response_type` says what an answer is:

{RESPONSE_TYPES_TABLE}
The 201 shows each action normalised, with every default filled in: an answer is checked \
against exactly that.

**When**: an optional `deadline` (a future RFC 3339 time). After it, answers are refused with \
409 `NOTIFICATION_EXPIRED` and `notification.expired` is sent, unless `on_deadline` gives a \
default outcome `{{"action_id", "response_data"}}` (a valid answer, checked now): then the \
notification reads as `responded` from the deadline on, with `responder: null` and \
`defaulted: true`, and one `notification.responded` webhook is sent.

**Escalation**: `escalate` `{{"after_seconds": 60..604800, "recipients": [...]}}` adds those \
people (e-mailed, and `notification.escalated` sent) if it is still pending that long after \
creation; not when it was answered, invalidated or past its deadline first.

Errors: 400 `INVALID_REQUEST` with `details.field` naming the field (also for bounds that make \
no sense, such as `min` above `max`, an unknown or inactive username, an unknown key).""",
        request=NotificationCreateInput,
        responses={
            201: NotificationSerializer,
            400: error_response(
                NOTIFICATIONS,
                "`INVALID_REQUEST`: `details.field` names the field in error.",
                InvalidRequest("recipient: there is no such (active) user.", details={"field": "recipient"}),
                InvalidRequest(
                    "actions[0].constraints.max: must not be below min.",
                    details={"field": "actions[0].constraints.max"},
                ),
                InvalidRequest(
                    "The body has a field this request does not take; it takes recipient, recipients, "
                    "title, description, deadline, metadata, actions, on_deadline, escalate.",
                    details={"field": "colour"},
                ),
            ),
            401: UNAUTHENTICATED,
        },
        examples=[
            *(
                OpenApiExample(
                    f"Ask {response_type}",
                    summary=f"Ask: {response_type}",
                    value=create_request(example),
                    request_only=True,
                )
                for response_type, example in TYPE_EXAMPLES.items()
            ),
            OpenApiExample(
                "Ask two people, with a default outcome at the deadline and an escalation after an hour",
                value=CREATE_EXAMPLE,
                request_only=True,
            ),
            *(
                OpenApiExample(
                    f"Created {response_type}",
                    summary=f"Created: {response_type}",
                    value=notification_body(example, answered=False),
                    response_only=True,
                    status_codes=["201"],
                )
                for response_type, example in TYPE_EXAMPLES.items()
            ),
            OpenApiExample(
                "Created: two people, a default outcome, an escalation",
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


ANSWERED_EXAMPLES = [
    OpenApiExample(
        f"Answered {response_type}",
        summary=f"Answered: {response_type}",
        value=notification_body(example, answered=True),
        response_only=True,
        status_codes=["200"],
    )
    for response_type, example in TYPE_EXAMPLES.items()
]
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


NOTIFICATION_PATH = OpenApiParameter(
    "notification_id", str, OpenApiParameter.PATH, description="The `notification_id`, a UUID."
)


class NotificationDetailApi(ServiceApiView):
    class NotificationPatchInput(InputSerializer):
        status = StrictChoiceField(choices=[NotificationStatus.INVALIDATED.value])
        reason = StrictCharField(
            max_length=500, required=False, allow_blank=True, allow_null=True, trim_whitespace=True
        )

    @extend_schema(
        operation_id="notification_get",
        parameters=[NOTIFICATION_PATH],
        summary="Read a notification and its answer",
        description="Your service (service key) reads one of its notifications as it is now: "
        "`status` is `pending`, `responded`, `expired` or `invalidated`, and once answered, "
        "`response` holds `{action_id, response_data, responded_at, responder: {id, username}, "
        "defaulted: false}`. Reads are up to date at the moment of the request: past its deadline "
        "a notification reads as `expired`, or as answered by its default outcome "
        "(`responder: null`, `defaulted: true`), whether or not the sweep has recorded it yet. "
        "Another service's notification is a 404, as if it did not exist.",
        responses={200: NotificationSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        examples=[*ANSWERED_EXAMPLES, DEFAULTED_EXAMPLE],
    )
    def get(self, request: Request, notification_id: str) -> Response:
        notification = notification_get_for_service(
            service=self.service(request), notification_id=notification_id
        )
        return Response(NotificationSerializer.render(notification, now=timezone.now()))

    @extend_schema(
        operation_id="notification_invalidate",
        parameters=[NOTIFICATION_PATH],
        summary="Withdraw a pending notification",
        description="Your service (service key) withdraws a question nobody has answered yet: "
        '`{"status": "invalidated", "reason": "..."}` (the reason is optional, up to '
        "500 characters). From then on answers are refused with 409 `NOTIFICATION_INVALIDATED`, "
        "and no escalation or default outcome happens. A notification that is no longer pending "
        "answers 409 with the code of its state; of an invalidation and an answer arriving "
        "together, exactly one wins.",
        request=NotificationPatchInput,
        responses={
            200: NotificationSerializer,
            400: invalid("status: must be one of invalidated.", field="status"),
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: TERMINAL,
        },
        examples=[
            OpenApiExample(
                "Withdraw it",
                value={"status": "invalidated", "reason": "The customer cancelled the order."},
                request_only=True,
            ),
            OpenApiExample(
                "Invalidated",
                value={**notification_body(TYPE_EXAMPLES["binary"], answered=False), "status": "invalidated"},
                response_only=True,
            ),
        ],
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
        summary="Get a user token (log in)",
        description="A person (no credential) exchanges their username and password for a user "
        "token, `ut_...`, to send as `Authorization: Bearer ut_...` to the other `client` routes. "
        "The token is shown this once; keep it secret. A wrong username or password is 401 "
        "`AUTH_INVALID_TOKEN`. Failed logins are capped, per username and per client address, "
        "however many guesses arrive at once: beyond the cap, 429 `RATE_LIMITED` with "
        "`Retry-After`.",
        request=ClientTokenInput,
        responses={
            200: ClientToken,
            400: error_response(
                NOTIFICATIONS,
                "`INVALID_REQUEST`: `username` or `password` is missing or not a string.",
                InvalidRequest("password: This field is required.", details={"field": "password"}),
            ),
            401: error_response(
                NOTIFICATIONS,
                "`AUTH_INVALID_TOKEN`: the username or the password is wrong.",
                Unauthenticated("The username or the password is wrong."),
            ),
            429: error_response(
                NOTIFICATIONS,
                f"`RATE_LIMITED`, with `Retry-After`: failed logins are capped at "
                f"{TOKEN_FAILURES_PER_USERNAME} per username and {TOKEN_FAILURES_PER_ADDRESS} per "
                "client address.",
                RateLimited("Too many failed logins. Retry in 840 seconds.", retry_after=840),
            ),
        },
        examples=[
            OpenApiExample(
                "Alex logs in",
                value={"username": "alex", "password": "correct horse battery"},
                request_only=True,
            ),
            OpenApiExample(
                "A token",
                value={"token": "ut_3q2Fj8kLmN0pQrStUvWxYz1a2B3c4D5e6F7g8H9i0Jk"},
                response_only=True,
            ),
        ],
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
        summary="List my notifications",
        description="A person (user token) lists the notifications they may answer or have "
        "answered: those addressed to them, and those they were added to by an escalation. "
        "Newest first, `limit` a page (default 50); `next` is the URL of the next page, or null on "
        "the last. `status=pending` gives what still awaits an answer.",
        parameters=[InboxQuery],
        responses={
            200: NotificationPage,
            400: invalid(f"limit: {LIMIT_MESSAGE}", field="limit"),
            401: UNAUTHENTICATED,
        },
        examples=[
            OpenApiExample(
                "A page",
                value={
                    "results": [notification_body(TYPE_EXAMPLES["binary"], answered=False)],
                    "next": "http://localhost:8000/api/v1/client/notifications?status=pending&limit=1"
                    "&cursor=MjAyNi0xMi0wMVQxMjowMDowMFp8M2YyYzFhOWU",
                },
                response_only=True,
            )
        ],
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
        parameters=[NOTIFICATION_PATH],
        summary="Read one of my notifications",
        description="A person (user token) reads a notification they are a recipient of, in the "
        "same shape as the service reads it. Someone else's is 403 "
        "`NOTIFICATION_ACCESS_DENIED` (also for a person an escalation has not added yet).",
        responses={
            200: NotificationSerializer,
            401: UNAUTHENTICATED,
            403: ACCESS_DENIED,
            404: NOT_FOUND,
        },
        examples=[*ANSWERED_EXAMPLES, DEFAULTED_EXAMPLE],
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
        summary="Answer a notification",
        description=f"""A recipient (user token) answers: `notification_id`, the `action_id` \
chosen, and `response_data` as that action's `response_type` takes it:

{RESPONSE_TYPES_TABLE}
Checked in this order, the first failure answering:

| status | code | when |
|---|---|---|
| 401 | `AUTH_INVALID_TOKEN` | the token is missing, unknown or revoked |
| 400 | `MISSING_REQUIRED_FIELD` | no `notification_id` or `action_id` |
| 404 | `NOTIFICATION_NOT_FOUND` | no such notification (also an id that is not a UUID) |
| 403 | `NOTIFICATION_ACCESS_DENIED` | you are not (yet) one of its recipients |
| 409 | `NOTIFICATION_ALREADY_RESPONDED`, `NOTIFICATION_INVALIDATED`, `NOTIFICATION_EXPIRED` | \
it is no longer pending (the deadline counts at the moment of the request) |
| 400 | `INVALID_ACTION_ID` | the notification has no such action |
| 400 | `MISSING_REQUIRED_FIELD` | `response_data` absent or null where the type needs one |
| 400 | `INVALID_RESPONSE_DATA` | the wrong JSON type or shape: a string for `binary`, `"5"` for \
`numeric`, `4.0` for `scale`, duplicates in `multi_choice`, anything but null for `simple` |
| 422 | `CONSTRAINT_VIOLATION` | the right type but outside the action's rules; `details.rule` \
names the rule (`options`, `min_selections`, `max_length`, `max`, `decimal_places`, `step`, ...) |

**Once only**: of any number of answers to one notification, from any of its recipients and \
arriving together, exactly one wins; every other gets 409 `NOTIFICATION_ALREADY_RESPONDED`. \
The answer and its `notification.responded` webhook are stored in one transaction, so the \
service hears of it at least once.""",
        request=RespondInput,
        responses={
            200: Responded,
            400: error_response(
                NOTIFICATIONS,
                "`MISSING_REQUIRED_FIELD`, `INVALID_ACTION_ID`, `INVALID_RESPONSE_DATA`, or "
                "`INVALID_REQUEST` for a body that is not a JSON object.",
                MissingRequiredField("action_id is required.", details={"field": "action_id"}),
                InvalidActionId(),
                InvalidResponseData("A binary action takes true or false."),
                InvalidRequest("The body must be a JSON object."),
            ),
            401: UNAUTHENTICATED,
            403: ACCESS_DENIED,
            404: NOT_FOUND,
            409: TERMINAL,
            422: error_response(
                NOTIFICATIONS,
                "`CONSTRAINT_VIOLATION`: `response_data` has the right type but breaks one of the "
                "action's rules; `details.rule` names it (and `details.limit` its bound).",
                ConstraintViolation("The text is too long.", details={"rule": "max_length", "limit": 500}),
                ConstraintViolation(
                    "The value is not one of this action's options.", details={"rule": "options"}
                ),
            ),
        },
        examples=[
            *(
                OpenApiExample(
                    f"Answer {response_type}",
                    summary=f"Answer: {response_type}",
                    value=respond_request(example),
                    request_only=True,
                )
                for response_type, example in TYPE_EXAMPLES.items()
            ),
            OpenApiExample("Answered", value=RESPONDED, response_only=True),
        ],
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
