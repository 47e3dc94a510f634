"""PUT and GET /actions/{id} (contract 4): create, version, isolate, refuse bad input."""

import itertools
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from actions.models import Action, ActionVersion
from config.accounts.models import Service
from tests.actions.trigger_factories import ActionFactory
from tests.concurrency import in_threads
from tests.factories import ServiceFactory
from tests.helpers import Api, assert_error, service_key_for

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
BODY = {"target_url": "https://crm.example.com/hooks/decision"}


def versions_of(service: Service, action_id: str) -> list[tuple[int, str, str, int, str]]:
    return list(
        ActionVersion.objects.filter(action__service=service, action__action_id=action_id)
        .order_by("version")
        .values_list("version", "target_url", "fire_on", "timeout_ms", "description")
    )


def test_put_creates_version_1_with_defaults(service_api: Api, service: Service) -> None:
    response = service_api.put("/actions/notify-crm", BODY)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "action_id",
        "action_version",
        "target_url",
        "fire_on",
        "timeout_ms",
        "description",
        "created_at",
        "updated_at",
    }
    assert body["action_id"] == "notify-crm"
    assert body["action_version"] == "1"
    assert body["target_url"] == BODY["target_url"]
    assert body["fire_on"] == "true"
    assert body["timeout_ms"] == 5000
    assert body["description"] == ""
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
    assert versions_of(service, "notify-crm") == [(1, BODY["target_url"], "true", 5000, "")]


def test_put_takes_every_field(service_api: Api) -> None:
    body = {
        "target_url": "http://pager.example.com:8080/escalate?x=1",
        "fire_on": "always",
        "timeout_ms": 30000,
        "description": "Page the on-call person",
    }
    response = service_api.put("/actions/escalate_2", body)
    assert response.status_code == 201
    assert {key: response.json()[key] for key in body} == body


@pytest.mark.parametrize("fire_on", ["true", "false", "always"])
@pytest.mark.parametrize("timeout_ms", [100, 30000])
def test_put_accepts_the_bounds(service_api: Api, fire_on: str, timeout_ms: int) -> None:
    response = service_api.put("/actions/a", {**BODY, "fire_on": fire_on, "timeout_ms": timeout_ms})
    assert response.status_code == 201
    assert (response.json()["fire_on"], response.json()["timeout_ms"]) == (fire_on, timeout_ms)


def test_a_put_that_changes_nothing_keeps_the_version(service_api: Api, service: Service) -> None:
    first = service_api.put("/actions/notify-crm", {**BODY, "description": "CRM"}).json()

    again = service_api.put("/actions/notify-crm", {**BODY, "description": "CRM"})

    assert again.status_code == 200
    assert again.json() == first
    assert len(versions_of(service, "notify-crm")) == 1


def test_every_change_adds_one_version(service_api: Api, service: Service) -> None:
    created = service_api.put("/actions/notify-crm", BODY).json()

    changed = service_api.put("/actions/notify-crm", {**BODY, "timeout_ms": 1000})
    assert changed.status_code == 200
    assert changed.json()["action_version"] == "2"
    assert changed.json()["created_at"] == created["created_at"]
    assert changed.json()["updated_at"] >= created["updated_at"]

    moved = service_api.put("/actions/notify-crm", {"target_url": "https://crm2.example.com/h"})
    # A PUT replaces the action: the omitted timeout_ms is back to its default, in version 3.
    assert moved.json()["action_version"] == "3"
    assert moved.json()["timeout_ms"] == 5000

    assert versions_of(service, "notify-crm") == [
        (1, BODY["target_url"], "true", 5000, ""),
        (2, BODY["target_url"], "true", 1000, ""),
        (3, "https://crm2.example.com/h", "true", 5000, ""),
    ]
    assert Action.objects.get(service=service, action_id="notify-crm").version == 3


