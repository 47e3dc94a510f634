"""Bench data, written with set-based SQL (`INSERT ... SELECT generate_series`).

A benchmark needs hundreds of thousands of rows in seconds; going through the ORM row by row
would take minutes. The owners (service, bot, user, credentials, actions) go through the
project's own services; the bulk (fresh pending rows, a million contact submissions) is SQL
written against the models' tables. PostgreSQL only (gen_random_uuid, generate_series).
"""

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Model

from actions.models import ActionExecution
from bench import probes
from config.accounts.models import Service
from config.accounts.services import service_create, user_token_issue
from conversations.models import Bot, Conversation
from conversations.services import bot_create
from notifications.models import Notification, NotificationRecipient

# The widget posts land on these: a contact form whose target is on the bot's allowlist, so a
# `success` passes the allowlist check and the params get masked, as in real traffic.
TARGET_ORIGIN = "https://shop.example.com"
TARGET_URL = f"{TARGET_ORIGIN}/contact"
CONTACT_PARAMS = (
    '{"name": "Jane Doe", "email": "jane.doe@example.com", '
    '"phone": "+1 555 123 4567", "message": "Please call me back."}'
)
MASKED_PARAMS = '{"name": "J***", "email": "j***@example.com", "phone": "+* *** *** **67", "message": "P***"}'

# The scale data: this many bots and conversations share the million rows.
SCALE_BOTS = 10
SCALE_CONVERSATIONS_PER_BOT = 100


@dataclass(frozen=True)
class Owners:
    service: Service
    service_key: str
    bot: Bot
    person: User
    user_token: str
    staff: User


def seed_owners(*, callback_url: str) -> Owners:
    """The service with its key, a bot, a person with a user token and a staff user."""
    service, issued = service_create(name="bench", callback_url=callback_url)
    bot = bot_create(service=service, name="bench-bot", allowed_targets=[TARGET_ORIGIN])
    person = User.objects.create_user(username="bench-person", password=None)
    staff = User.objects.create_user(username="bench-admin", password=None, is_staff=True, is_superuser=True)
    return Owners(
        service=service,
        service_key=issued.secret,
        bot=bot,
        person=person,
        user_token=user_token_issue(user=person).secret,
        staff=staff,
    )


def _ids(sql: str, params: dict[str, Any]) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [str(row[0]) for row in cursor.fetchall()]


def _execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def seed_floor_bots(*, service: Service, count: int, tag: str) -> list[str]:
    """`count` bots for the floor endpoint to select and touch, one per request."""
    return _ids(
        f"""
        INSERT INTO {Bot._meta.db_table} (id, service_id, name, allowed_targets, created_at, updated_at)
        SELECT gen_random_uuid(), %(service)s, 'floor-' || %(tag)s::text || '-' || g, '[]'::jsonb,
               now(), now()
        FROM generate_series(1, %(count)s::int) AS g
        RETURNING id
        """,  # noqa: S608 - table names come from the models, values are parameters
        {"service": service.pk, "count": count, "tag": tag},
    )


def seed_pending_executions(*, bot: Bot, count: int, tag: str) -> list[str]:
    """`count` pending contact-form executions, each in its own conversation with its own visitor.

    One visitor each, because the result post is rate limited per (bot, visitor): the bench
    measures the endpoint, not the limiter refusing it.
    """
    return _ids(
        f"""
        WITH conversation AS (
            INSERT INTO {Conversation._meta.db_table} (id, bot_id, visitor_id, created_at)
            SELECT gen_random_uuid(), %(bot)s, 'bench-' || %(tag)s::text || '-' || g, now()
            FROM generate_series(1, %(count)s::int) AS g
            RETURNING id, visitor_id
        )
        INSERT INTO {ActionExecution._meta.db_table}
            (id, bot_id, conversation_id, visitor_id, kind, label, target_url, params, created_at)
        SELECT gen_random_uuid(), %(bot)s, conversation.id, conversation.visitor_id, 'contact_form',
               'Send the contact form', %(target)s, %(params)s::jsonb, now()
        FROM conversation
        RETURNING id
        """,  # noqa: S608
        {"bot": bot.pk, "count": count, "tag": tag, "target": TARGET_URL, "params": CONTACT_PARAMS},
    )


def _clone_select(model: type[Model], overrides: dict[str, str]) -> tuple[list[str], str]:
    """The columns of `model` and the SELECT list copying a template row with `overrides`."""
    columns = [str(f.column) for f in model._meta.concrete_fields]
    expressions = {"id": "gen_random_uuid()", **overrides}
    unknown = set(expressions) - set(columns)
    if unknown:
        raise ValueError(f"{model.__name__} has no column {sorted(unknown)}")
    return columns, ", ".join(expressions.get(column, f"template.{column}") for column in columns)


