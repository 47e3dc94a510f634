"""Demo notifications for `make run`: a few questions waiting for alex, one already answered; one
for alex and sam both, one answered by its default outcome a few minutes after start, and one
that escalates to sam after a minute (contract 7)."""

import json
import shlex
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from config.api.timestamps import rfc3339
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
SHARED: dict[str, Any] = {
    "title": "Which supplier gets the Q1 coffee order?",
    "metadata": {"demo": True, "order": "Q1-coffee"},
    "actions": [
        {
            "id": "supplier",
            "label": "Supplier",
            "response_type": "choice",
            "options": [
                {"value": "beanhouse", "label": "Beanhouse"},
                {"value": "roastery", "label": "Roastery"},
            ],
        }
    ],
}
DEFAULTS: dict[str, Any] = {
    "title": "Publish the release notes? (publishes by default at the deadline)",
    "metadata": {"demo": True, "release": "2.4"},
    "actions": [{"id": "publish", "label": "Publish", "response_type": "binary"}],
    "on_deadline": {"action_id": "publish", "response_data": True},
}
DEFAULT_AFTER = timedelta(minutes=5)
ESCALATES: dict[str, Any] = {
    "title": "Approve the 2,400 EUR server upgrade? (goes to sam too after a minute)",
    "metadata": {"demo": True, "budget": "infra"},
    "actions": [{"id": "approve", "label": "Approve", "response_type": "binary"}],
}
ESCALATE_AFTER_SECONDS = 60
SECOND_PERSON = ("sam", "sam-demo-password")
ANSWERED: dict[str, Any] = {
    "title": "Send the weekly summary to the team now?",
    "metadata": {"demo": True, "report": "weekly"},
    "actions": [{"id": "send", "label": "Send it", "response_type": "binary"}],
}


def _open_or_new(
    *,
    service: Any,
    people: list[Any],
    spec: dict[str, Any],
    deadline_in: timedelta | None = None,
    **extra: Any,
) -> Notification:
    now = timezone.now()
    existing = Notification.objects.filter(
        open_at(now), service=service, recipient=people[0], title=spec["title"]
    )
    found = existing.first()
    if found is not None:
        return found
    deadline = now + deadline_in if deadline_in else None
    return notification_create(service=service, recipients=people, deadline=deadline, **spec, **extra)


def _second_person() -> Any:
    username, password = SECOND_PERSON
    person = get_user_model().objects.filter(username=username).first()
    if person is None:
        person = get_user_model().objects.create_user(username=username, password=password)
    return person


def seed(context: dict[str, Any]) -> list[str]:
    service, person = context["service"], context["person"]
    approval = _open_or_new(service=service, people=[person], spec=APPROVAL, deadline_in=timedelta(hours=72))
    _open_or_new(service=service, people=[person], spec=PLAN)
    _open_or_new(service=service, people=[person], spec=RATING)
    sam = _second_person()
    _open_or_new(service=service, people=[person, sam], spec=SHARED)
    defaults = _open_or_new(service=service, people=[person], spec=DEFAULTS, deadline_in=DEFAULT_AFTER)
    escalates = _open_or_new(
        service=service,
        people=[person],
        spec=ESCALATES,
        escalate={"after_seconds": ESCALATE_AFTER_SECONDS, "recipients": [sam.get_username()]},
    )
    answered = Notification.objects.filter(
        service=service, recipient=person, title=ANSWERED["title"], status=NotificationStatus.RESPONDED
    ).exists()
    if not answered:
        done = notification_create(service=service, recipients=[person], **ANSWERED)
        notification_respond(notification=done, responder=person, action_id="send", response_data=True)

    base, token = context["base_url"], context["user_token"]
    answer = json.dumps({"notification_id": str(approval.pk), "action_id": "approve", "response_data": True})
    auth = shlex.quote(f"Authorization: Bearer {token}")
    service_auth = shlex.quote(f"Authorization: Bearer {context['service_key']}")
    return [
        f"Notifications: {person.get_username()} has questions waiting from {service.name}; "
        "one is already answered (admin: Notifications).",
        f"  list them:  curl -s -H {auth} '{base}/api/v1/client/notifications?status=pending'",
        f"  answer one: curl -s -X POST -H {auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(answer)} {base}/api/v1/client/respond",
        f"  for {person.get_username()} and {sam.get_username()} (password {SECOND_PERSON[1]}): "
        f"{SHARED['title']!r}: whoever answers first decides, the other meets 409.",
        f"  default outcome: {DEFAULTS['title']!r} reads as responded (responder null, defaulted true) "
        f"from {rfc3339(defaults.deadline) if defaults.deadline else 'its deadline'} on; "
        "run `manage.py expire_notifications` after that to record it and queue its webhook:",
        f"    curl -s -H {service_auth} {base}/api/v1/notifications/{defaults.pk}",
        f"  escalation: {ESCALATES['title']!r} adds {sam.get_username()} one minute after it was made; "
        "`manage.py expire_notifications` then prints `1 notifications escalated` and the notification's "
        "`recipients` and `escalated_at` show it:",
        f"    curl -s -H {service_auth} {base}/api/v1/notifications/{escalates.pk}",
    ]
