"""The scale part's operator commands: `expire_notifications`, `purge_data` and `erase_visitor`.

At each size the rows are seeded fresh with bulk SQL, then each command runs alone in a process
of its own (`bench.command_probe` under `bench.peak_rss`): its time, its peak RSS, and the
command's own time apart from Django's start-up. The purge part empties the executions and
conversations (the admin part grows its submissions again at the next size) and the outbox.
"""

import math
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from actions.models import ActionExecution
from bench import seeding
from bench.command_probe import last_json
from bench.processes import Budget, log, measured_run
from config.outbound.models import DeliveryAttempt, WebhookEvent
from conversations.models import Conversation, Message
from notifications.models import Notification, NotificationRecipient

# Everything the purge part seeds finished this long ago; each step's limit is below it.
AGE = "40 days"
LIMITS = {
    "webhook_payloads": ("RETAIN_WEBHOOK_PAYLOADS", "30d"),
    "notifications": ("RETAIN_NOTIFICATIONS", "35d"),
    "executions": ("RETAIN_EXECUTIONS", "35d"),
}
# The answer body each attempt kept: a quarter of the 4 KiB the contract allows, stored inline
# (under PostgreSQL's TOAST threshold), so a million of them seed in seconds, not minutes.
ANSWER_BODY_CHARS = 1024
# An ordinary visitor: one conversation, this many executions, a message for each.
VISITOR_EXECUTIONS = 4
ERASURES = 100
# The heavy visitor holds rows // HEAVY_SHARE rows (10,000 at a million) in this many conversations.
HEAVY_SHARE = 100
HEAVY_CONVERSATIONS = 10
HEAVY_VISITOR = "heavy-visitor"

# Goals between the smallest and the largest size.
MEMORY_GROWTH_GOAL = 1.25  # peak RSS at most this many times the smallest's
RATE_GROWTH_GOAL = 0.5  # rows per second at least this share of the smallest's
ERASE_GROWTH_GOAL = 2.0  # an ordinary erasure at most this many times slower


@dataclass
class Probed:
    """One command run in a process of its own."""

    run: dict[str, Any]
    startup: float | None = None
    command: float | None = None
    output: Any = None
    ok: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.run, "startup_seconds": self.startup, "command_seconds": self.command, **self.extra}


def probe(arguments: list[str], *, timeout: float, settings: dict[str, str] | None = None) -> Probed:
    assignments = [f"--set={name}={value}" for name, value in (settings or {}).items()]
    run = measured_run(
        [sys.executable, "-m", "bench.command_probe", *assignments, *arguments], timeout=timeout
    )
    probed = last_json(run.stdout)
    if not isinstance(probed, dict):
        return Probed(run=run.as_dict())
    return Probed(
        run=run.as_dict(),
        startup=probed.get("startup_seconds"),
        command=probed.get("command_seconds"),
        output=probed.get("output"),
        ok=run.returncode == 0 and not run.timed_out,
    )


