"""Routes that exist only in tests, to provoke the framework's errors under each family's prefix."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousFileOperation
from django.db import transaction
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


# Personal data the database quotes back in its error (PostgreSQL: "Key (username)=(...) exists").
DATABASE_ECHO = "zelda.quixote-4711@reliability.example"


class DatabaseErrorApi(PublicApiView):
    def get(self, request: Request) -> Response:
        users = get_user_model().objects
        with transaction.atomic():
            users.create(username=DATABASE_ECHO)
            users.create(username=DATABASE_ECHO)
        return Response({})


class SuspiciousApi(PublicApiView):
    def get(self, request: Request) -> Response:
        raise SuspiciousFileOperation("the caller's path ../../etc/passwd")


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
                path("_test/database-error", DatabaseErrorApi.as_view()),
                path("_test/suspicious", SuspiciousApi.as_view()),
            ]
        ),
    )


urlpatterns = [
    family_routes("v1/"),
    family_routes("api/v1/"),
    family_routes("actions/"),
    path("", include("config.urls")),
]

# The project's error views, as config.urls names them (Django looks them up in the root URLconf).
handler400 = "config.api.handlers.handler400"
handler403 = "config.api.handlers.handler403"
handler404 = "config.api.handlers.handler404"
handler500 = "config.api.handlers.handler500"
