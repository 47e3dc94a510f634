"""The notification as the API shows it (to its service and to its recipient alike)."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from config.api.timestamps import rfc3339
from notifications.models import Notification


def responder_render(responder: User | None) -> dict[str, Any] | None:
    if responder is None:
        return None
    return {"id": responder.pk, "username": responder.get_username()}


def notification_render(notification: Notification, *, now: datetime) -> dict[str, Any]:
    response = None
    if notification.responded_at is not None:
        response = {
            "action_id": notification.response_action_id,
            "response_data": notification.response_data,
            "responded_at": rfc3339(notification.responded_at),
            "responder": responder_render(notification.responder),
        }
    return {
        "notification_id": str(notification.pk),
        "status": notification.status_at(now),
        "recipient": notification.recipient.get_username(),
        "title": notification.title,
        "description": notification.description,
        "deadline": rfc3339(notification.deadline),
        "metadata": notification.metadata,
        "actions": notification.actions,
        "created_at": rfc3339(notification.created_at),
        "response": response,
    }
