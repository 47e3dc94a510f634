"""Widget family (`/v1`): action executions and the visitor's public result post (contract 2)."""

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from actions.errors import AlreadyCompleted, ForbiddenTarget
from actions.execution_serializers import (
    ActionExecutionSerializer,
    ActionProposalSerializer,
    ActionResultAcceptedSerializer,
    ContactMetadataSerializer,
)
from actions.models import ExecutionKind, ExecutionResult
from actions.selectors.executions import execution_get_for_result, execution_get_for_service
from actions.services.executions import (
    execution_create,
    execution_record_result,
    result_post_rate_limit_check,
)
from config.api.errors import InvalidRequest, NotFound, RateLimited
from config.api.families import WIDGET
from config.api.fields import StrictCharField, StrictChoiceField
from config.api.schema import WIDGET_UNAUTHENTICATED, error_response
from config.api.serializers import InputSerializer
from config.api.views import PublicApiView, ServiceApiView
from conversations.selectors import bot_get_for_service

# Deep enough for any form; shallow enough that walking it (masking) never nears the recursion limit.
MAX_PARAMS_DEPTH = 32


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


BOT_ID = "6f1d3c2a-9b8e-4f7a-a1c2-d3e4f5a6b7c8"
EXECUTION_ID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
CONVERSATION_ID = "0b7e2c4d-1a3f-4e5d-9c8b-7a6f5e4d3c2b"
PROPOSAL = {
    "visitorId": "visitor-42",
    "kind": "contact_form",
    "label": "Request a call back",
    "targetUrl": "https://example.com/contact",
    "params": {"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "+1 555 123 4567"},
}
BOT_PATH = OpenApiParameter("bot_id", str, OpenApiParameter.PATH, description="The bot's `botId`, a UUID.")
EXECUTION_PATH = OpenApiParameter(
    "execution_id", str, OpenApiParameter.PATH, description="The proposal's `executionId`, a UUID."
)
EXECUTION_NOT_FOUND = NotFound(f"There is no execution {EXECUTION_ID}.")


class ExecutionCreateApi(ServiceApiView):
    @extend_schema_serializer(component_name="ActionExecutionCreate")
    class ExecutionCreateInput(InputSerializer):
        visitorId = StrictCharField(min_length=1, max_length=128)
        kind = StrictChoiceField(choices=ExecutionKind.choices)
        # DRF pops declared fields off the class, so this does not clash with Field.label.
        label = StrictCharField(min_length=1, max_length=200)  # type: ignore[assignment]
        targetUrl = StrictCharField(max_length=2048)
        params = serializers.DictField(required=False, allow_null=True)
        conversationId = StrictCharField(required=False, allow_null=True)

        def validate_params(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
            if value is not None and _depth(value) > MAX_PARAMS_DEPTH:
                raise serializers.ValidationError(f"params may nest at most {MAX_PARAMS_DEPTH} levels deep.")
            return value

        def validate_conversationId(self, value: str | None) -> str | None:
            if value is not None:
                try:
                    uuid.UUID(value)
                except ValueError:
                    raise serializers.ValidationError("Must be a UUID.") from None
            return value

    @extend_schema(
        summary="Propose an action to a visitor",
        description="Your chat runtime (service key) records a proposal for a visitor of its bot: "
        "a contact form, a newsletter sign-up or a booking, with the URL the visitor's browser will "
        "submit to. Hand the answer's `data-action-proposal` to the widget; the browser carries it "
        "out and posts the outcome to the public result route.\n\n"
        "Without `conversationId` a new conversation for this bot and visitor is started; with one, "
        "it must be that visitor's conversation of this bot. `params` (any JSON object) are kept "
        "as sent until the result is in; for contact forms and newsletters they are then masked "
        "for good (`jane.doe@example.com` → `j***@example.com`).\n\n"
        "Refusals: 400 `INVALID_REQUEST` for a missing or malformed field (also a `targetUrl` that "
        "is not an absolute http(s) URL); 403 `FORBIDDEN_TARGET` when `targetUrl` carries a user "
        "name or password or is not on the bot's allowlist; 404 for an unknown bot or conversation, "
        "or another service's.",
        parameters=[BOT_PATH],
        request=ExecutionCreateInput,
        responses={
            201: ActionProposalSerializer,
            400: error_response(
                WIDGET,
                "`INVALID_REQUEST`: a field is missing or malformed; the message names it.",
                InvalidRequest(
                    "targetUrl must be an absolute http(s) URL: the URL must start with http:// or https://."
                ),
                InvalidRequest("kind: must be one of contact_form, newsletter, booking."),
            ),
            401: WIDGET_UNAUTHENTICATED,
            403: error_response(
                WIDGET,
                "`FORBIDDEN_TARGET`: `targetUrl` is not on the bot's allowlist, or carries a user name "
                "or password. Nothing is recorded.",
                ForbiddenTarget(),
                ForbiddenTarget("targetUrl may not carry a user name or password."),
            ),
            404: error_response(
                WIDGET,
                "`NOT_FOUND`: no such bot or conversation, or another service's.",
                NotFound(f"There is no bot {BOT_ID}."),
            ),
        },
        examples=[
            OpenApiExample("A contact form", value=PROPOSAL, request_only=True),
            OpenApiExample(
                "Proposed",
                value={
                    "type": "data-action-proposal",
                    "id": EXECUTION_ID,
                    "data": {"executionId": EXECUTION_ID, "conversationId": CONVERSATION_ID, **PROPOSAL},
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request: Request, bot_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)
        data = self.ExecutionCreateInput.from_request(request)
        execution = execution_create(
            bot=bot,
            visitor_id=data["visitorId"],
            kind=data["kind"],
            label=data["label"],
            target_url=data["targetUrl"],
            params=data.get("params"),
            conversation_id=data.get("conversationId"),
        )
        return Response(ActionProposalSerializer.render(execution), status=201)


class ExecutionDetailApi(ServiceApiView):
    @extend_schema(
        summary="Read an execution and its result",
        description="Your service (service key) reads one execution of its bot: the proposal, and "
        "once the visitor's browser has posted it, the `result`, its `error` text (verbatim), the "
        "`contactMetadata` and `completedAt`. `result` is null while pending; `expired` when the "
        "operator expired it unanswered. `params` come back masked once masked (contact forms and "
        "newsletters, after the result or expiry).",
        parameters=[BOT_PATH, EXECUTION_PATH],
        responses={
            200: ActionExecutionSerializer,
            401: WIDGET_UNAUTHENTICATED,
            404: error_response(
                WIDGET,
                "`NOT_FOUND`: no such bot or execution, another service's, or an erased visitor's.",
                NotFound(f"There is no execution {EXECUTION_ID} for bot {BOT_ID}."),
            ),
        },
        examples=[
            OpenApiExample(
                "Completed: the form was sent",
                value={
                    "executionId": EXECUTION_ID,
                    "conversationId": CONVERSATION_ID,
                    **PROPOSAL,
                    "params": {"name": "J***", "email": "j***@example.com", "phone": "+* *** *** **67"},
                    "result": "success",
                    "error": None,
                    "contactMetadata": {
                        "deliveryStatus": "delivered",
                        "deliveryMethod": "hidden_iframe",
                        "signalSource": "form-submit",
                        "networkStatus": 200,
                        "submitToSignalMs": 412,
                    },
                    "createdAt": "2026-12-01T09:00:00Z",
                    "completedAt": "2026-12-01T09:01:30Z",
                },
                response_only=True,
            ),
            OpenApiExample(
                "Pending",
                value={
                    "executionId": EXECUTION_ID,
                    "conversationId": CONVERSATION_ID,
                    **PROPOSAL,
                    "result": None,
                    "error": None,
                    "contactMetadata": None,
                    "createdAt": "2026-12-01T09:00:00Z",
                    "completedAt": None,
                },
                response_only=True,
            ),
        ],
    )
    def get(self, request: Request, bot_id: str, execution_id: str) -> Response:
        execution = execution_get_for_service(
            service=self.service(request), bot_id=bot_id, execution_id=execution_id
        )
        return Response(ActionExecutionSerializer.render(execution))


class ExecutionResultApi(PublicApiView):
    @extend_schema_serializer(component_name="ActionExecutionResult")
    class ExecutionResultInput(InputSerializer):
        result = StrictChoiceField(
            choices=[ExecutionResult.SUCCESS, ExecutionResult.FAILURE, ExecutionResult.CANCELLED]
        )
        error = StrictCharField(max_length=2000, required=False, allow_null=True, allow_blank=True)
        contactMetadata = ContactMetadataSerializer(required=False, allow_null=True)

    @extend_schema(
        summary="Post the visitor's outcome (public)",
        description="The visitor's browser posts how the proposed action went. No credential: the "
        "browser calls it with the execution id of the proposal. Any origin may call it (CORS, "
        "without credentials).\n\n"
        "Checked in this order: 404 `NOT_FOUND` (not a UUID, no such execution, or an erased "
        "visitor's); 429 `RATE_LIMITED` beyond 5 posts an hour per bot and visitor, counted on "
        "every post that got past the 404, with `Retry-After` in whole seconds; 400 "
        "`INVALID_REQUEST` for a bad body (unknown keys are dropped); 409 `ALREADY_COMPLETED` when "
        "the execution already has a result (or expired); 403 `FORBIDDEN_TARGET` when `result` is "
        "`success` but the target is no longer on the bot's allowlist (nothing is recorded, the "
        "execution stays pending).\n\n"
        "Once only: of any number of posts to one pending execution, exactly one is recorded; the "
        "others get 409. With it, in one transaction: the result, `error`, `contactMetadata` and "
        "`completedAt` are stored, a contact form's or newsletter's `params` are masked, and the "
        "assistant message `<label> — done.` (`— failed.`, `— cancelled.`) is appended to the "
        "conversation.",
        parameters=[EXECUTION_PATH],
        request=ExecutionResultInput,
        responses={
            200: ActionResultAcceptedSerializer,
            400: error_response(
                WIDGET,
                "`INVALID_REQUEST`: the body is not what this route takes; the message names the field.",
                InvalidRequest("result: must be one of success, failure, cancelled."),
            ),
            403: error_response(
                WIDGET,
                "`FORBIDDEN_TARGET`: a success for a target no longer on the allowlist; nothing is "
                "recorded and the execution stays pending.",
                ForbiddenTarget("The target URL is no longer on the bot's allowlist; nothing was recorded."),
            ),
            404: error_response(
                WIDGET,
                "`NOT_FOUND`: not a UUID, no such execution, or an erased visitor's.",
                EXECUTION_NOT_FOUND,
            ),
            409: error_response(
                WIDGET, "`ALREADY_COMPLETED`: the execution already has its result.", AlreadyCompleted()
            ),
            429: error_response(
                WIDGET,
                "`RATE_LIMITED`: more than 5 posts in an hour for this bot and visitor; `Retry-After` "
                "says in how many seconds (1 to 3600) a post is accepted again.",
                RateLimited(
                    "At most 5/h result posts for one visitor of a bot. Retry in 1800 seconds.",
                    retry_after=1800,
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "Sent",
                value={
                    "result": "success",
                    "contactMetadata": {
                        "deliveryStatus": "delivered",
                        "deliveryMethod": "hidden_iframe",
                        "signalSource": "form-submit",
                        "networkStatus": 200,
                        "submitToSignalMs": 412,
                    },
                },
                request_only=True,
            ),
            OpenApiExample(
                "Failed", value={"result": "failure", "error": "The form answered 500."}, request_only=True
            ),
            OpenApiExample("Cancelled by the visitor", value={"result": "cancelled"}, request_only=True),
            OpenApiExample("Recorded", value={"ok": True, "result": "success"}, response_only=True),
        ],
    )
    def post(self, request: Request, execution_id: str) -> Response:
        execution = execution_get_for_result(execution_id=execution_id)  # 404 first
        result_post_rate_limit_check(execution=execution)  # then 429
        data = self.ExecutionResultInput.from_request(request)  # then 400
        execution_record_result(  # 409, 403, 200
            execution=execution,
            result=data["result"],
            error=data.get("error"),
            contact_metadata=data.get("contactMetadata"),
        )
        return Response(ActionResultAcceptedSerializer.render({"ok": True, "result": data["result"]}))
