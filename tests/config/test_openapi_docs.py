"""The API docs (`/api/schema/`, shown at `/api/docs/`) as their readers need them: every operation
in one family's tag, with a summary and a description of its own; every example valid against the
schema it illustrates; each family's error body documented as the API really renders it."""

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from django.test import Client

from config.api.errors import NotFound, RateLimited
from config.api.families import FAMILIES
from config.api.schema import ERROR_BODIES
from notifications.examples import TYPE_EXAMPLES
from notifications.models import ResponseType
from tests.helpers import Api

pytestmark = pytest.mark.django_db

FAMILY_TAGS = {"widget", "notifications", "actions", "delivery"}
METHODS = {"get", "put", "post", "patch", "delete"}
# The base views' docstrings, which drf-spectacular would publish for an undescribed operation.
DOCSTRING = re.compile(r"^A view (called|anyone)")


@pytest.fixture
def schema(api: Api) -> dict[str, Any]:
    response = api.get("/api/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable: true` is a null alternative."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def examples_with_schemas(schema: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Every example in the schema, with the schema of what it illustrates."""
    for name, operation in operations(schema):
        media_types = [("request", operation.get("requestBody", {}).get("content", {}))]
        media_types += [
            (status, response.get("content", {})) for status, response in operation["responses"].items()
        ]
        for where, content in media_types:
            for media in content.values():
                for key, example in media.get("examples", {}).items():
                    yield f"{name} {where} {key}", example["value"], media["schema"]
        for parameter in operation.get("parameters", []):
            for key, example in parameter.get("examples", {}).items():
                yield f"{name} {parameter['name']} {key}", example["value"], parameter["schema"]


def validator_for(schema: dict[str, Any], target: dict[str, Any]) -> jsonschema.Draft202012Validator:
    # `#/components/...` references resolve against the document the target sits in.
    document = {**as_json_schema(target), "components": as_json_schema(schema["components"])}
    return jsonschema.Draft202012Validator(
        document, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_every_operation_has_one_family_tag_a_summary_and_a_description(schema: dict[str, Any]) -> None:
    assert {tag["name"] for tag in schema["tags"]} == FAMILY_TAGS
    assert all(tag["description"].strip() for tag in schema["tags"])
    seen = set()
    for name, operation in operations(schema):
        assert len(operation["tags"]) == 1 and operation["tags"][0] in FAMILY_TAGS, name
        seen.add(operation["tags"][0])
        assert operation.get("summary", "").strip(), name
        description = operation.get("description", "")
        assert len(description) > 80 and not DOCSTRING.match(description), name
        for parameter in operation.get("parameters", []):
            assert parameter.get("description", "").strip(), f"{name} {parameter['name']}"
    assert seen == FAMILY_TAGS


@pytest.mark.parametrize(
    ("path", "tag"),
    [
        ("/v1/bots/{bot_id}", "widget"),
        ("/v1/public/actions/{execution_id}/result", "widget"),
        ("/api/v1/notifications", "notifications"),
        ("/api/v1/client/respond", "notifications"),
        ("/actions/{action_id}/trigger", "actions"),
        ("/api/v1/webhook-events", "delivery"),
        ("/api/v1/webhook-events/{webhook_id}/replay", "delivery"),
        ("/api/v1/webhook-secret/rotate", "delivery"),
    ],
)
def test_routes_are_tagged_by_their_family(schema: dict[str, Any], path: str, tag: str) -> None:
    assert {operation["tags"][0] for operation in schema["paths"][path].values()} == {tag}


def test_the_schema_endpoints_are_not_operations(schema: dict[str, Any]) -> None:
    assert not [path for path in schema["paths"] if not path.startswith(("/v1/", "/api/v1/", "/actions/"))]


def test_every_example_is_valid_against_its_schema(schema: dict[str, Any]) -> None:
    checked = 0
    for where, value, target in examples_with_schemas(schema):
        errors = [error.message for error in validator_for(schema, target).iter_errors(value)]
        assert not errors, f"{where}: {errors}"
        checked += 1
    assert checked > 100


def test_the_validation_of_examples_can_fail(schema: dict[str, Any]) -> None:
    notification = {"$ref": "#/components/schemas/Notification"}
    body = TYPE_EXAMPLES["binary"]
    valid = next(value for where, value, _ in examples_with_schemas(schema) if "AnsweredBinary" in where)
    assert valid["actions"][0]["id"] == body.sent["id"]
    assert not list(validator_for(schema, notification).iter_errors(valid))
    assert list(validator_for(schema, notification).iter_errors({**valid, "status": "done"}))
    assert list(validator_for(schema, notification).iter_errors({**valid, "created_at": None}))


def test_every_error_answer_has_the_familys_body_and_an_example(schema: dict[str, Any]) -> None:
    bodies = {
        "widget": "#/components/schemas/WidgetError",
        "notifications": "#/components/schemas/NotificationsError",
        "delivery": "#/components/schemas/NotificationsError",
        "actions": "#/components/schemas/ActionsErrorResponse",
    }
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            media = response["content"]["application/json"]
            assert media["schema"] == {"$ref": bodies[operation["tags"][0]]}, f"{name} {status}"
            assert media["examples"], f"{name} {status}"
            assert response["description"].strip(), f"{name} {status}"


@pytest.mark.parametrize(
    "path", ["/v1/no-such-route", "/api/v1/no-such-route", "/actions/no-such-action/no/such/route"]
)
def test_the_documented_error_body_is_what_the_family_renders(
    schema: dict[str, Any], client: Client, path: str
) -> None:
    family = next(family for family in FAMILIES if path.startswith(family.prefix))
    component = {"$ref": f"#/components/schemas/{ERROR_BODIES[family.name].__name__}"}
    validator = validator_for(schema, component)
    answered = client.get(path)
    assert answered.status_code == 404
    assert not list(validator.iter_errors(answered.json()))
    with_details = NotFound("Not here.", details={"field": "x"}, location="body.x", suggestion="Try y.")
    for error in (with_details, RateLimited(retry_after=3)):
        assert not list(validator.iter_errors(family.body(error)))


def test_the_response_type_table_is_in_the_docs(schema: dict[str, Any]) -> None:
    create = schema["paths"]["/api/v1/notifications"]["post"]
    table = [line for line in create["description"].splitlines() if line.startswith("| `")]
    assert [line.split("`")[1] for line in table] == ResponseType.values


def test_each_response_type_has_an_example_request_and_answer(schema: dict[str, Any]) -> None:
    def example_values(operation: dict[str, Any], where: str) -> list[Any]:
        content = operation["requestBody"] if where == "request" else operation["responses"][where]
        return [example["value"] for example in content["content"]["application/json"]["examples"].values()]

    paths = schema["paths"]
    created = example_values(paths["/api/v1/notifications"]["post"], "request")
    shown = example_values(paths["/api/v1/notifications"]["post"], "201")
    answers = example_values(paths["/api/v1/client/respond"]["post"], "request")
    read = example_values(paths["/api/v1/notifications/{notification_id}"]["get"], "200")
    for response_type in ResponseType.values:
        assert any(action["response_type"] == response_type for body in created for action in body["actions"])
        assert any(action["response_type"] == response_type for body in shown for action in body["actions"])
        action_id = TYPE_EXAMPLES[response_type].sent["id"]
        assert any(body["action_id"] == action_id for body in answers), response_type
        assert any(body["response"] and body["response"]["action_id"] == action_id for body in read), (
            response_type
        )
