"""`/actions/{id}` and `/actions/{id}/trigger` (contract 4). Checks run top to bottom:
401 (authentication, before the handler) → 429 → 400 path id → 404 → 400 body and headers →
idempotency (409) → fire."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from actions.error_types import ActionNotFound, IdempotencyConflict
from actions.selectors.triggers import action_get_for_service
from actions.services.triggers import action_put, action_trigger, delivery_error, trigger_rate_limit_check
from actions.trigger_serializers import (
    ACTION_ID_SUGGESTION,
    ActionOutput,
    ActionPutInput,
    ActionResultOutput,
    TriggerInput,
    parse_action_id,
    parse_idempotency_key,
)
from config.api.errors import InvalidRequest, PayloadTooLarge, RateLimited, Unauthenticated
from config.api.families import ACTIONS, ParameterInvalid, TypeMismatch
from config.api.schema import error_response
from config.api.views import ServiceApiView
from config.outbound.client import ErrorKind, cause_answered, cause_not_public, cause_timed_out

ACTION_ID = "refund-approved"
BAD_ACTION_ID = ParameterInvalid(
    "The action id is not valid.", location="path.id", suggestion=ACTION_ID_SUGGESTION
)
ACTION_PATH = OpenApiParameter(
    "action_id",
    str,
    OpenApiParameter.PATH,
    description="Your action's id: `^[a-z0-9][a-z0-9_-]{0,63}$`, unique within your service.",
)
UNAUTHENTICATED = error_response(
    ACTIONS, "`auth_error`: no valid service key (missing, unknown or revoked).", Unauthenticated()
)
NOT_FOUND = error_response(
    ACTIONS,
    "`not_found`: your service has no action with this id.",
    ActionNotFound(f"There is no action {ACTION_ID!r}."),
)
TOO_LARGE = error_response(ACTIONS, "`bounds_exceeded`: the body is larger than 64 KiB.", PayloadTooLarge())
ACTION = {
    "action_id": ACTION_ID,
    "action_version": "1",
    "target_url": "https://hooks.example.com/refunds",
    "fire_on": "true",
    "timeout_ms": 5000,
    "description": "Refund the order in the shop",
    "created_at": "2026-12-01T09:00:00.281381Z",
    "updated_at": "2026-12-01T09:00:00.281401Z",
}
RESULT = {"action_id": ACTION_ID, "action_version": "3"}


EXAMPLE_TARGET = "hooks.example.com:443"


def failed(error_kind: str, cause: str) -> dict[str, object]:
    # Worded by the code that words a real failure, so the docs cannot drift from it.
    error = delivery_error(error_kind=error_kind, cause=cause)
    return {**RESULT, "status": "failed", "payload_sent": None, "error": error}


class ActionApi(ServiceApiView):
    """The service's action `id`: PUT creates (201) or updates (200) it, a new version per change."""

    @extend_schema(
        operation_id="action_get",
        parameters=[ACTION_PATH],
        summary="Read an action",
        description="Your service (service key) reads one of its actions as it is now, with its "
        "current `action_version`. Another service's action is `not_found`, as if it did not exist.",
        responses={
            200: ActionOutput,
            400: error_response(
                ACTIONS, "`parameter_error`: the id in the path is not a valid action id.", BAD_ACTION_ID
            ),
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
        },
        examples=[OpenApiExample("An action", value=ACTION, response_only=True)],
    )
    def get(self, request: Request, action_id: str) -> Response:
        action = action_get_for_service(service=self.service(request), action_id=parse_action_id(action_id))
        return Response(ActionOutput.render(action))

    @extend_schema(
        operation_id="action_put",
        parameters=[ACTION_PATH],
        summary="Create or update an action",
        description="Your service (service key) registers, under an id of its choosing "
        "(`^[a-z0-9][a-z0-9_-]{0,63}$`, unique within your service), the URL Loopback calls when "
        "the action is triggered, which decisions fire it (`fire_on`) and how long the target may "
        "take (`timeout_ms`). 201 when created, 200 when updated.\n\n"
        '`action_version` is `"1"` at creation and goes up by one on every change; a PUT that '
        "changes nothing keeps it, so PUT is safe to repeat. Earlier versions stay readable for "
        "the operator, and every trigger records the version it used.\n\n"
        "Errors: `syntax_error` (the body is not a JSON object), `type_error` (a field of the wrong "
        "JSON type), `parameter_error` (a value out of range, an unknown field, a bad id), each "
        "with `location` naming the field and `suggestion` saying what is accepted.",
        request=ActionPutInput,
        responses={
            200: ActionOutput,
            201: ActionOutput,
            400: error_response(
                ACTIONS,
                "`syntax_error`, `type_error` or `parameter_error`; `location` names the field and "
                "`suggestion` says what would be accepted.",
                InvalidRequest("The body must be a JSON object."),
                TypeMismatch(
                    "timeout_ms: Must be a JSON integer.",
                    location="body.timeout_ms",
                    suggestion="An integer number of milliseconds from 100 to 30000.",
                ),
                ParameterInvalid(
                    "target_url: Must be an absolute http or https URL: the scheme is not http or https.",
                    location="body.target_url",
                    suggestion="An absolute http or https URL, e.g. https://example.com/hook.",
                ),
                BAD_ACTION_ID,
            ),
            401: UNAUTHENTICATED,
            413: TOO_LARGE,
        },
        examples=[
            OpenApiExample(
                "Refund when the decision is true",
                value={
                    "target_url": "https://hooks.example.com/refunds",
                    "fire_on": "true",
                    "timeout_ms": 5000,
                    "description": "Refund the order in the shop",
                },
                request_only=True,
            ),
            OpenApiExample("Created", value=ACTION, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "Updated: the timeout changed",
                value={
                    **ACTION,
                    "action_version": "2",
                    "timeout_ms": 8000,
                    "updated_at": "2026-12-01T10:30:00Z",
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def put(self, request: Request, action_id: str) -> Response:
        service = self.service(request)
        action_id = parse_action_id(action_id)
        data = ActionPutInput.from_request(request)
        action, created = action_put(service=service, action_id=action_id, **data)
        return Response(ActionOutput.render(action), status=201 if created else 200)


class ActionTriggerApi(ServiceApiView):
    """Trigger the action: skipped, would_trigger (dry run), triggered or failed, as an ActionResult."""

    @extend_schema(
        operation_id="action_trigger",
        summary="Trigger an action",
        description="Your service (service key) triggers one of its actions with a `decision`. "
        "Loopback decides whether it fires, sends the signed POST (Standard Webhooks headers, "
        "the service's `whsec_` secret) and answers 200 with what happened:\n\n"
        "| `status` | when |\n|---|---|\n"
        '| `skipped` | a true or false `decision` does not meet `fire_on` (`"true"` fires on true, '
        '`"false"` on false, `"always"` on both); an absent or null decision always fires |\n'
        "| `would_trigger` | `dry_run` is true and it would fire; nothing is sent |\n"
        "| `triggered` | it was sent and the target answered 2xx within `timeout_ms` |\n"
        "| `failed` | otherwise; `error.error.type` says why: `execution_timeout`, "
        "`action_binding_failed` (refused before sending: not a public address), or "
        "`execution_error` (connection refused, a non-2xx answer, a redirect) |\n\n"
        "`payload_sent` is set only for `triggered`: exactly the JSON body that was sent, "
        '`{"action_id", "action_version", "decision", "payload", "triggered_at"}`. A '
        "failed delivery is still a 200: the trigger was carried out, the target failed. Every "
        "trigger, dry runs included, is recorded for the operator.\n\n"
        "**Once only:** send an `Idempotency-Key` and a retry with the same key within 24 hours "
        "returns the stored result without sending again; the same key with a different body is "
        "409 `conflict`. Triggers are rate-limited per service (429 `rate_limit_exceeded` with "
        "`Retry-After`).",
        request=TriggerInput,
        responses={
            200: ActionResultOutput,
            400: error_response(
                ACTIONS,
                "`syntax_error` (the body is not a JSON object), `type_error` (a field of the wrong "
                "JSON type) or `parameter_error` (an unknown field, a bad id or Idempotency-Key).",
                InvalidRequest("The body must be a JSON object."),
                TypeMismatch(
                    "decision: Must be true or false.",
                    location="body.decision",
                    suggestion="true, false or null (always fires).",
                ),
                ParameterInvalid(
                    "Unknown field 'decison'.",
                    location="body.decison",
                    suggestion="Send only these fields: decision, dry_run, payload.",
                ),
                ParameterInvalid(
                    "The Idempotency-Key header is not valid.",
                    location="header.Idempotency-Key",
                    suggestion="1 to 255 printable ASCII characters, e.g. a UUID.",
                ),
            ),
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
            409: error_response(
                ACTIONS,
                "`conflict`: this Idempotency-Key was used with a different body, or its first "
                "request is still in progress.",
                IdempotencyConflict(
                    "This Idempotency-Key was used with a different request.",
                    suggestion="Use a new Idempotency-Key for a different request.",
                ),
            ),
            413: TOO_LARGE,
            429: error_response(
                ACTIONS,
                "`rate_limit_exceeded`: too many triggers for your service (`ACTIONS_TRIGGER_RATE`, "
                "600 a minute by default); retry after `Retry-After` seconds.",
                RateLimited(
                    "At most 600/m trigger requests per service. Retry in 12 seconds.", retry_after=12
                ),
            ),
        },
        parameters=[
            ACTION_PATH,
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="1 to 255 printable ASCII characters (a UUID does): a retry with the same "
                "key within 24 h gets the stored result, and nothing is sent again.",
            ),
        ],
        examples=[
            OpenApiExample(
                "Approved, with the order",
                value={"decision": True, "payload": {"order": 1042, "amount": "89.00"}},
                request_only=True,
            ),
            OpenApiExample("A dry run", value={"decision": True, "dry_run": True}, request_only=True),
            OpenApiExample(
                "Triggered",
                value={
                    **RESULT,
                    "status": "triggered",
                    "payload_sent": {
                        "action_id": ACTION_ID,
                        "action_version": "3",
                        "decision": True,
                        "payload": {"order": 1042, "amount": "89.00"},
                        "triggered_at": "2026-12-01T09:15:00Z",
                    },
                    "error": None,
                },
                response_only=True,
            ),
            OpenApiExample(
                "Skipped: the decision does not meet fire_on",
                value={**RESULT, "status": "skipped", "payload_sent": None, "error": None},
                response_only=True,
            ),
            OpenApiExample(
                "Would trigger (dry run)",
                value={**RESULT, "status": "would_trigger", "payload_sent": None, "error": None},
                response_only=True,
            ),
            OpenApiExample(
                "Failed: the target answered 502",
                value=failed(ErrorKind.HTTP_STATUS, cause_answered(EXAMPLE_TARGET, 502)),
                response_only=True,
            ),
            OpenApiExample(
                "Failed: timed out",
                value=failed(ErrorKind.TIMEOUT, cause_timed_out(EXAMPLE_TARGET, 5000)),
                response_only=True,
            ),
            OpenApiExample(
                "Failed: refused before sending",
                value=failed(ErrorKind.REFUSED_DESTINATION, cause_not_public("10.0.0.7:80", "10.0.0.7")),
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, action_id: str) -> Response:
        service = self.service(request)
        trigger_rate_limit_check(service=service)
        action = action_get_for_service(service=service, action_id=parse_action_id(action_id))
        data = TriggerInput.from_request(request)
        idempotency_key = parse_idempotency_key(request)
        trigger = action_trigger(service=service, action=action, idempotency_key=idempotency_key, **data)
        return Response(ActionResultOutput.render(trigger))
