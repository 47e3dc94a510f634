"""Demo data for `make run`: a bot with conversations and widget action executions (contract 2).

Idempotent: the bot and its history are made once; every run prints how to drive the API with
the fresh demo service key, and makes sure a pending execution is there to post a result to.
"""

import json
import shlex
from datetime import timedelta
from typing import Any

from django.db.models import F

from actions.models import ActionExecution, ExecutionKind, ExecutionResult
from actions.services.executions import execution_create, execution_record_result
from conversations.models import Bot, Conversation, Message
from conversations.services import bot_create, conversation_start, message_append

DEMO_BOT = "Acme website"
DEMO_ALLOWLIST = ["https://acme.example"]

# (visitor, what they asked); every name, address and number here is made up.
VISITORS = [
    ("visitor-jane", "Can someone call me back about a quote?"),
    ("visitor-omar", "I'd like your newsletter, please."),
    ("visitor-li", "How do I book a demo?"),
    ("visitor-ana", "Please pass on a message to sales."),
]

# (visitor index, kind, label, path, params, outcome or None for pending, contactMetadata)
EXECUTIONS: list[tuple[int, str, str, str, dict[str, Any], str | None, dict[str, Any] | None]] = [
    (0, "contact_form", "Send the contact form", "/contact",
     {"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "+1 555 123 4567",
      "message": "Please call me back about the quote."},
     "success", {"deliveryStatus": "delivered", "deliveryMethod": "hidden_iframe",
                 "signalSource": "network_200", "networkStatus": 200, "submitToSignalMs": 1830}),
    (0, "newsletter", "Subscribe to newsletter", "/newsletter",
     {"email": "jane.doe@example.com", "topics": ["product", "events"], "consent": True},
     "success", {"deliveryStatus": "delivered", "deliveryMethod": "same_page",
                 "signalSource": "dom_mutation", "networkStatus": 201, "submitToSignalMs": 640}),
    (1, "newsletter", "Subscribe to newsletter", "/newsletter",
     {"email": "omar@example.org", "consent": True},
     "success", {"deliveryStatus": "optimistic", "deliveryMethod": "hidden_iframe",
                 "signalSource": "timeout", "submitToSignalMs": 5000}),
    (1, "contact_form", "Send the contact form", "/contact",
     {"name": "Omar Haddad", "email": "omar@example.org", "message": "Do you ship to Canada?"},
     "failure", {"deliveryStatus": "failed", "deliveryMethod": "same_page",
                 "signalSource": "network_500", "networkStatus": 500, "submitToSignalMs": 2950}),
    (2, "booking", "Book a demo", "/book",
     {"date": "2026-03-14", "time": "10:30", "attendees": 2},
     "success", {"deliveryStatus": "deeplink_opened", "deliveryMethod": "deep_link",
                 "signalSource": "navigation", "submitToSignalMs": 410}),
    (2, "contact_form", "Send the contact form", "/contact/sales",
     {"name": "Li Wei", "email": "li.wei@example.net", "phone": "(020) 7946 0958", "company": "Example Ltd"},
     "success", {"deliveryStatus": "delivered", "deliveryMethod": "hidden_iframe",
                 "signalSource": "network_200", "networkStatus": 200, "submitToSignalMs": 2210}),
    (3, "contact_form", "Send the contact form", "/contact",
     {"name": "Ana Souza", "email": "ana@example.com", "message": "Never mind, I found it."},
     "cancelled", None),
    (3, "newsletter", "Subscribe to newsletter", "/newsletter",
     {"email": "ana@example.com", "consent": True},
     "success", {"deliveryStatus": "delivered", "deliveryMethod": "same_page",
                 "signalSource": "network_200", "networkStatus": 200, "submitToSignalMs": 980}),
    (1, "newsletter", "Subscribe to newsletter", "/newsletter",
     {"email": "omar.h@example.org"}, None, None),
    (3, "contact_form", "Send the contact form", "/contact",
     {"name": "Ana Souza", "email": "ana@example.com", "phone": "+55 11 91234 5678",
      "message": "Please send me the price list."}, None, None),
    (0, "contact_form", "Send the contact form", "/contact/support",
     {"name": "Jane Doe", "email": "jane.doe@example.com", "message": "My order has not arrived."},
     None, None),
    (2, "newsletter", "Subscribe to newsletter", "/newsletter",
     {"email": "li.wei@example.net", "consent": True}, None, None),
]  # fmt: skip


