"""Reads of bots and conversations, always scoped to the owning service (contract 2)."""

from uuid import UUID

from django.db.models import QuerySet

from config.accounts.models import Service
from config.api.errors import NotFound
from config.api.ids import parse_id
from conversations.models import Bot, Conversation, Message


def bot_get_for_service(*, service: Service, bot_id: str | UUID) -> Bot:
    """The service's bot; another service's bot is a 404 exactly like an unknown one."""
    pk = parse_id(bot_id, what="bot")
    bot = Bot.objects.filter(pk=pk, service=service).first()
    if bot is None:
        raise NotFound(f"There is no bot {pk}.")
    return bot


def conversation_get_for_bot(*, bot: Bot, conversation_id: str | UUID) -> Conversation:
    pk = parse_id(conversation_id, what="conversation")
    conversation = Conversation.objects.filter(pk=pk, bot=bot).first()
    if conversation is None:
        raise NotFound(f"There is no conversation {pk}.")
    return conversation


def conversation_get_for_service(
    *, service: Service, bot_id: str | UUID, conversation_id: str | UUID
) -> Conversation:
    """One query: the conversation of the service's bot, or a 404 for anything else."""
    bot_pk = parse_id(bot_id, what="bot")
    pk = parse_id(conversation_id, what="conversation")
    conversation = Conversation.objects.filter(pk=pk, bot_id=bot_pk, bot__service=service).first()
    if conversation is None:
        raise NotFound(f"There is no conversation {pk} for bot {bot_pk}.")
    return conversation


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """Oldest first."""
    return Message.objects.filter(conversation=conversation).order_by("created_at", "id")
