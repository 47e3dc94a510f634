"""Every operator command as contract 1 says: `--json` prints one object; a bad argument, an unknown
id or an unexpected error is one line on stderr and a non-zero exit, never a traceback; the
warnings; progress on a terminal only."""

import json
import os
import pty
import select
import shlex
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import (
    CommandError,
    call_command,
    execute_from_command_line,
    get_commands,
    load_command_class,
)
from django.utils import timezone
from pytest_django.fixtures import Settings

from actions.models import ActionExecution
from config.accounts.management.commands.seed_demo import MANAGE
from config.commands import OperatorCommand
from config.outbound.models import WebhookEvent
from notifications.models import Notification
from tests.actions.execution_factories import ExecutionFactory
from tests.factories import BotFactory, ServiceFactory, WebhookEventFactory
from tests.notifications.factories import NotificationFactory

ROOT = Path(settings.BASE_DIR)
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"
OPERATOR_COMMANDS = [
    "create_bot",
    "create_service",
    "deliver_webhooks",
    "erase_visitor",
    "expire_executions",
    "expire_notifications",
    "issue_token",
    "purge_data",
    "replay_notifications",
    "rotate_webhook_encryption",
    "run_demo",
    "seed_demo",
]


def command(name: str) -> Any:
    return load_command_class(get_commands()[name], name)


@pytest.mark.parametrize("name", OPERATOR_COMMANDS)
def test_every_operator_command_is_one_and_offers_json(name: str) -> None:
    instance = command(name)
    assert isinstance(instance, OperatorCommand)
    assert "--json" in instance.create_parser("manage.py", name).format_help()


# --- --json: one object on stdout, nothing else ---------------------------------------------------


def aged_execution() -> None:
    execution = ExecutionFactory()
    ActionExecution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - timedelta(days=2))


def overdue_notifications(count: int = 3) -> list[Notification]:
    return [NotificationFactory(deadline=timezone.now() - timedelta(minutes=1)) for _ in range(count)]


def old_delivered_event() -> None:
    event = WebhookEventFactory()
    WebhookEvent.objects.filter(pk=event.pk).update(
        status="delivered", delivered_at=timezone.now() - timedelta(days=60)
    )


def failed_events_of_notifications() -> None:
    for notification in overdue_notifications(2):
        WebhookEventFactory(
            service=notification.service,
            event_type="notification.expired",
            subject_id=notification.pk,
            status="failed",
        )


def json_of(*args: str, stdin: str | None = None) -> dict[str, Any]:
    out, err = StringIO(), StringIO()
    call_command(*args, "--json", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, out.getvalue()
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "setup", "keys"),
    [
        (["create_service", "crm"], None, {"service_id", "api_key", "webhook_secret"}),
        (["create_bot", "Site", "--service", "{service}", "--allow", "https://a.example"], None, {"bot_id"}),
        (["issue_token", "robin", "--create"], None, {"username", "token"}),
        (["rotate_webhook_encryption"], None, {"services"}),
        (["expire_notifications"], overdue_notifications, {"expired", "defaulted", "escalated", "dry_run"}),
        (["replay_notifications", "--failed"], failed_events_of_notifications, {"queued", "skipped_purged"}),
        (["expire_executions", "--older-than", "24h"], aged_execution, {"expired", "dry_run"}),
        (["erase_visitor", "visitor-1", "--bot", "{bot}"], None, {"erased", "dry_run"}),
        (["purge_data"], old_delivered_event, {"purged", "dry_run"}),
        (["deliver_webhooks", "--once"], None, {"webhooks", "emails"}),
        (["seed_demo"], None, {"service_id", "service_key", "username", "user_token", "base_url"}),
    ],
)
def test_json_is_one_object_with_the_counts_and_ids(
    settings: Settings, args: list[str], setup: Callable[[], object] | None, keys: set[str]
) -> None:
    settings.DEBUG = True  # seed_demo's condition
    if setup is not None:
        setup()
    service, bot = ServiceFactory(name="owner"), BotFactory()
    result = json_of(*(arg.format(service=service.name, bot=bot.pk) for arg in args))
    assert keys <= set(result)


@pytest.mark.django_db
def test_the_json_counts_are_the_counts_printed() -> None:
    overdue_notifications(3)
    assert json_of("expire_notifications", "--dry-run")["expired"] == 3
    out = StringIO()
    call_command("expire_notifications", stdout=out)
    assert out.getvalue().splitlines()[0] == "3 notifications expired"


# --- the warnings, on stderr (so --json stays one object) -------------------------------------------


