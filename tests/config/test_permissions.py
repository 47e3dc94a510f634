"""Deny by default: every API view says who may call it, and one that does not serves nobody."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.api.permissions import DenyAll
from config.api.views import ServiceApiView
from tests.helpers import Api, assert_error


class ForgetfulApi(APIView):
    """An API view that names neither its callers' credential nor who may call it."""

    def get(self, request: Any) -> Response:
        return Response({"reached": True})


class UnauthenticatedServiceApi(ServiceApiView):
    """A service view whose authentication was dropped: the permission still wants a service key."""

    authentication_classes = []

    def get(self, request: Any) -> Response:
        return Response({"reached": True})


urlpatterns = [
    path("v1/_test/forgetful", ForgetfulApi.as_view()),
    path("v1/_test/no-auth", UnauthenticatedServiceApi.as_view()),
    path("", include("config.urls")),
]


def api_views(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, type[APIView]]]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern, route)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            if isinstance(view_class, type) and issubclass(view_class, APIView):
                yield route, view_class


def views_that_say_nothing(resolver: URLResolver) -> list[str]:
    """The routes whose DRF view leaves `permission_classes` empty or at the default."""
    default = list(api_settings.DEFAULT_PERMISSION_CLASSES)
    return sorted(
        f"{route} ({view_class.__name__})"
        for route, view_class in api_views(resolver)
        if not view_class.permission_classes or list(view_class.permission_classes) == default
    )


def test_the_default_permission_refuses() -> None:
    assert list(api_settings.DEFAULT_PERMISSION_CLASSES) == [DenyAll]


def test_every_api_view_says_who_may_call_it() -> None:
    routes = [route for route, _view in api_views(get_resolver())]
    assert "actions/<str:action_id>/trigger" in routes  # the walk reaches into every include
    assert views_that_say_nothing(get_resolver()) == []


def test_the_walk_finds_a_view_that_says_nothing() -> None:
    assert views_that_say_nothing(get_resolver(__name__)) == ["v1/_test/forgetful (ForgetfulApi)"]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_view_that_says_nothing_serves_nobody(api: Api) -> None:
    assert_error(api.get("/v1/_test/forgetful"), 403, "FORBIDDEN")


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_service_view_without_authentication_still_wants_a_service_key(api: Api) -> None:
    assert_error(api.get("/v1/_test/no-auth"), 403, "FORBIDDEN")
