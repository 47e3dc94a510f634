"""The read paths at scale: a person's inbox and a service's delivery log, at `rows` rows each.

- The inbox (`/inbox/`, contract 9) of one person with `rows` notifications over 90 days, most
  answered or expired, the same few waiting at every size (`INBOX_OPEN`), timed
  in-process with the person's session: first page, a later page, the filters, one notification.
- The delivery log (`/api/v1/webhook-events`, contract 10): `rows` events of the bench service among
  as many of other services, over 30 days (2 % failed, 0.1 % pending), with their attempts: the
  first page, each filter, `since`, cursor pages deep in the log, a detail, then the bulk replay
  of every failed event as one request. Each list request's SQL is run again under
  `EXPLAIN (ANALYZE, BUFFERS)`: its time in the database, and any sequential scan of a big table.

Seeded with set-based SQL (`INSERT ... SELECT generate_series`) from rows the project's own API
wrote (`seeding.clone_rows`), so the bench does not depend on how the JSON columns are laid out.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Model
from django.test import Client
from django.utils import timezone

from bench import probes, report, seeding
from bench.processes import log
from config.accounts.models import Service
from config.accounts.services import service_create
from config.outbound.models import DeliveryAttempt, WebhookEvent
from config.outbound.selectors import EventCursor
from notifications.models import Notification, NotificationRecipient

INBOX = "/inbox/"
EVENTS = "/api/v1/webhook-events"
OTHER_SERVICES = 4
# Cursor pages this deep at a million events, scaled to the size.
DEEP_PAGES = {"cursor_20k": 20_000, "cursor_500k": 500_000}
BIG_TABLES = (
    WebhookEvent._meta.db_table,
    DeliveryAttempt._meta.db_table,
    Notification._meta.db_table,
    NotificationRecipient._meta.db_table,
)


def _execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def _vacuum(*models: type[Model]) -> None:
    """What autovacuum would have done by then: statistics, and the visibility map that lets an
    index-only scan skip the heap."""
    for model in models:
        _execute(f"VACUUM ANALYZE {model._meta.db_table}")


@contextmanager
def _indexes_built_after(*models: type[Model]) -> Iterator[None]:
    """Bulk inserts without the tables' secondary indexes, which are then built once each, from
    sorted rows: faster than keeping five B-trees up to date a row at a time (a million
    notifications and their recipients: 143-177 s here, 260 s before), and the indexes come out
    as a REINDEX leaves them. Primary keys and unique constraints stay."""
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT index.indexrelid::regclass::text, pg_get_indexdef(index.indexrelid)
            FROM pg_index AS index
            WHERE index.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = index.indexrelid)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)


# --- The inbox --------------------------------------------------------------------------------

# What waits for a person does not grow with their history: the same INBOX_OPEN notifications
# are open at every size (half of them without a deadline), so the growth from ten thousand to a
# million measures the history alone. The others are answered (65 %), answered by their default
# outcome (5 %), expired (25 %) or withdrawn (5 %).
INBOX_OPEN = 20
_OPEN = f"g <= {INBOX_OPEN}"
_KIND = (
    f"CASE WHEN {_OPEN} THEN 'open' WHEN g %% 100 < 65 THEN 'answered' "
    "WHEN g %% 100 < 70 THEN 'defaulted' WHEN g %% 100 < 95 THEN 'expired' ELSE 'withdrawn' END"
)
# Open ones came in the last day; the rest over 90 days.
_CREATED = (
    f"now() - (CASE WHEN {_OPEN} THEN g * 3600 ELSE (g::bigint * 7919) %% 7776000 END) * interval '1 second'"
)


def _by_kind(**cases: str) -> str:
    whens = " ".join(f"WHEN '{kind}' THEN {sql}" for kind, sql in cases.items() if kind != "other")
    return f"CASE {_KIND} {whens} ELSE {cases.get('other', 'NULL')} END"


def seed_inbox(*, owners: Any, rows: int) -> dict[str, int]:
    """`rows` notifications for the bench person, each with its recipient row."""
    seeding.truncate(NotificationRecipient, Notification, WebhookEvent, DeliveryAttempt)
    template = seeding.notification_template(service_key=owners.service_key, username=owners.person.username)
    person = owners.person.pk
    with _indexes_built_after(Notification, NotificationRecipient):
        _clone_notifications(template=template, person=person, rows=rows)
        Notification.objects.filter(pk=template).delete()
        _execute(
            f"""
            INSERT INTO {NotificationRecipient._meta.db_table}
                (notification_id, user_id, position, escalated, notification_created_at)
            SELECT id, recipient_id, 0, false, created_at FROM {Notification._meta.db_table}
            """  # noqa: S608 - table names come from the models
        )
    _vacuum(Notification, NotificationRecipient)
    return {
        "notifications": Notification.objects.count(),
        "open": Notification.objects.filter(status="pending").count(),
    }


def _clone_notifications(*, template: str, person: int, rows: int) -> None:
    deadline = f"({_CREATED}) + interval '1 hour'"
    seeding.clone_rows(
        model=Notification,
        template_pk=template,
        count=rows,
        returning=False,
        overrides={
            "created_at": _CREATED,
            "status": _by_kind(
                open="'pending'",
                answered="'responded'",
                defaulted="'responded'",
                expired="'expired'",
                other="'invalidated'",
            ),
            "deadline": _by_kind(
                open="CASE WHEN g %% 2 = 0 THEN NULL ELSE now() + (g %% 72 + 1) * interval '1 hour' END",
                defaulted=deadline,
                expired=deadline,
                other="template.deadline",
            ),
            "on_deadline": _by_kind(defaulted="""'{"action_id": "decide", "response_data": false}'::jsonb"""),
            "response_action_id": _by_kind(answered="'decide'", defaulted="'decide'"),
            "response_data": _by_kind(answered="to_jsonb(g %% 3 > 0)", defaulted="'false'::jsonb"),
            "responded_at": _by_kind(answered=f"({_CREATED}) + interval '10 minutes'", defaulted=deadline),
            "responder_id": _by_kind(answered=str(int(person))),
            "response_defaulted": _by_kind(defaulted="true", other="false"),
            "expired_at": _by_kind(expired=deadline),
            "invalidated_at": _by_kind(withdrawn=f"({_CREATED}) + interval '5 minutes'"),
            "invalidation_reason": _by_kind(withdrawn="'Settled by phone.'", other="''"),
        },
    )


def inbox_pages(*, rows: int) -> dict[str, str]:
    """The inbox URLs timed: a later page is the 20th (or the last, in a small inbox)."""
    later = min(20, max(2, rows // 50))
    return {
        "inbox_first": INBOX,
        "inbox_later": f"{INBOX}?page={later}",
        "inbox_pending": f"{INBOX}?status=pending",
        "inbox_responded": f"{INBOX}?status=responded",
        "inbox_expired": f"{INBOX}?status=expired",
        "inbox_responded_later": f"{INBOX}?status=responded&page={later}",
    }


def measure_inbox(*, owners: Any, rows: int, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    seeded = seed_inbox(owners=owners, rows=rows)
    seconds = round(time.perf_counter() - started, 1)
    log(
        f"  inbox: {seeded['notifications']:,} notifications ({seeded['open']:,} open) for one person, "
        f"in {seconds} s"
    )
    person = probes.client()
    person.force_login(User.objects.get(pk=owners.person.pk))
    pages = inbox_pages(rows=rows)
    one = Notification.objects.order_by("-created_at").values_list("pk", flat=True)[rows // 2]
    pages["inbox_notification"] = f"{INBOX}{one}/"
    result: dict[str, Any] = {"seeded": seeded, "seed_seconds": seconds, "pages": {}}
    for name, url in pages.items():
        timing = _time_page(client=person, url=url, repeat=repeat)
        result["pages"][name] = timing
        log(
            f"  {name}: {timing['median_ms']} ms, {timing['queries']} queries, status {timing['status']}, "
            f"{timing['cpu_ms']} ms CPU, {_database_ms(timing['explain'])} ms in the database, "
            f"seq scans {_seq_scans(timing['explain'])}"
        )
    return result


# --- The delivery log -------------------------------------------------------------------------

# One event in 50 failed (its retries given up), one in 1,000 is still pending; the rest delivered.
_STATUS = "CASE WHEN g %% 50 = 0 THEN 'failed' WHEN g %% 1000 = 1 THEN 'pending' ELSE 'delivered' END"
# Three answers for each expiry and each escalation.
_EVENT_TYPES = ["notification.responded"] * 3 + ["notification.expired", "notification.escalated"]
_EVENT_CREATED = "now() - ((g::bigint * 7919) %% 2592000) * interval '1 second' - interval '1 minute'"


def _by_status(**cases: str) -> str:
    whens = " ".join(f"WHEN '{status}' THEN {sql}" for status, sql in cases.items() if status != "other")
    return f"CASE {_STATUS} {whens} ELSE {cases.get('other', 'NULL')} END"


def _event_template(*, owners: Any) -> str:
    """One `notification.responded` event, written by answering a notification through the API."""
    notification = seeding.notification_template(
        service_key=owners.service_key, username=owners.person.username
    )
    status, payload = probes.api_call(
        "post",
        "/api/v1/client/respond",
        {"notification_id": notification, "action_id": "decide", "response_data": True},
        owners.user_token,
    )
    if status != 200:
        raise RuntimeError(f"POST /api/v1/client/respond answered {status}: {json.dumps(payload)[:200]}")
    return str(WebhookEvent.objects.get(subject_id=notification).pk)


def other_services() -> list[Service]:
    services = list(Service.objects.filter(name__startswith="scale-other-").order_by("name"))
    for number in range(len(services), OTHER_SERVICES):
        services.append(service_create(name=f"scale-other-{number}")[0])
    return services


def seed_delivery_log(*, owners: Any, rows: int) -> dict[str, int]:
    """`rows` events of the bench service and `rows` of other services, with their attempts."""
    seeding.truncate(WebhookEvent, DeliveryAttempt)
    template = _event_template(owners=owners)
    others = [service.pk for service in other_services()]
    with _indexes_built_after(WebhookEvent, DeliveryAttempt):
        for service_ids, tag in (([owners.service.pk], "own"), (others, "other")):
            seeding.clone_rows(
                model=WebhookEvent,
                template_pk=template,
                count=rows,
                returning=False,
                overrides={
                    "id": f"'msg_{tag}_' || g",
                    "service_id": f"(ARRAY{service_ids})[1 + g %% {len(service_ids)}]",
                    "event_type": f"(ARRAY{_EVENT_TYPES})[1 + g %% {len(_EVENT_TYPES)}]",
                    "subject_id": "gen_random_uuid()",
                    "status": _STATUS,
                    "attempt_count": _by_status(failed="8", pending="0", delivered="1"),
                    "attempts_since_queued": _by_status(failed="8", pending="0", delivered="1"),
                    "created_at": _EVENT_CREATED,
                    "next_attempt_at": _by_status(pending="now()", other=_EVENT_CREATED),
                    "delivered_at": _by_status(delivered=f"{_EVENT_CREATED} + interval '1 second'"),
                    "failed_at": _by_status(failed=f"{_EVENT_CREATED} + interval '1 day'"),
                    "last_error": _by_status(failed="'answered 503'", other="''"),
                },
            )
        WebhookEvent.objects.filter(pk=template).delete()
        # The last attempt of each finished event of the bench service; a failed one's last three.
        _execute(
            f"""
            INSERT INTO {DeliveryAttempt._meta.db_table}
                (event_id, started_at, duration_ms, status_code, error, response_body)
            SELECT event.id, event.created_at + attempt * interval '1 hour', 40 + attempt,
                   CASE WHEN event.status = 'failed' THEN 503 ELSE 204 END,
                   CASE WHEN event.status = 'failed' THEN 'answered 503' ELSE '' END, ''
            FROM {WebhookEvent._meta.db_table} AS event,
                 generate_series(1, 3) AS attempt
            WHERE event.service_id = %(service)s AND event.status <> 'pending'
              AND (attempt = 1 OR event.status = 'failed')
            """,  # noqa: S608
            {"service": owners.service.pk},
        )
    _vacuum(WebhookEvent, DeliveryAttempt)
    own = WebhookEvent.objects.filter(service=owners.service)
    return {
        "events": WebhookEvent.objects.count(),
        "own": own.count(),
        "own_failed": own.filter(status="failed").count(),
        "attempts": DeliveryAttempt.objects.count(),
    }


def _cursor_at(*, service: Service, depth: int) -> str:
    """The `cursor` of the page that starts `depth` events into the service's log."""
    created_at, event_id = (
        WebhookEvent.objects.filter(service=service)
        .order_by("-created_at", "-id")
        .values_list("created_at", "id")[depth - 1]
    )
    return EventCursor(created_at=created_at, id=event_id).encode()