@pytest.mark.postgres
def test_a_put_locks_the_action_row_and_not_its_service(service_api: Api) -> None:
    # A lock on the service's row would hold up every insert that references the service (its
    # triggers, notifications, webhook events) until the PUT commits.
    service_api.put("/actions/notify-crm", BODY)

    with CaptureQueriesContext(connection) as captured:
        assert service_api.put("/actions/notify-crm", {**BODY, "timeout_ms": 1000}).status_code == 200

    locking = [query["sql"] for query in captured.captured_queries if "FOR UPDATE" in query["sql"].upper()]
    assert locking, "the PUT takes the action's row lock"
    assert all(Service._meta.db_table not in sql for sql in locking), locking


def test_a_null_description_is_no_description(service_api: Api) -> None:
    service_api.put("/actions/a", {**BODY, "description": "something"})
    response = service_api.put("/actions/a", {**BODY, "description": None})
    assert response.json()["description"] == ""
    assert response.json()["action_version"] == "2"


def test_get_returns_what_put_answered(service_api: Api) -> None:
    put = service_api.put("/actions/notify-crm", {**BODY, "fire_on": "false"}).json()

    response = service_api.get("/actions/notify-crm")

    assert response.status_code == 200
    assert response.json() == put


def test_get_of_an_unknown_action_is_not_found(service_api: Api) -> None:
    error = assert_error(service_api.get("/actions/nothing-here"), 404, "not_found")
    assert error["location"] is None


def test_another_services_action_does_not_exist_for_it(client: Client, service_api: Api) -> None:
    theirs = ActionFactory(action_id="shared-name", target_url="https://theirs.example.com/h")
    assert_error(service_api.get("/actions/shared-name"), 404, "not_found")

    # The same id is free for this service, and its action is its own.
    created = service_api.put("/actions/shared-name", BODY)
    assert created.status_code == 201
    assert created.json()["action_version"] == "1"
    theirs.refresh_from_db()
    assert (theirs.target_url, theirs.version) == ("https://theirs.example.com/h", 1)
    their_api = Api(client, service_key_for(theirs.service))
    assert their_api.get("/actions/shared-name").json()["target_url"] == "https://theirs.example.com/h"


@pytest.mark.parametrize(
    "action_id",
    ["Notify", "-start", "_start", "a" * 65, "a.b", "caf%C3%A9", "a%20b", "a%0A"],
)
def test_a_malformed_id_is_a_parameter_error(service_api: Api, action_id: str) -> None:
    for response in (
        service_api.put(f"/actions/{action_id}", BODY),
        service_api.get(f"/actions/{action_id}"),
    ):
        error = assert_error(response, 400, "parameter_error")
        assert error["location"] == "path.id"
        assert error["suggestion"]
    assert not Action.objects.exists()


def test_the_longest_id_is_accepted(service_api: Api) -> None:
    assert service_api.put(f"/actions/{'a' * 64}", BODY).status_code == 201


@pytest.mark.parametrize(
    ("body", "error_type", "location"),
    [
        ({}, "parameter_error", "body.target_url"),
        ({"target_url": 5}, "type_error", "body.target_url"),
        ({"target_url": None}, "type_error", "body.target_url"),
        ({"target_url": ["https://example.com"]}, "type_error", "body.target_url"),
        ({"target_url": ""}, "parameter_error", "body.target_url"),
        ({"target_url": "ftp://example.com/x"}, "parameter_error", "body.target_url"),
        ({"target_url": "/relative/path"}, "parameter_error", "body.target_url"),
        ({"target_url": "https://"}, "parameter_error", "body.target_url"),
        ({"target_url": "https://exa mple.com/"}, "parameter_error", "body.target_url"),
        ({"target_url": "https://example.com:99999/"}, "parameter_error", "body.target_url"),
        ({"target_url": "https://example.com/" + "x" * 2048}, "parameter_error", "body.target_url"),
        ({**BODY, "fire_on": "maybe"}, "parameter_error", "body.fire_on"),
        ({**BODY, "fire_on": True}, "type_error", "body.fire_on"),
        ({**BODY, "fire_on": None}, "type_error", "body.fire_on"),
        ({**BODY, "timeout_ms": 99}, "parameter_error", "body.timeout_ms"),
        ({**BODY, "timeout_ms": 30001}, "parameter_error", "body.timeout_ms"),
        ({**BODY, "timeout_ms": "5000"}, "type_error", "body.timeout_ms"),
        ({**BODY, "timeout_ms": 5000.5}, "type_error", "body.timeout_ms"),
        ({**BODY, "timeout_ms": True}, "type_error", "body.timeout_ms"),
        ({**BODY, "description": 5}, "type_error", "body.description"),
        ({**BODY, "desc": "typo"}, "parameter_error", "body.desc"),
    ],
)
def test_a_bad_body_names_the_field(
    service_api: Api, body: dict[str, Any], error_type: str, location: str
) -> None:
    error = assert_error(service_api.put("/actions/a", body), 400, error_type)
    assert error["location"] == location
    assert error["suggestion"]
    assert error["message"]
    assert not Action.objects.exists()


