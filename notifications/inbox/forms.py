"""The inbox's forms: they render an action's controls and shape what was posted, nothing more.

Whether an answer is acceptable is decided once, by `notification_respond` and the validators of
`notifications.validation`, exactly as for the API. A form only turns its strings into the JSON
the API would have received, by the action's type (contract 9): `"true"` is true for a binary,
`"3.5"` is 3.5 for a numeric, `"4"` is 4 for a scale, the checked values are a list for a
multi_choice. A string that is no such value stays a string, so the validator refuses it with
INVALID_RESPONSE_DATA in its place in the order of checks (after 403, 409 and INVALID_ACTION_ID).
"""

import json
import math
import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.forms.utils import ErrorDict
from django.http import QueryDict
from rest_framework import serializers

from notifications.models import ResponseType
from notifications.views import ClientTokenApi

# JSON's grammar for numbers and for integers: what the API would have parsed as a number.
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
JSON_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _as_binary(text: str) -> bool | str:
    return {"true": True, "false": False}.get(text, text)


def _as_number(text: str) -> int | float | str:
    if not JSON_NUMBER.fullmatch(text):
        return text
    try:
        value = json.loads(text)
    except ValueError:  # more digits than Python converts
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value


def _as_integer(text: str) -> int | str:
    if not JSON_INTEGER.fullmatch(text):
        return text
    try:
        return int(text)
    except ValueError:
        return text


def response_data_from_form(*, response_type: str | None, data: QueryDict) -> Any:
    """The answer's JSON from the posted form of an action of `response_type` (None: an action the
    notification does not have, whose answer is never looked at)."""
    if response_type == ResponseType.MULTI_CHOICE:
        return data.getlist("response_data")
    text = data.get("response_data")
    if text is None:
        return None
    if response_type == ResponseType.BINARY:
        return _as_binary(text)
    if response_type == ResponseType.NUMERIC:
        return _as_number(text)
    if response_type == ResponseType.SCALE:
        return _as_integer(text)
    return text


def _numeric_step(decimal_places: int | None) -> str:
    if decimal_places is None:
        return "any"
    return str(Decimal(1).scaleb(-decimal_places))


def _scale_points(constraints: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(point), str(point))
        for point in range(constraints["min"], constraints["max"] + 1, constraints["step"])
    ]


class AnswerForm(forms.Form):
    """One action's form: a hidden `action_id` and its controls, all named `response_data`.

    It never judges the answer (its `full_clean` does nothing): the service does, and the view
    hands its error back in words through `error`, which marks the controls invalid and ties the
    message to them.
    """

    action_id = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *, action: dict[str, Any], index: int, data: QueryDict | None = None, error: str | None = None
    ) -> None:
        self.prefix_id = f"a{index}"
        self.action = action
        self.error = error
        self.response_type = action["response_type"]
        super().__init__(data=data, auto_id=f"{self.prefix_id}-%s", initial={"action_id": action["id"]})
        field = self._control()
        if field is not None:
            self.fields["response_data"] = field
            attrs = field.widget.attrs
            if self.described_by:
                attrs["aria-describedby"] = self.described_by
            if error is not None:
                attrs["aria-invalid"] = "true"
                attrs["autofocus"] = True

    def full_clean(self) -> None:
        # The rules are notification_respond's; this form shapes the answer and judges nothing.
        self._errors = ErrorDict()
        self.cleaned_data = {}

    @property
    def error_id(self) -> str:
        return f"{self.prefix_id}-error"

    @property
    def hint_id(self) -> str:
        return f"{self.prefix_id}-hint"

    @property
    def title_id(self) -> str:
        return f"{self.prefix_id}-title"

    @property
    def described_by(self) -> str:
        """The ids of the texts that go with the controls: the error, then the hint."""
        parts = [self.error_id] if self.error is not None else []
        if self.hint:
            parts.append(self.hint_id)
        return " ".join(parts)

    @property
    def hint(self) -> str:
        """What the rules are, in words, beside the control (so no one needs to guess them)."""
        constraints = self.action.get("constraints") or {}
        if self.response_type == ResponseType.MULTI_CHOICE:
            low, high = constraints["min_selections"], constraints["max_selections"]
            if low == high:
                return f"Pick {low}." if low != 1 else "Pick 1."
            if low == 0:
                return f"Pick up to {high}." if high < len(self.action["options"]) else "Pick any."
            return f"Pick {low} to {high}."
        if self.response_type == ResponseType.TEXT:
            low, high = constraints["min_length"], constraints["max_length"]
            if low:
                return f"{low} to {high} characters."
            return f"Up to {high} characters."
        if self.response_type == ResponseType.NUMERIC:
            return _numeric_hint(constraints)
        return ""

    @property
    def scale_choices(self) -> list[tuple[Any, str]]:
        """Each point's radio with its label, if the service named that point."""
        labels = (self.action.get("constraints") or {}).get("labels") or {}
        return [(radio, labels.get(radio.data["value"], "")) for radio in self["response_data"]]

    def _control(self) -> forms.Field | None:
        action = self.action
        constraints = action.get("constraints") or {}
        if self.response_type == ResponseType.CHOICE:
            return forms.ChoiceField(
                required=False,
                choices=[(option["value"], option["label"]) for option in action["options"]],
                widget=forms.RadioSelect(attrs={"required": True}),
            )
        if self.response_type == ResponseType.MULTI_CHOICE:
            return forms.MultipleChoiceField(
                required=False,
                choices=[(option["value"], option["label"]) for option in action["options"]],
                widget=forms.CheckboxSelectMultiple,
            )
        if self.response_type == ResponseType.SCALE:
            return forms.ChoiceField(
                required=False,
                choices=_scale_points(constraints),
                widget=forms.RadioSelect(attrs={"required": True}),
            )
        if self.response_type == ResponseType.TEXT:
            attrs: dict[str, Any] = {"maxlength": constraints["max_length"], "rows": 4}
            if constraints["min_length"]:
                attrs["minlength"] = constraints["min_length"]
                attrs["required"] = True
            return forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs=attrs))
        if self.response_type == ResponseType.NUMERIC:
            attrs = {"step": _numeric_step(constraints["decimal_places"]), "required": True}
            attrs["inputmode"] = "numeric" if constraints["decimal_places"] == 0 else "decimal"
            for key in ("min", "max"):
                if constraints[key] is not None:
                    attrs[key] = constraints[key]
            return forms.CharField(required=False, widget=forms.NumberInput(attrs=attrs))
        return None  # simple and binary: buttons only, in the template


def _numeric_hint(constraints: dict[str, Any]) -> str:
    low, high, places = constraints["min"], constraints["max"], constraints["decimal_places"]
    if low is not None and high is not None:
        bounds = f"From {low} to {high}"
    elif low is not None:
        bounds = f"At least {low}"
    elif high is not None:
        bounds = f"At most {high}"
    else:
        bounds = "Any number"
    if places == 0:
        return f"{bounds}, a whole number."
    if places is None:
        return f"{bounds}."
    return f"{bounds}, up to {places} decimal place{'s' if places != 1 else ''}."


_TOKEN_INPUT = cast(dict[str, serializers.CharField], ClientTokenApi.ClientTokenInput._declared_fields)


class LoginForm(forms.Form):
    # The lengths the token endpoint takes, read from its input; the template spells out the inputs.
    username = forms.CharField(max_length=_TOKEN_INPUT["username"].max_length)
    password = forms.CharField(
        max_length=_TOKEN_INPUT["password"].max_length, strip=False, widget=forms.PasswordInput
    )