def run_capturing(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_create_bot_without_allow_warns_that_every_action_is_refused() -> None:
    ServiceFactory(name="owner")
    out, err = run_capturing("create_bot", "Site", "--service", "owner", "--json")
    assert "warning: no --allow" in err and "refused" in err
    assert json.loads(out)["bot_id"]
    _out, err = run_capturing("create_bot", "Other", "--service", "owner", "--allow", "https://a.example")
    assert err == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hooks", "https://10.1.2.3/hooks", "http://localhost/hooks", "http://[::1]/"],
)
def test_create_service_warns_of_a_private_callback(settings: Settings, url: str) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = False
    out, err = run_capturing("create_service", "svc", "--callback-url", url, "--json")
    assert "warning:" in err and "OUTBOUND_ALLOW_PRIVATE" in err
    assert json.loads(out)["service_id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "allow_private"),
    [
        ("https://93.184.215.14/hooks", False),
        ("https://crm.example/hooks", False),
        ("http://127.0.0.1/", True),
    ],
)
def test_create_service_does_not_warn_of_a_public_or_allowed_callback(
    settings: Settings, url: str, allow_private: bool
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE = allow_private
    _out, err = run_capturing("create_service", "svc", "--callback-url", url)
    assert err == ""


# --- unknown ids: refused, nothing done -----------------------------------------------------------


@pytest.mark.django_db
def test_replay_of_an_unknown_id_says_so_and_queues_nothing() -> None:
    known = NotificationFactory()
    event = WebhookEventFactory(
        service=known.service, event_type="notification.expired", subject_id=known.pk, status="failed"
    )
    with pytest.raises(CommandError, match=f"no notification with the id {UNKNOWN_ID}"):
        run_capturing("replay_notifications", "--id", str(known.pk), "--id", UNKNOWN_ID)
    event.refresh_from_db()
    assert event.status == "failed"


# --- progress: on a terminal's stderr only, never with --json --------------------------------------


def old_services() -> None:
    for _ in range(3):
        ServiceFactory()


PROGRESS = [
    (["expire_notifications"], overdue_notifications, "notifications swept: 3"),
    (["expire_executions"], aged_execution, "executions expired: 1"),
    (["replay_notifications", "--failed"], failed_events_of_notifications, "events queued: 2"),
    (["purge_data"], old_delivered_event, "rows purged: 1"),
    (["rotate_webhook_encryption"], old_services, "services re-encrypted: 3"),
]


def on_a_terminal(*args: str) -> tuple[str, str]:
    """Run with stderr on a pseudo-terminal; (stdout, what the terminal received)."""
    controller, terminal = pty.openpty()
    out = StringIO()
    try:
        with os.fdopen(terminal, "w", closefd=False) as stderr:
            call_command(*args, stdout=out, stderr=stderr)
        received = b""
        while select.select([controller], [], [], 0)[0]:
            chunk = os.read(controller, 65536)
            if not chunk:
                break
            received += chunk
    finally:
        os.close(controller)
        os.close(terminal)
    return out.getvalue(), received.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "setup", "progress"), PROGRESS)
def test_long_commands_show_progress_on_a_terminal(
    args: list[str], setup: Callable[[], object], progress: str
) -> None:
    setup()
    out, terminal = on_a_terminal(*args)
    assert f"\r{progress}" in terminal
    assert terminal.endswith("\r\x1b[K"), "the line is wiped, leaving the result alone"
    assert progress not in out


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "setup", "progress"), PROGRESS)
def test_no_progress_with_json_or_off_a_terminal(
    args: list[str], setup: Callable[[], object], progress: str
) -> None:
    setup()
    out, terminal = on_a_terminal(*args, "--json")
    assert terminal == ""
    json.loads(out)
    _out, err = run_capturing(*args)
    assert err == ""


