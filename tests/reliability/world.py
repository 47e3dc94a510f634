"""The data the attacks start from, made through the project's own services (as the API would)."""

import itertools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from actions.models import ActionExecution
from actions.services.executions import execution_create
from actions.services.triggers import action_put
from config.accounts.models import Service
from config.accounts.services import service_create, user_token_issue
from conversations.models import Bot
from conversations.services import bot_create
from notifications.models import Notification
from notifications.services import notification_create

_names = itertools.count()

APPROVE = {"id": "approve", "label": "Approve", "response_type": "binary"}

# Distinctive personal data: any trace of these in a table or a log line is a leak.
CLEAR_EMAIL = "zelda.quixote-4711@reliability.example"
CLEAR_PHONE = "+44 20 7946 0958"
CLEAR_NAME = "Zelda Quixote-Fairweather"
CLEAR_VALUES = (CLEAR_EMAIL, CLEAR_PHONE, CLEAR_NAME, "7946 0958", "zelda.quixote")


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@dataclass
class Tenant:
    """A service with its key, a bot allowing https://example.com, and a person with a token."""

    service: Service
    key: str
    bot: Bot
    person: Any
    token: str


def tenant(*, callback_url: str = "") -> Tenant:
    service, issued = service_create(name=unique("service"), callback_url=callback_url)
    bot = bot_create(service=service, name=unique("bot"), allowed_targets=["https://example.com"])
    person = get_user_model().objects.create_user(username=unique("person"), password="not-used-here-42")
    return Tenant(service, issued.secret, bot, person, user_token_issue(user=person).secret)


def execution(
    world: Tenant, *, visitor_id: str = "visitor-1", kind: str = "contact_form", params: dict | None = None
) -> ActionExecution:
    return execution_create(
        bot=world.bot,
        visitor_id=visitor_id,
        kind=kind,
        label="Send the contact form",
        target_url="https://example.com/contact",
        params=params if params is not None else {"email": CLEAR_EMAIL, "phone": CLEAR_PHONE},
    )


def notification(world: Tenant, *, actions: list[dict[str, Any]] | None = None) -> Notification:
    return notification_create(
        service=world.service,
        recipients=[world.person],
        title="Approve the refund?",
        actions=actions or [APPROVE],
        metadata={"ticket": "T-1"},
    )


def action(
    world: Tenant, *, action_id: str = "notify-crm", target_url: str = "https://example.com/hook"
) -> Any:
    found, _created = action_put(
        service=world.service, action_id=action_id, target_url=target_url, fire_on="always", timeout_ms=2000
    )
    return found


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
