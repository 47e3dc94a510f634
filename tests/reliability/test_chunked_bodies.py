"""Bodies sent with `Transfer-Encoding: chunked` (no Content-Length) are read like any other, the
64 KiB limit applied to what arrives (contract 0): against gunicorn, which decodes the chunks, and
through the WSGI application as any server that does so hands them over."""

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from actions.models import ActionExecution
from tests.reliability import world
from tests.reliability.conftest import Gunicorn

TIMEOUT = 30
LIMIT = 64 * 1024


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    """A generator body: requests sends it chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post_chunked(url: str, body: bytes) -> requests.Response:
    response = requests.post(
        url, data=chunks(body), headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert "chunked" in response.request.headers.get("Transfer-Encoding", "")
    assert "Content-Length" not in response.request.headers
    return response


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunked_result_post_is_recorded(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    execution = world.execution(tenant)
    body = json.dumps({"result": "success", "contactMetadata": {"deliveryStatus": "delivered"}}).encode()

    response = post_chunked(f"{gunicorn.url}/v1/public/actions/{execution.pk}/result", body)

    assert response.status_code == 200, response.text
    execution.refresh_from_db()
    assert (execution.result, execution.delivery_status) == ("success", "delivered")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_64_kib_is_413_and_one_of_64_kib_is_read(gunicorn: Gunicorn) -> None:
    tenant = world.tenant()
    url = f"{gunicorn.url}/api/v1/notifications"
    headers = {**world.bearer(tenant.key), "Content-Type": "application/json"}
    base = {"recipient": tenant.person.username, "title": "T", "actions": [world.APPROVE], "metadata": {}}
    padding = LIMIT - len(json.dumps({**base, "metadata": {"pad": ""}}).encode())
    exact = json.dumps({**base, "metadata": {"pad": "x" * padding}}).encode()
    assert len(exact) == LIMIT

    accepted = requests.post(url, data=chunks(exact), headers=headers, timeout=TIMEOUT)
    refused = requests.post(url, data=chunks(exact + b" "), headers=headers, timeout=TIMEOUT)

    assert accepted.status_code == 201, accepted.text
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def wsgi_post(path: str, body: bytes, **environ: Any) -> tuple[str, dict[str, Any]]:
    """POST through the project's WSGI application as a server that decoded the chunks hands it."""
    # Imported by a test with database access: the import runs the system checks, which on SQLite
    # ask the database whether it supports JSON.
    from config.wsgi import application

    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"] = status

    request = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **environ,
    }
    content = b"".join(application(request, start_response))
    return answer["status"], json.loads(content)


# Transactional: the application closes the database connection at the end of each request.
@pytest.mark.django_db(transaction=True)
def test_the_wsgi_application_reads_a_decoded_chunked_body(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost"]
    tenant = world.tenant()
    execution = world.execution(tenant)
    path = f"/v1/public/actions/{execution.pk}/result"

    status, body = wsgi_post(path, b'{"result": "cancelled"}')

    assert (status, body) == ("200 OK", {"ok": True, "result": "cancelled"})
    assert ActionExecution.objects.get(pk=execution.pk).result == "cancelled"


# Transactional: the application closes the database connection at the end of each request.
@pytest.mark.django_db(transaction=True)
def test_the_wsgi_application_refuses_a_chunked_body_over_64_kib(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost"]
    status, body = wsgi_post("/api/v1/client/token", b" " * LIMIT + b'{"username": "a", "password": "b"}')

    assert status.startswith("413"), (status, body)
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.django_db(transaction=True)
def test_a_stream_the_server_did_not_terminate_is_not_read(settings: Any) -> None:
    # Without wsgi.input_terminated, reading past a missing length could wait for the client forever.
    settings.ALLOWED_HOSTS = ["localhost"]
    status, body = wsgi_post(
        "/api/v1/client/token", b'{"username": "a", "password": "b"}', **{"wsgi.input_terminated": False}
    )

    assert status.startswith("400"), (status, body)
    assert body["error"]["code"] == "INVALID_REQUEST"
