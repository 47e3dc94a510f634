"""Widget family (`/v1`): bots and their allowlists, conversations' messages (contract 2)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import InvalidRequest, NotFound
from config.api.families import WIDGET
from config.api.schema import WIDGET_UNAUTHENTICATED, error_response
from config.api.serializers import InputSerializer
from config.api.views import ServiceApiView
from conversations.allowlist import InvalidUrl
from conversations.selectors import bot_get_for_service, conversation_get_for_service, conversation_messages
from conversations.serializers import BotSerializer, ConversationMessagesSerializer
from conversations.services import bot_set_allowlist

BOT_ID = "6f1d3c2a-9b8e-4f7a-a1c2-d3e4f5a6b7c8"
BOT_EXAMPLE = OpenApiExample(
    "A bot",
    value={
        "botId": BOT_ID,
        "name": "Support bot",
        "allowedTargets": ["https://example.com/contact", "https://*.example.com"],
    },
    response_only=True,
)
BOT_PATH = OpenApiParameter("bot_id", str, OpenApiParameter.PATH, description="The bot's `botId`, a UUID.")
BOT_NOT_FOUND = error_response(
    WIDGET, "`NOT_FOUND`: no such bot, or another service's.", NotFound(f"There is no bot {BOT_ID}.")
)


class BotApi(ServiceApiView):
    @extend_schema_serializer(component_name="BotAllowlist")
    class PatchSerializer(InputSerializer):
        # The list's items are checked by the allowlist itself, whose message quotes the pattern.
        allowedTargets = serializers.JSONField()

    @extend_schema(
        summary="Read a bot and its allowlist",
        description="Your service (service key) reads one of its bots: its name and the target "
        "patterns its proposals may point to. Another service's bot is a 404, exactly as if it did "
        "not exist.",
        parameters=[BOT_PATH],
        responses={200: BotSerializer, 401: WIDGET_UNAUTHENTICATED, 404: BOT_NOT_FOUND},
        examples=[BOT_EXAMPLE],
    )
    def get(self, request: Request, bot_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)
        return Response(BotSerializer.render(bot))

    @extend_schema(
        summary="Replace a bot's allowlist",
        description="Your service (service key) replaces the whole allowlist of one of its bots "
        "and gets the bot back. Patterns: `https://example.com` (that origin, any path), "
        "`https://example.com/contact` (that origin, `/contact` and below, not `/contactus`), "
        "`https://*.example.com` (any subdomain, not the apex). A proposal's target is compared as "
        "a parsed URL (scheme, host, port), never as a string prefix. The new list applies at once, "
        "also to pending executions: a success posted for a target no longer allowed is refused.\n\n"
        "An invalid pattern is 400 `INVALID_REQUEST`, whose message quotes it; nothing is changed.",
        parameters=[BOT_PATH],
        request=PatchSerializer,
        responses={
            200: BotSerializer,
            400: error_response(
                WIDGET,
                "`INVALID_REQUEST`: `allowedTargets` is not a list of valid patterns; the message "
                "quotes the bad one.",
                InvalidRequest(
                    "invalid allowlist pattern 'ftp://example.com': the URL must start with http:// or https://"
                ),
            ),
            401: WIDGET_UNAUTHENTICATED,
            404: BOT_NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "Allow the contact page and every subdomain",
                value={"allowedTargets": ["https://example.com/contact", "https://*.example.com"]},
                request_only=True,
            ),
            BOT_EXAMPLE,
        ],
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
        summary="Read a conversation's messages",
        description="Your service (service key) reads the messages of one conversation of its bot, "
        "oldest first. A proposal without `conversationId` starts a new conversation; when the "
        "visitor's browser posts an execution's result, an assistant message `<label> — done.` (or "
        "`— failed.`, `— cancelled.`) is appended. No text from that post ever enters it.",
        parameters=[
            BOT_PATH,
            OpenApiParameter(
                "conversation_id",
                str,
                OpenApiParameter.PATH,
                description="The `conversationId` of a proposal, a UUID.",
            ),
        ],
        responses={
            200: ConversationMessagesSerializer,
            401: WIDGET_UNAUTHENTICATED,
            404: error_response(
                WIDGET,
                "`NOT_FOUND`: no such bot or conversation, another service's, or a conversation of "
                "another bot.",
                NotFound(f"There is no conversation 0b7e2c4d-1a3f-4e5d-9c8b-7a6f5e4d3c2b for bot {BOT_ID}."),
            ),
        },
        examples=[
            OpenApiExample(
                "A conversation",
                value={
                    "messages": [
                        {
                            "id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                            "role": "user",
                            "content": "Can someone call me back about my order?",
                            "createdAt": "2026-12-01T09:00:00Z",
                        },
                        {
                            "id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
                            "role": "assistant",
                            "content": "Request a call back — done.",
                            "createdAt": "2026-12-01T09:01:30Z",
                        },
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, bot_id: str, conversation_id: str) -> Response:
        conversation = conversation_get_for_service(
            service=self.service(request), bot_id=bot_id, conversation_id=conversation_id
        )
        messages = conversation_messages(conversation=conversation)
        return Response(ConversationMessagesSerializer.render({"messages": messages}))
