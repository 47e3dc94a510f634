"""What every operator command promises (contract 1), kept once: the base class and its arguments.

An `OperatorCommand` implements `operate(**options) -> Report`; the base adds `--json` (the
report's data as one JSON object on standard output, nothing else) or prints the report's lines.
Run from the command line, any refusal is one line on standard error and a non-zero exit status,
never a traceback: a bad argument (the parser's own errors, and the argument types below), a
`CommandError`, a domain error (`ApiError`, or one of the command's `refused` types, whose message
is written for the operator) and an unexpected exception (named by its type; where it happened
goes to the log, never its message, which may quote personal data). Warnings go to standard
error, so `--json` output stays one object. Commands that walk many rows show a progress line on
standard error while it is a terminal (`progress`), never with `--json`.
"""

import ipaddress
import json
import logging
import math
import os
import socket
import sys
import time
import uuid
from argparse import ArgumentTypeError
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, redirect_stdout, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    OutputWrapper,
    SystemCheckError,
    handle_default_options,
)
from django.core.validators import URLValidator
from django.db import connections

from config.api.errors import ApiError
from config.formats import parse_duration, parse_seconds
from config.outbound.client import is_public_address

logger = logging.getLogger(__name__)

OnProgress = Callable[[int], None]
# How often a progress line is rewritten at most: often enough to look alive, rarely enough that
# writing it costs nothing next to the batches it counts.
PROGRESS_SECONDS = 0.1
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class Report:
    """What a command did: `data` for `--json` (its counts, the ids it made), `lines` otherwise."""

    data: dict[str, Any]
    lines: Sequence[str] = ()


class OperatorCommand(BaseCommand):
    # Exceptions (beyond ApiError and CommandError) whose message tells the operator what to fix.
    refused: ClassVar[tuple[type[Exception], ...]] = ()

    as_json = False

    def operate(self, *args: Any, **options: Any) -> Report | None:
        """Do the work and say what was done; None when the command wrote its output as it ran."""
        raise NotImplementedError

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help="Print one JSON object on standard output and nothing else.",
        )
        return parser

    def handle(self, *args: Any, as_json: bool = False, **options: Any) -> None:
        self.as_json = as_json
        refused: tuple[type[Exception], ...] = (ApiError, *self.refused)
        # With --json, whatever else writes to sys.stdout (DEBUG's console e-mails, say) goes to
        # stderr: `self.stdout` was bound to the real stdout before, and writes only the object.
        with redirect_stdout(sys.stderr) if as_json else nullcontext():
            try:
                report = self.operate(*args, **options)
            except refused as error:
                raise CommandError(str(error)) from None
        if report is None:
            return
        if as_json:
            self.stdout.write(json.dumps(report.data))
        else:
            for line in report.lines:
                self.stdout.write(line)

    def warn(self, message: str) -> None:
        self.stderr.write(f"warning: {message}", style_func=self.style.WARNING)

    @contextmanager
    def progress(self, noun: str) -> Iterator[OnProgress | None]:
        """A callback for a service's `on_progress` that shows `noun: N` on a terminal, or None."""
        if self.as_json or not self.stderr.isatty():
            yield None
            return
        line = ProgressLine(self.stderr, noun)
        try:
            yield line.add
        finally:
            line.close()

    def run_from_argv(self, argv: list[str]) -> None:
        """Django's, but every refusal is one line (see the module's docstring)."""
        prog = f"{os.path.basename(argv[0])} {argv[1]}"
        wants_traceback = "--traceback" in argv
        try:
            # Not marked as run from the command line, so a bad argument raises CommandError
            # (written below as one line) instead of printing the usage and exiting.
            parser = self.create_parser(argv[0], argv[1])
            options = parser.parse_args(argv[2:])
            cmd_options = vars(options)
            args = cmd_options.pop("args", ())
            handle_default_options(options)
            self.execute(*args, **cmd_options)
        except SystemCheckError as error:
            self.stderr.write(str(error), lambda text: text)  # a bad setting: the checks' report
            sys.exit(error.returncode)
        except CommandError as error:
            if wants_traceback:
                raise
            message = " ".join(str(error).removeprefix("Error: ").split())
            self.stderr.write(f"{prog}: error: {message}")
            sys.exit(error.returncode)
        except KeyboardInterrupt:
            self.stderr.write(f"{prog}: interrupted")
            sys.exit(130)
        except Exception as error:
            if wants_traceback:
                raise
            logger.error("command failed", exc_info=error, extra={"command": argv[1]})
            self.stderr.write(f"{prog}: error: unexpected {type(error).__name__} (the log says where)")
            sys.exit(1)
        finally:
            with suppress(ImproperlyConfigured):
                connections.close_all()


