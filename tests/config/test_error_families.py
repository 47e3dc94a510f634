"""Every framework error under a family's prefix answers in that family's body (contract 0)."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from config.accounts.services import credential_revoke
from config.api.logging import JsonFormatter, RequestIdFilter
from tests.config.error_urls import DATABASE_ECHO
from tests.helpers import Api, assert_error, service_key_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.error_urls")]

FAMILIES = {
    "/v1/": {
        "invalid": "INVALID_REQUEST",
        "media": "UNSUPPORTED_MEDIA_TYPE",
        "large": "PAYLOAD_TOO_LARGE",
        "method": "METHOD_NOT_ALLOWED",
        "internal": "INTERNAL_ERROR",
        "auth": "UNAUTHENTICATED",
        "host": "INVALID_REQUEST",
    },
    "/api/v1/": {
        "invalid": "INVALID_REQUEST",
        "media": "UNSUPPORTED_MEDIA_TYPE",
        "large": "PAYLOAD_TOO_LARGE",
        "method": "METHOD_NOT_ALLOWED",
        "internal": "INTERNAL_ERROR",
        "auth": "AUTH_INVALID_TOKEN",
        "host": "INVALID_REQUEST",
    },
    "/actions/": {
        "invalid": "syntax_error",
        "media": "syntax_error",
        "large": "bounds_exceeded",
        "method": "not_found",
        "internal": "execution_error",
        "auth": "auth_error",
        "host": "parameter_error",
    },
}
PREFIXES = list(FAMILIES)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_json_object_is_accepted(api: Api, prefix: str) -> None:
    response = api.post(f"{prefix}_test/echo", {"a": 1})
    assert response.status_code == 200
    assert response.json() == {"received": {"a": 1}}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        "",
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(api: Api, prefix: str, raw: str) -> None:
    assert_error(api.post(f"{prefix}_test/echo", raw=raw), 400, FAMILIES[prefix]["invalid"])


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_not_sent_as_json_is_refused(api: Api, prefix: str, content_type: str) -> None:
    response = api.post(f"{prefix}_test/echo", raw='{"a": 1}', content_type=content_type)
    expected_status = 415
    assert_error(response, expected_status, FAMILIES[prefix]["media"])


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_body_over_64_kib_is_refused(api: Api, prefix: str) -> None:
    response = api.post(f"{prefix}_test/echo", {"padding": "x" * (64 * 1024)})
    assert_error(response, 413, FAMILIES[prefix]["large"])


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_body_of_exactly_64_kib_is_accepted(api: Api, prefix: str) -> None:
    overhead = len('{"padding": ""}')
    response = api.post(f"{prefix}_test/echo", {"padding": "x" * (64 * 1024 - overhead)})
    assert response.status_code == 200


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_wrong_method_is_refused_with_allow(api: Api, prefix: str) -> None:
    response = api.send("DELETE", f"{prefix}_test/echo")
    assert_error(response, 405, FAMILIES[prefix]["method"])
    assert "POST" in response["Allow"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_an_uncaught_exception_is_a_500_in_the_family_body(
    api: Api, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = api.get(f"{prefix}_test/boom")
    error = assert_error(response, 500, FAMILIES[prefix]["internal"])
    assert "sk_do_not_leak" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error  # the body names no exception text, only that it went wrong
    assert any(record.exc_info for record in caplog.records), "the bug is logged for us"


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer sk_unknown",
        "Bearer ut_not_a_service_key",
        "sk_no_scheme",
    ],
)
def test_a_missing_or_unknown_service_key_is_401(api: Api, prefix: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else None
    assert_error(api.get(f"{prefix}_test/whoami", headers=headers), 401, FAMILIES[prefix]["auth"])


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_valid_service_key_authenticates(service_api: Api, prefix: str, service) -> None:  # type: ignore[no-untyped-def]
    response = service_api.get(f"{prefix}_test/whoami")
    assert response.status_code == 200
    assert response.json() == {"service": service.name}


def test_a_revoked_service_key_is_401(api: Api, service) -> None:  # type: ignore[no-untyped-def]
    secret = service_key_for(service)
    assert api.as_(secret).get("/v1/_test/whoami").status_code == 200
    credential_revoke(credential=service.keys.get())
    assert_error(api.as_(secret).get("/v1/_test/whoami"), 401, "UNAUTHENTICATED")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log line, of every logger, as the server writes them (config.api.logging)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("path", ["_test/whoami", "_test/echo", "no-such-route"])
def test_a_host_outside_allowed_hosts_is_400_in_the_family_body(api: Api, prefix: str, path: str) -> None:
    for method in ("get", "post"):
        response = getattr(api.client, method)(f"{prefix}{path}", HTTP_HOST="attacker.example")
        assert_error(response, 400, FAMILIES[prefix]["host"])
        assert "attacker.example" not in response.content.decode()


def test_a_host_outside_allowed_hosts_is_400_on_every_real_route(api: Api) -> None:
    for path in ("/v1/bots/x", "/api/v1/client/token", "/actions/x/trigger"):
        response = api.client.post(path, "{}", content_type="application/json", HTTP_HOST="attacker.example")
        assert response.status_code == 400, (path, response.content)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_suspicious_operation_is_400_without_its_text(api: Api, prefix: str) -> None:
    response = api.get(f"{prefix}_test/suspicious")
    assert_error(response, 400, FAMILIES[prefix]["invalid"])
    assert "passwd" not in response.content.decode()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_database_error_is_logged_by_type_and_place_never_with_the_values_it_echoes(
    api: Api, prefix: str, json_log: io.StringIO
) -> None:
    response = api.get(f"{prefix}_test/database-error")

    assert_error(response, 500, FAMILIES[prefix]["internal"])
    assert DATABASE_ECHO not in response.content.decode()
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    [logged] = [line for line in lines if line["message"] == "unhandled exception"]
    assert "django.db.utils.IntegrityError" in logged["exc_info"]
    assert "error_urls.py" in logged["exc_info"] and "in get" in logged["exc_info"]
    assert DATABASE_ECHO not in json_log.getvalue()
    assert "zelda" not in json_log.getvalue()


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("url", ["_test/whoami?cursor=a%00b", "_test/who%00ami"])
def test_a_nul_in_the_url_is_400_in_the_family_body(api: Api, prefix: str, url: str) -> None:
    assert_error(api.get(f"{prefix}{url}"), 400, FAMILIES[prefix]["invalid"])
