"""Demo notifications for `make run`: questions of every response type waiting for alex (in the
API and in the inbox at /inbox/), two already answered, and the delivery log of their webhooks
(one the worker delivers, one that failed); one for alex and sam both, one answered by its
default outcome a few minutes after start, and one that escalates to sam after a minute
(contract 7)."""

import json
import shlex
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from config.api.timestamps import rfc3339
from config.outbound.models import DeliveryAttempt, WebhookEvent
from notifications.models import Notification, NotificationStatus, open_at
from notifications.services import RESPONDED_EVENT, notification_create, notification_respond

APPROVAL: dict[str, Any] = {
    "title": "Approve the refund for order 1042?",
    "description": "The customer returned the blender unopened; the refund is 89.00 EUR.",
    "metadata": {"demo": True, "order": 1042},
    # Two answers, each with its own optional note: the one answer a notification takes is the
    # decision and why, together (a separate "note" action would close it with no decision).
    "actions": [
        {
            "id": "approve",
            "label": "Approve the refund (a note for the customer, optional)",
            "response_type": "text",
            "constraints": {"max_length": 500},
        },
        {
            "id": "reject",
            "label": "Reject the refund (the reason, optional)",
            "response_type": "text",
            "constraints": {"max_length": 500},
        },
    ],
}
APPROVAL_NOTE = "Approved: returned unopened, refund 89.00 EUR."
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
OUTAGE: dict[str, Any] = {
    "title": "Acknowledge the overnight outage report",
    "description": "The checkout was down from 02:10 to 02:25 UTC.\nNo orders were lost; 14 people retried.",
    "metadata": {"demo": True, "incident": "INC-7"},
    "actions": [{"id": "ack", "label": "I have read it", "response_type": "simple"}],
}
CHANNELS: dict[str, Any] = {
    "title": "Where should the spring campaign run?",
    "metadata": {"demo": True, "campaign": "spring"},
    "actions": [
        {
            "id": "channels",
            "label": "Channels",
            "response_type": "multi_choice",
            "options": [
                {"value": "email", "label": "E-mail newsletter"},
                {"value": "social", "label": "Social media"},
                {"value": "search", "label": "Search ads"},
                {"value": "print", "label": "Print"},
            ],
            "constraints": {"min_selections": 1, "max_selections": 2},
        }
    ],
}
DISCOUNT: dict[str, Any] = {
    "title": "What discount may the assistant offer Jordan?",
    "description": "Jordan asks for a discount on a 3-year plan. List price: 4,800 EUR.",
    "metadata": {"demo": True, "lead": "jordan"},
    "actions": [
        {
            "id": "discount",
            "label": "Discount in percent",
            "response_type": "numeric",
            "constraints": {"min": 0, "max": 30, "decimal_places": 1},
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
ANSWERED_UNDELIVERED: dict[str, Any] = {
    "title": "Ship a replacement kettle for order 1037?",
    "metadata": {"demo": True, "order": 1037},
    "actions": [{"id": "ship", "label": "Ship it", "response_type": "binary"}],
}
# (seconds after the answer, HTTP status or None, error) of each demo attempt.
Attempt = tuple[int, int | None, str]
NEVER_DELIVERED: list[Attempt] = [
    (0, None, "ConnectionError: could not complete the request"),
    (5, None, "ConnectionError: could not complete the request"),
    (305, 500, "answered 500"),
]


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
    _open_or_new(service=service, people=[person], spec=OUTAGE, deadline_in=timedelta(hours=1))
    _open_or_new(service=service, people=[person], spec=CHANNELS, deadline_in=timedelta(hours=24))
    _open_or_new(service=service, people=[person], spec=DISCOUNT, deadline_in=timedelta(hours=6))
    # Its webhook is left to the worker, which delivers it to the demo receiver as `make run` starts.
    _answered(service=service, person=person, spec=ANSWERED, attempts=[])
    _answered(service=service, person=person, spec=ANSWERED_UNDELIVERED, attempts=NEVER_DELIVERED)

    base, token = context["base_url"], context["user_token"]
    answer = json.dumps(
        {"notification_id": str(approval.pk), "action_id": "approve", "response_data": APPROVAL_NOTE}
    )
    auth = shlex.quote(f"Authorization: Bearer {token}")
    service_auth = shlex.quote(f"Authorization: Bearer {context['service_key']}")
    replay = json.dumps({"status": "failed", "since": "2000-01-01T00:00:00Z"})
    return [
        f"Notifications: {person.get_username()} has questions of every response type waiting from "
        f"{service.name}; two are already answered (admin: Notifications).",
        f"  answer them in the inbox: {base}/inbox/  (log in as {person.get_username()}, "
        "the password printed above; their e-mails are printed above too)",
        f"  list them:  curl -s -H {auth} '{base}/api/v1/client/notifications?status=pending'",
        f"  answer one: curl -s -X POST -H {auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(answer)} {base}/api/v1/client/respond",
        f"  then see its answer and webhook delivery: "
        f"{base}{reverse('admin:notifications_notification_change', args=[approval.pk])}",
        f"  for {person.get_username()} and {sam.get_username()} (password {SECOND_PERSON[1]}): "
        f"{SHARED['title']!r}: whoever answers first decides, the other meets 409.",
        f"  default outcome: {DEFAULTS['title']!r} reads as responded (responder null, defaulted true) "
        f"from {rfc3339(defaults.deadline) if defaults.deadline else 'its deadline'} on; "
        "the scheduler's expire_notifications records it within a minute after (the receiver then "
        "prints its notification.responded):",
        f"    curl -s -H {service_auth} {base}/api/v1/notifications/{defaults.pk}",
        f"  escalation: {ESCALATES['title']!r} adds {sam.get_username()} one minute after it was made; "
        "the scheduler then prints `1 notifications escalated`, the receiver its notification.escalated, "
        "and the notification's `recipients` and `escalated_at` show it:",
        f"    curl -s -H {service_auth} {base}/api/v1/notifications/{escalates.pk}",
        f"Delivery log of {service.name}'s webhooks: one the worker delivers, one failed.",
        f"  read it:    curl -s -H {service_auth} '{base}/api/v1/webhook-events?status=failed'",
        f"  replay:     curl -s -X POST -H {service_auth} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(replay)} {base}/api/v1/webhook-events/replay",
    ]


def _answered(
    *, service: Any, person: Any, spec: dict[str, Any], attempts: list[tuple[int, int | None, str]]
) -> None:
    """An answered notification whose webhook has the delivery log `attempts` (the last one
    decides: a 2xx delivered it, anything else left it failed); without attempts it waits for the
    worker, as a real answer's does."""
    exists = Notification.objects.filter(
        service=service, recipient=person, title=spec["title"], status=NotificationStatus.RESPONDED
    ).exists()
    if exists:
        return
    notification = notification_create(service=service, recipients=[person], **spec)
    action_id = spec["actions"][0]["id"]
    notification_respond(notification=notification, responder=person, action_id=action_id, response_data=True)
    if not attempts:
        return
    event = WebhookEvent.objects.get(subject_id=notification.pk, event_type=RESPONDED_EVENT)
    for seconds, status_code, error in attempts:
        DeliveryAttempt.objects.create(
            event=event,
            started_at=event.created_at + timedelta(seconds=seconds),
            duration_ms=35,
            status_code=status_code,
            error=error,
        )
    _, last_status, last_error = attempts[-1]
    delivered = last_status is not None and 200 <= last_status < 300
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.DELIVERED if delivered else WebhookEvent.Status.FAILED,
        delivered_at=event.created_at + timedelta(seconds=attempts[-1][0]) if delivered else None,
        attempt_count=len(attempts),
        attempts_since_queued=len(attempts),
        last_error=last_error,
    )
