"""One factory per model, each defined once: here for the models of `config/` and
`conversations`, in `tests/actions/execution_factories.py` (ExecutionFactory) and
`tests/actions/trigger_factories.py` (ActionFactory, ActionTriggerFactory) for `actions`, and in
`tests/notifications/factories.py` for `notifications`; every other test module imports them.

Service keys and user tokens have none: a test needs the secret, which only issuing one through
`config.accounts.services` hands out. An ActionVersion is written by ActionFactory, as
`action_put` writes one with every version.
"""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.accounts.models import Service
from config.accounts.secrets import new_webhook_secret
from config.outbound.models import DeliveryAttempt, EmailAttempt, OutboundEmail, WebhookEvent
from conversations.models import Bot, Conversation, Message


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    password = factory.django.Password("correct horse battery staple")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"service-{n}")
    callback_url = "https://hooks.example.com/loopback"
    webhook_secret = factory.LazyFunction(new_webhook_secret)


class BotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bot

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"bot-{n}")
    allowed_targets = factory.LazyFunction(lambda: ["https://example.com"])


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    bot = factory.SubFactory(BotFactory)
    visitor_id = factory.Sequence(lambda n: f"visitor-{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = "user"
    content = factory.Sequence(lambda n: f"Message {n}")


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A pending event, due now, as `webhook_enqueue` queues it."""

    class Meta:
        model = WebhookEvent

    service = factory.SubFactory(ServiceFactory)
    event_type = "test.event"
    payload = factory.LazyAttribute(lambda o: {"type": o.event_type})
    next_attempt_at = factory.LazyFunction(timezone.now)


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    """An attempt in flight (no duration yet), unless its outcome is given."""

    class Meta:
        model = DeliveryAttempt

    event = factory.SubFactory(WebhookEventFactory)
    started_at = factory.LazyFunction(timezone.now)


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    to_address = factory.Sequence(lambda n: f"person{n}@example.com")
    subject = factory.Sequence(lambda n: f"Decision {n}")
    body = "A question waits for you."
    next_attempt_at = factory.LazyFunction(timezone.now)


class EmailAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailAttempt

    email = factory.SubFactory(OutboundEmailFactory)
    started_at = factory.LazyFunction(timezone.now)
    duration_ms = 12
    smtp_code = 451
    error = "SMTPDataError: 451 4.3.0 Try again later"
