"""Reads for triggered actions (contract 4): an action as its owner sees it, a stored trigger."""

from actions.error_types import ActionNotFound
from actions.models import Action, ActionTrigger
from config.accounts.models import Service


def action_get_for_service(*, service: Service, action_id: str) -> Action:
    """The service's action; another service's action does not exist for it."""
    try:
        return Action.objects.get(service=service, action_id=action_id)
    except Action.DoesNotExist:
        raise ActionNotFound(f"There is no action {action_id!r}.") from None


def trigger_get_by_idempotency_key(*, service: Service, idempotency_key: str) -> ActionTrigger | None:
    return ActionTrigger.objects.filter(service=service, idempotency_key=idempotency_key).first()
