"""The scale part: the admin's Contact Submissions and the commands at 10,000 and 1,000,000 rows."""

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from actions.models import ActionExecution
from bench import probes, report, scale_reads, seeding
from bench.processes import ROOT, Budget, log, measured_run
from config.outbound.models import DeliveryAttempt, WebhookEvent
from conversations.models import Conversation
from notifications.models import Notification, NotificationRecipient


@dataclass(frozen=True)
class AdminUrls:
    changelist: str
    export: str | None
    summary: str | None


def contact_submissions_admin() -> AdminUrls | None:
    """The Contact Submissions admin, found by its name wherever its engineer registered it."""
    for model, model_admin in admin.site._registry.items():
        if str(model._meta.verbose_name_plural).lower() != "contact submissions":
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        names = [getattr(pattern, "name", None) or "" for pattern in model_admin.get_urls()]

        def named(word: str, names: list[str] = names) -> str | None:
            for name in names:
                if word in name:
                    try:
                        return reverse(f"admin:{name}")
                    except NoReverseMatch:
                        continue
            return None

        return AdminUrls(
            changelist=reverse(f"{prefix}_changelist"), export=named("export"), summary=named("summary")
        )
    return None


# A filter that keeps a large share of the rows (a third), so the page cannot get away with an
# index scan that stops early on a rare value.
FILTERED = "result=success&delivery_status=delivered"


def summary_call() -> Callable[[], object] | None:
    """The Contact Submissions summary over the whole set, as the changelist computes it."""
    try:
        from actions.selectors.contact_submissions import contact_submissions, contact_submissions_summary
    except ImportError:
        return None
    return lambda: contact_submissions_summary(queryset=contact_submissions())


