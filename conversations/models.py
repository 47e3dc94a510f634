import uuid

from django.db import models
from django.db.models import F, Q

from config.accounts.models import Service


class Bot(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="bots")
    name = models.CharField(max_length=200)
    # Patterns as conversations.allowlist parses them; validated on every save path.
    allowed_targets = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["service", "name"], name="bot_service_name"),
            # The admin's bot filter looks a bot up by its exact name, across services.
            models.Index(fields=["name"], name="bot_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="conversations")
    visitor_id = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["bot", "visitor_id"], name="conversation_bot_visitor"),
            # The admin: newest first, and search by visitor.
            models.Index(F("created_at").desc(), name="conversation_recent"),
            models.Index(fields=["visitor_id"], name="conversation_visitor"),
        ]

    def __str__(self) -> str:
        return f"{self.bot} · {self.visitor_id}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: message_conversation_time starts with it (every result post inserts a row).
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_conversation_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["user", "assistant", "system"]), name="message_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"
