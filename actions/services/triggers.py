"""Writes for triggered actions (contract 4): versioned actions, and triggers with their results.

Idempotency-Key: the unique constraint (service, idempotency_key) on ActionTrigger decides which
request owns a key. A request that will send inserts an `in_progress` row first, sends, then
records the result on that row; a request that will not send (skipped, dry run) inserts its final
row at once. A second request with the key gets the stored ActionResult; while the first one is
still sending it gets 409 `conflict` at once (it is not made to wait: a send may take up to
30 s); with a different body it gets 409 `conflict`. After 24 h the old row gives up its key and
the key is new again. Whatever happens, at most one request per key sends.

A process that dies while sending leaves its row `in_progress`. Once that row is older than the
action's timeout plus a grace period, the next request with the key records it `failed`
(`execution_error`: the outcome is unknown) and answers that, rather than sending again or
answering 409 for the rest of the day.
"""

import hashlib
import json
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from actions.error_types import IdempotencyConflict
from actions.models import Action, ActionTrigger, ActionVersion, FireOn, TriggerStatus
from actions.selectors.triggers import trigger_get_by_idempotency_key
from config.accounts.models import Service
from config.api.families import ACTIONS, ActionsErrorType
from config.api.ratelimit import rate_limit_check
from config.api.timestamps import rfc3339
from config.db import insert
from config.outbound.client import ErrorKind, post_signed

IDEMPOTENCY_WINDOW = timedelta(hours=24)
RATE_LIMIT_GROUP = "actions.trigger"
# An expired key is released and the insert retried; more rounds than this means a storm of
# requests on one key, which the caller should hear about rather than have us spin.
CLAIM_ATTEMPTS = 3
# Past the action's own timeout, how long an in_progress row may wait for its outcome before it
# counts as abandoned by a process that died mid-send.
ABANDONED_AFTER_GRACE = timedelta(seconds=60)

VERSIONED_FIELDS = ("target_url", "fire_on", "timeout_ms", "description")


# ---------------------------------------------------------------------------------------------
# Actions


def action_put(
    *,
    service: Service,
    action_id: str,
    target_url: str,
    fire_on: str,
    timeout_ms: int,
    description: str | None = None,
) -> tuple[Action, bool]:
    """Create or update the service's action; returns (action, created).

    The version goes up by one on every change and every version is kept as an ActionVersion. The
    row lock serializes concurrent PUTs of one action, so no two of them can write one version.
    """
    wanted: dict[str, Any] = {
        "target_url": target_url,
        "fire_on": str(fire_on),
        "timeout_ms": timeout_ms,
        "description": description or "",
    }
    with transaction.atomic():
        action = Action.objects.select_for_update().filter(service=service, action_id=action_id).first()
        if action is None:
            try:
                with transaction.atomic():
                    action = Action.objects.create(service=service, action_id=action_id, version=1, **wanted)
                    _version_record(action=action)
                return action, True
            except IntegrityError:
                # A concurrent PUT created it first: this one is an update of that row.
                action = Action.objects.select_for_update().get(service=service, action_id=action_id)
        if all(getattr(action, field) == value for field, value in wanted.items()):
            return action, False
        for field, value in wanted.items():
            setattr(action, field, value)
        action.version += 1
        action.save()
        _version_record(action=action)
        return action, False


def _version_record(*, action: Action) -> ActionVersion:
    return ActionVersion.objects.create(
        action=action, version=action.version, **{field: getattr(action, field) for field in VERSIONED_FIELDS}
    )


# ---------------------------------------------------------------------------------------------
# Triggers


def trigger_rate_limit_check(*, service: Service) -> None:
    """Count this trigger request against the service's ACTIONS_TRIGGER_RATE; 429 beyond it
    (without Redis, unlimited: the trigger is what the service asked for)."""
    rate_limit_check(
        group=RATE_LIMIT_GROUP,
        subject=str(service.pk),
        rate=settings.ACTIONS_TRIGGER_RATE,
        message=f"At most {settings.ACTIONS_TRIGGER_RATE} trigger requests per service.",
        fail_open=True,
    )


