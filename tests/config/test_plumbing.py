"""The shared API plumbing: family error bodies, request ids, health, schema, credentials."""

import json

import pytest

from tests.helpers import Api, assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "code"),
    [("/v1/nope", "NOT_FOUND"), ("/api/v1/nope", "NOT_FOUND"), ("/actions/x/y/z/nope", "not_found")],
)
def test_unknown_route_answers_the_family_body(api: Api, path: str, code: str) -> None:
    assert_error(api.get(path), 404, code)


def test_unknown_route_outside_the_apis_is_not_json(api: Api) -> None:
    response = api.get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_request_id_is_echoed_when_well_formed(api: Api) -> None:
    response = api.get("/healthz", headers={"X-Request-ID": "abc-123.x_y"})
    assert response["X-Request-ID"] == "abc-123.x_y"


@pytest.mark.parametrize("offered", ["", "has space", "x" * 129, "semi;colon"])
def test_request_id_is_generated_when_missing_or_malformed(api: Api, offered: str) -> None:
    response = api.get("/healthz", headers={"X-Request-ID": offered} if offered else None)
    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32


def test_request_id_appears_in_the_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="config.request"):
        response = api.get("/healthz", headers={"X-Request-ID": "trace-me-42"})
    records = [r for r in caplog.records if r.name == "config.request"]
    assert [getattr(r, "request_id", None) for r in records] == ["trace-me-42"]
    assert records[0].status == 200  # type: ignore[attr-defined]
    assert response.status_code == 200


def test_log_lines_are_json_without_query_strings(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from config.api.logging import JsonFormatter, RequestIdFilter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("config.request")
    logger.addHandler(handler)
    try:
        api.get("/healthz?email=jane.doe@example.com", headers={"X-Request-ID": "json-line"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == "json-line"
    assert line["path"] == "/healthz"
    assert "jane.doe" not in json.dumps(line)


def test_healthz_and_readyz(api: Api) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok", "static": "ok"}


def test_openapi_schema_and_docs_are_served(api: Api) -> None:
    schema = api.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    assert json.loads(schema.content)["openapi"].startswith("3.")
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_request_bodies_carry_no_description_they_did_not_write(api: Api) -> None:
    # drf-spectacular publishes a serializer's inherited docstring; a base class's notes on how
    # it works are not documentation for the callers of every endpoint.
    schema = json.loads(api.get("/api/schema/", headers={"Accept": "application/json"}).content)
    components = schema["components"]["schemas"]
    for name in ("NotificationCreateInputRequest", "ClientTokenInputRequest"):
        assert "description" not in components[name], name


def test_openapi_schema_validates_without_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in (
        "/v1/bots/{bot_id}/action-executions:",
        "/v1/public/actions/{execution_id}/result:",
        "/api/v1/notifications:",
        "/api/v1/client/respond:",
        "/actions/{action_id}:",
        "/actions/{action_id}/trigger:",
    ):
        assert f"  {path}\n" in schema, path
    assert "bearer" in schema


@pytest.mark.parametrize(
    ("behind_proxy", "forwarded", "remote", "expected"),
    [
        (True, "", "10.0.0.9", "10.0.0.9"),
        (True, "203.0.113.7", "10.0.0.9", "203.0.113.7"),
        (True, "1.1.1.1, 203.0.113.7", "10.0.0.9", "203.0.113.7"),
        (True, "203.0.113.7, not-an-ip", "10.0.0.9", "10.0.0.9"),
        (True, "2001:db8::1", "10.0.0.9", "2001:db8::1"),
        (False, "203.0.113.7", "10.0.0.9", "10.0.0.9"),
        (False, "", "", "0.0.0.0"),
        (False, "", "garbage", "0.0.0.0"),
    ],
)
def test_client_ip_trusts_only_the_hop_our_balancer_added(
    settings, behind_proxy: bool, forwarded: str, remote: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    from config.api.client_ip import client_ip

    settings.BEHIND_TLS_PROXY = behind_proxy
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected
