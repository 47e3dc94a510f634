"""Widget family (`/v1`): bots and their allowlists, conversations' messages (contract 2)."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import InvalidRequest
from config.api.schema import WIDGET_UNAUTHENTICATED
from config.api.serializers import InputSerializer
from config.api.timestamps import rfc3339
from config.api.views import ServiceApiView
from conversations.allowlist import InvalidUrl
from conversations.models import Bot, Message
from conversations.selectors import bot_get_for_service, conversation_get_for_service, conversation_messages
from conversations.services import bot_set_allowlist


def bot_body(bot: Bot) -> dict[str, Any]:
    return {"botId": str(bot.id), "name": bot.name, "allowedTargets": list(bot.allowed_targets)}


def message_body(message: Message) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "role": message.role,
        "content": message.content,
        "createdAt": rfc3339(message.created_at),
    }


_BOT = inline_serializer(
    "Bot",
    {
        "botId": serializers.UUIDField(),
        "name": serializers.CharField(),
        "allowedTargets": serializers.ListField(child=serializers.CharField()),
    },
)


class BotApi(ServiceApiView):
    @extend_schema_serializer(component_name="BotAllowlist")
    class PatchSerializer(InputSerializer):
        # The list's items are checked by the allowlist itself, whose message quotes the pattern.
        allowedTargets = serializers.JSONField()

    @extend_schema(
        responses={200: _BOT, 401: WIDGET_UNAUTHENTICATED, 404: OpenApiResponse(description="NOT_FOUND")}
    )
    def get(self, request: Request, bot_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)
        return Response(bot_body(bot))

    @extend_schema(
        request=PatchSerializer,
        responses={
            200: _BOT,
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
        return Response(bot_body(bot))


class ConversationMessagesApi(ServiceApiView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "ConversationMessages",
                {
                    "messages": inline_serializer(
                        "Message",
                        {
                            "id": serializers.UUIDField(),
                            "role": serializers.ChoiceField(choices=Message.Role.choices),
                            "content": serializers.CharField(),
                            "createdAt": serializers.DateTimeField(),
                        },
                        many=True,
                    )
                },
            ),
            401: WIDGET_UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND"),
        }
    )
    def get(self, request: Request, bot_id: str, conversation_id: str) -> Response:
        conversation = conversation_get_for_service(
            service=self.service(request), bot_id=bot_id, conversation_id=conversation_id
        )
        messages = conversation_messages(conversation=conversation)
        return Response({"messages": [message_body(message) for message in messages]})