def fires(*, fire_on: str, decision: bool | None) -> bool:
    if decision is None or fire_on == FireOn.ALWAYS:
        return True
    return decision is (fire_on == FireOn.TRUE)


def request_fingerprint(
    *, action: Action, decision: bool | None, dry_run: bool, payload: dict[str, Any] | None
) -> str:
    """Two requests under one Idempotency-Key are the same request when this is equal."""
    canonical = json.dumps(
        {"action_id": action.action_id, "decision": decision, "dry_run": dry_run, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def action_trigger(
    *,
    service: Service,
    action: Action,
    decision: bool | None = None,
    dry_run: bool = False,
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> ActionTrigger:
    """Trigger the action (or say it would, or skip it) and record it; the trigger whose
    ActionResult answers the request, with its action (a replay's stored trigger included)."""
    started = time.monotonic()
    would_fire = fires(fire_on=action.fire_on, decision=decision)
    sends = would_fire and not dry_run
    recorded: dict[str, Any] = {
        "service": service,
        "action": action,
        "action_version": action.version,
        "decision": decision,
        "dry_run": dry_run,
        "request_payload": payload,
    }
    if not sends:
        status = TriggerStatus.WOULD_TRIGGER if would_fire else TriggerStatus.SKIPPED
        recorded.update(status=status, duration_ms=_elapsed_ms(started))
    if idempotency_key is None:
        if sends:
            recorded.update(_deliver(service=service, action=action, decision=decision, payload=payload))
        trigger = ActionTrigger(**recorded)
        insert(trigger)
        return trigger

    recorded.update(
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint(
            action=action, decision=decision, dry_run=dry_run, payload=payload
        ),
    )
    if sends:
        recorded["status"] = TriggerStatus.IN_PROGRESS
    trigger, claimed = _idempotency_claim(recorded=recorded)
    if claimed and sends:
        outcome = _deliver(service=service, action=action, decision=decision, payload=payload)
        ActionTrigger.objects.filter(pk=trigger.pk, status=TriggerStatus.IN_PROGRESS).update(**outcome)
        for field, value in outcome.items():
            setattr(trigger, field, value)
    # A stored trigger of this key is this action's (the request fingerprint names it): no query.
    trigger.action = action
    return trigger


def _idempotency_claim(*, recorded: dict[str, Any]) -> tuple[ActionTrigger, bool]:
    """Insert the key's row, or find the stored one: (row, True if this request owns the key)."""
    service = recorded["service"]
    key = recorded["idempotency_key"]
    for _attempt in range(CLAIM_ATTEMPTS):
        try:
            with transaction.atomic():
                return ActionTrigger.objects.create(**recorded), True
        except IntegrityError:
            pass
        existing = trigger_get_by_idempotency_key(service=service, idempotency_key=key)
        if existing is None:
            continue
        if existing.created_at < timezone.now() - IDEMPOTENCY_WINDOW:
            # The old row keeps its history but gives up the key, which is new again.
            ActionTrigger.objects.filter(pk=existing.pk, idempotency_key=key).update(idempotency_key=None)
            continue
        if existing.request_fingerprint != recorded["request_fingerprint"]:
            raise IdempotencyConflict(
                "This Idempotency-Key was used with a different request.",
                suggestion="Use a new Idempotency-Key for a different request.",
            )
        if existing.status == TriggerStatus.IN_PROGRESS and _abandoned(
            trigger=existing, timeout_ms=recorded["action"].timeout_ms
        ):
            _record_abandoned(trigger=existing)
            continue
        if existing.status == TriggerStatus.IN_PROGRESS:
            raise IdempotencyConflict(
                "A request with this key is in progress.",
                suggestion="Retry with the same Idempotency-Key once the first request has finished.",
            )
        return existing, False
    raise IdempotencyConflict(
        "A request with this key is in progress.",
        suggestion="Retry with the same Idempotency-Key in a moment.",
    )


def _abandoned(*, trigger: ActionTrigger, timeout_ms: int) -> bool:
    deadline = trigger.created_at + timedelta(milliseconds=timeout_ms) + ABANDONED_AFTER_GRACE
    return timezone.now() > deadline


def _record_abandoned(*, trigger: ActionTrigger) -> None:
    ActionTrigger.objects.filter(pk=trigger.pk, status=TriggerStatus.IN_PROGRESS).update(
        status=TriggerStatus.FAILED,
        error=ACTIONS.error_body(
            error_type=ActionsErrorType.EXECUTION_ERROR,
            message="The request that held this Idempotency-Key ended before recording an outcome; "
            "whether the target received the trigger is unknown.",
            suggestion="Check the target; to send again, use a new Idempotency-Key.",
        ),
    )


def _deliver(
    *, service: Service, action: Action, decision: bool | None, payload: dict[str, Any] | None
) -> dict[str, Any]:
    """Send the signed trigger; the fields of the ActionTrigger that record the outcome."""
    sent = {
        "action_id": action.action_id,
        "action_version": str(action.version),
        "decision": decision,
        "payload": payload,
        "triggered_at": rfc3339(timezone.now()),
    }
    body = json.dumps(sent, separators=(",", ":")).encode()
    result = post_signed(
        url=action.target_url,
        secrets=service.signing_secrets(now=timezone.now()),
        message_id=f"msg_{uuid.uuid4().hex}",
        body=body,
        timeout_seconds=action.timeout_ms / 1000,
    )
    if result.ok:
        return {
            "status": TriggerStatus.TRIGGERED,
            # The body's own value (the payload came parsed from JSON): what the body decodes to.
            "payload_sent": sent,
            "error": None,
            "failure_cause": "",
            "duration_ms": result.duration_ms,
        }
    # The outbound client words the cause ("connection refused to hooks.example.com:443", "timed
    # out after 5000 ms waiting for ...", "... answered 502"): the webhook log says it alike.
    cause = result.error
    return {
        "status": TriggerStatus.FAILED,
        "payload_sent": None,
        "error": delivery_error(error_kind=result.error_kind, cause=cause),
        "failure_cause": cause[: ActionTrigger._meta.get_field("failure_cause").max_length],
        "duration_ms": result.duration_ms,
    }


def delivery_error(*, error_kind: str | None, cause: str) -> dict[str, Any]:
    """A failed trigger's `error` (an ActionsError body) for a cause the outbound client worded."""
    if error_kind == ErrorKind.REFUSED_DESTINATION:
        return ACTIONS.error_body(
            error_type=ActionsErrorType.ACTION_BINDING_FAILED,
            message=f"The target was refused before sending ({cause}).",
            suggestion="Point target_url at an absolute http(s) URL of a host with a public address.",
        )
    if error_kind == ErrorKind.TIMEOUT:
        return ACTIONS.error_body(
            error_type=ActionsErrorType.EXECUTION_TIMEOUT,
            message=f"Delivery to the target failed: {cause}.",
            suggestion="Make the target answer sooner, or raise timeout_ms (at most 30000).",
        )
    suggestions = {
        ErrorKind.REDIRECT: "Set target_url to the final address: redirects are not followed.",
        ErrorKind.HTTP_STATUS: "The target must answer with a 2xx status.",
        ErrorKind.CONNECTION: "Check that the target is up and reachable at target_url.",
    }
    return ACTIONS.error_body(
        error_type=ActionsErrorType.EXECUTION_ERROR,
        message=f"Delivery to the target failed: {cause}.",
        suggestion=suggestions.get(error_kind or "", "Check the target."),
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