def delivery_log_pages(*, service: Service, rows: int) -> dict[str, str]:
    since = (timezone.now() - timedelta(days=7)).isoformat().replace("+00:00", "Z")
    pages = {
        "log_first": EVENTS,
        "log_pending": f"{EVENTS}?status=pending",
        "log_delivered": f"{EVENTS}?status=delivered",
        "log_failed": f"{EVENTS}?status=failed",
        "log_type": f"{EVENTS}?type=notification.escalated",
        "log_since": f"{EVENTS}?since={since}",
        "log_failed_since": f"{EVENTS}?status=failed&since={since}",
    }
    for name, depth in DEEP_PAGES.items():
        scaled = max(1, depth * rows // 1_000_000)
        pages[f"log_{name}"] = f"{EVENTS}?cursor={_cursor_at(service=service, depth=scaled)}"
    return pages


def measure_delivery_log(*, owners: Any, rows: int, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    seeded = seed_delivery_log(owners=owners, rows=rows)
    seconds = round(time.perf_counter() - started, 1)
    log(
        f"  delivery log: {seeded['own']:,} events of the bench service ({seeded['own_failed']:,} failed) "
        f"among {seeded['events']:,}, {seeded['attempts']:,} attempts, in {seconds} s"
    )
    api = probes.client()
    api.defaults["HTTP_AUTHORIZATION"] = f"Bearer {owners.service_key}"
    pages = delivery_log_pages(service=owners.service, rows=rows)
    failed = WebhookEvent.objects.filter(service=owners.service, status="failed").order_by("-created_at")
    pages["log_detail"] = f"{EVENTS}/{failed.values_list('pk', flat=True)[0]}"
    result: dict[str, Any] = {"seeded": seeded, "seed_seconds": seconds, "pages": {}}
    for name, url in pages.items():
        timing = _time_page(client=api, url=url, repeat=repeat)
        result["pages"][name] = timing
        log(
            f"  {name}: {timing['median_ms']} ms, {timing['queries']} queries, status {timing['status']}, "
            f"{timing['cpu_ms']} ms CPU, {_database_ms(timing['explain'])} ms in the database, "
            f"seq scans {_seq_scans(timing['explain'])}"
        )
    result["replay"] = replay_failed(client=api)
    replay = result["replay"]
    log(
        f"  bulk replay: status {replay['status']}, {replay['queued']} queued in {replay['ms']} ms, "
        f"statements {replay['statement_ms']}"
    )
    return result


def replay_failed(*, client: Client) -> dict[str, Any]:
    """`POST /api/v1/webhook-events/replay` of every failed event of the 30 days, timed once (it
    changes what it replays), with the SQL it ran."""
    since = (timezone.now() - timedelta(days=31)).isoformat().replace("+00:00", "Z")
    body = json.dumps({"status": "failed", "since": since})
    # Its SQL, seen once in a transaction rolled back, is explained on the data as it was.
    with transaction.atomic(), _recorded() as statements:
        client.post(f"{EVENTS}/replay", data=body, content_type="application/json")
        transaction.set_rollback(True)
    explained = [
        explain(item.sql, item.params)
        for item in statements
        if item.sql.lstrip().upper().startswith("SELECT")
    ]
    with _recorded() as statements:
        started = time.perf_counter()
        response = client.post(f"{EVENTS}/replay", data=body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
    return {
        "status": response.status_code,
        "ms": round(elapsed, 1),
        "queued": response.json().get("queued") if response.status_code == 202 else None,
        "statements": len(statements),
        # What each statement took (the selection of a batch, its UPDATE), in order.
        "statement_ms": [(item.sql.split(" ", 1)[0], item.ms) for item in statements],
        "explain": explained,
    }


# --- EXPLAIN ----------------------------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    params: Any
    ms: float = 0.0


@contextmanager
def _recorded() -> Iterator[list[Statement]]:
    """Every statement run meanwhile, with its parameters and its time as the client saw it."""
    statements: list[Statement] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statement = Statement(sql=sql, params=params)
        statements.append(statement)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statement.ms = round((time.perf_counter() - started) * 1000, 2)

    with connection.execute_wrapper(record):
        yield statements


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def explain(sql: str, params: Any) -> dict[str, Any]:
    """One SELECT under EXPLAIN (ANALYZE, BUFFERS): its time in the database, what it read, and
    every scan of a big table that reads the whole table."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    nodes = list(_plan_nodes(plan["Plan"]))
    return {
        "sql": sql[:300],
        "execution_ms": round(plan["Execution Time"], 2),
        "planning_ms": round(plan["Planning Time"], 2),
        "shared_hit": plan["Plan"].get("Shared Hit Blocks", 0),
        "shared_read": plan["Plan"].get("Shared Read Blocks", 0),
        "scans": sorted(
            {
                " on ".join(filter(None, [node["Node Type"], node.get("Relation Name")]))
                + (f" ({node['Index Name']})" if "Index Name" in node else "")
                for node in nodes
                if "Relation Name" in node or "Index Name" in node
            }
        ),
        "seq_scans": sorted(
            {
                node["Relation Name"]
                for node in nodes
                if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG_TABLES
            }
        ),
    }


def explain_request(*, client: Client, url: str) -> list[dict[str, Any]]:
    """Each SELECT one GET of `url` runs on a big table, explained (sessions and the like left out)."""
    with _recorded() as statements:
        client.get(url)
    return [
        explain(item.sql, item.params)
        for item in statements
        if item.sql.lstrip().upper().startswith("SELECT")
        and any(f'"{table}"' in item.sql for table in BIG_TABLES)
    ]


def _time_page(*, client: Client, url: str, repeat: int) -> dict[str, Any]:
    """probes.time_get's median wall time, with the CPU this process spent per request (on a
    shared machine the wall time also counts the waits for a core) and the SQL explained."""
    # A first request pays the one-time costs (templates, the plans of a new connection).
    client.get(url)
    started = time.process_time()
    timing = probes.time_get(client=client, url=url, repeat=repeat, cold=False)
    timing["cpu_ms"] = round((time.process_time() - started) * 1000 / (repeat + 1), 1)
    timing["explain"] = explain_request(client=client, url=url)
    return timing


def _database_ms(explained: list[dict[str, Any]]) -> float:
    return round(sum(item["execution_ms"] for item in explained), 2)


def _seq_scans(explained: list[dict[str, Any]]) -> list[str]:
    return sorted({table for item in explained for table in item["seq_scans"]})


# --- The level and the checks -----------------------------------------------------------------


def measure(*, owners: Any, rows: int, repeat: int) -> dict[str, Any]:
    """Both read paths at `rows` rows; `figures` are what the report's table shows."""
    inbox = measure_inbox(owners=owners, rows=rows, repeat=repeat)
    delivery_log = measure_delivery_log(owners=owners, rows=rows, repeat=repeat)
    figures: dict[str, Any] = {}
    for part in (inbox, delivery_log):
        for name, timing in part["pages"].items():
            figures[name] = timing["median_ms"] if timing["status"] == 200 else None
            figures[f"{name}_db"] = _database_ms(timing["explain"])
            figures[f"{name}_cpu"] = timing["cpu_ms"]
            figures[f"{name}_min"] = timing["min_ms"] if timing["status"] == 200 else None
    log_pages = [timing for name, timing in delivery_log["pages"].items() if name != "log_detail"]
    figures["log_slowest_db"] = max(_database_ms(timing["explain"]) for timing in log_pages)
    figures["log_seq_scans"] = len({table for timing in log_pages for table in _seq_scans(timing["explain"])})
    replay = delivery_log["replay"]
    figures["log_replay"] = replay["ms"] if replay["status"] == 202 else None
    figures["log_replay_queued"] = replay["queued"]
    return {"inbox": inbox, "delivery_log": delivery_log, "figures": figures}


def checks(levels: dict[str, Any]) -> dict[str, Any]:
    """The inbox's growth from the smallest size to the largest (goal 2x), and the delivery log's
    slowest page in the database (goal 10 ms) with no sequential scan of a big table.

    Growth compares each page's fastest request: on a shared machine other work only ever adds
    to a request's time, so the fastest of a few is the least disturbed (the medians are in the
    table)."""
    figures = [level["figures"] for level in levels.values() if "log_slowest_db" in level.get("figures", {})]
    if not figures:
        return {}
    found: dict[str, Any] = {}
    if len(figures) > 1:
        for name in inbox_pages(rows=2):
            first, last = figures[0].get(f"{name}_min"), figures[-1].get(f"{name}_min")
            if first and last:
                growth = round(last / first, 2)
                found[f"{name}_growth"] = {
                    "value": growth,
                    "goal": report.READS_GROWTH_GOAL,
                    "meets_goal": growth <= report.READS_GROWTH_GOAL,
                    "says": f"{name}_growth: {growth}x slower at the largest size, fastest request "
                    f"(goal {report.READS_GROWTH_GOAL}x)",
                }
    slowest = figures[-1]["log_slowest_db"]
    found["log_slowest_db"] = {
        "value": slowest,
        "goal": report.READS_DATABASE_MS_GOAL,
        "meets_goal": slowest <= report.READS_DATABASE_MS_GOAL,
        "says": f"delivery log: a page took {slowest} ms in the database "
        f"(goal {report.READS_DATABASE_MS_GOAL} ms)",
    }
    scans = figures[-1]["log_seq_scans"]
    found["log_seq_scans"] = {
        "value": scans,
        "goal": 0,
        "meets_goal": scans == 0,
        "says": f"delivery log: {scans} big tables read by a Seq Scan (goal none)",
    }
    return found
