"""Writes of widget action executions: proposal, the visitor's result, expiry (contract 2).

Each terminal state is reached once: every write that ends a row is a conditional UPDATE on
`result IS NULL`, so of concurrent result posts and expiry runs exactly one wins, and the clear
params are replaced by their masked form in that same statement.
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, JSONField, Value, When
from django.utils import timezone

from actions.errors import AlreadyCompleted, ForbiddenTarget
from actions.masking import mask_params
from actions.models import MASKED_KINDS, ActionExecution, ExecutionResult
from config.api.errors import InvalidRequest, NotFound
from config.api.ratelimit import rate_limit_check
from config.db import Param, Prepared, update_then_insert
from config.progress import OnProgress
from conversations.allowlist import InvalidUrl, parse_target, target_allowed
from conversations.models import Bot, Message
from conversations.selectors import conversation_get_for_bot
from conversations.services import conversation_start

RESULT_POST_RATE = "5/h"
RESULT_POST_RATE_GROUP = "widget-action-result"

# What the assistant says once the visitor's browser has answered; only the label (written by
# the service when it proposed the action) is quoted, never anything from the result post.
FOLLOW_UP = {
    ExecutionResult.SUCCESS: "{label} — done.",
    ExecutionResult.FAILURE: "{label} — failed.",
    ExecutionResult.CANCELLED: "{label} — cancelled.",
}

# The contactMetadata keys of the wire and the columns that keep them.
CONTACT_METADATA_COLUMNS = {
    "deliveryStatus": "delivery_status",
    "deliveryMethod": "delivery_method",
    "signalSource": "signal_source",
    "networkStatus": "network_status",
    "submitToSignalMs": "submit_to_signal_ms",
}


def execution_create(
    *,
    bot: Bot,
    visitor_id: str,
    kind: str,
    label: str,
    target_url: str,
    params: dict[str, Any] | None = None,
    conversation_id: UUID | str | None = None,
) -> ActionExecution:
    """Record a proposal: 400 for a target that is not an absolute http(s) URL, 404 for a
    conversation that is not the bot's, 403 for a target with userinfo or off the allowlist."""
    try:
        target = parse_target(target_url)
    except InvalidUrl as exc:
        raise InvalidRequest(f"targetUrl must be an absolute http(s) URL: {exc}.") from None
    try:
        with transaction.atomic():
            if conversation_id is None:
                conversation = None
            else:
                conversation = conversation_get_for_bot(bot=bot, conversation_id=conversation_id)
                if conversation.visitor_id != visitor_id:
                    raise InvalidRequest("conversationId belongs to another visitor than visitorId.")
            if target.has_userinfo:
                raise ForbiddenTarget("targetUrl may not carry a user name or password.")
            if not target_allowed(target_url=target_url, patterns=bot.allowed_targets):
                raise ForbiddenTarget()
            if conversation is None:
                conversation = conversation_start(bot=bot, visitor_id=visitor_id)
            return ActionExecution.objects.create(
                bot=bot,
                conversation=conversation,
                visitor_id=visitor_id,
                kind=kind,
                label=label,
                target_url=target_url,
                params=params or {},
            )
    except IntegrityError:
        # The foreign keys are checked at commit (deferred, on PostgreSQL): a conversation erased
        # (visitor_erase) between its lookup above and this commit fails the execution's. It is
        # gone now, so the proposal gets the 404 of an unknown conversation, as it would a moment
        # later; no lock on the hot path for this rare race.
        if conversation_id is not None:
            conversation_get_for_bot(bot=bot, conversation_id=conversation_id)
        raise


def result_post_rate_limit_check(*, execution: ActionExecution) -> None:
    """Count this result post against its (bot, visitor); 429 beyond the limit.

    The counter lives in the Django cache (Redis when REDIS_URL is set), so it holds across
    processes. Every post counts, whatever its fate after this step. Without Redis the post is
    recorded unlimited: a visitor's result is data, the counter is not.
    """
    rate = getattr(settings, "WIDGET_RESULT_POST_RATE", RESULT_POST_RATE)
    # The limit is keyed by the execution's bot and visitor, nothing from the HTTP request.
    rate_limit_check(
        group=RESULT_POST_RATE_GROUP,
        subject=f"{execution.bot_id}:{execution.visitor_id}",
        rate=rate,
        message=f"At most {rate} result posts for one visitor of a bot.",
        fail_open=True,
    )


