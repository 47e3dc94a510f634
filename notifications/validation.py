"""The seven response types: validating action definitions and the answers given to them.

Definitions are checked when a service creates a notification (400 `INVALID_REQUEST` whose
`details.field` names the offending field, e.g. `actions[1].constraints.max`) and stored
normalised, with every default filled in, so an answer is checked against exactly what the
service was shown in the 201.

Answers are checked in the contract's order: absent where required (400
`MISSING_REQUIRED_FIELD`), wrong JSON type or shape (400 `INVALID_RESPONSE_DATA`), right type but
outside the rules (422 `CONSTRAINT_VIOLATION`, `details.rule` naming the rule).
"""

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from config.api.errors import InvalidRequest
from notifications.errors import ConstraintViolation, InvalidResponseData, MissingRequiredField
from notifications.models import MAX_RECIPIENTS, ResponseType

MAX_ACTIONS = 10
ACTION_ID_MAX_LENGTH = 64
LABEL_MAX_LENGTH = 200
OPTION_VALUE_MAX_LENGTH = 100
MAX_OPTIONS = 50
TEXT_MAX_LENGTH = 5000
MAX_DECIMAL_PLACES = 10
DEFAULT_BINARY_OPTIONS = {"true_label": "Yes", "false_label": "No"}

ACTION_KEYS = frozenset({"id", "label", "response_type", "options", "constraints"})

Definition = dict[str, Any]


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {message}", details={"field": field})


def is_integer(value: Any) -> bool:
    # JSON true/false arrive as bool, which Python counts as int; they are not numbers here.
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return is_integer(value) or (isinstance(value, float) and math.isfinite(value))


def _string(value: Any, field: str, *, max_length: int, min_length: int = 1) -> str:
    if not isinstance(value, str):
        raise _invalid(field, "must be a string.")
    if len(value.strip()) < min_length or len(value) > max_length:
        raise _invalid(field, f"must be {min_length} to {max_length} characters.")
    return value


def _keys_allowed(value: dict[str, Any], field: str, allowed: frozenset[str]) -> None:
    for key in value:
        if key not in allowed:
            raise _invalid(f"{field}.{key}", f"is not allowed here; allowed: {', '.join(sorted(allowed))}.")


def _constraints(raw: Any, field: str, allowed: frozenset[str]) -> dict[str, Any]:
    field = f"{field}.constraints"
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _invalid(field, "must be an object.")
    _keys_allowed(raw, field, allowed)
    return raw


def _no_options(raw: Definition, field: str, response_type: str) -> None:
    if raw.get("options") is not None:
        raise _invalid(f"{field}.options", f"a {response_type} action takes no options.")


def _no_constraints(raw: Definition, field: str, response_type: str) -> None:
    if raw.get("constraints") is not None:
        raise _invalid(f"{field}.constraints", f"a {response_type} action takes no constraints.")


def _count(constraints: dict[str, Any], key: str, field: str, default: int, maximum: int) -> int:
    value = constraints.get(key, default)
    if value is None:
        return default
    if not is_integer(value) or not 0 <= value <= maximum:
        raise _invalid(f"{field}.constraints.{key}", f"must be a whole number from 0 to {maximum}.")
    return value


def _choice_options(raw: Any, field: str) -> list[dict[str, str]]:
    field = f"{field}.options"
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_OPTIONS:
        raise _invalid(field, f"must be a list of 1 to {MAX_OPTIONS} options {{value, label}}.")
    options: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, option in enumerate(raw):
        option_field = f"{field}[{index}]"
        if not isinstance(option, dict):
            raise _invalid(option_field, "must be an object {value, label}.")
        _keys_allowed(option, option_field, frozenset({"value", "label"}))
        value = _string(option.get("value"), f"{option_field}.value", max_length=OPTION_VALUE_MAX_LENGTH)
        label = _string(option.get("label"), f"{option_field}.label", max_length=LABEL_MAX_LENGTH)
        if value in seen:
            raise _invalid(f"{option_field}.value", f"repeats the value {value!r}; values must be unique.")
        seen.add(value)
        options.append({"value": value, "label": label})
    return options


def _define_simple(raw: Definition, field: str) -> Definition:
    _no_options(raw, field, "simple")
    _no_constraints(raw, field, "simple")
    return {}


