"""Reads of widget action executions (contract 2)."""

from uuid import UUID

from actions.models import ActionExecution
from config.accounts.models import Service
from config.api.errors import NotFound
from config.api.ids import parse_id
from config.db import Param, Prepared

# The result post is the widget's hot path: its lookup is compiled once.
_WITH_BOT = Prepared(lambda: ActionExecution.objects.select_related("bot").filter(pk=Param("pk")))


def execution_get_for_result(*, execution_id: str | UUID) -> ActionExecution:
    """Step 1 of the public result post: the row with its bot, in one query, or 404."""
    pk = parse_id(execution_id, what="execution")
    execution = _WITH_BOT.one(pk=pk)
    if execution is None:
        raise NotFound(f"There is no execution {pk}.")
    return execution


def execution_get_for_service(
    *, service: Service, bot_id: str | UUID, execution_id: str | UUID
) -> ActionExecution:
    """The execution of the service's bot; anything else is a 404 exactly like an unknown id."""
    bot_pk = parse_id(bot_id, what="bot")
    pk = parse_id(execution_id, what="execution")
    execution = ActionExecution.objects.filter(pk=pk, bot_id=bot_pk, bot__service=service).first()
    if execution is None:
        raise NotFound(f"There is no execution {pk} for bot {bot_pk}.")
    return execution