# The row a result may still complete: the result post's conditional UPDATE, compiled once.
_PENDING = Prepared(lambda: ActionExecution.objects.filter(pk=Param("pk"), result__isnull=True))


def execution_record_result(
    *,
    execution: ActionExecution,
    result: str,
    error: str | None = None,
    contact_metadata: dict[str, Any] | None = None,
) -> ActionExecution:
    """Steps 4 to 6 of the public result post: 409 for a terminal row, 403 for a success whose
    target is off the bot's allowlist as it is now, else record it all at once.

    `execution` comes with its bot (`execution_get_for_result`). The conditional UPDATE and the
    follow-up message's INSERT are one statement on PostgreSQL (`update_then_insert`), so the
    whole post is two queries there (that SELECT and this write) and three elsewhere.
    """
    allowed = result != ExecutionResult.SUCCESS or target_allowed(
        target_url=execution.target_url, patterns=execution.bot.allowed_targets
    )
    now = timezone.now()
    changes: dict[str, Any] = {"result": result, "error": error, "completed_at": now}
    for key, column in CONTACT_METADATA_COLUMNS.items():
        changes[column] = (contact_metadata or {}).get(key)
    if execution.kind in MASKED_KINDS:
        # A pending row's params never change, so the masked form computed from the row as read
        # is the right one for the UPDATE below, which only applies while the row is pending.
        changes["params"] = mask_params(execution.params)
        changes["params_masked_at"] = now
    pending = ActionExecution.objects.filter(pk=execution.pk, result__isnull=True)
    if not allowed:
        # Nothing is written either way; the row as it is now tells which refusal comes first.
        if not pending.exists():
            raise AlreadyCompleted()
        raise ForbiddenTarget("The target URL is no longer on the bot's allowlist; nothing was recorded.")
    follow_up = Message(
        conversation_id=execution.conversation_id,
        role=Message.Role.ASSISTANT,
        content=FOLLOW_UP[ExecutionResult(result)].format(label=execution.label),
    )
    if not update_then_insert(rows=_PENDING, where={"pk": execution.pk}, changes=changes, new=follow_up):
        # Lost the row: to another post (terminal now), or to an erasure of the visitor meanwhile.
        if not ActionExecution.objects.filter(pk=execution.pk).exists():
            raise NotFound(f"There is no execution {execution.pk}.")
        raise AlreadyCompleted()
    for field, value in changes.items():
        setattr(execution, field, value)
    return execution


def executions_expire(
    *,
    older_than: timedelta,
    dry_run: bool = False,
    batch_size: int = 500,
    on_progress: OnProgress | None = None,
) -> int:
    """Mark pending executions created more than `older_than` ago `expired`, masking the params
    of the personal-data kinds; the number of rows expired (or that would be).

    Works in batches of set-based UPDATEs, each conditional on the row still being pending, so a
    result post (or another run) racing it wins or loses a row cleanly.
    """
    cutoff = timezone.now() - older_than
    pending = ActionExecution.objects.filter(result__isnull=True, created_at__lt=cutoff)
    if dry_run:
        return pending.count()
    expired = 0
    while batch := list(pending.order_by("created_at").values_list("pk", "kind", "params")[:batch_size]):
        now = timezone.now()
        changes: dict[str, Any] = {"result": ExecutionResult.EXPIRED, "completed_at": now}
        masked = [
            When(pk=pk, then=Value(mask_params(params), output_field=JSONField()))
            for pk, kind, params in batch
            if kind in MASKED_KINDS
        ]
        if masked:
            changes["params"] = Case(*masked, default=F("params"), output_field=JSONField())
            changes["params_masked_at"] = Case(
                When(kind__in=MASKED_KINDS, then=Value(now)), default=F("params_masked_at")
            )
        done = ActionExecution.objects.filter(
            pk__in=[pk for pk, _kind, _params in batch], result__isnull=True
        ).update(**changes)
        expired += done
        if on_progress is not None:
            on_progress(done)
    return expired
