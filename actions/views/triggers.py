"""`/actions/{id}` and `/actions/{id}/trigger` (contract 4). Checks run top to bottom:
401 (authentication, before the handler) → 429 → 400 path id → 404 → 400 body and headers →
idempotency (409) → fire."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from actions.selectors.triggers import action_get_for_service
from actions.services.triggers import action_put, action_trigger, trigger_rate_limit_check
from actions.trigger_serializers import (
    ActionOutput,
    ActionPutInput,
    ActionResultOutput,
    TriggerInput,
    parse_action_id,
    parse_idempotency_key,
)
from config.api.families import ActionsErrorResponse
from config.api.views import ServiceApiView

ERRORS = {status: ActionsErrorResponse for status in (400, 401, 404, 409, 413, 429)}


class ActionApi(ServiceApiView):
    """The service's action `id`: PUT creates (201) or updates (200) it, a new version per change."""

    @extend_schema(operation_id="action_get", responses={200: ActionOutput, **ERRORS})
    def get(self, request: Request, action_id: str) -> Response:
        action = action_get_for_service(service=self.service(request), action_id=parse_action_id(action_id))
        return Response(ActionOutput.render(action))

    @extend_schema(
        operation_id="action_put",
        request=ActionPutInput,
        responses={200: ActionOutput, 201: ActionOutput, **ERRORS},
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
        request=TriggerInput,
        responses={200: ActionResultOutput, **ERRORS},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="1 to 255 printable ASCII characters; a retry within 24 h gets the same result.",
            )
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
