"""Who may see what: another service's objects answer exactly like missing ones, another person's
notification is 403 NOTIFICATION_ACCESS_DENIED, and every bad credential is the family's 401."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.http import HttpResponse

from actions.models import ActionTrigger
from config.accounts.models import ServiceKey, UserToken
from config.accounts.services import credential_revoke, service_key_rotate, user_token_issue
from tests.helpers import Api, assert_error
from tests.reliability import world

pytestmark = pytest.mark.django_db

PROPOSAL = {
    "visitorId": "visitor-9",
    "kind": "newsletter",
    "label": "Subscribe",
    "targetUrl": "https://example.com/news",
}


def normalised(response: HttpResponse, *ids: str) -> tuple[int, str, Any]:
    """Status, content type and body, with the ids the caller named replaced by a placeholder."""
    text = response.content.decode()
    for value in ids:
        text = text.replace(value, "<ID>")
    return response.status_code, response["Content-Type"], json.loads(text)


@pytest.fixture
def two_tenants() -> tuple[world.Tenant, world.Tenant]:
    return world.tenant(), world.tenant()


Request = Callable[[Api, str], HttpResponse]


def isolation_cases(
    mine: world.Tenant, theirs: world.Tenant
) -> list[tuple[str, Callable[[Api, str], HttpResponse], str, str]]:
    """(name, request given an id, their id, an id nobody has)."""
    execution = world.execution(theirs)
    notification = world.notification(theirs)
    world.action(theirs, action_id="their-action")
    missing = str(uuid.uuid4())
    my_bot = mine.bot.pk
    return [
        ("GET bot", lambda api, i: api.get(f"/v1/bots/{i}"), str(theirs.bot.pk), missing),
        (
            "PATCH bot",
            lambda api, i: api.patch(f"/v1/bots/{i}", {"allowedTargets": ["https://evil.example"]}),
            str(theirs.bot.pk),
            missing,
        ),
        (
            "POST execution on their bot",
            lambda api, i: api.post(f"/v1/bots/{i}/action-executions", PROPOSAL),
            str(theirs.bot.pk),
            missing,
        ),
        (
            "POST execution into their conversation",
            lambda api, i: api.post(
                f"/v1/bots/{my_bot}/action-executions", {**PROPOSAL, "conversationId": i}
            ),
            str(execution.conversation_id),
            missing,
        ),
        (
            "GET execution of their bot",
            lambda api, i: api.get(f"/v1/bots/{theirs.bot.pk}/action-executions/{i}"),
            str(execution.pk),
            missing,
        ),
        (
            "GET their execution under my bot",
            lambda api, i: api.get(f"/v1/bots/{my_bot}/action-executions/{i}"),
            str(execution.pk),
            missing,
        ),
        (
            "GET messages of their conversation",
            lambda api, i: api.get(f"/v1/bots/{theirs.bot.pk}/conversations/{i}/messages"),
            str(execution.conversation_id),
            missing,
        ),
        (
            "GET their conversation under my bot",
            lambda api, i: api.get(f"/v1/bots/{my_bot}/conversations/{i}/messages"),
            str(execution.conversation_id),
            missing,
        ),
        (
            "GET notification",
            lambda api, i: api.get(f"/api/v1/notifications/{i}"),
            str(notification.pk),
            missing,
        ),
        (
            "PATCH notification",
            lambda api, i: api.patch(f"/api/v1/notifications/{i}", {"status": "invalidated", "reason": "x"}),
            str(notification.pk),
            missing,
        ),
        ("GET action", lambda api, i: api.get(f"/actions/{i}"), "their-action", "nobody-action"),
        (
            "POST trigger",
            lambda api, i: api.post(f"/actions/{i}/trigger", {"dry_run": True}),
            "their-action",
            "nobody-action",
        ),
    ]


def test_another_services_objects_answer_exactly_like_missing_ones(
    api: Api, two_tenants: tuple[world.Tenant, world.Tenant]
) -> None:
    mine, theirs = two_tenants
    as_me = api.as_(mine.key)
    for name, request, their_id, missing_id in isolation_cases(mine, theirs):
        foreign = request(as_me, their_id)
        absent = request(as_me, missing_id)
        assert foreign.status_code == 404, (name, foreign.content)
        assert normalised(foreign, their_id) == normalised(absent, missing_id), name

    # Nothing of theirs changed, nothing was made under their bot.
    theirs.bot.refresh_from_db()
    assert theirs.bot.allowed_targets == ["https://example.com"]
    assert theirs.bot.executions.count() == 1
    assert [n.status for n in theirs.service.notifications.all()] == ["pending"]
    assert not ActionTrigger.objects.filter(service=theirs.service).exists()


def test_another_persons_notification_is_access_denied(
    api: Api, two_tenants: tuple[world.Tenant, world.Tenant]
) -> None:
    owner, stranger = two_tenants
    notification = world.notification(owner)
    as_stranger = api.as_(stranger.token)

    assert_error(
        as_stranger.get(f"/api/v1/client/notifications/{notification.pk}"), 403, "NOTIFICATION_ACCESS_DENIED"
    )
    response = as_stranger.post(
        "/api/v1/client/respond",
        {"notification_id": str(notification.pk), "action_id": "approve", "response_data": True},
    )
    assert_error(response, 403, "NOTIFICATION_ACCESS_DENIED")
    assert as_stranger.get("/api/v1/client/notifications").json()["results"] == []
    notification.refresh_from_db()
    assert notification.status == "pending"


FAMILY_CODES = {"/v1/": "UNAUTHENTICATED", "/api/v1/": "AUTH_INVALID_TOKEN", "/actions/": "auth_error"}


def call(api: Api, method: str, path: str, headers: dict[str, str] | None = None) -> HttpResponse:
    if method == "GET":
        return api.get(path, headers=headers)
    return api.send(method, path, {}, headers=headers)


def family_code(path: str) -> str:
    return next(code for prefix, code in FAMILY_CODES.items() if path.startswith(prefix))


def test_revoked_and_malformed_credentials_are_the_familys_401(api: Api) -> None:
    tenant = world.tenant()
    notification = world.notification(tenant)
    world.action(tenant, action_id="guarded")
    revoked_key = tenant.key
    fresh_key = service_key_rotate(service=tenant.service).secret  # revokes every other key
    spare_key = service_key_rotate(service=tenant.service).secret
    credential_revoke(credential=ServiceKey.objects.get(service=tenant.service, revoked_at__isnull=True))
    revoked_token = tenant.token
    credential_revoke(credential=UserToken.objects.get(user=tenant.person))
    tenant.person.is_active = False
    tenant.person.save()
    inactive_persons_token = user_token_issue(user=tenant.person).secret

    service_paths = [
        ("GET", f"/v1/bots/{tenant.bot.pk}"),
        ("POST", f"/v1/bots/{tenant.bot.pk}/action-executions"),
        ("GET", f"/api/v1/notifications/{notification.pk}"),
        ("POST", "/api/v1/notifications"),
        ("GET", "/actions/guarded"),
        ("POST", "/actions/guarded/trigger"),
    ]
    user_paths = [("GET", "/api/v1/client/notifications"), ("POST", "/api/v1/client/respond")]
    bad_headers = {
        "no header": None,
        "empty": "",
        "scheme only": "Bearer",
        "scheme and blank": "Bearer    ",
        "basic": "Basic dXNlcjpwYXNzd29yZA==",
        "unknown key": "Bearer sk_" + "A" * 43,
        "unknown token": "Bearer ut_" + "A" * 43,
        "no prefix": "Bearer " + fresh_key[3:],
        "key with a tail": f"Bearer {fresh_key}x",
        "two credentials": f"Bearer {fresh_key} {fresh_key}",
        "non-ascii": "Bearer sk_ÿÿÿÿ",
        "very long": "Bearer sk_" + "a" * 20_000,
        "revoked by rotation": f"Bearer {revoked_key}",
        "revoked": f"Bearer {spare_key}",
        "revoked token": f"Bearer {revoked_token}",
        "inactive person": f"Bearer {inactive_persons_token}",
    }
    for method, path in service_paths + user_paths:
        for name, header in bad_headers.items():
            headers = {} if header is None else {"Authorization": header}
            response = call(api.as_(None), method, path, headers)
            assert response.status_code == 401, (method, path, name, response.content)
            assert_error(response, 401, family_code(path))
    # Each kind of credential opens only its own door.
    for method, path in service_paths:
        assert_error(call(api.as_(world.tenant().token), method, path), 401, family_code(path))
    for method, path in user_paths:
        assert_error(call(api.as_(world.tenant().key), method, path), 401, family_code(path))


def test_a_401_names_the_bearer_scheme(api: Api) -> None:
    tenant = world.tenant()
    for path in (f"/v1/bots/{tenant.bot.pk}", "/api/v1/client/notifications", "/actions/guarded"):
        response = api.as_(None).get(path)
        assert response.status_code == 401
        assert response.get("WWW-Authenticate", "").startswith("Bearer"), path
