"""Reads for triggered actions (contract 4): an action as its owner sees it, a trigger's result."""

from typing import Any

from actions.error_types import ActionNotFound
from actions.models import Action, ActionTrigger
from config.accounts.models import Service
from config.api.timestamps import rfc3339


def action_get_for_service(*, service: Service, action_id: str) -> Action:
    """The service's action; another service's action does not exist for it."""
    try:
        return Action.objects.get(service=service, action_id=action_id)
    except Action.DoesNotExist:
        raise ActionNotFound(f"There is no action {action_id!r}.") from None


def action_as_dict(*, action: Action) -> dict[str, Any]:
    return {
        "action_id": action.action_id,
        "action_version": str(action.version),
        "target_url": action.target_url,
        "fire_on": str(action.fire_on),
        "timeout_ms": action.timeout_ms,
        "description": action.description,
        "created_at": rfc3339(action.created_at),
        "updated_at": rfc3339(action.updated_at),
    }


def trigger_as_result(*, action: Action, trigger: ActionTrigger) -> dict[str, Any]:
    """The ActionResult a trigger answered, rebuilt alike for the first answer and every replay."""
    return {
        "action_id": action.action_id,
        "action_version": str(trigger.action_version),
        "status": str(trigger.status),
        "payload_sent": trigger.payload_sent,
        "error": trigger.error,
    }


def trigger_get_by_idempotency_key(*, service: Service, idempotency_key: str) -> ActionTrigger | None:
    return ActionTrigger.objects.filter(service=service, idempotency_key=idempotency_key).first()
