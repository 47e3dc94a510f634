"""Property tests of the three pure rule-keepers an attacker talks to (the allowlist matcher, the
masking of personal data, and the validators of every notification response type), and of every
JSON endpoint over HTTP against arbitrary Unicode."""

import contextlib
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from actions.masking import mask_params
from config.api.errors import ApiError, InvalidRequest
from conversations.allowlist import InvalidUrl, parse_pattern, target_allowed, validate_patterns
from notifications.validation import actions_validate, response_data_validate
from tests.reliability import world

PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# --------------------------------------------------------------------------------------------
# Allowlist

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
# A last label that is a number would make the host an IPv4 address (refused in patterns by design).
top_labels = st.from_regex(r"[a-z][a-z0-9]{1,5}", fullmatch=True)
domains = st.builds(
    lambda parts, top: ".".join([*parts, top]), st.lists(labels, min_size=1, max_size=3), top_labels
)
segments = st.from_regex(r"[A-Za-z0-9_~-]{1,10}", fullmatch=True)
paths = st.lists(segments, max_size=3).map(lambda parts: "/" + "/".join(parts))


@PROPERTY
@given(st.text(max_size=200), st.lists(st.text(max_size=60), max_size=4))
def test_matching_arbitrary_text_never_raises(target: str, patterns: list[str]) -> None:
    assert target_allowed(target_url=target, patterns=patterns) in (True, False)
    with contextlib.suppress(InvalidUrl):
        validate_patterns(patterns)


@PROPERTY
@given(domains, paths, st.sampled_from(["http", "https"]))
def test_an_origin_pattern_matches_every_spelling_of_its_origin(host: str, path: str, scheme: str) -> None:
    pattern = [f"{scheme}://{host}"]
    port = 443 if scheme == "https" else 80
    for target in (
        f"{scheme}://{host}{path}",
        f"{scheme.upper()}://{host.upper()}{path}",
        f"{scheme}://{host}.{path}",
        f"{scheme}://{host}:{port}{path}",
    ):
        assert target_allowed(target_url=target, patterns=pattern), target


@PROPERTY
@given(domains, paths, labels)
def test_an_origin_pattern_matches_nothing_else(host: str, path: str, other: str) -> None:
    pattern = [f"https://{host}"]
    assume(other not in host.split("."))
    for target in (
        f"http://{host}{path}",
        f"https://{host}:8443{path}",
        f"https://{other}.{host}{path}",
        f"https://{host}.{other}{path}",
        f"https://{other}{host}{path}",
        f"https://{host}-{other}.com{path}",
        f"https://user@{host}{path}",
        f"https://{host}:pw@{other}.com{path}",
        f"https://{other}.com#@{host}{path}",
        f"https://{other}.com\\@{host}{path}",
        f"https://{other}.com?@{host}{path}",
        f"javascript://{host}/%0aalert(1)",
        f"//{host}{path}",
    ):
        assert not target_allowed(target_url=target, patterns=pattern), target


@PROPERTY
@given(domains, segments, segments)
def test_a_path_pattern_matches_its_subtree_only(host: str, allowed: str, other: str) -> None:
    assume(allowed != other)
    pattern = [f"https://{host}/{allowed}"]
    for target in (
        f"https://{host}/{allowed}",
        f"https://{host}/{allowed}/{other}",
        f"https://{host}/x/../{allowed}",
    ):
        assert target_allowed(target_url=target, patterns=pattern), target
    for target in (
        f"https://{host}/{allowed}{other}",
        f"https://{host}/{other}",
        f"https://{host}/{allowed}/../{other}",
        f"https://{host}/{allowed}/%2e%2e/{other}",
        f"https://{host}/{allowed}/%2E%2E/{other}",
        f"https://{host}/{other}/{allowed}",
    ):
        assert not target_allowed(target_url=target, patterns=pattern), target


