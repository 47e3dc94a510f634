"""Reads for triggered actions (contract 4): an action as its owner sees it, a stored trigger."""

from actions.error_types import ActionNotFound
from actions.models import Action, ActionTrigger
from config.accounts.models import Service
from config.db import Param, Prepared

# Every trigger reads its action first: compiled once.
_OF_SERVICE = Prepared(
    lambda: Action.objects.filter(service_id=Param("service_id"), action_id=Param("action_id"))
)


def action_get_for_service(*, service: Service, action_id: str) -> Action:
    """The service's action; another service's action does not exist for it."""
    action = _OF_SERVICE.one(service_id=service.pk, action_id=action_id)
    if action is None:
        raise ActionNotFound(f"There is no action {action_id!r}.")
    return action


def trigger_get_by_idempotency_key(*, service: Service, idempotency_key: str) -> ActionTrigger | None:
    return ActionTrigger.objects.filter(service=service, idempotency_key=idempotency_key).first()
