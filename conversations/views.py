"""Widget family (`/v1`): bots and their allowlists, conversations' messages (contract 2).

Also the small pieces every widget view shares: strict JSON input fields, the 400 of a
serializer, and timestamps in RFC 3339 UTC with a `Z`.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.errors import InvalidRequest
from config.api.parsing import json_body
from config.api.serializers import InputSerializer
from config.api.timestamps import rfc3339
from config.api.views import ServiceApiView
from conversations.allowlist import InvalidUrl
from conversations.models import Bot, Message
from conversations.selectors import bot_get_for_service, conversation_get_for_service, conversation_messages
from conversations.services import bot_set_allowlist


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField would take 12 for "12")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """One of `choices`; the error lists them and never quotes the value sent, which may be markup
    (DRF's own message repeats it: `"<script>" is not a valid choice.`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["invalid_choice"] = f"must be one of {', '.join(map(str, self.choices))}."


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not a boolean, not a float such as 200.0, not a string."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _first_error(errors: Any, path: str = "") -> str:
    if isinstance(errors, dict):
        field, nested = next(iter(errors.items()))
        name = field if field != "non_field_errors" else ""
        return _first_error(nested, f"{path}.{name}" if path and name else path or name)
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        return _first_error(errors[0], path)
    message = str(errors[0]) if isinstance(errors, list) and errors else str(errors)
    return f"{path}: {message}" if path else message


class WidgetInputSerializer(InputSerializer):
    """Validates a request body's shape; unknown keys are dropped."""

    @classmethod
    def from_request(cls, request: Request) -> dict[str, Any]:
        """The validated body, or 400 INVALID_REQUEST naming the first field in error."""
        serializer = cls(data=json_body(request))
        if not serializer.is_valid():
            raise InvalidRequest(_first_error(serializer.errors))
        return dict(serializer.validated_data)


def bot_body(bot: Bot) -> dict[str, Any]:
    return {"botId": str(bot.id), "name": bot.name, "allowedTargets": list(bot.allowed_targets)}


def message_body(message: Message) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "role": message.role,
        "content": message.content,
        "createdAt": rfc3339(message.created_at),
    }


# Every widget route called with a service key answers 401 without a valid one (before anything else).
UNAUTHENTICATED = OpenApiResponse(description="UNAUTHENTICATED: no valid service key")

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
    class PatchSerializer(WidgetInputSerializer):
        # The list's items are checked by the allowlist itself, whose message quotes the pattern.
        allowedTargets = serializers.JSONField()

    @extend_schema(responses={200: _BOT, 401: UNAUTHENTICATED, 404: OpenApiResponse(description="NOT_FOUND")})
    def get(self, request: Request, bot_id: str) -> Response:
        bot = bot_get_for_service(service=self.service(request), bot_id=bot_id)
        return Response(bot_body(bot))

    @extend_schema(
        request=PatchSerializer,
        responses={
            200: _BOT,
            400: OpenApiResponse(description="INVALID_REQUEST: the message quotes the bad pattern"),
            401: UNAUTHENTICATED,
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
            401: UNAUTHENTICATED,
            404: OpenApiResponse(description="NOT_FOUND"),
        }
    )
    def get(self, request: Request, bot_id: str, conversation_id: str) -> Response:
        conversation = conversation_get_for_service(
            service=self.service(request), bot_id=bot_id, conversation_id=conversation_id
        )
        messages = conversation_messages(conversation=conversation)
        return Response({"messages": [message_body(message) for message in messages]})