def test_a_bad_body_does_not_change_an_existing_action(service_api: Api, service: Service) -> None:
    service_api.put("/actions/a", BODY)
    assert_error(service_api.put("/actions/a", {**BODY, "timeout_ms": 0}), 400, "parameter_error")
    assert versions_of(service, "a") == [(1, BODY["target_url"], "true", 5000, "")]


@pytest.mark.parametrize("raw", ["[1]", "not json", '{"target_url": NaN}', ""])
def test_a_body_that_is_not_a_json_object_is_a_syntax_error(service_api: Api, raw: str) -> None:
    assert_error(service_api.put("/actions/a", raw=raw), 400, "syntax_error")


def test_a_body_not_sent_as_json_is_a_syntax_error(service_api: Api) -> None:
    response = service_api.put(
        "/actions/a", raw='{"target_url": "https://x.example"}', content_type="text/plain"
    )
    assert_error(response, 415, "syntax_error")


def test_a_body_over_64_kib_is_bounds_exceeded(service_api: Api) -> None:
    response = service_api.put("/actions/a", {**BODY, "description": "x" * (64 * 1024)})
    assert_error(response, 413, "bounds_exceeded")


def test_without_a_service_key_it_is_auth_error(api: Api, service_api: Api) -> None:
    service_api.put("/actions/a", BODY)
    assert_error(api.put("/actions/a", BODY), 401, "auth_error")
    assert_error(api.get("/actions/a"), 401, "auth_error")
    assert_error(api.as_("sk_not_a_real_key").get("/actions/a"), 401, "auth_error")


def test_an_unknown_method_or_route_is_not_found(service_api: Api) -> None:
    service_api.put("/actions/a", BODY)
    assert_error(service_api.send("DELETE", "/actions/a"), 405, "not_found")
    assert_error(service_api.get("/actions/a/nothing"), 404, "not_found")
    assert_error(service_api.get("/actions/a/trigger"), 405, "not_found")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_puts_never_write_one_version_twice() -> None:
    service = ServiceFactory()
    secret = service_key_for(service)
    timeouts = [1000, 2000, 3000, 1000, 2000, 3000, 4000, 4000]

    def put(timeout_ms: int) -> int:
        return Api(Client(), secret).put("/actions/raced", {**BODY, "timeout_ms": timeout_ms}).status_code

    statuses = in_threads([lambda timeout_ms=timeout_ms: put(timeout_ms) for timeout_ms in timeouts])

    assert sorted(statuses) == [200] * (len(timeouts) - 1) + [201]
    versions = versions_of(service, "raced")
    numbers = [row[0] for row in versions]
    assert numbers == list(range(1, len(numbers) + 1))
    # Each version differs from the one before it: an unchanged PUT wrote none.
    assert all(a[3] != b[3] for a, b in itertools.pairwise(versions))
    action = Action.objects.get(service=service, action_id="raced")
    assert action.version == numbers[-1]
    assert action.timeout_ms == versions[-1][3]