@PROPERTY
@given(domains, labels, paths)
def test_a_wildcard_matches_subdomains_not_the_apex_or_lookalikes(parent: str, label: str, path: str) -> None:
    pattern = [f"https://*.{parent}"]
    assert target_allowed(target_url=f"https://{label}.{parent}{path}", patterns=pattern)
    assert target_allowed(target_url=f"https://a.{label}.{parent}{path}", patterns=pattern)
    assert not target_allowed(target_url=f"https://{parent}{path}", patterns=pattern)
    assert not target_allowed(target_url=f"https://{label}{parent}{path}", patterns=pattern)
    assert not target_allowed(target_url=f"https://{label}.{parent}.evil.example{path}", patterns=pattern)
    parse_pattern(pattern[0])


# --------------------------------------------------------------------------------------------
# Masking

clear_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="*"), min_size=2, max_size=40
).filter(lambda value: sum(char.isalnum() for char in value) >= 2)
emails = st.builds(
    lambda local, domain: f"{local}@{domain}", st.from_regex(r"[a-z0-9._%+-]{2,12}", fullmatch=True), domains
)
phones = st.from_regex(r"\+?[0-9]{1,3}[ -]?\(?[0-9]{2,4}\)?[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}", fullmatch=True)
leaves = clear_text | emails | phones | st.integers(min_value=10) | st.booleans() | st.none()
params_strategy = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
).map(lambda value: {"field": value})


