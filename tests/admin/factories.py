"""Rows for the admin tests: executions in every state, and a world with every kind of row."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from actions.models import ActionExecution, ErasureSource, ExecutionKind, ExecutionResult, TriggerStatus
from actions.services.erasure import visitor_erase
from actions.services.executions import execution_record_result
from actions.services.triggers import action_put
from config.accounts.models import Service
from config.accounts.services import service_create, user_token_issue
from config.outbound.models import WebhookEvent
from config.outbound.services import webhook_enqueue
from conversations.models import Bot
from notifications.services import notification_create, notification_respond
from tests.actions.execution_factories import CONTACT_PARAMS, ExecutionFactory
from tests.actions.trigger_factories import ActionTriggerFactory
from tests.factories import (
    BotFactory,
    DeliveryAttemptFactory,
    EmailAttemptFactory,
    MessageFactory,
    OutboundEmailFactory,
    UserFactory,
)

CLEAR_EMAIL = CONTACT_PARAMS["email"]
CLEAR_PHONE = CONTACT_PARAMS["phone"]
CLEAR_NAME = CONTACT_PARAMS["name"]
# What no admin page may show, in any form that would give the value away.
CLEAR_VALUES = (CLEAR_EMAIL, "jane.doe", "555 123", "1234567", CLEAR_NAME)


def complete(
    execution: ActionExecution, *, result: str = ExecutionResult.SUCCESS, **metadata: Any
) -> ActionExecution:
    """The visitor's browser reports the outcome, through the service the public endpoint uses."""
    execution.bot = Bot.objects.get(pk=execution.bot_id)
    return execution_record_result(
        execution=execution, result=result, contact_metadata={key: value for key, value in metadata.items()}
    )


def staff_user(*, username: str, permissions: tuple[str, ...] = ()) -> Any:
    """A staff member (not a superuser) holding exactly these `app_label.codename` permissions."""
    user = UserFactory(username=username, is_staff=True)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return get_user_model().objects.get(pk=user.pk)  # no cached permissions


@dataclass
class World:
    """One row of every kind the admin shows, and the secrets none of its pages may show."""

    service: Service
    service_key: str
    webhook_secret: str
    user_token: str
    bot: Bot
    pending: ActionExecution
    completed: ActionExecution
    booking: ActionExecution
    secrets: tuple[str, ...]


def build_world() -> World:
    service, issued = service_create(name="acme", callback_url="https://hooks.example.com/acme")
    person = UserFactory(username="alex")
    token = user_token_issue(user=person)
    bot = BotFactory(service=service, name="acme-bot", allowed_targets=["https://example.com"])
    pending = ExecutionFactory(bot=bot, visitor_id="visitor-pending")
    completed = complete(
        ExecutionFactory(bot=bot, visitor_id="visitor-done", kind=ExecutionKind.NEWSLETTER),
        deliveryStatus="delivered",
        deliveryMethod="same_page",
        signalSource="form-submit",
        networkStatus=200,
        submitToSignalMs=420,
    )
    booking = ExecutionFactory(bot=bot, visitor_id="visitor-booking", kind=ExecutionKind.BOOKING)
    # An erasure record (an operator's): its execution and conversation are gone.
    ExecutionFactory(bot=bot, visitor_id="visitor-erased")
    visitor_erase(bot=bot, visitor_id="visitor-erased", source=ErasureSource.OPERATOR)

    action, _ = action_put(
        service=service,
        action_id="approve-refund",
        target_url="https://hooks.example.com/refund",
        fire_on="true",
        timeout_ms=5000,
    )
    action, _ = action_put(
        service=service,
        action_id="approve-refund",
        target_url="https://hooks.example.com/refund-v2",
        fire_on="always",
        timeout_ms=3000,
    )
    ActionTriggerFactory(
        service=service,
        action=action,
        action_version=2,
        decision=True,
        status=TriggerStatus.FAILED,
        error={"error": {"type": "execution_timeout"}},
        duration_ms=3001,
    )
    notification = notification_create(
        service=service,
        recipients=[person],
        title="Approve the refund?",
        actions=[{"id": "approve", "label": "Approve", "response_type": "text"}],
        deadline=timezone.now() + timedelta(hours=1),
        metadata={"ticket": "T-1"},
    )
    notification_respond(notification=notification, responder=person, action_id="approve", response_data="ok")
    event = WebhookEvent.objects.get(subject_id=notification.pk)
    DeliveryAttemptFactory(event=event, duration_ms=12, status_code=500, response_body="oops")
    webhook_enqueue(service=service, event_type="test.event", payload={"hello": "world"})
    EmailAttemptFactory(email=OutboundEmailFactory(about_id=notification.pk, to_address="alex@example.com"))

    secrets = (
        issued.secret,
        issued.key.key_hash,
        service.webhook_secret,
        service.webhook_secret.removeprefix("whsec_"),
        token.secret,
        token.token.token_hash,
    )
    return World(
        service=service,
        service_key=issued.secret,
        webhook_secret=service.webhook_secret,
        user_token=token.secret,
        bot=bot,
        pending=pending,
        completed=completed,
        booking=booking,
        secrets=secrets,
    )