def _define_binary(raw: Definition, field: str) -> Definition:
    _no_constraints(raw, field, "binary")
    options = raw.get("options")
    if options is None:
        return {"options": dict(DEFAULT_BINARY_OPTIONS)}
    if not isinstance(options, dict):
        raise _invalid(f"{field}.options", "must be an object {true_label, false_label}.")
    _keys_allowed(options, f"{field}.options", frozenset(DEFAULT_BINARY_OPTIONS))
    return {
        "options": {
            key: _string(options.get(key), f"{field}.options.{key}", max_length=LABEL_MAX_LENGTH)
            for key in DEFAULT_BINARY_OPTIONS
        }
    }


def _define_choice(raw: Definition, field: str) -> Definition:
    _no_constraints(raw, field, "choice")
    return {"options": _choice_options(raw.get("options"), field)}


def _define_multi_choice(raw: Definition, field: str) -> Definition:
    options = _choice_options(raw.get("options"), field)
    constraints = _constraints(raw.get("constraints"), field, frozenset({"min_selections", "max_selections"}))
    minimum = _count(constraints, "min_selections", field, 0, len(options))
    maximum = _count(constraints, "max_selections", field, len(options), len(options))
    if maximum < 1:
        raise _invalid(f"{field}.constraints.max_selections", "must be at least 1.")
    if minimum > maximum:
        raise _invalid(f"{field}.constraints.min_selections", "must not be above max_selections.")
    return {"options": options, "constraints": {"min_selections": minimum, "max_selections": maximum}}


def _define_text(raw: Definition, field: str) -> Definition:
    _no_options(raw, field, "text")
    constraints = _constraints(raw.get("constraints"), field, frozenset({"min_length", "max_length"}))
    minimum = _count(constraints, "min_length", field, 0, TEXT_MAX_LENGTH)
    maximum = _count(constraints, "max_length", field, TEXT_MAX_LENGTH, TEXT_MAX_LENGTH)
    if maximum < 1:
        raise _invalid(f"{field}.constraints.max_length", "must be at least 1.")
    if minimum > maximum:
        raise _invalid(f"{field}.constraints.min_length", "must not be above max_length.")
    return {"constraints": {"min_length": minimum, "max_length": maximum}}


def _define_numeric(raw: Definition, field: str) -> Definition:
    _no_options(raw, field, "numeric")
    constraints = _constraints(raw.get("constraints"), field, frozenset({"min", "max", "decimal_places"}))
    normalised: dict[str, Any] = {}
    for key in ("min", "max"):
        value = constraints.get(key)
        if value is not None and not is_number(value):
            raise _invalid(f"{field}.constraints.{key}", "must be a number.")
        normalised[key] = value
    if (
        normalised["min"] is not None
        and normalised["max"] is not None
        and normalised["min"] > normalised["max"]
    ):
        raise _invalid(f"{field}.constraints.max", "must not be below min.")
    places = constraints.get("decimal_places")
    if places is not None and (not is_integer(places) or not 0 <= places <= MAX_DECIMAL_PLACES):
        raise _invalid(
            f"{field}.constraints.decimal_places", f"must be a whole number from 0 to {MAX_DECIMAL_PLACES}."
        )
    normalised["decimal_places"] = places
    return {"constraints": normalised}


def _define_scale(raw: Definition, field: str) -> Definition:
    _no_options(raw, field, "scale")
    if raw.get("constraints") is None:
        raise _invalid(f"{field}.constraints", "a scale action needs constraints {min, max}.")
    constraints = _constraints(raw.get("constraints"), field, frozenset({"min", "max", "step", "labels"}))
    bounds: dict[str, Any] = {}
    for key in ("min", "max"):
        value = constraints.get(key)
        if not is_integer(value):
            raise _invalid(f"{field}.constraints.{key}", "is required and must be a whole number.")
        bounds[key] = value
    if bounds["min"] >= bounds["max"]:
        raise _invalid(f"{field}.constraints.max", "must be above min.")
    step = constraints.get("step", 1)
    if step is None:
        step = 1
    if not is_integer(step) or not 1 <= step <= bounds["max"] - bounds["min"]:
        raise _invalid(f"{field}.constraints.step", "must be a whole number from 1 to max - min.")
    normalised: dict[str, Any] = {**bounds, "step": step}
    labels = constraints.get("labels")
    if labels is not None:
        normalised["labels"] = _scale_labels(
            labels, f"{field}.constraints.labels", lowest=bounds["min"], highest=bounds["max"], step=step
        )
    return {"constraints": normalised}


