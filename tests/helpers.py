"""What tests share: a JSON client and assertions that read like the contract."""

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client

from config.accounts.models import Service
from config.accounts.services import service_key_issue, user_token_issue


class Api:
    """A test client speaking JSON, with an optional bearer credential."""

    def __init__(self, client: Client, credential: str | None = None) -> None:
        self.client = client
        self.credential = credential

    def as_(self, credential: str | None) -> "Api":
        return Api(self.client, credential)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if self.credential is not None:
            merged.setdefault("Authorization", f"Bearer {self.credential}")
        return merged

    def get(self, path: str, *, headers: dict[str, str] | None = None, **params: Any) -> HttpResponse:
        return self.client.get(path, params or None, headers=self._headers(headers))

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body))
        call = getattr(self.client, method.lower())
        return call(path, data=data, content_type=content_type, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.send("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.send("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.send("PATCH", path, body, **kwargs)


def service_key_for(service: Service) -> str:
    return service_key_issue(service=service).secret


def user_token_for(user: Any) -> str:
    return user_token_issue(user=user).secret


def assert_error(response: HttpResponse, status: int, code: str) -> dict[str, Any]:
    """The response is the error `code` with `status`, in the body of the family of its path."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    if response.wsgi_request.path.startswith("/actions/"):  # type: ignore[attr-defined]
        assert set(error) == {"type", "message", "location", "suggestion"}, error
        assert error["type"] == code, error
    else:
        assert error["code"] == code, error
        assert isinstance(error["message"], str) and error["message"], error
    return error
