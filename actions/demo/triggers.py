"""Demo data for `make run`: two triggered actions of the demo service and a dry run (contract 4).

Idempotent: a PUT that changes nothing keeps the version, and the dry run carries an
Idempotency-Key, so running the demo again adds no version and no trigger.
"""

import json
import shlex
from typing import Any

from actions.models import FireOn
from actions.services.triggers import action_put, action_trigger

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
    listed = ", ".join(f"{action_id} (fires on {fire_on})" for action_id, _, fire_on, _ in DEMO_ACTIONS)
    return [
        "",
        f"Triggered actions: {listed}.",
        f"  A dry run of notify-crm is recorded ({result.status}); try one (nothing is sent):",
        f"    curl -X POST {base}/actions/notify-crm/trigger -H {auth} {json_type} "
        f"-d {shlex.quote(json.dumps(DEMO_DRY_RUN))}",
        "  Read or change an action (a change makes a new version):",
        f"    curl {base}/actions/escalate -H {auth}",
        f"    curl -X PUT {base}/actions/escalate -H {auth} {json_type} "
        f"-d {shlex.quote(json.dumps(DEMO_CHANGE))}",
    ]