def _execute(sql: str, params: dict[str, Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def _table(model: Any) -> str:
    return str(model._meta.db_table)


def _rate(rows: int, seconds: float | None) -> float | None:
    return round(rows / seconds) if seconds else None


class CommandsBench:
    def __init__(self, *, owners: Any, budget: Budget, notes: list[str]) -> None:
        self.owners = owners
        self.budget = budget
        self.notes = notes

    def timeout(self) -> float:
        return max(30, min(900, self.budget.left() - 30))

    def level(self, rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The figures (for the table) and the runs (for bench.json) at `rows` rows."""
        figures: dict[str, Any] = {}
        runs: dict[str, Any] = {}
        runs["expire"] = self.expire(rows, figures)
        if self.budget.left() < 120:
            self.notes.append(f"purge_data and erase_visitor at {rows:,} rows: skipped, out of time budget.")
            return figures, runs
        started = time.perf_counter()
        heavy = self.seed_purgeable(rows)
        log(f"  purge and erasure data for {rows:,} rows seeded in {time.perf_counter() - started:.1f} s")
        runs["erase"] = self.erase(rows, heavy, figures)
        runs["purge"] = self.purge(rows, figures)
        return figures, runs

    # expire_notifications

    def expire(self, rows: int, figures: dict[str, Any]) -> dict[str, Any]:
        """`rows` notifications due for the sweep, a third of each kind (past their deadline, past
        it with a default outcome, due to escalate), and one run of the command over them."""
        started = time.perf_counter()
        seeding.truncate(NotificationRecipient, Notification, WebhookEvent, DeliveryAttempt)
        template = self.template()
        person = self.owners.person
        escalation = f'{{"after_seconds": 60, "recipients": ["{person.username}"]}}'
        due = "now() - interval '1 day' - g * interval '1 millisecond'"
        kinds = {
            "expire": {"deadline": due},
            "default": {
                "deadline": due,
                "on_deadline": """'{"action_id": "decide", "response_data": false}'::jsonb""",
            },
            "escalate": {
                "escalate": f"'{escalation}'::jsonb",
                "escalation_user_ids": f"'[{person.pk}]'::jsonb",
                "escalate_at": "now() - interval '1 hour' - g * interval '1 millisecond'",
            },
        }
        for overrides in kinds.values():
            seeding.clone_rows(
                model=Notification,
                template_pk=template,
                count=rows // len(kinds),
                overrides={
                    "created_at": "now() - interval '2 days' - g * interval '1 millisecond'",
                    **overrides,
                },
                returning=False,
            )
        seeding.analyze(_table(Notification))
        seconds = time.perf_counter() - started
        log(f"  {rows:,} notifications due (a third of each kind) seeded in {seconds:.1f} s")
        probed = probe(["expire_notifications", "--json"], timeout=self.timeout())
        expired = Notification.objects.filter(status="expired").count()
        defaulted = Notification.objects.filter(response_defaulted=True).count()
        escalated = Notification.objects.filter(escalated_at__isnull=False).count()
        done = expired + defaulted + escalated
        probed.extra = {
            "expired": expired,
            "defaulted": defaulted,
            "escalated": escalated,
            "escalated_recipients": NotificationRecipient.objects.filter(escalated=True).count(),
            "webhooks_queued": WebhookEvent.objects.count(),
        }
        self.record("expire", probed, rows=done, expected=3 * (rows // len(kinds)), figures=figures)
        log(f"  expire_notifications: {self.line(probed)}, {probed.extra}")
        return probed.as_dict()

    def template(self) -> str:
        return seeding.notification_template(
            service_key=self.owners.service_key, username=self.owners.person.username
        )

    # The purge and erasure data

    def seed_purgeable(self, rows: int) -> int:
        """`rows` answered notifications (each with its recipient, a delivered event and an
        attempt with a kept answer body), `rows` executions over rows / 4 visitors (a conversation
        each, a message per execution), all finished 40 days ago; and one heavy visitor. Returns
        the heavy visitor's row count."""
        seeding.truncate(
            NotificationRecipient, Notification, WebhookEvent, DeliveryAttempt, Message, Conversation
        )
        template = self.template()
        seeding.clone_rows(
            model=Notification,
            template_pk=template,
            count=rows,
            overrides={
                "status": "'responded'",
                "response_action_id": "'decide'",
                "response_data": "'true'::jsonb",
                "responder_id": str(int(self.owners.person.pk)),
                "responded_at": f"now() - interval '{AGE}' - g * interval '1 millisecond'",
                "created_at": f"now() - interval '{AGE}' - interval '1 hour' - g * interval '1 millisecond'",
            },
            returning=False,
        )
        _execute(
            f"""
            INSERT INTO {_table(NotificationRecipient)}
                (notification_id, user_id, position, escalated, notification_created_at)
            SELECT id, recipient_id, 0, false, created_at FROM {_table(Notification)}
            WHERE status = 'responded'
            """  # noqa: S608 - names from the models
        )
        self.seed_events(
            source=f"""
            SELECT service_id, id AS subject_id, responded_at AS finished,
                   jsonb_build_object('notification_id', id, 'action_id', response_action_id,
                                      'response_data', response_data, 'responded_at', responded_at,
                                      'responder', jsonb_build_object('username', %(username)s::text),
                                      'defaulted', false, 'metadata', metadata) AS payload
            FROM {_table(Notification)} WHERE status = 'responded'
            """,  # noqa: S608
            params={"username": self.owners.person.username},
        )
        self.seed_visitors(visitor="'purge-visitor-' || g", conversations=rows // VISITOR_EXECUTIONS)
        per_conversation = max(1, rows // HEAVY_SHARE // (2 * HEAVY_CONVERSATIONS))
        self.seed_visitors(
            visitor=f"'{HEAVY_VISITOR}'", conversations=HEAVY_CONVERSATIONS, executions=per_conversation
        )
        for model in (
            Notification,
            NotificationRecipient,
            WebhookEvent,
            DeliveryAttempt,
            ActionExecution,
            Conversation,
            Message,
        ):
            seeding.analyze(_table(model))
        seeding.analyze(_table(ActionExecution))
        return HEAVY_CONVERSATIONS * (1 + 2 * per_conversation)

    def seed_events(self, *, source: str, params: dict[str, Any] | None = None) -> None:
        """A delivered `notification.responded` event for each row of `source` (service_id,
        subject_id, finished, payload), with one attempt whose answer body was kept."""
        _execute(
            f"""
            INSERT INTO {_table(WebhookEvent)}
                (id, service_id, event_type, subject_id, payload, status, attempt_count,
                 attempts_since_queued, next_attempt_at, last_error, created_at, delivered_at)
            SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), source.service_id,
                   'notification.responded', source.subject_id,
                   jsonb_build_object('type', 'notification.responded') || source.payload,
                   'delivered', 1, 1, source.finished, '', source.finished,
                   source.finished + interval '40 milliseconds'
            FROM ({source}) AS source
            """,  # noqa: S608
            params,
        )
        _execute(
            f"""
            INSERT INTO {_table(DeliveryAttempt)}
                (event_id, started_at, duration_ms, status_code, error, response_body)
            SELECT id, created_at, 40, 200, '',
                   rpad('{{"received": true, "ref": "' || id || '", "log": "',
                        %(chars)s::int - 2, md5(id)) || '"}}'
            FROM {_table(WebhookEvent)} WHERE status = 'delivered' AND payload_purged_at IS NULL
            """,  # noqa: S608
            {"chars": ANSWER_BODY_CHARS},
        )

    def seed_visitors(
        self, *, visitor: str, conversations: int, executions: int = VISITOR_EXECUTIONS
    ) -> None:
        """`conversations` conversations of the bench's bot (visitor: SQL over g), each with
        `executions` contact forms completed 40 days ago and a message for each."""
        execution_table = _table(ActionExecution)
        _execute(
            f"""
            WITH conversation AS (
                INSERT INTO {_table(Conversation)} (id, bot_id, visitor_id, created_at)
                SELECT gen_random_uuid(), %(bot)s::uuid, {visitor},
                       now() - interval '{AGE}' - interval '1 hour'
                FROM generate_series(1, %(conversations)s::int) AS g
                RETURNING id, visitor_id, created_at
            ),
            execution AS (
                INSERT INTO {execution_table}
                    (id, bot_id, conversation_id, visitor_id, kind, label, target_url, params,
                     params_masked_at, result, delivery_status, delivery_method, signal_source,
                     network_status, submit_to_signal_ms, created_at, completed_at)
                SELECT gen_random_uuid(), %(bot)s::uuid, conversation.id, conversation.visitor_id,
                       'contact_form', 'Send the contact form', %(target)s::text, %(masked)s::jsonb,
                       conversation.created_at + k * interval '1 minute', 'success', 'delivered',
                       'same_page', 'widget', 200, 1200,
                       conversation.created_at + k * interval '1 minute' - interval '3 seconds',
                       conversation.created_at + k * interval '1 minute'
                FROM conversation, generate_series(1, %(executions)s::int) AS k
                RETURNING conversation_id, completed_at
            )
            INSERT INTO {_table(Message)} (id, conversation_id, role, content, created_at)
            SELECT gen_random_uuid(), conversation_id, 'assistant', 'Thanks, the form was sent.', completed_at
            FROM execution
            """,  # noqa: S608
            {
                "bot": self.owners.bot.pk,
                "conversations": conversations,
                "executions": executions,
                "target": seeding.TARGET_URL,
                "masked": seeding.MASKED_PARAMS,
            },
        )

    # erase_visitor

    def erase(self, rows: int, heavy: int, figures: dict[str, Any]) -> dict[str, Any]:
        bot = str(self.owners.bot.pk)
        heavy_run = probe(["erase_visitor", HEAVY_VISITOR, "--bot", bot, "--json"], timeout=self.timeout())
        erased = (heavy_run.output or {}).get("erased", {}) if isinstance(heavy_run.output, dict) else {}
        heavy_run.extra = {"rows": heavy, "erased": erased}
        if heavy_run.ok and sum(erased.values()) == heavy:
            figures["erase_heavy"] = heavy_run.run["seconds"]
            figures["erase_heavy_command"] = heavy_run.command
        else:
            self.notes.append(
                f"erase_visitor of the heavy visitor at {rows:,} rows: {self.failure(heavy_run)}"
            )
        log(f"  erase_visitor, {heavy:,} rows: {self.line(heavy_run)}, {erased}")
        visitors = rows // VISITOR_EXECUTIONS
        step = max(1, visitors // ERASURES)
        ordinary: list[Probed] = []
        for number in range(1, visitors + 1, step)[:ERASURES]:
            if self.budget.left() < 180:
                self.notes.append(
                    f"erase_visitor at {rows:,} rows: {len(ordinary)} ordinary visitors of {ERASURES} "
                    "erased (time budget)."
                )
                break
            ordinary.append(
                probe(["erase_visitor", f"purge-visitor-{number}", "--bot", bot, "--json"], timeout=60)
            )
        done = [run for run in ordinary if run.ok and run.command is not None]
        if done:
            commands = sorted(run.command or 0.0 for run in done)
            processes = sorted(run.run["seconds"] for run in done)
            startups = [run.startup for run in done if run.startup is not None]
            figures["erase_p50_ms"] = round(statistics.median(commands) * 1000, 1)
            figures["erase_p95_ms"] = round(_percentile(commands, 95) * 1000, 1)
            figures["erase_process_p50"] = round(statistics.median(processes), 2)
            figures["erase_process_p95"] = round(_percentile(processes, 95), 2)
            figures["startup"] = round(statistics.median(startups), 2) if startups else None
            figures["erase_rss"] = max(run.run["peak_rss_mib"] for run in [*done, heavy_run])
            log(
                f"  erase_visitor, {len(done)} ordinary visitors: command p50 {figures['erase_p50_ms']} ms, "
                f"p95 {figures['erase_p95_ms']} ms; process p50 {figures['erase_process_p50']} s; "
                f"start-up {figures['startup']} s; peak RSS {figures['erase_rss']:.0f} MiB"
            )
        if len(done) < len(ordinary):
            failed = next(run for run in ordinary if not (run.ok and run.command is not None))
            failures = len(ordinary) - len(done)
            self.notes.append(
                f"erase_visitor at {rows:,} rows: {failures} runs failed: {self.failure(failed)}"
            )
        return {"heavy": heavy_run.as_dict(), "ordinary": [run.as_dict() for run in ordinary]}

    # purge_data

    def purge(self, rows: int, figures: dict[str, Any]) -> dict[str, Any]:
        runs: dict[str, Any] = {}
        expected = {
            "webhook_payloads": rows,
            "notifications": rows,
            "executions": ActionExecution.objects.count(),
        }
        for kind in LIMITS:
            if self.budget.left() < 90:
                self.notes.append(f"purge_data {kind} at {rows:,} rows: skipped, out of time budget.")
                return runs
            probed = self.purge_run(only=kind)
            self.record(
                f"purge_{kind}", probed, rows=probed.extra["purged"], expected=expected[kind], figures=figures
            )
            log(f"  purge_data, {kind} alone: {self.line(probed)}, {probed.extra['purged']:,} purged")
            runs[kind] = probed.as_dict()
        if self.budget.left() < 150:
            self.notes.append(f"two purge_data at once at {rows:,} rows: skipped, out of time budget.")
            return runs
        runs["pair"] = self.purge_pair(rows, figures)
        return runs

    def purge_run(self, *, only: str) -> Probed:
        settings = {setting: (limit if kind == only else "0") for kind, (setting, limit) in LIMITS.items()}
        probed = probe(["purge_data", "--json"], timeout=self.timeout(), settings=settings)
        output = probed.output if isinstance(probed.output, dict) else {}
        probed.extra = {"purged": int((output.get("purged") or {}).get(only) or 0), "only": only}
        return probed

    def purge_pair(self, rows: int, figures: dict[str, Any]) -> dict[str, Any]:
        """Two `purge_data` at once over `rows` fresh payloads: they must share the work."""
        seeding.truncate(WebhookEvent, DeliveryAttempt)
        started = time.perf_counter()
        self.seed_events(
            source=f"""
            SELECT %(service)s::uuid AS service_id, gen_random_uuid() AS subject_id,
                   now() - interval '{AGE}' - g * interval '1 millisecond' AS finished,
                   jsonb_build_object('notification_id', gen_random_uuid(), 'action_id', 'decide',
                                      'response_data', true, 'defaulted', false) AS payload
            FROM generate_series(1, %(rows)s::int) AS g
            """,  # noqa: S608
            params={"service": str(self.owners.service.pk), "rows": rows},
        )
        seeding.analyze(_table(WebhookEvent))
        seeding.analyze(_table(DeliveryAttempt))
        log(f"  {rows:,} payloads seeded again in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            pair = list(pool.map(lambda _: self.purge_run(only="webhook_payloads"), range(2)))
        wall = time.perf_counter() - started
        counts = [run.extra["purged"] for run in pair]
        left = WebhookEvent.objects.filter(payload__isnull=False).count()
        kept_bodies = DeliveryAttempt.objects.exclude(response_body="").count()
        shared = all(run.ok for run in pair) and sum(counts) == rows and not left and not kept_bodies
        if shared:
            figures["purge_pair"] = round(wall, 2)
            figures["purge_pair_rate"] = _rate(rows, wall)
            figures["purge_pair_rss"] = max(run.run["peak_rss_mib"] for run in pair)
        else:
            self.notes.append(
                f"two purge_data at once at {rows:,} rows: counts {counts}, {left:,} payloads and "
                f"{kept_bodies:,} answer bodies left ({self.failure(pair[0])})"
            )
        log(
            f"  two purge_data at once: {wall:.1f} s, purged {counts} (sum {sum(counts):,} of {rows:,}), "
            f"{left} payloads left, peak RSS {[round(run.run['peak_rss_mib']) for run in pair]} MiB"
        )
        return {
            "seconds": round(wall, 2),
            "counts": counts,
            "left": left,
            "runs": [run.as_dict() for run in pair],
        }

    # Figures

    def record(self, name: str, probed: Probed, *, rows: int, expected: int, figures: dict[str, Any]) -> None:
        figures[f"{name}_rss"] = probed.run["peak_rss_mib"]
        if probed.ok and rows == expected:
            figures[name] = probed.run["seconds"]
            figures[f"{name}_command"] = probed.command
            figures[f"{name}_rate"] = _rate(rows, probed.command)
        else:
            self.notes.append(f"{name}: {rows:,} rows done of {expected:,}; {self.failure(probed)}")

    @staticmethod
    def line(probed: Probed) -> str:
        return (
            f"{probed.run['seconds']:.1f} s in its process ({probed.command} s of command after "
            f"{probed.startup} s of start-up), peak RSS {probed.run['peak_rss_mib']:.0f} MiB"
        )

    @staticmethod
    def failure(probed: Probed) -> str:
        if probed.run.get("timed_out"):
            return f"stopped after {probed.run['seconds']:.0f} s (time budget)"
        if probed.ok:
            return "it ran but did not do all of it"
        lines = (probed.run.get("stderr") or "").strip().splitlines()
        return f"exit {probed.run.get('returncode')}: {lines[-1] if lines else 'no error output'}"


def _percentile(values: list[float], percent: int) -> float:
    """The nearest-rank percentile: a value that was measured."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(percent / 100 * len(ordered)) - 1))]


# What grows between the smallest and the largest size: (figure, kind of goal).
GROWTH_CHECKS = {
    "expire_rss": "memory",
    "purge_webhook_payloads_rss": "memory",
    "purge_notifications_rss": "memory",
    "purge_executions_rss": "memory",
    "purge_pair_rss": "memory",
    "erase_rss": "memory",
    "expire_rate": "rate",
    "purge_webhook_payloads_rate": "rate",
    "purge_notifications_rate": "rate",
    "purge_executions_rate": "rate",
    "erase_p50_ms": "time",
}


def checks(levels: dict[str, Any]) -> dict[str, Any]:
    """Each command figure at the largest size against the smallest: flat memory, a rate that
    does not collapse, an ordinary erasure that does not slow down."""
    sizes = sorted(levels, key=int)
    if len(sizes) < 2:
        return {}
    found: dict[str, Any] = {}
    for name, kind in GROWTH_CHECKS.items():
        smallest = levels[sizes[0]].get("figures", {}).get(name)
        largest = levels[sizes[-1]].get("figures", {}).get(name)
        if not smallest or largest is None:
            continue
        growth = round(largest / smallest, 2)
        if kind == "rate":
            goal, meets = RATE_GROWTH_GOAL, growth >= RATE_GROWTH_GOAL
            says = f"{name}: {growth}x the rate of the smallest size at the largest (goal ≥ {goal}x)"
        else:
            goal = MEMORY_GROWTH_GOAL if kind == "memory" else ERASE_GROWTH_GOAL
            meets = growth <= goal
            says = f"{name}: {growth}x the smallest size's at the largest (goal ≤ {goal}x)"
        found[f"{name}_growth"] = {"value": growth, "goal": goal, "meets_goal": meets, "says": says}
    return found
