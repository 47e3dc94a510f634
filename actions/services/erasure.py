"""Erasure of a visitor on request, and the retention of executions (contract 8).

Erasure deletes (does not mask) a visitor's executions, conversations and the conversations'
messages, all in one transaction, and records that it happened without keeping the id: the record
holds an HMAC of it (`visitor_digest`), so an auditor who holds an id can find the record and the
table alone names nobody.
"""

import hmac
from dataclasses import asdict, dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from actions.models import ActionExecution, ErasureSource, VisitorErasure
from config.accounts.models import Service
from config.progress import OnProgress
from config.purge import purge_in_batches
from conversations.models import Bot, Conversation, Message

# The named derivation of the digest key from SECRET_KEY (Django's salted_hmac: the key is
# SHA-256 of this salt and the secret), used unless ERASURE_DIGEST_KEY is set.
DIGEST_KEY_SALT = "loopback.actions.visitor-erasure-digest"


@dataclass(frozen=True)
class ErasureCounts:
    executions: int
    conversations: int
    messages: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def visitor_digest(visitor_id: str, *, secret: str | bytes | None = None) -> str:
    """The keyed digest an erasure record keeps instead of the visitor id (64 hex characters)."""
    if settings.ERASURE_DIGEST_KEY:
        return hmac.new(settings.ERASURE_DIGEST_KEY.encode(), visitor_id.encode(), sha256).hexdigest()
    return salted_hmac(DIGEST_KEY_SALT, visitor_id, secret=secret, algorithm="sha256").hexdigest()


def visitor_digests(visitor_id: str) -> list[str]:
    """Every digest a record of this id may carry: under the current key and, without
    ERASURE_DIGEST_KEY, under each of SECRET_KEY_FALLBACKS (records made before a rotation)."""
    digests = [visitor_digest(visitor_id)]
    if not settings.ERASURE_DIGEST_KEY:
        digests += [visitor_digest(visitor_id, secret=old) for old in settings.SECRET_KEY_FALLBACKS]
    return digests


def _conversation_ids(*, bot: Bot, visitor_id: str, lock: bool = False) -> list[UUID]:
    conversations = Conversation.objects.filter(bot=bot, visitor_id=visitor_id).order_by()
    if lock:
        conversations = conversations.select_for_update()
    return list(conversations.values_list("pk", flat=True))


def _held(
    *, conversation_ids: list[UUID], bot: Bot, visitor_id: str
) -> tuple[QuerySet[ActionExecution], QuerySet[Conversation], QuerySet[Message]]:
    # A visitor's executions are in their own conversations (execution_create sees to it); the
    # second half is what the conversations' deletion would otherwise trip over. The ids are a
    # list, not a subquery, so each half is an index lookup (an OR with a subquery scans).
    executions = ActionExecution.objects.filter(
        Q(bot=bot, visitor_id=visitor_id) | Q(conversation_id__in=conversation_ids)
    )
    conversations = Conversation.objects.filter(pk__in=conversation_ids)
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    return executions, conversations, messages


def visitor_held(*, bot: Bot, visitor_id: str) -> ErasureCounts:
    """What an erasure of this visitor would delete now (a dry run)."""
    conversation_ids = _conversation_ids(bot=bot, visitor_id=visitor_id)
    executions, conversations, messages = _held(
        conversation_ids=conversation_ids, bot=bot, visitor_id=visitor_id
    )
    return ErasureCounts(
        executions=executions.count(), conversations=conversations.count(), messages=messages.count()
    )


@transaction.atomic
def visitor_erase(
    *,
    bot: Bot,
    visitor_id: str,
    source: ErasureSource,
    service: Service | None = None,
    staff_user: User | None = None,
) -> tuple[ErasureCounts, VisitorErasure]:
    """Delete everything held about one visitor of one bot and record the erasure.

    Idempotent: a second call deletes nothing and answers zeros (and is recorded too). The
    executions go first: a result post racing the erasure locks its execution before anything
    else, so it either finishes first (and its message is deleted with the rest) or finds nothing.
    Then the conversations are locked, so nothing new can be attached to them before they go.
    Every statement is an index lookup, whatever the size of the tables.
    """
    erased_executions = _deleted(ActionExecution.objects.filter(bot=bot, visitor_id=visitor_id))
    conversation_ids = _conversation_ids(bot=bot, visitor_id=visitor_id, lock=True)
    executions, conversations, messages = _held(
        conversation_ids=conversation_ids, bot=bot, visitor_id=visitor_id
    )
    counts = ErasureCounts(
        executions=erased_executions + _deleted(executions),
        messages=_deleted(messages),
        conversations=_deleted(conversations),
    )
    record = VisitorErasure.objects.create(
        bot=bot,
        visitor_digest=visitor_digest(visitor_id),
        source=source,
        service=service,
        staff_user=staff_user,
        **counts.as_dict(),
    )
    return counts, record


def _deleted(rows: QuerySet[Any]) -> int:
    """Delete the rows; how many of the queryset's own model went (cascades not counted)."""
    return rows.delete()[1].get(rows.model._meta.label, 0)


def executions_purge(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    batch_size: int = 1000,
    on_progress: OnProgress | None = None,
) -> int:
    """Delete the executions completed (or expired) more than `older_than` ago; how many (or
    would be). Their conversations and messages stay: a conversation outlives its actions."""
    finished = ActionExecution.objects.filter(
        completed_at__isnull=False, completed_at__lt=timezone.now() - older_than
    ).order_by("completed_at")
    if dry_run:
        return finished.count()

    def purge(ids: list[UUID]) -> int:
        return _deleted(ActionExecution.objects.filter(pk__in=ids))

    return purge_in_batches(finished, purge, batch_size=batch_size, on_progress=on_progress)
