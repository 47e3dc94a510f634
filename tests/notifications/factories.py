import factory

from notifications.models import Notification
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

    service = factory.SubFactory(ServiceFactory)
    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Decision {n}")
    metadata = factory.LazyFunction(lambda: {"ticket": "T-1"})
    actions = factory.LazyFunction(lambda: [dict(APPROVE)])
