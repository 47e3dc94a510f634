"""Writes of bots, conversations and messages (contract 2)."""

from uuid import UUID

from config.accounts.models import Service
from conversations.allowlist import validate_patterns
from conversations.models import Bot, Conversation, Message


def bot_create(*, service: Service, name: str, allowed_targets: list[str]) -> Bot:
    return Bot.objects.create(service=service, name=name, allowed_targets=validate_patterns(allowed_targets))


def bot_set_allowlist(*, bot: Bot, allowed_targets: list[str]) -> Bot:
    """Replace the allowlist; InvalidUrl (quoting the bad pattern) leaves it as it was."""
    bot.allowed_targets = validate_patterns(allowed_targets)
    bot.save(update_fields=["allowed_targets", "updated_at"])
    return bot


def conversation_start(*, bot: Bot, visitor_id: str) -> Conversation:
    return Conversation.objects.create(bot=bot, visitor_id=visitor_id)


def message_append(*, conversation_id: UUID, role: str, content: str) -> Message:
    return Message.objects.create(conversation_id=conversation_id, role=role, content=content)
