"""mask_params: the contract's masking rules, and that masking is final and leaks nothing."""

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from actions.masking import mask_params


@pytest.mark.parametrize(
    ("clear", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("J@example.co.uk", "J***@example.co.uk"),
        ("+1 555 123 4567", "+* *** *** **67"),
        ("(020) 7946-0958", "(***) ****-**58"),
        ("5551234", "*****34"),
        ("Jane Doe", "J***"),
        ("J", "J***"),
        ("", ""),
        ("555 1234", "*** **34"),
        # Fewer than 7 digits is not a phone number.
        ("555-12", "5***"),
        # Letters among the digits: not a phone number.
        ("555 123 4567 ext", "5***"),
        ("not an @ address", "n***"),
        ("@handle", "@***"),
    ],
)
def test_a_string_is_masked_as_the_contract_says(clear: str, masked: str) -> None:
    assert mask_params({"field": clear}) == {"field": masked}


def test_numbers_become_masked_strings_booleans_and_null_stay() -> None:
    params = {"age": 42, "phone": 5551234567, "ratio": 0.5, "consent": True, "opt_out": False, "note": None}
    assert mask_params(params) == {
        "age": "4***",
        "phone": "********67",
        "ratio": "0***",
        "consent": True,
        "opt_out": False,
        "note": None,
    }


def test_keys_structure_and_list_items_are_kept() -> None:
    params = {
        "contact": {"name": "Jane Doe", "emails": ["jane@example.com", "jd@example.org"]},
        "tags": [],
        "extra": {},
        "rows": [[1, "ab"], {"x": None}],
    }
    assert mask_params(params) == {
        "contact": {"name": "J***", "emails": ["j***@example.com", "j***@example.org"]},
        "tags": [],
        "extra": {},
        "rows": [["1***", "a***"], {"x": None}],
    }


def test_the_argument_is_left_untouched() -> None:
    params = {"name": "Jane Doe", "list": ["a@b.example"]}
    before = copy.deepcopy(params)
    mask_params(params)
    assert params == before


json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
phone_like = st.from_regex(r"\+?[0-9 ().-]{7,20}", fullmatch=True)
email_like = st.from_regex(r"[a-zA-Z0-9._%+-]{1,12}@[a-z0-9-]{1,10}\.[a-z]{2,5}", fullmatch=True)
strings = st.text(max_size=30) | phone_like | email_like
json_values = st.recursive(
    json_leaves | strings,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for child in value.values() for leaf in leaves(child)]
    if isinstance(value, list):
        return [leaf for child in value for leaf in leaves(child)]
    return [value]


@given(json_values)
def test_masking_twice_changes_nothing_more(params: Any) -> None:
    once = mask_params(params)
    assert mask_params(once) == once


@given(json_values)
def test_every_leaf_but_booleans_and_null_becomes_a_string(params: Any) -> None:
    for clear, masked in zip(leaves(params), leaves(mask_params(params)), strict=True):
        if clear is None or isinstance(clear, bool):
            assert masked is clear
        else:
            assert isinstance(masked, str)


@given(json_values)
def test_no_clear_value_survives(params: Any) -> None:
    for clear, masked in zip(leaves(params), leaves(mask_params(params)), strict=True):
        if clear is None or isinstance(clear, bool):
            continue
        text = str(clear)
        if len(text) >= 2 and "*" not in text:
            assert text not in masked
        # At most the last two digits of a number survive (the first character may be a digit too).
        assert len(re.findall(r"[0-9]", masked.split("@")[0])) <= 2


@given(st.from_regex(r"[a-z][a-z0-9.]{1,15}@[a-z]{1,10}\.example", fullmatch=True))
def test_an_email_keeps_only_its_first_character_and_domain(email: str) -> None:
    local, domain = email.split("@")
    assert mask_params([email]) == [f"{local[0]}***@{domain}"]


@given(phone_like)
def test_a_phone_number_keeps_its_last_two_digits_and_its_separators(phone: str) -> None:
    digits = re.findall(r"[0-9]", phone)
    assume(len(digits) >= 7)
    (masked,) = mask_params([phone])
    assert len(masked) == len(phone)
    assert re.sub(r"[0-9*]", "#", masked) == re.sub(r"[0-9]", "#", phone)
    assert re.findall(r"[0-9]", masked) == digits[-2:]


def test_masked_params_are_plain_json() -> None:
    assert json.loads(json.dumps(mask_params({"a": [1, 2.5, "x"]}))) == {"a": ["1***", "2***", "x***"]}
