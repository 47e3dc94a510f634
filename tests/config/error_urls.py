"""Routes that exist only in tests, to provoke the framework's errors under each family's prefix."""

from typing import Any

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.parsing import json_body
from config.api.views import PublicApiView, ServiceApiView


class EchoApi(PublicApiView):
    def post(self, request: Request) -> Response:
        return Response({"received": json_body(request)})


class BoomApi(PublicApiView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("an uncaught bug with a secret inside: sk_do_not_leak")


class WhoAmIApi(ServiceApiView):
    def get(self, request: Request) -> Response:
        return Response({"service": self.service(request).name})


def family_routes(prefix: str) -> Any:
    return path(
        prefix,
        include(
            [
                path("_test/echo", EchoApi.as_view()),
                path("_test/boom", BoomApi.as_view()),
                path("_test/whoami", WhoAmIApi.as_view()),
            ]
        ),
    )


urlpatterns = [
    family_routes("v1/"),
    family_routes("api/v1/"),
    family_routes("actions/"),
    path("", include("config.urls")),
]