# --- from the command line: exit status and one line on stderr -----------------------------------


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite database of its own for `manage.py` subprocesses."""
    database = tmp_path_factory.mktemp("cli") / "cli.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DEBUG="true", DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{database}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["expire_executions", "--older-than", "5x"], "not a duration"),
        (["expire_executions", "--older-than=-5m"], "not a duration"),
        (["expire_executions", "--older-than", "-5m"], "--older-than"),
        (["create_service", ""], "not a name"),
        (["create_service", "tab\there"], "not a name"),
        (["create_service", "svc", "--callback-url", "ftp://files.example"], "not an http(s) URL"),
        (["create_bot", "   ", "--service", "svc"], "not a name"),
        (["create_bot", "Site", "--service", "ghost"], "no service"),
        (["create_bot", "Site"], "required"),
        (["issue_token", "has space", "--create"], "not a username"),
        (["issue_token", "nobody"], "--create"),
        (["replay_notifications", "--id", "nope"], "not the id of a notification"),
        (["replay_notifications", "--id", UNKNOWN_ID], "no notification with the id"),
        (["replay_notifications", "--service", "ghost"], "no service"),
        (["replay_notifications", "--since", "last tuesday"], "not a timestamp"),
        (["replay_notifications"], "Choose what to replay"),
        (["erase_visitor", "v", "--bot", "nope"], "not the id of a bot"),
        (["erase_visitor", "v", "--bot", UNKNOWN_ID], "no bot with the id"),
        (["purge_data", "--batch-size", "0"], "not a whole number"),
        (["deliver_webhooks", "--once", "--poll-interval", "-1"], "--poll-interval"),
        (["deliver_webhooks", "--once", "--poll-interval", "nan"], "not a number of seconds"),
        (["seed_demo", "--base-url", "localhost:8000"], "not an http(s) URL"),
        (["run_demo", "--port", "0"], "is not a port"),
        (["run_demo", "--host", "not a host"], "is not a host name"),
        (["expire_notifications", "--no-such-option"], "unrecognized arguments"),
    ],
)
@pytest.mark.django_db
def test_a_bad_argument_is_one_line_on_stderr_and_a_failure(
    settings: Settings, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    """As manage.py runs them (`execute_from_command_line`), in this process: quicker than one
    process per case; the next test checks the same in a real `manage.py` process."""
    settings.DEBUG = True  # the demo commands' condition, checked after their arguments
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", *args, "--json"])
    assert exited.value.code not in (0, None)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"manage.py {args[0]}: error: ")
    assert says in err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_bad_argument_fails_a_manage_py_process_in_one_line(
    cli_env: dict[str, str], json_flag: list[str]
) -> None:
    result = manage(cli_env, "replay_notifications", "--id", UNKNOWN_ID, *json_flag)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"manage.py replay_notifications: error: there is no notification with the id {UNKNOWN_ID}\n"
    )


def test_an_unexpected_error_is_named_in_one_line_and_logged_without_its_message(
    cli_env: dict[str, str],
) -> None:
    # A database that is not there: psycopg's message would name the host, port and user.
    unreachable = {**cli_env, "DATABASE_URL": "postgres://someone@127.0.0.1:1/nowhere"}
    result = manage(unreachable, "expire_notifications", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    *logged, said = result.stderr.splitlines()
    assert said == "manage.py expire_notifications: error: unexpected OperationalError (the log says where)"
    assert "Traceback" not in result.stderr
    record = json.loads(logged[-1])
    assert record["message"] == "command failed" and "OperationalError" in record["exc_info"]
    assert "someone" not in result.stderr and "nowhere" not in result.stderr


def test_help_still_exits_zero(cli_env: dict[str, str]) -> None:
    result = manage(cli_env, "replay_notifications", "--help")
    assert result.returncode == 0 and "--json" in result.stdout


@pytest.mark.django_db
def test_every_printed_hint_runs_as_printed(settings: Settings, cli_env: dict[str, str]) -> None:
    """`make run`'s hints that run a command say `.venv/bin/python manage.py` and run from the project."""
    settings.DEBUG = True
    out, _err = run_capturing("seed_demo")
    hints = [line.strip() for line in out.splitlines() if "manage.py" in line]
    assert hints
    for hint in hints:
        command_line = hint[hint.index(MANAGE) :]
        args = shlex.split(command_line)
        assert args[:2] == [".venv/bin/python", "manage.py"], hint
        assert (ROOT / args[0]).exists()
        result = subprocess.run(args, cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{hint}\n{result.stderr}"


def readme_command_lines() -> list[list[str]]:
    """Every `.venv/bin/python manage.py ...` the README's shell blocks show, as arguments."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        for part in line.split("|"):
            words = shlex.split(part.split("#")[0]) if MANAGE in part else []
            if words[:2] == [".venv/bin/python", "manage.py"] and words[2:]:
                found.append(words[2:])
    return found


def test_the_readme_shows_every_operator_command_it_names_with_arguments_they_take() -> None:
    shown = readme_command_lines()
    assert {"create_service", "create_bot", "issue_token", "purge_data"} <= {args[0] for args in shown}
    for name, *args in shown:
        parser = command(name).create_parser("manage.py", name)
        parser.parse_args(args)  # a CommandError here is a README line that would not run