class ProgressLine:
    """`noun: 12,000` rewritten in place, then wiped, so the terminal keeps only the result."""

    def __init__(self, out: OutputWrapper, noun: str) -> None:
        self.out = out
        self.noun = noun
        self.done = 0
        self.shown_at = -math.inf
        self.shown = False

    def add(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown_at >= PROGRESS_SECONDS:
            self.shown_at = now
            self._write(f"\r{self.noun}: {self.done:,}")
            self.shown = True

    def close(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        self.out.write(text, style_func=str, ending="")
        self.out.flush()


# --- Argument types: each turns one kind of bad argument into the parser's one-line error ---------


def duration(value: str) -> timedelta:
    """A DURATION: `30s`, `15m`, `24h`, `7d`."""
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ArgumentTypeError(str(error)) from None


def positive_seconds(high: float) -> Callable[[str], float]:
    """A number of seconds above 0, up to `high`."""

    def parse(value: str) -> float:
        try:
            return parse_seconds(value, above=True, high=high)
        except ValueError as error:
            raise ArgumentTypeError(str(error)) from None

    return parse


def whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit() or not low <= int(value) <= high:
            raise ArgumentTypeError(f"{value!r} is not a whole number from {low} to {high}")
        return int(value)

    return parse


def name(max_length: int | None) -> Callable[[str], str]:
    """A name people read (its model field's `max_length`): 1 to `max_length` characters, no
    control characters, the spaces around it dropped."""

    def parse(value: str) -> str:
        text = value.strip()
        too_long = max_length is not None and len(text) > max_length
        if not text or too_long or any(ord(char) < 32 or ord(char) == 127 for char in text):
            raise ArgumentTypeError(
                f"{value!r} is not a name: 1 to {max_length} characters, without control characters"
            )
        return text

    return parse


def object_id(what: str) -> Callable[[str], uuid.UUID]:
    """The id (a UUID) of a `what`; whether one exists is the command's to say."""

    def parse(value: str) -> uuid.UUID:
        try:
            return uuid.UUID(value)
        except ValueError:
            raise ArgumentTypeError(f"{value!r} is not the id of a {what} (ids are UUIDs)") from None

    return parse


def http_url(value: str) -> str:
    """An absolute http(s) URL of at most MAX_URL_LENGTH characters (what our URL columns hold)."""
    try:
        if len(value) > MAX_URL_LENGTH:
            raise ValidationError("too long")
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ArgumentTypeError(
            f"{value[:100]!r} is not an http(s) URL of at most {MAX_URL_LENGTH} characters"
        ) from None
    return value


def timestamp(value: str) -> datetime:
    """RFC 3339 (`2026-11-01T00:00:00Z`); without an offset it is UTC, the server's time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a timestamp such as 2026-11-01T00:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def reaches_private_address(url: str) -> bool:
    """Whether the URL's host is, or resolves only to, addresses the outbound client refuses unless
    OUTBOUND_ALLOW_PRIVATE (contract 5). A name that does not resolve (yet) is not said to be."""
    host = urlsplit(url).hostname or ""
    try:
        return not is_public_address(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found}
    return bool(addresses) and not any(is_public_address(address) for address in addresses)
