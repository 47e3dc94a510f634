"""Demo data for `make run`: two triggered actions of the demo service and a dry run (contract 4),
and a visitor of the demo bot who asked to be erased (contract 8).

Idempotent: a PUT that changes nothing keeps the version, the dry run carries an
Idempotency-Key, and the erasure happens once, so running the demo again adds nothing.
"""

import json
import shlex
from typing import Any

from actions.models import ErasureSource, FireOn, VisitorErasure
from actions.services.erasure import visitor_erase
from actions.services.executions import execution_create
from actions.services.triggers import action_put, action_trigger
from conversations.demo import DEMO_BOT
from conversations.models import Bot

# The visitor the demo erases; the erasure record keeps only a digest of this id.
ERASED_VISITOR = "visitor-erased"

# (id, target_url, fire_on, description); the targets are made up and never sent to by the demo.
DEMO_ACTIONS = [
    (
        "notify-crm",
        "https://crm.example.com/hooks/decision",
        FireOn.TRUE,
        "Tell the CRM a lead was approved.",
    ),
    (
        "escalate",
        "https://pager.example.com/hooks/escalate",
        FireOn.FALSE,
        "Page sales when a lead is turned down.",
    ),
]
DEMO_CHANGE = {"target_url": DEMO_ACTIONS[1][1], "fire_on": "false", "timeout_ms": 3000}
DEMO_DRY_RUN: dict[str, Any] = {"decision": True, "dry_run": True, "payload": {"lead_id": "lead-1042"}}


def seed(context: dict[str, Any]) -> list[str]:
    service = context["service"]
    actions = {}
    for action_id, target_url, fire_on, description in DEMO_ACTIONS:
        actions[action_id], _created = action_put(
            service=service,
            action_id=action_id,
            target_url=target_url,
            fire_on=fire_on,
            timeout_ms=5000,
            description=description,
        )
    result = action_trigger(
        service=service, action=actions["notify-crm"], idempotency_key="demo-dry-run", **DEMO_DRY_RUN
    )

    base = context["base_url"]
    auth = shlex.quote(f"Authorization: Bearer {context['service_key']}")
    json_type = "-H 'Content-Type: application/json'"
    privacy = _seed_erasure(service=service, base=base, auth=auth)
    listed = ", ".join(f"{action_id} (fires on {fire_on})" for action_id, _, fire_on, _ in DEMO_ACTIONS)
    return [
        "",
        f"Triggered actions: {listed}.",
        f"  A dry run of notify-crm is recorded ({result['status']}); try one (nothing is sent):",
        f"    curl -X POST {base}/actions/notify-crm/trigger -H {auth} {json_type} "
        f"-d {shlex.quote(json.dumps(DEMO_DRY_RUN))}",
        "  Read or change an action (a change makes a new version):",
        f"    curl {base}/actions/escalate -H {auth}",
        f"    curl -X PUT {base}/actions/escalate -H {auth} {json_type} "
        f"-d {shlex.quote(json.dumps(DEMO_CHANGE))}",
        *privacy,
    ]


def _seed_erasure(*, service: Any, base: str, auth: str) -> list[str]:
    """A visitor who proposed a contact form and was then erased at the service's request."""
    bot = Bot.objects.filter(service=service, name=DEMO_BOT).first()
    if bot is None:
        return []
    if not VisitorErasure.objects.filter(bot=bot).exists():
        execution_create(
            bot=bot,
            visitor_id=ERASED_VISITOR,
            kind="contact_form",
            label="Send the contact form",
            target_url="https://acme.example/contact",
            params={"name": "Sam Erased", "email": "sam@example.com"},
        )
        visitor_erase(bot=bot, visitor_id=ERASED_VISITOR, source=ErasureSource.SERVICE, service=service)
    return [
        "",
        f"Privacy: visitor {ERASED_VISITOR} of {DEMO_BOT} was erased; the admin's Visitor erasures",
        f"  lists the record (search for {ERASED_VISITOR}: it keeps only a digest of the id). Erase another",
        "  (their executions, conversations and messages), or see what the retention would purge:",
        f"    curl -X DELETE {base}/v1/bots/{bot.id}/visitors/visitor-ana -H {auth}",
        "    .venv/bin/python manage.py purge_data --dry-run",
    ]
