"""The one input path: every request body and query string is validated by an `InputSerializer`.

`from_request` validates the body, `from_query` the query string; what a bad one answers is the
family's (`config.api.families`): the first field in error names itself in the family's way
(`details.field`, `location`), and unknown body keys are refused or dropped as the family says.
"""

import copy
import threading
from typing import Any, ClassVar

from rest_framework import serializers
from rest_framework.request import Request

from config.api.errors import ApiError
from config.api.families import WIDGET, Family, InputProblem, family_for_path
from config.api.fields import TYPE_ERROR_CODES
from config.api.parsing import json_body


def _first_error(errors: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], Any]:
    """The first error of a serializer's `errors`, with the path of names down to it."""
    if isinstance(errors, dict):
        field, nested = next(iter(errors.items()))
        step = () if field == "non_field_errors" else (str(field),)
        return _first_error(nested, path + step)
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        return _first_error(errors[0], path)
    return path, errors[0] if isinstance(errors, list) and errors else errors


def _help_text(serializer: serializers.Serializer, path: tuple[str, ...]) -> str | None:
    field: Any = serializer
    for name in path:
        fields = getattr(field, "fields", None)
        if fields is None or name not in fields:
            return None
        field = fields[name]
    return str(field.help_text) if getattr(field, "help_text", None) else None


class CheapFields(serializers.Serializer):
    # DRF deep-copies every declared field for each serializer it makes, re-creating each field
    # from its arguments; on a hot path that cost more than the validation itself (the result
    # post's body: 270 µs, 117 µs with this). Here each field is copied shallowly: what a field
    # keeps per serializer (its name and parent, set by `bind`) is set on its own copy, and what
    # the copies share (validators, choices, error messages, a list's child) is never changed once
    # the class is made. A nested serializer is still deep-copied, so it gets fields of its own.
    # (Comments, not docstrings: drf-spectacular publishes a serializer's docstring as the
    # description of every body without one of its own.)
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in self._declared_fields.items()
        }


# Each thread's serializer of each output class, its fields bound once.
_renderers = threading.local()


# The shape of a response body, the one definition both the view's rendering and the OpenAPI
# schema read. Rendering changes nothing on the serializer but its context, so `render` reuses
# one serializer per class and thread: binding the fields of a new one cost more than rendering
# (a two-field body: about 50 µs against 10). It returns the plain dict, not `.data`'s copy.
class OutputSerializer(CheapFields):
    @classmethod
    def render(cls, instance: Any, **context: Any) -> Any:
        cache: dict[type[OutputSerializer], OutputSerializer] = _renderers.__dict__.setdefault("by_class", {})
        serializer = cache.get(cls)
        if serializer is None:
            serializer = cache[cls] = cls()
            serializer.fields  # noqa: B018 - bind the fields now, once
        serializer._context = context
        return serializer.to_representation(instance)


# A serializer that only validates input (no instance, no save, no context).
class InputSerializer(CheapFields):
    # Whether a body key no field names is refused; None leaves it to the request's family.
    refuse_unknown: ClassVar[bool | None] = None

    @classmethod
    def from_request(cls, request: Request) -> dict[str, Any]:
        """The request's JSON body, validated; or the family's 400 naming the first problem."""
        family = family_for_path(request.path) or WIDGET
        data = json_body(request)
        refuse_unknown = family.refuses_unknown_fields if cls.refuse_unknown is None else cls.refuse_unknown
        return cls._validated(data, family=family, source="body", refuse_unknown=refuse_unknown)

    @classmethod
    def from_query(cls, request: Request) -> dict[str, Any]:
        """The query string, validated (the last value of a repeated name counts; names no field
        takes are ignored, as links carry such things); or the family's 400."""
        family = family_for_path(request.path) or WIDGET
        return cls._validated(
            request.query_params.dict(), family=family, source="query", refuse_unknown=False
        )

    @classmethod
    def from_form(cls, data: dict[str, Any], *, family: Family) -> dict[str, Any]:
        """The fields of a posted HTML form (the inbox's), validated as the family's body would be
        (names no field takes are ignored: a form posts its buttons and tokens too)."""
        return cls._validated(data, family=family, source="body", refuse_unknown=False)

    @classmethod
    def _validated(
        cls, data: dict[str, Any], *, family: Family, source: str, refuse_unknown: bool
    ) -> dict[str, Any]:
        serializer = cls(data=data)
        if refuse_unknown:
            known = serializer.fields
            for key in data:
                if key not in known:
                    raise cls.input_error(
                        family,
                        InputProblem(
                            source=source, path=(key,), message="", known=tuple(known), unknown=True
                        ),
                    )
        if serializer.is_valid():
            return dict(serializer.validated_data)
        path, detail = _first_error(serializer.errors)
        problem = InputProblem(
            source=source,
            path=path,
            message=str(detail),
            known=tuple(serializer.fields),
            wrong_type=getattr(detail, "code", None) in TYPE_ERROR_CODES,
            error_code=getattr(detail, "code", None),
            help_text=_help_text(serializer, path),
        )
        raise cls.input_error(family, problem)

    @classmethod
    def input_error(cls, family: Family, problem: InputProblem) -> ApiError:
        """The error a problem of this input is; a serializer whose contract names other codes
        for some problems (respond's MISSING_REQUIRED_FIELD) says so here."""
        return family.input_error(problem)
