"""Base views shared by the three families, and the health endpoints."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from config.accounts.models import Service
from config.api.authentication import ServiceKeyAuthentication, UserTokenAuthentication
from config.api.permissions import HasServiceKey, HasUserToken

logger = logging.getLogger(__name__)


class ServiceApiView(APIView):
    """A view called by a service with its `sk_` key."""

    authentication_classes = [ServiceKeyAuthentication]
    permission_classes = [HasServiceKey]

    @staticmethod
    def service(request: Request) -> Service:
        return request.auth.service  # type: ignore[union-attr]


class UserApiView(APIView):
    """A view called by a person with their `ut_` token."""

    authentication_classes = [UserTokenAuthentication]
    permission_classes = [HasUserToken]


class PublicApiView(APIView):
    """A view anyone may call, without credentials."""

    authentication_classes = []
    permission_classes = [AllowAny]


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        logger.warning("readiness: database unreachable", extra={"error": type(exc).__name__})
        checks["database"] = "unreachable"
    try:
        cache.set("readyz", "1", timeout=5)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "unreachable"
    except Exception as exc:
        logger.warning("readiness: cache unreachable", extra={"error": type(exc).__name__})
        checks["cache"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
