import factory

from notifications.models import Notification, NotificationRecipient
from tests.factories import ServiceFactory, UserFactory

APPROVE = {
    "id": "approve",
    "label": "Approve",
    "response_type": "binary",
    "options": {"true_label": "Yes", "false_label": "No"},
}


class NotificationFactory(factory.django.DjangoModelFactory):
    """A pending notification, stored as the API would store it (definitions normalised)."""

    class Meta:
        model = Notification
        skip_postgeneration_save = True

    service = factory.SubFactory(ServiceFactory)
    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Decision {n}")
    metadata = factory.LazyFunction(lambda: {"ticket": "T-1"})
    actions = factory.LazyFunction(lambda: [dict(APPROVE)])

    @factory.post_generation
    def recipients(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        """Its `recipient` first, then any others given (`recipients=[user, ...]`), as the API
        stores them."""
        if not create:
            return
        for position, user in enumerate([self.recipient, *(extracted or [])]):
            NotificationRecipientFactory(notification=self, user=user, position=position)


class NotificationRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationRecipient

    notification = factory.SubFactory(NotificationFactory)
    user = factory.SubFactory(UserFactory)
    position = 0
    notification_created_at = factory.LazyAttribute(lambda link: link.notification.created_at)
