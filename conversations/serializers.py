"""The widget family's bodies for bots and messages (contract 2): rendering and schema alike."""

from rest_framework import serializers

from config.api.fields import Rfc3339Field
from config.api.serializers import OutputSerializer
from conversations.models import Message


class BotSerializer(OutputSerializer):
    botId = serializers.UUIDField(source="id")
    name = serializers.CharField()
    allowedTargets = serializers.ListField(child=serializers.CharField(), source="allowed_targets")


class MessageSerializer(OutputSerializer):
    id = serializers.UUIDField()
    role = serializers.ChoiceField(choices=Message.Role.choices)
    content = serializers.CharField()
    createdAt = Rfc3339Field(source="created_at")


class ConversationMessagesSerializer(OutputSerializer):
    messages = MessageSerializer(many=True)