def seed(context: dict[str, Any]) -> list[str]:
    service = context["service"]
    bot = Bot.objects.filter(service=service, name=DEMO_BOT).first()
    if bot is None:
        bot = bot_create(service=service, name=DEMO_BOT, allowed_targets=DEMO_ALLOWLIST)
        _seed_history(bot)
    pending = _pending_execution(bot)
    return _instructions(context=context, bot=bot, pending=pending)


def _seed_history(bot: Bot) -> None:
    conversations: list[Conversation] = []
    for visitor_id, question in VISITORS:
        conversation = conversation_start(bot=bot, visitor_id=visitor_id)
        message_append(conversation_id=conversation.id, role=Message.Role.USER, content=question)
        message_append(
            conversation_id=conversation.id,
            role=Message.Role.ASSISTANT,
            content="Happy to help: I have prepared the form for you, please confirm in the widget.",
        )
        conversations.append(conversation)
    for age, (visitor, kind, label, path, params, outcome, metadata) in enumerate(reversed(EXECUTIONS)):
        conversation = conversations[visitor]
        execution = execution_create(
            bot=bot,
            visitor_id=conversation.visitor_id,
            kind=kind,
            label=label,
            target_url=f"https://acme.example{path}",
            params=params,
            conversation_id=conversation.id,
        )
        if outcome is None:
            continue
        execution_record_result(
            execution=ActionExecution.objects.select_related("bot").get(pk=execution.pk),
            result=outcome,
            error="The form answered 500." if outcome == ExecutionResult.FAILURE else None,
            contact_metadata=metadata,
        )
        # Spread the finished ones over the last days, so the admin's date filters show something.
        ActionExecution.objects.filter(pk=execution.pk).update(
            created_at=F("created_at") - timedelta(hours=6 * age),
            completed_at=F("completed_at") - timedelta(hours=6 * age),
        )


def _pending_execution(bot: Bot) -> ActionExecution:
    pending = ActionExecution.objects.filter(bot=bot, result__isnull=True).order_by("-created_at").first()
    if pending is not None:
        return pending
    return execution_create(
        bot=bot,
        visitor_id="visitor-newcomer",
        kind=ExecutionKind.NEWSLETTER,
        label="Subscribe to newsletter",
        target_url="https://acme.example/newsletter",
        params={"email": "newcomer@example.com"},
    )


def _instructions(*, context: dict[str, Any], bot: Bot, pending: ActionExecution) -> list[str]:
    base = context["base_url"]
    auth = shlex.quote(f"Authorization: Bearer {context['service_key']}")
    proposal = json.dumps(
        {
            "visitorId": "visitor-newcomer",
            "kind": "newsletter",
            "label": "Subscribe to newsletter",
            "targetUrl": "https://acme.example/newsletter",
            "params": {"email": "newcomer@example.com"},
        }
    )
    outcome = json.dumps(
        {
            "result": "success",
            "contactMetadata": {
                "deliveryStatus": "delivered",
                "deliveryMethod": "hidden_iframe",
                "signalSource": "network_200",
                "networkStatus": 200,
                "submitToSignalMs": 1830,
            },
        }
    )
    json_type = "-H 'Content-Type: application/json'"
    return [
        "",
        f"Widget actions: bot {bot.name!r} (botId {bot.id}) may act on {', '.join(bot.allowed_targets)}.",
        "  Propose an action, as the chat runtime (answers the data-action-proposal chunk):",
        f"    curl -X POST {base}/v1/bots/{bot.id}/action-executions -H {auth} {json_type} "
        f"-d {shlex.quote(proposal)}",
        f"  Post its outcome, as the visitor's browser (no credentials; this one is pending: {pending.id}):",
        f"    curl -X POST {base}/v1/public/actions/{pending.id}/result {json_type} "
        f"-d {shlex.quote(outcome)}",
        "  Read the execution (params come back masked) and its conversation:",
        f"    curl {base}/v1/bots/{bot.id}/action-executions/{pending.id} -H {auth}",
        f"    curl {base}/v1/bots/{bot.id}/conversations/{pending.conversation_id}/messages -H {auth}",
        f"  Expire what stays pending: {context['manage']} expire_executions --older-than 24h --dry-run",
    ]