def leaves_of(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves_of(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves_of(item)]
    return [value]


def same_shape(clear: Any, masked: Any) -> bool:
    if isinstance(clear, dict):
        return (
            isinstance(masked, dict)
            and clear.keys() == masked.keys()
            and all(same_shape(clear[key], masked[key]) for key in clear)
        )
    if isinstance(clear, list):
        return isinstance(masked, list) and len(clear) == len(masked) and all(map(same_shape, clear, masked))
    return not isinstance(masked, dict | list)


@PROPERTY
@given(params_strategy)
def test_masking_keeps_the_shape_and_is_applied_once(params: dict[str, Any]) -> None:
    masked = mask_params(params)
    assert same_shape(params, masked)
    assert all(leaf is None or isinstance(leaf, bool | str) for leaf in leaves_of(masked))
    assert mask_params(masked) == masked, "masking a masked value changes nothing"


@PROPERTY
@given(params_strategy)
def test_no_clear_value_survives_masking(params: dict[str, Any]) -> None:
    # Keys are kept by design; each value is what must not survive its own masking.
    for clear, masked in zip(leaves_of(params), leaves_of(mask_params(params)), strict=True):
        if clear is None or isinstance(clear, bool):
            assert masked is clear
        else:
            assert str(clear) not in masked, (clear, masked)


@PROPERTY
@given(clear_text | phones | st.integers(min_value=10))
def test_masking_reveals_at_most_two_characters_outside_an_email_domain(value: Any) -> None:
    masked = mask_params({"v": value})["v"]
    clear = str(value)
    if "@" in masked:
        return  # an e-mail keeps its first character and its domain by design
    assert sum(char.isalnum() for char in masked) <= 2, (clear, masked)


# --------------------------------------------------------------------------------------------
# Notification response types


def definition(response_type: str, **extra: Any) -> dict[str, Any]:
    [action] = actions_validate([{"id": "a", "label": "A", "response_type": response_type, **extra}])
    return action


def refused(action: dict[str, Any], value: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        response_data_validate(action=action, value=value)
    return caught.value


def assert_refused(
    action: dict[str, Any], value: Any, status: int, code: str, rule: str | None = None
) -> None:
    error = refused(action, value)
    assert (error.status, error.code) == (status, code), (value, error.status, error.code, error.message)
    if rule is not None:
        assert error.details is not None and error.details["rule"] == rule, (value, error.details)


@PROPERTY
@given(json_values)
def test_simple_takes_nothing(value: Any) -> None:
    action = definition("simple")
    assert response_data_validate(action=action, value=None) is None
    if value is not None:
        assert_refused(action, value, 400, "INVALID_RESPONSE_DATA")


@PROPERTY
@given(json_values)
def test_binary_takes_a_boolean_and_only_that(value: Any) -> None:
    action = definition("binary")
    if isinstance(value, bool):
        assert response_data_validate(action=action, value=value) is value
    elif value is None:
        assert_refused(action, value, 400, "MISSING_REQUIRED_FIELD")
    else:
        assert_refused(action, value, 400, "INVALID_RESPONSE_DATA")


option_values = st.lists(
    st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=8, unique=True
)


@PROPERTY
@given(option_values, st.data())
def test_choice_takes_one_of_its_values(values: list[str], data: st.DataObject) -> None:
    action = definition("choice", options=[{"value": v, "label": v} for v in values])
    chosen = data.draw(st.sampled_from(values))
    assert response_data_validate(action=action, value=chosen) == chosen
    stranger = data.draw(st.text(max_size=12).filter(lambda v: v not in values))
    assert_refused(action, stranger, 422, "CONSTRAINT_VIOLATION", "options")
    wrong_type = data.draw(json_values.filter(lambda v: v is not None and not isinstance(v, str)))
    assert_refused(action, wrong_type, 400, "INVALID_RESPONSE_DATA")


@PROPERTY
@given(option_values, st.data())
def test_multi_choice_takes_distinct_values_within_its_counts(values: list[str], data: st.DataObject) -> None:
    low = data.draw(st.integers(0, len(values)))
    high = data.draw(st.integers(max(low, 1), len(values)))
    options = [{"value": v, "label": v} for v in values]
    action = definition(
        "multi_choice", options=options, constraints={"min_selections": low, "max_selections": high}
    )
    picked = data.draw(st.lists(st.sampled_from(values), min_size=low, max_size=high, unique=True))
    assert response_data_validate(action=action, value=picked) == picked
    if picked:
        assert_refused(action, [*picked, picked[0]], 400, "INVALID_RESPONSE_DATA")
    if low > 0:
        assert_refused(action, picked[: low - 1], 422, "CONSTRAINT_VIOLATION", "min_selections")
    if high < len(values):
        assert_refused(action, values[: high + 1], 422, "CONSTRAINT_VIOLATION", "max_selections")
    stranger = data.draw(st.text(max_size=12).filter(lambda v: v not in values))
    assert_refused(action, [stranger], 422, "CONSTRAINT_VIOLATION", "options")
    assert_refused(
        action,
        data.draw(st.text() | st.integers() | st.dictionaries(st.text(), st.text())),
        400,
        "INVALID_RESPONSE_DATA",
    )


@PROPERTY
@given(st.integers(0, 50), st.integers(1, 60), st.data())
def test_text_takes_a_string_within_its_lengths(low: int, span: int, data: st.DataObject) -> None:
    high = low + span
    action = definition("text", constraints={"min_length": low, "max_length": high})
    text = data.draw(st.text(min_size=low, max_size=high))
    assert response_data_validate(action=action, value=text) == text
    if low > 0:
        assert_refused(action, text[: low - 1], 422, "CONSTRAINT_VIOLATION", "min_length")
    assert_refused(action, "x" * (high + 1), 422, "CONSTRAINT_VIOLATION", "max_length")
    wrong_type = data.draw(json_values.filter(lambda v: v is not None and not isinstance(v, str)))
    assert_refused(action, wrong_type, 400, "INVALID_RESPONSE_DATA")


def decimal_number(digits: int, places: int) -> float | int:
    """digits / 10**places as JSON would carry it, with exactly `places` decimals when the last is not 0."""
    return digits if places == 0 else float(Decimal(digits).scaleb(-places))


@PROPERTY
@given(
    st.integers(-(10**12), 10**12), st.integers(0, 9), st.integers(0, 10**6), st.integers(0, 10**6), st.data()
)
def test_numeric_takes_a_number_within_its_bounds_and_places(
    digits: int, places: int, below: int, above: int, data: st.DataObject
) -> None:
    value = decimal_number(digits, places)
    low, high = value - below, value + above
    action = definition("numeric", constraints={"min": low, "max": high, "decimal_places": places})
    assert response_data_validate(action=action, value=value) == value
    if below:
        assert_refused(action, low - 1, 422, "CONSTRAINT_VIOLATION", "min")
    assert_refused(action, high + 1, 422, "CONSTRAINT_VIOLATION", "max")
    finer = decimal_number(
        digits * 10 + data.draw(st.integers(1, 9)) * (1 if digits >= 0 else -1), places + 1
    )
    unbounded = definition("numeric", constraints={"decimal_places": places})
    assert_refused(unbounded, finer, 422, "CONSTRAINT_VIOLATION", "decimal_places")
    for wrong in (str(value), True, [value], {"value": value}):
        assert_refused(action, wrong, 400, "INVALID_RESPONSE_DATA")


@PROPERTY
@given(st.integers(-1000, 1000), st.integers(1, 20), st.integers(1, 30), st.data())
def test_scale_takes_a_whole_point_of_the_scale(
    low: int, step: int, points: int, data: st.DataObject
) -> None:
    high = low + step * points
    action = definition("scale", constraints={"min": low, "max": high, "step": step})
    point = low + step * data.draw(st.integers(0, points))
    assert response_data_validate(action=action, value=point) == point
    assert_refused(action, low - step, 422, "CONSTRAINT_VIOLATION", "min")
    assert_refused(action, high + step, 422, "CONSTRAINT_VIOLATION", "max")
    if step > 1:
        assert_refused(action, point + 1 if point < high else point - 1, 422, "CONSTRAINT_VIOLATION", "step")
    for wrong in (float(point), str(point), True, [point]):
        assert_refused(action, wrong, 400, "INVALID_RESPONSE_DATA")


@PROPERTY
@given(st.lists(json_values, max_size=3) | json_values)
def test_any_action_definition_is_accepted_or_a_400_naming_a_field(raw: Any) -> None:
    try:
        actions_validate(raw)
    except InvalidRequest as error:
        assert error.status == 400
        assert error.details and error.details["field"].startswith("actions"), error.details


# --------------------------------------------------------------------------------------------
# Every JSON endpoint, over HTTP: arbitrary Unicode anywhere in a body (lone surrogates and NULs
# included, escaped or as raw bytes) is a 2xx or a 4xx in the family's shape, never a 5xx, and a
# refused body changes nothing stored.

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
# Arbitrary text, often with lone surrogates (which st.text leaves out) or NULs, seldom both: each
# must be refused on its own.
hostile_text = (
    st.text(st.characters(), max_size=12)
    | st.text(st.characters() | SURROGATES, max_size=12)
    | st.text(st.characters() | st.just("\x00"), max_size=12)
)
hostile_values = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=6,
)

ENDPOINT_PROPERTY = settings(
    PROPERTY,
    max_examples=20,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def endpoints(
    tenant: Any, execution: Any, notification: Any
) -> dict[str, tuple[str, str, str, dict[str, Any]]]:
    """(method, path, credential, a valid body) of every endpoint that takes a JSON body."""
    return {
        "propose": (
            "POST",
            f"/v1/bots/{tenant.bot.pk}/action-executions",
            tenant.key,
            {
                "visitorId": "v",
                "kind": "contact_form",
                "label": "L",
                "targetUrl": "https://example.com/",
                "params": {"email": "a@example.com"},
            },
        ),
        "bot": (
            "PATCH",
            f"/v1/bots/{tenant.bot.pk}",
            tenant.key,
            {"allowedTargets": ["https://example.com"]},
        ),
        "result": (
            "POST",
            f"/v1/public/actions/{execution.pk}/result",
            "",
            {"result": "failure", "error": "e", "contactMetadata": {"signalSource": "s"}},
        ),
        "notify": (
            "POST",
            "/api/v1/notifications",
            tenant.key,
            {
                "recipient": tenant.person.username,
                "title": "T",
                "metadata": {"k": "v"},
                "actions": [world.APPROVE],
            },
        ),
        "invalidate": (
            "PATCH",
            f"/api/v1/notifications/{notification.pk}",
            tenant.key,
            {"status": "invalidated", "reason": "r"},
        ),
        "login": ("POST", "/api/v1/client/token", "", {"username": tenant.person.username, "password": "p"}),
        "respond": (
            "POST",
            "/api/v1/client/respond",
            tenant.token,
            {"notification_id": str(notification.pk), "action_id": "t", "response_data": "text"},
        ),
        "put-action": (
            "PUT",
            "/actions/property",
            tenant.key,
            {
                "target_url": "http://127.0.0.1:9/closed",
                "fire_on": "always",
                "timeout_ms": 500,
                "description": "d",
            },
        ),
        "trigger": (
            "POST",
            "/actions/property/trigger",
            tenant.key,
            {"decision": True, "payload": {"k": "v"}},
        ),
    }


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [found for key, item in items for found in string_paths(item, (*path, key))]


def mutated(body: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The body with one change at any depth: hostile text appended to one string (the shape
    stays valid, so the text reaches what is behind the validation), a value replaced by
    anything, a key renamed, or a key added to an object."""
    copy = json.loads(json.dumps(body))
    if data.draw(st.booleans()):
        *parents, last = data.draw(st.sampled_from(string_paths(copy)))
        target: Any = copy
        for key in parents:
            target = target[key]
        target[last] += data.draw(hostile_text.filter(bool))
        return copy
    target = copy
    while True:
        key = data.draw(st.sampled_from(sorted(target)))
        child = target[key]
        if isinstance(child, dict) and child and data.draw(st.booleans()):
            target = child
            continue
        how = data.draw(st.sampled_from(["replace", "rename", "add"]))
        if how == "rename":
            target[data.draw(hostile_text)] = target.pop(key)
        elif how == "add" and isinstance(child, dict):
            child[data.draw(hostile_text)] = data.draw(hostile_values)
        else:
            target[key] = data.draw(hostile_values)
        return copy


def stored() -> tuple[Any, ...]:
    from actions.models import Action, ActionExecution, ActionTrigger
    from config.accounts.models import UserToken
    from conversations.models import Bot, Message
    from notifications.models import Notification

    return (
        sorted(map(str, ActionExecution.objects.values_list("pk", "result", "error", "params"))),
        sorted(map(str, Bot.objects.values_list("pk", "allowed_targets"))),
        sorted(map(str, Notification.objects.values_list("pk", "status", "response_data", "metadata"))),
        sorted(map(str, Action.objects.values_list("pk", "version"))),
        ActionTrigger.objects.count(),
        UserToken.objects.count(),
        Message.objects.count(),
    )


@pytest.fixture
def endpoint_world(db: None, settings: Any, loopback_only: list[Any]) -> dict[str, Any]:
    settings.OUTBOUND_ALLOW_PRIVATE = True
    tenant = world.tenant()
    world.action(tenant, action_id="property", target_url="http://127.0.0.1:9/closed")
    execution = world.execution(tenant)
    notification = world.notification(tenant, actions=[{"id": "t", "label": "T", "response_type": "text"}])
    return endpoints(tenant, execution, notification)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint",
    ["propose", "bot", "result", "notify", "invalidate", "login", "respond", "put-action", "trigger"],
)
@ENDPOINT_PROPERTY
@given(data=st.data(), raw_bytes=st.booleans())
def test_no_body_of_arbitrary_unicode_is_a_5xx_or_a_change_when_refused(
    client: Client, endpoint_world: dict[str, Any], endpoint: str, data: st.DataObject, raw_bytes: bool
) -> None:
    cache.clear()  # past the rate limits, to the checks behind them
    method, path, credential, valid = endpoint_world[endpoint]
    body = mutated(valid, data)
    # Escaped (\ud800), as json.dumps writes it, or as the bytes a careless encoder sends.
    raw = (
        json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        if raw_bytes
        else json.dumps(body)
    )
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    before = stored()

    response = getattr(client, method.lower())(path, raw, content_type="application/json", headers=headers)

    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert list(response.json()) == ["error"], response.content[:300]
        assert stored() == before
