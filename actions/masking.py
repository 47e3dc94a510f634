"""Irreversible masking of the personal data in widget action params (contract 2).

Every leaf that is not a boolean or null becomes a masked string; keys and structure are kept.
An e-mail keeps its first character and its domain, a phone number its last two digits, anything
else its first character followed by `***`. Masking a masked value changes nothing, so the
function is safe to apply to params whatever their state (the admin shows pending rows masked).
"""

import re
from typing import Any

_EMAIL = re.compile(r"([^@\s])[^@\s]*@([^@\s]+)")
# A masked digit (`*`) still counts as a digit, so that a masked phone number stays one.
_PHONE = re.compile(r"[0-9*\s+\-().]+")
_PHONE_DIGIT = re.compile(r"[0-9*]")
_MIN_PHONE_DIGITS = 7
_KEPT_PHONE_DIGITS = 2


def mask_value(value: str) -> str:
    """One string, masked."""
    if not value:
        return value
    email = _EMAIL.fullmatch(value)
    if email:
        return f"{email[1]}***@{email[2]}"
    if _PHONE.fullmatch(value):
        digits = len(_PHONE_DIGIT.findall(value))
        if digits >= _MIN_PHONE_DIGITS:
            return _mask_phone(value, digits)
    return f"{value[0]}***"


def _mask_phone(value: str, digits: int) -> str:
    to_mask = digits - _KEPT_PHONE_DIGITS
    masked: list[str] = []
    for char in value:
        if to_mask > 0 and _PHONE_DIGIT.fullmatch(char):
            masked.append("*")
            to_mask -= 1
        else:
            masked.append(char)
    return "".join(masked)


def mask_params(params: Any) -> Any:
    """`params` with every leaf masked; a pure function, the argument is left untouched."""
    if isinstance(params, dict):
        return {key: mask_params(value) for key, value in params.items()}
    if isinstance(params, list):
        return [mask_params(item) for item in params]
    if params is None or isinstance(params, bool):
        return params
    if isinstance(params, str):
        return mask_value(params)
    return mask_value(str(params))
