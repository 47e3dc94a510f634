"""With DEBUG on (`make run`), the APIs still answer routing errors in their family's body (contract 0).

Django answers a routing miss with its technical 404 page when DEBUG is on, whatever handler404
says; only the pages outside the APIs may keep it.
"""

import uuid

import pytest
from django.test import Client

from tests.factories import ServiceFactory, UserFactory
from tests.helpers import Api, assert_error, service_key_for, user_token_for

pytestmark = pytest.mark.django_db

# A real route of each family, a method it does not take, the credential it needs, and how the
# family spells 404 and 405.
FAMILIES = {
    "/v1/": ("/v1/public/actions/{id}/result", "delete", None, "NOT_FOUND", "METHOD_NOT_ALLOWED"),
    "/api/v1/": ("/api/v1/client/respond", "put", "user", "NOT_FOUND", "METHOD_NOT_ALLOWED"),
    "/actions/": ("/actions/{id}/trigger", "delete", "service", "not_found", "not_found"),
}
PREFIXES = list(FAMILIES)


@pytest.fixture
def api() -> Api:
    """A client that sends no CSRF token and is checked for one, as a real API caller."""
    return Api(Client(enforce_csrf_checks=True))


@pytest.fixture(autouse=True)
def _debug(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True


@pytest.mark.parametrize("prefix", PREFIXES)
# No route of any family is four segments deep (`/actions/nope` is an action's route).
@pytest.mark.parametrize("rest", ["a/b/c/nope", "a/b/c/nope/", "", "a/b/c/a%0Ab"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_route_is_the_family_404(api: Api, prefix: str, rest: str, method: str) -> None:
    """Any method, POST too: no CSRF page, and no APPEND_SLASH redirect (which refuses a POST)."""
    path = f"{prefix}{rest}"
    response = api.get(path) if method == "get" else api.send(method, path, raw="{}")
    assert_error(response, 404, FAMILIES[prefix][3])


@pytest.mark.parametrize("path", ["/v1", "/api/v1", "/actions"])
def test_a_family_prefix_without_its_slash_is_the_family_404(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    # assert_error tells the actions family by its path's slash.
    error = response.json()["error"]
    assert error.get("type", error.get("code")) == FAMILIES[f"{path}/"][3]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_wrong_method_is_the_family_405(api: Api, prefix: str) -> None:
    route, method, credential, _, code = FAMILIES[prefix]
    if credential == "user":
        api = api.as_(user_token_for(UserFactory()))
    elif credential == "service":
        api = api.as_(service_key_for(ServiceFactory()))
    response = api.send(method, route.format(id=uuid.uuid4()), raw="{}")
    assert_error(response, 405, code)
    assert response["Allow"]


def test_the_same_view_answers_with_debug_off(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    assert_error(api.get("/api/v1/nope"), 404, "NOT_FOUND")


@pytest.mark.parametrize("path", ["/no-such-page", "/v1x/nope", "/api/nope", "/actionsx"])
def test_pages_outside_the_apis_keep_the_technical_404(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"URLconf" in response.content
