"""The e-mail that tells a person a question waits for them (contract 9)."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from config.api.timestamps import utc_words
from config.outbound.emails import NewEmail, emails_enqueue
from notifications.models import Notification


def notification_email_body(*, notification: Notification, service_name: str) -> str:
    link = f"{settings.PUBLIC_BASE_URL}/inbox/{notification.pk}/"
    lines = [f"{service_name} asks you:", "", notification.title, ""]
    if notification.description:
        lines += [notification.description, ""]
    if notification.deadline is not None:
        lines.append(f"Answer by {utc_words(notification.deadline)}.")
    else:
        lines.append("There is no deadline.")
    lines += ["", f"Answer here: {link}", ""]
    return "\n".join(lines)


def notification_emails_queue(*, notification: Notification, recipients: Iterable[Any]) -> int:
    """Queue one e-mail per recipient who has an address; call it in the notification's transaction."""
    body = notification_email_body(notification=notification, service_name=notification.service.name)
    return emails_enqueue(
        emails=[
            NewEmail(to=person.email, subject=notification.title, body=body, about_id=notification.pk)
            for person in recipients
            if person.email
        ]
    )
