"""What the inbox says in words: the API's error codes for a person, and a recorded answer by its
labels. It decides nothing; the codes and their rules come from notification_respond."""

from typing import Any

from config.api.errors import ApiError
from notifications.models import Notification, ResponseType

STATUS_WORDS = {
    "pending": "Waiting",
    "responded": "Answered",
    "expired": "Expired",
    "invalidated": "Withdrawn",
}

_MISSING: dict[str, str] = {
    ResponseType.BINARY: "Choose one of the two buttons.",
    ResponseType.CHOICE: "Choose one of the options.",
    ResponseType.MULTI_CHOICE: "Choose the options that apply.",
    ResponseType.TEXT: "Write an answer.",
    ResponseType.NUMERIC: "Enter a number.",
    ResponseType.SCALE: "Choose a point on the scale.",
}

_INVALID: dict[str, str] = {
    ResponseType.SIMPLE: "This action takes no answer; press its button.",
    ResponseType.BINARY: "Choose one of the two buttons.",
    ResponseType.CHOICE: "Choose one of the options.",
    ResponseType.MULTI_CHOICE: "Choose each option at most once.",
    ResponseType.TEXT: "Write an answer.",
    ResponseType.NUMERIC: "Enter a number, such as 12 or 3.5.",
    ResponseType.SCALE: "Choose one of the points of the scale.",
}

_STATE = {
    "NOTIFICATION_ALREADY_RESPONDED": "This question has already been answered.",
    "NOTIFICATION_INVALIDATED": "The assistant withdrew this question; it needs no answer now.",
    "NOTIFICATION_EXPIRED": "The deadline has passed; this question no longer takes answers.",
    "INVALID_ACTION_ID": "That answer is not one this question offers. Choose one of the answers below.",
}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _violation(rule: str | None, limit: Any, response_type: str) -> str:
    if rule == "min_selections":
        return f"Pick at least {plural(limit, 'option')}."
    if rule == "max_selections":
        return f"Pick at most {plural(limit, 'option')}."
    if rule == "min_length":
        return f"Write at least {plural(limit, 'character')}."
    if rule == "max_length":
        return f"Write at most {plural(limit, 'character')}."
    if rule == "min":
        return (
            f"Enter {limit} or more."
            if response_type == ResponseType.NUMERIC
            else "Choose a point on the scale."
        )
    if rule == "max":
        return (
            f"Enter {limit} or less."
            if response_type == ResponseType.NUMERIC
            else "Choose a point on the scale."
        )
    if rule == "decimal_places":
        return "Enter a whole number." if limit == 0 else f"Use at most {plural(limit, 'decimal place')}."
    if rule == "step":
        return "Choose one of the points of the scale."
    return "Choose one of the options."


def error_words(error: ApiError, *, response_type: str | None) -> str:
    """The error the service raised, as a sentence for the person who answered."""
    if error.code in _STATE:
        return _STATE[error.code]
    if response_type is None:
        return error.message
    if error.code == "MISSING_REQUIRED_FIELD":
        return _MISSING.get(response_type, error.message)
    if error.code == "INVALID_RESPONSE_DATA":
        return _INVALID.get(response_type, error.message)
    if error.code == "CONSTRAINT_VIOLATION":
        details = error.details or {}
        return _violation(details.get("rule"), details.get("limit"), response_type)
    return error.message


def _option_label(action: dict[str, Any], value: Any) -> str:
    for option in action.get("options") or []:
        if option["value"] == value:
            return str(option["label"])
    return str(value)


def answer_words(action: dict[str, Any] | None, response_data: Any) -> str:
    """A recorded answer by its labels ("Approve", "Ham, Egg", "4 (Good)")."""
    if action is None:
        return "" if response_data is None else str(response_data)
    response_type = action["response_type"]
    if response_type == ResponseType.SIMPLE:
        return str(action["label"])
    if response_type == ResponseType.BINARY:
        options = action["options"]
        return str(options["true_label"] if response_data else options["false_label"])
    if response_type == ResponseType.CHOICE:
        return _option_label(action, response_data)
    if response_type == ResponseType.MULTI_CHOICE:
        if not response_data:
            return "None of the options"
        return ", ".join(_option_label(action, value) for value in response_data)
    if response_type == ResponseType.SCALE:
        label = (action["constraints"].get("labels") or {}).get(str(response_data))
        return f"{response_data} ({label})" if label else str(response_data)
    return str(response_data)


def answered_action(notification: Notification, *, action_id: str | None = None) -> dict[str, Any] | None:
    """The action an answer is to: `action_id`'s, or the recorded answer's."""
    wanted = action_id or notification.response_action_id
    return next((action for action in notification.actions if action["id"] == wanted), None)


def confirmation_words(action: dict[str, Any] | None, response_data: Any, *, service_name: str) -> str:
    """The line at the top after answering: "Answered: Approve. crm-assistant has been told."
    (a written answer is shown below it, not repeated in it)."""
    if action is not None and action["response_type"] == ResponseType.TEXT:
        return f"Your answer is recorded. {service_name} has been told."
    return f"Answered: {answer_words(action, response_data)}. {service_name} has been told."
