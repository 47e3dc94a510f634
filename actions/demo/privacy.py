"""Demo data for `make run`: a visitor of the demo bot who asked to be erased (contract 8).

Idempotent: the erasure happens once (the record is looked for first), so running the demo again
adds nothing.
"""

import shlex
from typing import Any

from actions.demo.widget import DEMO_BOT
from actions.models import ErasureSource, VisitorErasure
from actions.services.erasure import visitor_erase
from actions.services.executions import execution_create
from conversations.models import Bot

# The visitor the demo erases; the erasure record keeps only a digest of this id.
ERASED_VISITOR = "visitor-erased"


def seed(context: dict[str, Any]) -> list[str]:
    """A visitor who proposed a contact form and was then erased at the service's request."""
    service = context["service"]
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
    base = context["base_url"]
    auth = shlex.quote(f"Authorization: Bearer {context['service_key']}")
    return [
        "",
        f"Privacy: visitor {ERASED_VISITOR} of {DEMO_BOT} was erased; the admin's Visitor erasures",
        f"  lists the record (search for {ERASED_VISITOR}: it keeps only a digest of the id). Erase another",
        "  (their executions, conversations and messages), or see what the retention would purge:",
        f"    curl -X DELETE {base}/v1/bots/{bot.id}/visitors/visitor-ana -H {auth}",
        f"    {context['manage']} purge_data --dry-run",
    ]