class ScaleBench:
    def __init__(self, args: argparse.Namespace, owners: Any, budget: Budget) -> None:
        self.args = args
        self.owners = owners
        self.budget = budget
        self.notes: list[str] = []

    def run(self) -> dict[str, Any]:
        seeding.truncate(ActionExecution, Conversation)
        seeding.delete_floor_bots()
        admin_urls = contact_submissions_admin() if "admin" in self.args.scale else None
        expire = "commands" in self.args.scale
        levels: dict[str, Any] = {}
        for rows in sorted(self.args.rows):
            if self.budget.left() < 60:
                self.notes.append(f"{rows:,} rows: skipped, out of time budget.")
                continue
            levels[str(rows)] = self.level(rows, admin_urls, expire=expire)
        changelist = [level["figures"].get("changelist") for level in levels.values()]
        checks: dict[str, Any] = {}
        if len(changelist) > 1 and changelist[0] and changelist[-1]:
            growth = changelist[-1] / changelist[0]
            checks["changelist_growth"] = {
                "value": round(growth, 2),
                "goal": report.SCALE_RATIO_GOAL,
                "meets_goal": growth <= report.SCALE_RATIO_GOAL,
            }
        checks.update(scale_reads.checks(levels))
        return {
            "levels": levels,
            "checks": checks,
            "notes": self.notes,
            "admin_urls": admin_urls.__dict__ if admin_urls else None,
        }

    def level(self, rows: int, admin_urls: AdminUrls | None, *, expire: bool) -> dict[str, Any]:
        level: dict[str, Any] = {"figures": {}}
        started = time.perf_counter()
        if admin_urls is not None:
            added = seeding.seed_contact_submissions(service=self.owners.service, total=rows)
            seconds = round(time.perf_counter() - started, 1)
            level["seed_contact_submissions"] = {"added": added, "seconds": seconds}
            log(f"{rows:,} rows: {added:,} contact submissions added in {seconds} s")
            self.admin(rows, admin_urls, level)
        if "reads" in self.args.scale:
            level["reads"] = scale_reads.measure(owners=self.owners, rows=rows, repeat=self.args.repeat)
            level["figures"].update(level["reads"].pop("figures"))
        if expire:
            run = level["expire"] = self.expire(rows)
            figures = level["figures"]
            figures["expire_rss"] = run["peak_rss_mib"]
            figures["expire_rate"] = round(run["expired_rows"] / run["seconds"]) if run["seconds"] else None
            if run["returncode"] == 0 and not run["timed_out"]:
                figures["expire"] = run["seconds"]
            else:
                self.notes.append(
                    f"expire_notifications at {rows:,} rows was stopped after {run['seconds']:.0f} s "
                    f"(time budget), having done {run['expired_rows']:,} of them; its rate and peak RSS "
                    "are of that part of the run."
                )
        return level

    def admin(self, rows: int, urls: AdminUrls, level: dict[str, Any]) -> None:
        figures = level["figures"]
        staff = probes.staff_client(username=self.owners.staff.username)
        pages = {
            "changelist": (urls.changelist, True),
            "changelist_warm": (urls.changelist, False),
            "changelist_filtered": (f"{urls.changelist}?{FILTERED}", True),
            "changelist_search": (f"{urls.changelist}?q=scale-{rows // 2}", True),
        }
        if urls.summary:
            pages["summary"] = (urls.summary, True)
            pages["summary_filtered"] = (f"{urls.summary}?{FILTERED}", True)
        for name, (url, cold) in pages.items():
            timing = probes.time_get(client=staff, url=url, repeat=self.args.repeat, cold=cold)
            level[name] = timing
            figures[name] = timing["median_ms"] if timing["status"] == 200 else None
            log(f"  {name}: {timing['median_ms']} ms, {timing['queries']} queries, status {timing['status']}")
        if not urls.summary:
            summary = summary_call()
            if summary is None:
                self.notes.append("No summary selector found: the summary was not timed on its own.")
            else:
                level["summary"] = probes.time_call(call=summary, repeat=self.args.repeat)
                figures["summary"] = level["summary"]["median_ms"]
                log(f"  summary (selector): {figures['summary']} ms")
        if urls.export:
            export = measured_run(
                [sys.executable, "-m", "bench.export_probe", urls.export],
                timeout=max(30, min(300, self.budget.left() - 60)),
            )
            download = _json_line(export.stdout)
            level["export"] = {**export.as_dict(), "download": download}
            if export.returncode == 0 and not export.timed_out and download.get("status") == 200:
                figures["export"] = export.seconds
                figures["export_rss"] = export.peak_rss_mib
            log(f"  export: {export.seconds:.1f} s, peak RSS {export.peak_rss_mib:.0f} MiB, {download}")

    def expire(self, rows: int) -> dict[str, Any]:
        """`rows` notifications due for the sweep, a third of each kind (past their deadline, past
        it with a default outcome, due to escalate), and one run of the command over them."""
        started = time.perf_counter()
        seeding.truncate(NotificationRecipient, Notification, WebhookEvent, DeliveryAttempt)
        template = seeding.notification_template(
            service_key=self.owners.service_key, username=self.owners.person.username
        )
        person = self.owners.person
        escalation = json.dumps({"after_seconds": 60, "recipients": [person.username]})
        kinds = {
            "expire": {"deadline": "now() - interval '1 day' - g * interval '1 millisecond'"},
            "default": {
                "deadline": "now() - interval '1 day' - g * interval '1 millisecond'",
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
        seeding.analyze(Notification._meta.db_table)
        seconds = time.perf_counter() - started
        log(f"  {rows:,} notifications due (a third of each kind) seeded in {seconds:.1f} s")
        run = measured_run(
            [sys.executable, str(ROOT / "manage.py"), "expire_notifications"],
            timeout=max(30, min(420, self.budget.left() - 30)),
        )
        expired = Notification.objects.filter(status="expired").count()
        defaulted = Notification.objects.filter(response_defaulted=True).count()
        escalated = Notification.objects.filter(escalated_at__isnull=False).count()
        queued = WebhookEvent.objects.count()
        log(
            f"  expire_notifications: {run.seconds:.1f} s, peak RSS {run.peak_rss_mib:.0f} MiB, "
            f"{expired:,} expired, {defaulted:,} answered by default, {escalated:,} escalated, "
            f"{queued:,} webhooks queued"
        )
        return {
            **run.as_dict(),
            "expired_rows": expired + defaulted + escalated,
            "expired": expired,
            "defaulted": defaulted,
            "escalated": escalated,
            "webhooks_queued": queued,
        }


def _json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}