def _scale_labels(raw: Any, field: str, *, lowest: int, highest: int, step: int) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise _invalid(field, 'must be an object naming points of the scale, e.g. {"1": "Poor"}.')
    labels: dict[str, str] = {}
    for key, label in raw.items():
        try:
            point = int(key)
        except ValueError:
            raise _invalid(f"{field}.{key}", "is not a whole number.") from None
        if not lowest <= point <= highest or (point - lowest) % step:
            raise _invalid(f"{field}.{key}", "is not a point of the scale.")
        labels[str(point)] = _string(label, f"{field}.{key}", max_length=LABEL_MAX_LENGTH)
    return labels


_DEFINERS: dict[str, Callable[[Definition, str], Definition]] = {
    ResponseType.SIMPLE: _define_simple,
    ResponseType.BINARY: _define_binary,
    ResponseType.CHOICE: _define_choice,
    ResponseType.MULTI_CHOICE: _define_multi_choice,
    ResponseType.TEXT: _define_text,
    ResponseType.NUMERIC: _define_numeric,
    ResponseType.SCALE: _define_scale,
}


def _action_validate(raw: Any, field: str) -> Definition:
    if not isinstance(raw, dict):
        raise _invalid(field, "must be an object {id, label, response_type, options?, constraints?}.")
    _keys_allowed(raw, field, ACTION_KEYS)
    action_id = _string(raw.get("id"), f"{field}.id", max_length=ACTION_ID_MAX_LENGTH)
    label = _string(raw.get("label"), f"{field}.label", max_length=LABEL_MAX_LENGTH)
    response_type = raw.get("response_type")
    if response_type not in _DEFINERS:
        raise _invalid(f"{field}.response_type", f"must be one of {', '.join(ResponseType.values)}.")
    return {
        "id": action_id,
        "label": label,
        "response_type": response_type,
        **_DEFINERS[response_type](raw, field),
    }


def actions_validate(raw: Any) -> list[Definition]:
    """The action definitions, normalised with their defaults, or 400 naming the field."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ACTIONS:
        raise _invalid("actions", f"must be a list of 1 to {MAX_ACTIONS} actions.")
    actions: list[Definition] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        action = _action_validate(item, f"actions[{index}]")
        if action["id"] in seen:
            raise _invalid(f"actions[{index}].id", f"repeats the id {action['id']!r}; ids must be unique.")
        seen.add(action["id"])
        actions.append(action)
    return actions


# ---------------------------------------------------------------------------------------------
# Answers


def _violation(rule: str, message: str, **details: Any) -> ConstraintViolation:
    return ConstraintViolation(message, details={"rule": rule, **details})


def _decimal_places(value: int | float) -> int:
    if is_integer(value):
        return 0
    # repr() is the shortest text that reads back as this float: the decimals the person typed.
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _answer_simple(action: Definition, value: Any) -> None:
    if value is not None:
        raise InvalidResponseData("A simple action takes no response_data (leave it out or send null).")


def _answer_binary(action: Definition, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidResponseData("A binary action takes true or false.")
    return value


def _answer_choice(action: Definition, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidResponseData("A choice action takes one option value, a string.")
    if value not in {option["value"] for option in action["options"]}:
        raise _violation("options", "The value is not one of this action's options.")
    return value


def _answer_multi_choice(action: Definition, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidResponseData("A multi_choice action takes a list of option values, strings.")
    if len(set(value)) != len(value):
        raise InvalidResponseData("The list repeats a value; each option may be chosen once.")
    allowed = {option["value"] for option in action["options"]}
    if any(item not in allowed for item in value):
        raise _violation("options", "A value is not one of this action's options.")
    constraints = action["constraints"]
    if len(value) < constraints["min_selections"]:
        raise _violation("min_selections", "Too few options chosen.", limit=constraints["min_selections"])
    if len(value) > constraints["max_selections"]:
        raise _violation("max_selections", "Too many options chosen.", limit=constraints["max_selections"])
    return value


def _answer_text(action: Definition, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidResponseData("A text action takes a string.")
    constraints = action["constraints"]
    if len(value) < constraints["min_length"]:
        raise _violation("min_length", "The text is too short.", limit=constraints["min_length"])
    if len(value) > constraints["max_length"]:
        raise _violation("max_length", "The text is too long.", limit=constraints["max_length"])
    return value


def _answer_numeric(action: Definition, value: Any) -> int | float:
    if not is_number(value):
        raise InvalidResponseData("A numeric action takes a JSON number.")
    constraints = action["constraints"]
    if constraints["min"] is not None and value < constraints["min"]:
        raise _violation("min", "The number is below the minimum.", limit=constraints["min"])
    if constraints["max"] is not None and value > constraints["max"]:
        raise _violation("max", "The number is above the maximum.", limit=constraints["max"])
    places = constraints["decimal_places"]
    if places is not None and _decimal_places(value) > places:
        raise _violation("decimal_places", "The number has too many decimal places.", limit=places)
    return value


def _answer_scale(action: Definition, value: Any) -> int:
    if not is_integer(value):
        raise InvalidResponseData("A scale action takes a whole number (1, not 1.0).")
    constraints = action["constraints"]
    if value < constraints["min"]:
        raise _violation("min", "The value is below the scale.", limit=constraints["min"])
    if value > constraints["max"]:
        raise _violation("max", "The value is above the scale.", limit=constraints["max"])
    if (value - constraints["min"]) % constraints["step"]:
        raise _violation("step", "The value is not a step of the scale.", limit=constraints["step"])
    return value


_ANSWERERS: dict[str, Callable[[Definition, Any], Any]] = {
    ResponseType.SIMPLE: _answer_simple,
    ResponseType.BINARY: _answer_binary,
    ResponseType.CHOICE: _answer_choice,
    ResponseType.MULTI_CHOICE: _answer_multi_choice,
    ResponseType.TEXT: _answer_text,
    ResponseType.NUMERIC: _answer_numeric,
    ResponseType.SCALE: _answer_scale,
}


def response_data_validate(*, action: Definition, value: Any) -> Any:
    """The answer to store for `action`, or the contract's 400/422. Absent and null are the same."""
    if value is None and action["response_type"] != ResponseType.SIMPLE:
        raise MissingRequiredField(
            f"response_data is required for a {action['response_type']} action.",
            details={"field": "response_data"},
        )
    return _ANSWERERS[action["response_type"]](action, value)


