from typing import Any

import pytest

from config.accounts.models import Service
from notifications.models import Notification
from notifications.validation import actions_validate
from tests.notifications.factories import NotificationFactory

# One action of each response type, as a service would send them.
ACTIONS: list[dict[str, Any]] = [
    {"id": "ack", "label": "Acknowledge", "response_type": "simple"},
    {
        "id": "approve",
        "label": "Approve?",
        "response_type": "binary",
        "options": {"true_label": "Approve", "false_label": "Reject"},
    },
    {
        "id": "colour",
        "label": "Pick a colour",
        "response_type": "choice",
        "options": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}],
    },
    {
        "id": "toppings",
        "label": "Toppings",
        "response_type": "multi_choice",
        "options": [
            {"value": "ham", "label": "Ham"},
            {"value": "egg", "label": "Egg"},
            {"value": "kale", "label": "Kale"},
        ],
        "constraints": {"min_selections": 1, "max_selections": 2},
    },
    {
        "id": "note",
        "label": "Why?",
        "response_type": "text",
        "constraints": {"min_length": 2, "max_length": 10},
    },
    {
        "id": "amount",
        "label": "Amount",
        "response_type": "numeric",
        "constraints": {"min": 0, "max": 100, "decimal_places": 2},
    },
    {
        "id": "rating",
        "label": "Rate it",
        "response_type": "scale",
        "constraints": {"min": 0, "max": 10, "step": 2, "labels": {"0": "Bad", "10": "Great"}},
    },
]


@pytest.fixture
def pending(service: Service, person: Any) -> Notification:
    """A pending notification from `service` to `person` with one action of every type."""
    return NotificationFactory(service=service, recipient=person, actions=actions_validate(ACTIONS))
