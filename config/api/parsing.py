"""Strict JSON bodies: an object, at most 64 KiB, sent as application/json, no NaN or Infinity,
no NUL and no lone UTF-16 surrogate."""

import io
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.parsers import BaseParser
from rest_framework.request import Request

from config.api import errors
from config.api.families import family_for_path


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # 1e400 is valid JSON text but no finite number; stored, it would be Infinity.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


# PostgreSQL stores neither U+0000 nor a lone surrogate (U+D800 to U+DFFF) in text or JSON, and a
# lone surrogate is no text at all (it cannot be encoded as UTF-8, so no log, webhook or database
# can carry it): no layer below the parse may ever see one. JSON can only carry either as an
# escape once the bytes are decoded strictly, so the walk runs only when the text holds one.
_FORBIDDEN_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_FORBIDDEN_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def _holds_forbidden(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and _FORBIDDEN_CHARACTER.search(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        # Decoded strictly here: json.loads would decode bytes with "surrogatepass", letting the
        # UTF-8 (or UTF-16) encoding of a lone surrogate through.
        text = raw.decode(json.detect_encoding(raw))
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise errors.InvalidRequest(
            "The body is not valid JSON (NaN, Infinity and numbers beyond a finite float are refused)."
        ) from None
    if not isinstance(data, dict):
        raise errors.InvalidRequest("The body must be a JSON object.")
    if _FORBIDDEN_ESCAPE.search(text) and _holds_forbidden(data):
        raise errors.InvalidRequest(
            "The body is not valid JSON text: strings may not contain the NUL character (U+0000) "
            "or a lone UTF-16 surrogate (\\ud800 to \\udfff without its pair).",
            suggestion="Remove U+0000 and unpaired surrogate escapes from every key and string of the body.",
        )
    return data


def is_json_content_type(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def json_body(request: Request | HttpRequest) -> dict[str, Any]:
    """The request's body as a JSON object, or the family's 413/415/400."""
    django_request = request._request if isinstance(request, Request) else request
    cached = getattr(django_request, "_json_body", None)
    if cached is not None:
        return cached
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise errors.InvalidRequest("Content-Length is not a number.") from None
    if length > settings.API_MAX_BODY_BYTES:
        raise errors.PayloadTooLarge()
    raw = django_request.body
    if not raw.strip():
        raise errors.InvalidRequest("The body is empty; send a JSON object.")
    if not is_json_content_type(django_request.content_type or ""):
        raise errors.UnsupportedMediaType()
    if len(raw) > settings.API_MAX_BODY_BYTES:
        raise errors.PayloadTooLarge()
    data = parse_json_object(raw)
    django_request._json_body = data  # type: ignore[attr-defined]
    return data


class StrictJSONParser(BaseParser):
    """DRF's parser for `request.data`, held to the same rules as `json_body`."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > settings.API_MAX_BODY_BYTES:
            raise errors.PayloadTooLarge()
        return parse_json_object(raw)


class ChunkedBodies:
    """WSGI middleware: a body sent with `Transfer-Encoding: chunked` is read like any other.

    Django reads CONTENT_LENGTH bytes of a body, so without that header it reads none. Where the
    server has decoded the chunks and ends the stream with the body (`wsgi.input_terminated`,
    which gunicorn sets), an API body is read here up to one byte over the 64 KiB limit and handed
    on with its length, so the size guard and the parse see it as if it had one: 413 when more
    arrived, the body otherwise. Other paths are left as they are (a browser sends a length).
    """

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
            and environ.get("wsgi.input_terminated")
            and family_for_path(environ.get("PATH_INFO", "")) is not None
        ):
            raw = environ["wsgi.input"].read(settings.API_MAX_BODY_BYTES + 1)
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
        return self.application(environ, start_response)