def clone_rows(
    *, model: type[Model], template_pk: str, count: int, overrides: dict[str, str], returning: bool = True
) -> list[str]:
    """`count` copies of one row made through the project's own API, a few columns changed.

    Copying a row the API wrote keeps the bench independent of how its owner lays out the JSON
    columns (a notification's normalised actions, say). `overrides` maps a column to an SQL
    expression over the template's columns and `g` (1..count); ids are always fresh.
    """
    columns, select = _clone_select(model, overrides)
    sql = f"""
        INSERT INTO {model._meta.db_table} ({", ".join(columns)})
        SELECT {select}
        FROM {model._meta.db_table} AS template, generate_series(1, %(count)s::int) AS g
        WHERE template.id = %(template)s
        """  # noqa: S608 - names come from the model, the overrides from this package
    params = {"count": count, "template": template_pk}
    if returning:
        return _ids(sql + " RETURNING id", params)
    _execute(sql, params)
    return []


def clone_notifications(*, template_pk: str, count: int, overrides: dict[str, str]) -> list[str]:
    """`clone_rows` for notifications, each copy with the template's recipients (who may read
    and answer it), in one statement."""
    columns, select = _clone_select(Notification, overrides)
    table, links = Notification._meta.db_table, NotificationRecipient._meta.db_table
    return _ids(
        f"""
        WITH copy AS (
            INSERT INTO {table} ({", ".join(columns)})
            SELECT {select}
            FROM {table} AS template, generate_series(1, %(count)s::int) AS g
            WHERE template.id = %(template)s
            RETURNING id, created_at
        ), linked AS (
            INSERT INTO {links} (notification_id, user_id, position, escalated, notification_created_at)
            SELECT copy.id, link.user_id, link.position, link.escalated, copy.created_at
            FROM copy JOIN {links} AS link ON link.notification_id = %(template)s
        )
        SELECT id FROM copy
        """,  # noqa: S608 - names come from the models, the overrides from this package
        {"count": count, "template": template_pk},
    )


def notification_template(*, service_key: str, username: str) -> str:
    """One pending notification for `username` with a binary action `decide`, made through the
    API, to clone."""
    status, payload = probes.api_call(
        "post",
        "/api/v1/notifications",
        {
            "recipient": username,
            "title": "Approve the refund?",
            "description": "Order 1042, 49.90 EUR.",
            "metadata": {"order": 1042},
            "actions": [
                {
                    "id": "decide",
                    "label": "Decide",
                    "response_type": "binary",
                    "options": {"true_label": "Approve", "false_label": "Reject"},
                }
            ],
        },
        service_key,
    )
    if status != 201:
        raise RuntimeError(f"POST /api/v1/notifications answered {status}: {json.dumps(payload)[:200]}")
    return str(payload["notification_id"])


# A reader's inbox: two pages, every other question answered by them (newest first, a
# millisecond apart).
READER_NOTIFICATIONS = 100
ANSWERED_EVERY_OTHER = {
    "created_at": "now() - g * interval '1 millisecond'",
    "status": "CASE WHEN g %% 2 = 1 THEN 'responded' ELSE 'pending' END",
    "response_action_id": "CASE WHEN g %% 2 = 1 THEN 'decide' END",
    "response_data": "CASE WHEN g %% 2 = 1 THEN 'true'::jsonb END",
    "responded_at": "CASE WHEN g %% 2 = 1 THEN now() END",
    "responder_id": "CASE WHEN g %% 2 = 1 THEN template.recipient_id END",
}


def seed_reader_inbox(*, service_key: str, username: str) -> str:
    """The reader's inbox (READER_NOTIFICATIONS, half answered); returns a pending one's id."""
    template = notification_template(service_key=service_key, username=username)
    clone_notifications(template_pk=template, count=READER_NOTIFICATIONS - 1, overrides=ANSWERED_EVERY_OTHER)
    return template


def seed_person(*, username: str) -> str:
    """A person who signs in to the inbox with a password; returns the password."""
    password = secrets.token_urlsafe(16)
    User.objects.create_user(username=username, password=password)
    return password


