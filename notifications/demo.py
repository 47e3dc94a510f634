"""Demo notifications for `make run`: a few questions waiting for alex, one already answered."""

import json
import shlex
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, NotificationStatus, open_at
from notifications.services import notification_create, notification_respond

APPROVAL: dict[str, Any] = {
    "title": "Approve the refund for order 1042?",
    "description": "The customer returned the blender unopened; the refund is 89.00 EUR.",
    "metadata": {"demo": True, "order": 1042},
    "actions": [
        {
            "id": "approve",
            "label": "Approve the refund",
            "response_type": "binary",
            "options": {"true_label": "Approve", "false_label": "Reject"},
        },
        {"id": "comment", "label": "Add a note", "response_type": "text", "constraints": {"max_length": 500}},
    ],
}
PLAN: dict[str, Any] = {
    "title": "Which plan should we offer Dana?",
    "metadata": {"demo": True, "lead": "dana"},
    "actions": [
        {
            "id": "plan",
            "label": "Plan",
            "response_type": "choice",
            "options": [
                {"value": "starter", "label": "Starter"},
                {"value": "team", "label": "Team"},
                {"value": "enterprise", "label": "Enterprise"},
            ],
        }
    ],
}
RATING: dict[str, Any] = {
    "title": "How helpful was the assistant today?",
    "metadata": {"demo": True, "survey": "daily"},
    "actions": [
        {
            "id": "rating",
            "label": "Rating",
            "response_type": "scale",
            "constraints": {"min": 1, "max": 5, "labels": {"1": "Not at all", "5": "Very"}},
        }
    ],
}
ANSWERED: dict[str, Any] = {
    "title": "Send the weekly summary to the team now?",
    "metadata": {"demo": True, "report": "weekly"},
    "actions": [{"id": "send", "label": "Send it", "response_type": "binary"}],
}


def _open_or_new(
    *, service: Any, person: Any, spec: dict[str, Any], hours: int | None = None
) -> Notification:
    now = timezone.now()
    existing = Notification.objects.filter(
        open_at(now), service=service, recipient=person, title=spec["title"]
    )
    found = existing.first()
    if found is not None:
        return found
    deadline = now + timedelta(hours=hours) if hours else None
    return notification_create(service=service, recipient=person, deadline=deadline, **spec)


def seed(context: dict[str, Any]) -> list[str]:
    service, person = context["service"], context["person"]
    approval = _open_or_new(service=service, person=person, spec=APPROVAL, hours=72)
    _open_or_new(service=service, person=person, spec=PLAN)
    _open_or_new(service=service, person=person, spec=RATING)
    answered = Notification.objects.filter(
        service=service, recipient=person, title=ANSWERED["title"], status=NotificationStatus.RESPONDED
    ).exists()
    if not answered:
        done = notification_create(service=service, recipient=person, **ANSWERED)
        notification_respond(notification=done, responder=person, action_id="send", response_data=True)

    base, token = context["base_url"], context["user_token"]
    answer = json.dumps({"notification_id": str(approval.pk), "action_id": "approve", "response_data": True})
    auth = shlex.quote(f"Authorization: Bearer {token}")
    return [
        f"Notifications: {person.get_username()} has questions waiting from {service.name}; "
        "one is already answered (admin: Notifications).",
        f"  list them:  curl -s -H {auth} '{base}/api/v1/client/notifications?status=pending'",
        f"  answer one: curl -s -X POST -H {auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(answer)} {base}/api/v1/client/respond",
        f"  then see its answer and webhook delivery: "
        f"{base}{reverse('admin:notifications_notification_change', args=[approval.pk])}",
    ]
