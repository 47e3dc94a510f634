"""The one place errors become response bodies, for DRF views and for Django itself."""

import logging
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import DisallowedHost as DjangoDisallowedHost
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from config.api import errors
from config.api.families import Family, family_for_path

logger = logging.getLogger("config.api")


def error_response(family: Family, error: errors.ApiError) -> JsonResponse:
    response = JsonResponse(family.body(error), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _from_drf(exc: drf_exceptions.APIException) -> errors.ApiError:
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return errors.Unauthenticated()
    if isinstance(exc, drf_exceptions.PermissionDenied):
        return errors.Forbidden()
    if isinstance(exc, drf_exceptions.NotFound):
        return errors.NotFound()
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return errors.MethodNotAllowed(str(exc.detail))
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return errors.UnsupportedMediaType()
    if isinstance(exc, drf_exceptions.Throttled):
        return errors.RateLimited(retry_after=max(1, int(getattr(exc, "wait", None) or 1)))
    if isinstance(exc, drf_exceptions.ParseError):
        return errors.InvalidRequest(str(exc.detail))
    if isinstance(exc, drf_exceptions.ValidationError):
        return errors.InvalidRequest("The request body is invalid.", details={"fields": exc.detail})
    return errors.InvalidRequest(str(exc.detail))


def as_api_error(exc: BaseException) -> errors.ApiError:
    if isinstance(exc, errors.ApiError):
        return exc
    if isinstance(exc, drf_exceptions.APIException):
        return _from_drf(exc)
    if isinstance(exc, Http404):
        return errors.NotFound()
    if isinstance(exc, PermissionDenied):
        return errors.Forbidden()
    if isinstance(exc, RequestDataTooBig):
        return errors.PayloadTooLarge()
    if isinstance(exc, DjangoDisallowedHost):
        return errors.DisallowedHost()
    # What Django raises about the request itself, before or inside a view: the caller's fault. A
    # SuspiciousOperation's message quotes the caller's text (a header, a file name): not echoed.
    if isinstance(exc, SuspiciousOperation | BadRequest | MultiPartParserError | UnreadablePostError):
        return errors.InvalidRequest()
    logger.error("unhandled exception", exc_info=exc)
    return errors.InternalError()


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context["request"]
    family = family_for_path(request.path)
    error = as_api_error(exc)
    if family is None:
        return Response({"error": {"code": error.code, "message": error.message}}, status=error.status)
    response = Response(family.body(error), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        allowed = context["view"].allowed_methods
        response["Allow"] = ", ".join(allowed)
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return defaults.page_not_found(request, exception or Http404())
    # The path is not quoted back: it is the caller's text.
    return error_response(family, errors.NotFound("There is no such route; see /api/docs/."))


def handler500(request: HttpRequest) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return defaults.server_error(request)
    return error_response(family, errors.InternalError())


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return defaults.bad_request(request, exception or Exception())
    return error_response(family, as_api_error(exception) if exception else errors.InvalidRequest())


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    family = family_for_path(request.path)
    if family is None:
        return defaults.permission_denied(request, exception or PermissionDenied())
    return error_response(family, errors.Forbidden())
