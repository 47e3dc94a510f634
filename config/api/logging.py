"""JSON log lines carrying the id of the request that produced them."""

import contextvars
import json
import logging
import traceback
from datetime import UTC, datetime
from types import TracebackType

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime", "request_id"}
)


_PLAIN = (str, int, float, bool, type(None))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            # Only plain values: objects such as the request would drag its query string in.
            if key not in _STANDARD_ATTRS and not key.startswith("_") and isinstance(value, _PLAIN):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None],
    ) -> str:
        """The type and the stack of the error, and of each error it was raised from, never its
        message: a database error's message echoes the values of the statement (a contact form's
        e-mail in a JSON column, say), and an exception's text is the caller's text as often."""
        parts: list[str] = []
        seen: set[int] = set()
        error = ei[1]
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            kind = type(error)
            stack = "".join(traceback.format_tb(error.__traceback__))
            parts.append(f"{kind.__module__}.{kind.__qualname__} (most recent call last):\n{stack}")
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        return "while handling it, or from:\n".join(parts).rstrip("\n")
