import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions.models import ErasureSource
from actions.services.erasure import visitor_erase, visitor_held
from config.api.errors import NotFound
from config.api.ids import parse_id
from conversations.models import Bot


class Command(BaseCommand):
    help = (
        "Erase what the server holds about one visitor of one bot: their executions, conversations "
        "and the conversations' messages are deleted, in one transaction, and the erasure is "
        "recorded (without the visitor id). Prints the counts; running it again erases nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("visitor_id", metavar="VISITOR_ID")
        parser.add_argument("--bot", required=True, metavar="BOT", help="The bot's id.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(
        self, *args: Any, visitor_id: str, bot: str, dry_run: bool, as_json: bool, **options: Any
    ) -> None:
        if not 1 <= len(visitor_id) <= 128 or "\x00" in visitor_id:
            raise CommandError("VISITOR_ID must be 1 to 128 characters, without NUL")
        try:
            owner = Bot.objects.get(pk=parse_id(bot, what="bot"))
        except (NotFound, Bot.DoesNotExist):
            raise CommandError(f"there is no bot with the id {bot!r}") from None
        if dry_run:
            counts = visitor_held(bot=owner, visitor_id=visitor_id)
        else:
            counts, _record = visitor_erase(bot=owner, visitor_id=visitor_id, source=ErasureSource.OPERATOR)
        if as_json:
            self.stdout.write(json.dumps({"erased": counts.as_dict(), "dry_run": dry_run}))
            return
        verb = "would be erased" if dry_run else "erased"
        self.stdout.write(
            f"{counts.executions} executions, {counts.conversations} conversations and "
            f"{counts.messages} messages {verb}"
        )