# ---------------------------------------------------------------------------------------------
# What the deadline and the escalation do (contract 7)

ESCALATE_AFTER_MIN_SECONDS = 60
ESCALATE_AFTER_MAX_SECONDS = 604800


def default_outcome_validate(raw: Any, *, actions: list[Definition]) -> Definition:
    """`on_deadline` normalised to `{"action_id", "response_data"}`: a valid answer to one of
    `actions` by exactly the rules a person's answer meets; any failure is 400 naming `on_deadline`."""
    if not isinstance(raw, dict):
        raise _invalid("on_deadline", "must be an object {action_id, response_data}.")
    if set(raw) - {"action_id", "response_data"}:
        raise _invalid("on_deadline", "takes only action_id and response_data.")
    action = next((item for item in actions if item["id"] == raw.get("action_id")), None)
    if action is None:
        raise _invalid("on_deadline", "action_id must be the id of one of this notification's actions.")
    try:
        answer = response_data_validate(action=action, value=raw.get("response_data"))
    except (MissingRequiredField, InvalidResponseData, ConstraintViolation) as problem:
        raise _invalid("on_deadline", f"response_data is not a valid answer: {problem.message}") from None
    return {"action_id": action["id"], "response_data": answer}


def escalation_validate(raw: Any) -> tuple[int, list[str]]:
    """`escalate`'s delay and usernames (distinct, 1 to 20), or 400 naming `escalate`; whether
    the usernames are people, and not already recipients, is for the caller to check."""
    if not isinstance(raw, dict):
        raise _invalid("escalate", "must be an object {after_seconds, recipients}.")
    if set(raw) - {"after_seconds", "recipients"}:
        raise _invalid("escalate", "takes only after_seconds and recipients.")
    after: Any = raw.get("after_seconds")
    if not is_integer(after) or not ESCALATE_AFTER_MIN_SECONDS <= after <= ESCALATE_AFTER_MAX_SECONDS:
        raise _invalid(
            "escalate",
            f"after_seconds must be a whole number from {ESCALATE_AFTER_MIN_SECONDS} to "
            f"{ESCALATE_AFTER_MAX_SECONDS}.",
        )
    usernames: Any = raw.get("recipients")
    if (
        not isinstance(usernames, list)
        or not 1 <= len(usernames) <= MAX_RECIPIENTS
        or not all(isinstance(name, str) and name for name in usernames)
    ):
        raise _invalid("escalate", f"recipients must be a list of 1 to {MAX_RECIPIENTS} usernames.")
    if len(set(usernames)) != len(usernames):
        raise _invalid("escalate", "recipients names one person twice.")
    return after, usernames
