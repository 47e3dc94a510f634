"""Widget family (`/v1`): action executions and the visitor's public result post (contract 2)."""

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

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
from config.api.fields import StrictCharField, StrictChoiceField
from config.api.schema import WIDGET_UNAUTHENTICATED
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
        request=ExecutionCreateInput,
        responses={
            201: ActionProposalSerializer,
            400: OpenApiResponse(description="INVALID_REQUEST (also: targetUrl not an absolute http(s) URL)"),
            403: OpenApiResponse(
                description="FORBIDDEN_TARGET: userinfo in targetUrl, or not on the allowlist"
            ),
            401: WIDGET_UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND: unknown or foreign bot or conversation"),
        },
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
        responses={
            200: ActionExecutionSerializer,
            401: WIDGET_UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND"),
        }
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
        request=ExecutionResultInput,
        responses={
            200: ActionResultAcceptedSerializer,
            400: OpenApiResponse(description="INVALID_REQUEST"),
            403: OpenApiResponse(description="FORBIDDEN_TARGET: nothing recorded, the row stays pending"),
            404: OpenApiResponse(description="NOT_FOUND: not a UUID, or no such execution"),
            409: OpenApiResponse(description="ALREADY_COMPLETED"),
            429: OpenApiResponse(description="RATE_LIMITED, with Retry-After"),
        },
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
