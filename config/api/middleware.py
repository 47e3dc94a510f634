"""Request ids, one log line per request, the body-size guard of the JSON APIs, and the refusal of
URLs holding NUL."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from config.api import errors
from config.api.families import family_for_path
from config.api.handlers import error_response
from config.api.logging import request_id_var

logger = logging.getLogger("config.request")

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
# What a private part of a path becomes in the log line.
REDACTED = "REDACTED"


def loggable_path(request: HttpRequest) -> str:
    """The path, with the parts its view names in `private_path_kwargs` (a visitor id, say)
    replaced by REDACTED."""
    match = getattr(request, "resolver_match", None)
    view_class = getattr(match.func, "view_class", None) if match is not None else None
    private = getattr(view_class, "private_path_kwargs", ())
    if match is None or not private:
        return request.path
    kwargs = {name: REDACTED if name in private else value for name, value in match.kwargs.items()}
    return reverse(match.view_name, kwargs=kwargs)


class RequestIdMiddleware:
    """Echo a well-formed X-Request-ID or make one; log the request once it is answered.

    The log line names the route, never the query string or the body: those may carry personal
    data or credentials; nor the parts of the path a view declares private.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if REQUEST_ID_PATTERN.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": loggable_path(request),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class ApiGuardMiddleware:
    """Refuse an oversized body on the JSON APIs before anything reads it, and a URL holding NUL
    (U+0000) on every page with 400.

    No real URL holds a NUL, and PostgreSQL stores none in text: an admin object id or filter value
    holding one would otherwise reach a query and fail there as a 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            raise BadRequest("A URL may not contain the NUL character (U+0000).")
        family = family_for_path(request.path)
        if family is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(family, errors.InvalidRequest("Content-Length is not a number."))
            if length > settings.API_MAX_BODY_BYTES:
                return error_response(family, errors.PayloadTooLarge())
        return self.get_response(request)
