"""The examples and the response-type table the API docs show for notifications (contract 3, 7).

One action of each response type, as a service sends it, as the 201 shows it (normalised, every
default filled in) and an answer to it; tests/notifications/test_api_examples.py sends each
through the API and compares what comes back, so the docs cannot drift from what the API does.
"""

from dataclasses import dataclass
from typing import Any

NOTIFICATION_ID = "3f2c1a9e-8d4b-4c6e-9a1f-2b7d5e8c0a13"
CREATED_AT = "2026-12-01T12:00:00Z"
RESPONDED_AT = "2026-12-01T12:04:10Z"
RESPONDER = {"id": 7, "username": "alex"}

RESPONSE_TYPES_TABLE = """\
| response_type | options / constraints | `response_data` of the answer |
|---|---|---|
| `simple` | none | absent or null |
| `binary` | options `{"true_label", "false_label"}` (default Yes / No) | boolean |
| `choice` | options `[{"value", "label"}, ...]` (1-50, values unique) | one value, a string |
| `multi_choice` | the same options; constraints `min_selections` (default 0), \
`max_selections` (default: every option) | an array of distinct values |
| `text` | constraints `min_length` (default 0), `max_length` (default and at most 5,000) | a string |
| `numeric` | constraints `min`, `max`, `decimal_places` (0 = integers; each optional) | a number |
| `scale` | constraints `min`, `max` (integers, required), `step` (default 1), optional `labels` \
(an object from a step's value as a string, `"1"`, to its label) | an integer |
"""


@dataclass(frozen=True)
class TypeExample:
    title: str
    sent: dict[str, Any]  # the action as the service sends it
    shown: dict[str, Any]  # the action as every body shows it
    answer: Any  # a valid response_data; None for simple


TYPE_EXAMPLES: dict[str, TypeExample] = {
    "simple": TypeExample(
        "The shop reopened after the outage; please confirm you saw it.",
        sent={"id": "acknowledge", "label": "Got it", "response_type": "simple"},
        shown={"id": "acknowledge", "label": "Got it", "response_type": "simple"},
        answer=None,
    ),
    "binary": TypeExample(
        "Approve the refund for order 1042?",
        sent={
            "id": "approve",
            "label": "Refund 89.00 EUR",
            "response_type": "binary",
            "options": {"true_label": "Approve", "false_label": "Reject"},
        },
        shown={
            "id": "approve",
            "label": "Refund 89.00 EUR",
            "response_type": "binary",
            "options": {"true_label": "Approve", "false_label": "Reject"},
        },
        answer=True,
    ),
    "choice": TypeExample(
        "Which courier should take order 1042?",
        sent={
            "id": "choose",
            "label": "Courier",
            "response_type": "choice",
            "options": [{"value": "dhl", "label": "DHL"}, {"value": "ups", "label": "UPS"}],
        },
        shown={
            "id": "choose",
            "label": "Courier",
            "response_type": "choice",
            "options": [{"value": "dhl", "label": "DHL"}, {"value": "ups", "label": "UPS"}],
        },
        answer="ups",
    ),
    "multi_choice": TypeExample(
        "Which days can you cover the help desk next week?",
        sent={
            "id": "days",
            "label": "Days",
            "response_type": "multi_choice",
            "options": [
                {"value": "mon", "label": "Monday"},
                {"value": "tue", "label": "Tuesday"},
                {"value": "wed", "label": "Wednesday"},
            ],
            "constraints": {"min_selections": 1},
        },
        shown={
            "id": "days",
            "label": "Days",
            "response_type": "multi_choice",
            "options": [
                {"value": "mon", "label": "Monday"},
                {"value": "tue", "label": "Tuesday"},
                {"value": "wed", "label": "Wednesday"},
            ],
            "constraints": {"min_selections": 1, "max_selections": 3},
        },
        answer=["mon", "wed"],
    ),
    "text": TypeExample(
        "The customer of order 1042 asks why the refund is late; what should we say?",
        sent={
            "id": "reply",
            "label": "Reply to the customer",
            "response_type": "text",
            "constraints": {"max_length": 500},
        },
        shown={
            "id": "reply",
            "label": "Reply to the customer",
            "response_type": "text",
            "constraints": {"min_length": 0, "max_length": 500},
        },
        answer="Refunded in full today; sorry for the wait.",
    ),
    "numeric": TypeExample(
        "How much of order 1042 should we refund?",
        sent={
            "id": "amount",
            "label": "Refund (EUR)",
            "response_type": "numeric",
            "constraints": {"min": 0, "max": 89, "decimal_places": 2},
        },
        shown={
            "id": "amount",
            "label": "Refund (EUR)",
            "response_type": "numeric",
            "constraints": {"min": 0, "max": 89, "decimal_places": 2},
        },
        answer=44.5,
    ),
    "scale": TypeExample(
        "How urgent is the complaint about order 1042?",
        sent={
            "id": "rate",
            "label": "Urgency",
            "response_type": "scale",
            "constraints": {"min": 1, "max": 5, "labels": {"1": "Can wait", "5": "Now"}},
        },
        shown={
            "id": "rate",
            "label": "Urgency",
            "response_type": "scale",
            "constraints": {"min": 1, "max": 5, "step": 1, "labels": {"1": "Can wait", "5": "Now"}},
        },
        answer=4,
    ),
}


def create_request(example: TypeExample) -> dict[str, Any]:
    return {
        "recipient": "alex",
        "title": example.title,
        "metadata": {"order": 1042},
        "actions": [example.sent],
    }


def notification_body(example: TypeExample, *, answered: bool) -> dict[str, Any]:
    """The notification as the API shows it: just created, or answered with `example.answer`."""
    response = None
    if answered:
        response = {
            "action_id": example.sent["id"],
            "response_data": example.answer,
            "responded_at": RESPONDED_AT,
            "responder": RESPONDER,
            "defaulted": False,
        }
    return {
        "notification_id": NOTIFICATION_ID,
        "status": "responded" if answered else "pending",
        "recipient": "alex",
        "recipients": ["alex"],
        "title": example.title,
        "description": "",
        "deadline": None,
        "metadata": {"order": 1042},
        "actions": [example.shown],
        "on_deadline": None,
        "escalate": None,
        "escalated_at": None,
        "created_at": CREATED_AT,
        "response": response,
    }


def respond_request(example: TypeExample) -> dict[str, Any]:
    body: dict[str, Any] = {"notification_id": NOTIFICATION_ID, "action_id": example.sent["id"]}
    if example.answer is not None:
        body["response_data"] = example.answer
    return body


RESPONDED = {
    "notification_id": NOTIFICATION_ID,
    "action_id": "approve",
    "status": "responded",
    "responded_at": RESPONDED_AT,
}
