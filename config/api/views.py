"""Base views shared by the three families, and the health endpoints."""

import functools
import logging

from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from config.accounts.models import Service
from config.api.authentication import ServiceKeyAuthentication, UserTokenAuthentication
from config.api.handlers import handler404
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


@csrf_exempt
def unknown_route(request: HttpRequest) -> HttpResponse:
    """A path under an API prefix that no route takes: the family's 404, whatever the method.

    Mounted last (`config.urls`), so a routing miss under a family is a view like any other and
    answers the same with DEBUG on and off: with DEBUG on, Django would answer it with its
    technical page instead of `handler404`. No CSRF check: the APIs are not cookie-authenticated,
    and the check's refusal would be an HTML page.
    """
    return handler404(request)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def static_files_collected() -> bool:
    """Whether the static files' manifest is loaded, where the storage needs one (DEBUG off).

    Without it (`collectstatic` not run before the server started) every page that names a static
    file, the whole admin, is a 500. The storage reads its manifest once, when it is created, so
    the process stays unready until it is restarted after `collectstatic`.
    """
    if not isinstance(staticfiles_storage, ManifestFilesMixin) or staticfiles_storage.hashed_files:
        return True
    _report_missing_manifest(staticfiles_storage.path(staticfiles_storage.manifest_name))
    return False


@functools.cache
def _report_missing_manifest(path: str) -> None:
    """Once per process (and manifest): readiness probes come every few seconds."""
    logger.error(
        "readiness: the static files are not collected; run manage.py collectstatic, then restart",
        extra={"manifest": path},
    )


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
    checks["static"] = "ok" if static_files_collected() else "not collected"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