# Values as long as the models allow, unbroken where a URL or an id would be: what makes a list
# wider than the screen unless the admin truncates it.
LONG_TITLE = ("Approve the refund for order 1042 of the customer who returned the blender unopened " * 3)[
    :200
]
LONG_URL = "https://hooks.example.com/" + "very-long-path-segment/" * 40 + "refund?" + "x" * 200
LONG_TOKEN = "visitor-" + "0123456789abcdef" * 7
LONG_ERROR = ("ConnectionError: connection refused to hooks.example.com:443 while sending " * 8)[:500]


def add_long_rows(world: World) -> None:
    """One row of each kind with its longest values, beside the world's ordinary ones."""
    service, _issued = service_create(name="s" * 100, callback_url=LONG_URL)
    person = UserFactory(username="u" * 150)
    others = [UserFactory(username=f"reviewer-{n}") for n in range(3)]
    bot = BotFactory(service=service, name="b" * 200, allowed_targets=["https://example.com", LONG_URL])
    execution = ExecutionFactory(bot=bot, visitor_id=LONG_TOKEN[:128], label="L" * 200)
    complete(execution, deliveryStatus="delivered", deliveryMethod="same_page", signalSource="s" * 64)
    conversation = execution.conversation
    MessageFactory(conversation=conversation, content="word" * 400)
    action, _ = action_put(
        service=service,
        action_id="a" * 64,
        target_url=LONG_URL[:2048],
        fire_on="always",
        timeout_ms=30_000,
        description="d" * 300,
    )
    ActionTriggerFactory(
        service=service,
        action=action,
        status=TriggerStatus.FAILED,
        error={"error": {"type": "execution_error", "message": LONG_ERROR}},
        idempotency_key="k" * 255,
    )
    notification = notification_create(
        service=service,
        recipients=[person, *others],
        title=LONG_TITLE,
        description="w" * 5000,
        actions=[
            {
                "id": "approve" + "e" * 57,
                "label": "Approve " + "l" * 150,
                "response_type": "choice",
                "options": [{"value": "v" * 100, "label": "Option " + "o" * 150}],
            }
        ],
        metadata={"k" * 60: "v" * 400},
    )
    notification_respond(
        notification=notification, responder=person, action_id="approve" + "e" * 57, response_data="v" * 100
    )
    event = WebhookEvent.objects.get(subject_id=notification.pk)
    WebhookEvent.objects.filter(pk=event.pk).update(last_error=LONG_ERROR)
    DeliveryAttemptFactory(event=event, duration_ms=30_000, error=LONG_ERROR, response_body="r" * 4096)
    email = OutboundEmailFactory(
        about_id=notification.pk, to_address=f"{'m' * 64}@{'d' * 60}.example.com", subject=LONG_TITLE
    )
    EmailAttemptFactory(email=email, error=LONG_ERROR)