def write_ids(path: Path, ids: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{value}\n" for value in ids))
    return path


def scale_owners(*, service: Service) -> None:
    """The bots and conversations the contact submissions are spread over (once)."""
    if Conversation.objects.filter(visitor_id__startswith="scale-visitor-").exists():
        return
    for number in range(SCALE_BOTS):
        if not Bot.objects.filter(service=service, name=f"scale-{number}").exists():
            bot_create(service=service, name=f"scale-{number}", allowed_targets=[TARGET_ORIGIN])
    _execute(
        f"""
        INSERT INTO {Conversation._meta.db_table} (id, bot_id, visitor_id, created_at)
        SELECT gen_random_uuid(), bot.id, 'scale-visitor-' || g, now()
        FROM {Bot._meta.db_table} AS bot, generate_series(1, %(per_bot)s::int) AS g
        WHERE bot.name LIKE 'scale-%%'
        """,  # noqa: S608
        {"per_bot": SCALE_CONVERSATIONS_PER_BOT},
    )


def seed_contact_submissions(*, service: Service, total: int) -> int:
    """Grow the contact submissions to `total` rows; returns how many were added.

    A realistic mix, spread over 90 days: 10 % pending (params in clear), the rest completed
    (masked) with every result, delivery status and method, and signal times up to 30 s.
    Deterministic (row number arithmetic), so two runs measure the same data.
    """
    scale_owners(service=service)
    existing = ActionExecution.objects.filter(visitor_id__startswith="scale-").count()
    if existing >= total:
        return 0
    added = _execute(
        f"""
        WITH conversation AS (
            SELECT id, bot_id, (row_number() OVER (ORDER BY id)) - 1 AS n
            FROM {Conversation._meta.db_table} WHERE visitor_id LIKE 'scale-visitor-%%'
        ),
        numbered AS (
            SELECT g,
                   now() - ((g::bigint * 7919) %% 7776000) * interval '1 second' AS created,
                   CASE WHEN g %% 10 = 0 THEN NULL
                        ELSE (ARRAY['success', 'success', 'success', 'success', 'success', 'success',
                                    'failure', 'cancelled', 'expired'])[1 + g %% 9] END AS result
            FROM generate_series(%(first)s::int, %(last)s::int) AS g
        )
        INSERT INTO {ActionExecution._meta.db_table}
            (id, bot_id, conversation_id, visitor_id, kind, label, target_url, params, params_masked_at,
             result, error, delivery_status, delivery_method, signal_source, network_status,
             submit_to_signal_ms, created_at, completed_at)
        SELECT gen_random_uuid(), conversation.bot_id, conversation.id, 'scale-' || g,
               CASE WHEN g %% 3 = 0 THEN 'newsletter' ELSE 'contact_form' END,
               'Send the contact form', %(target)s,
               CASE WHEN result IS NULL THEN %(clear)s::jsonb ELSE %(masked)s::jsonb END,
               CASE WHEN result IS NULL THEN NULL ELSE created + interval '3 seconds' END,
               result,
               CASE WHEN result = 'failure' THEN 'The form did not answer.' END,
               CASE WHEN result IS NULL THEN NULL
                    ELSE (ARRAY['delivered', 'delivered', 'deeplink_opened', 'optimistic',
                                'failed'])[1 + g %% 5] END,
               CASE WHEN result IS NULL THEN NULL
                    ELSE (ARRAY['same_page', 'hidden_iframe', 'deep_link'])[1 + g %% 3] END,
               CASE WHEN result IS NULL THEN NULL ELSE 'widget' END,
               CASE WHEN result IS NULL THEN NULL ELSE 200 END,
               CASE WHEN result IS NULL THEN NULL ELSE (g::bigint * 104729) %% 30000 END,
               created,
               CASE WHEN result IS NULL THEN NULL ELSE created + interval '3 seconds' END
        FROM numbered
        JOIN conversation ON conversation.n = numbered.g %% %(conversations)s::int
        """,  # noqa: S608
        {
            "first": existing + 1,
            "last": total,
            "target": TARGET_URL,
            "clear": CONTACT_PARAMS,
            "masked": MASKED_PARAMS,
            "conversations": SCALE_BOTS * SCALE_CONVERSATIONS_PER_BOT,
        },
    )
    analyze(ActionExecution._meta.db_table)
    return added


def analyze(table: str) -> None:
    """Fresh planner statistics, as autovacuum would have them a minute later."""
    _execute(f"ANALYZE {table}")


def truncate(*models: type[Model]) -> None:
    """Empty these tables (and what refers to them): the scale part sizes them itself."""
    _execute(f"TRUNCATE {', '.join(model._meta.db_table for model in models)} CASCADE")


def delete_floor_bots() -> int:
    """The floor's bots, hundreds of thousands after the HTTP part: no real service has that many.

    (They reach nothing else, so plain SQL removes them in one statement.)
    """
    return _execute(f"DELETE FROM {Bot._meta.db_table} WHERE name LIKE 'floor-%%'")  # noqa: S608


def bench_tables() -> list[str]:
    """The tables the HTTP part fills, to analyze once seeded."""
    models = (Bot, Conversation, ActionExecution, Notification, NotificationRecipient)
    return [model._meta.db_table for model in models]
