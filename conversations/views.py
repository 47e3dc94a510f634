"""Widget family (`/v1`): bots and their allowlists, conversations' messages (contract 2)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import InvalidRequest
from config.api.schema import WIDGET_UNAUTHENTICATED
from config.api.serializers import InputSerializer
from config.api.views import ServiceApiView
from conversations.allowlist import InvalidUrl
from conversations.selectors import bot_get_for_service, conversation_get_for_service, conversation_messages
from conversations.serializers import BotSerializer, ConversationMessagesSerializer
from conversations.services import bot_set_allowlist


class BotApi(ServiceApiView):
    @extend_schema_serializer(component_name="BotAllowlist")
    class PatchSerializer(InputSerializer):
        # The list's items are checked by the allowlist itself, whose message quotes the pattern.
        allowedTargets = serializers.JSONField()

    @extend_schema(
        responses={
            200: BotSerializer,
            401: WIDGET_UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND"),
        }
    )
    def get(self, request: Request, bot_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)
        return Response(BotSerializer.render(bot))

    @extend_schema(
        request=PatchSerializer,
        responses={
            200: BotSerializer,
            400: OpenApiResponse(description="INVALID_REQUEST: the message quotes the bad pattern"),
            401: WIDGET_UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND"),
        },
    )
    def patch(self, request: Request, bot_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)
        data = self.PatchSerializer.from_request(request)
        try:
            bot = bot_set_allowlist(bot=bot, allowed_targets=data["allowedTargets"])
        except InvalidUrl as exc:
            raise InvalidRequest(str(exc)) from None
        return Response(BotSerializer.render(bot))


class ConversationMessagesApi(ServiceApiView):
    @extend_schema(
        responses={
            200: ConversationMessagesSerializer,
            401: WIDGET_UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND"),
        }
    )
    def get(self, request: Request, bot_id: str, conversation_id: str) -> Response:
        conversation = conversation_get_for_service(
            service=self.service(request), bot_id=bot_id, conversation_id=conversation_id
        )
        messages = conversation_messages(conversation=conversation)
        return Response(ConversationMessagesSerializer.render({"messages": messages}))
