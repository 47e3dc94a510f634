from typing import Any
from uuid import UUID

from django.core.management.base import CommandError, CommandParser

from actions.models import ErasureSource
from actions.services.erasure import visitor_erase, visitor_held
from config.commands import OperatorCommand, Report, object_id
from conversations.models import Bot


class Command(OperatorCommand):
    help = (
        "Erase what the server holds about one visitor of one bot: their executions, conversations "
        "and the conversations' messages are deleted, in one transaction, and the erasure is "
        "recorded (without the visitor id). Prints the counts; running it again erases nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("visitor_id", metavar="VISITOR_ID")
        parser.add_argument(
            "--bot", required=True, type=object_id("bot"), metavar="BOT", help="The bot's id."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def operate(self, *, visitor_id: str, bot: UUID, dry_run: bool, **options: Any) -> Report:
        # The visitor id is never quoted back: it is the personal data being erased.
        if not 1 <= len(visitor_id) <= 128 or "\x00" in visitor_id:
            raise CommandError("VISITOR_ID must be 1 to 128 characters, without NUL")
        owner = Bot.objects.filter(pk=bot).first()
        if owner is None:
            raise CommandError(f"there is no bot with the id {bot}")
        if dry_run:
            counts = visitor_held(bot=owner, visitor_id=visitor_id)
        else:
            counts, _record = visitor_erase(bot=owner, visitor_id=visitor_id, source=ErasureSource.OPERATOR)
        verb = "would be erased" if dry_run else "erased"
        return Report(
            data={"erased": counts.as_dict(), "dry_run": dry_run},
            lines=[
                f"{counts.executions} executions, {counts.conversations} conversations and "
                f"{counts.messages} messages {verb}"
            ],
        )
