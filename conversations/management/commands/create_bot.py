from typing import Any

from django.core.management.base import CommandError, CommandParser

from config.accounts.selectors import service_get_by_id_or_name
from config.commands import OperatorCommand, Report, name
from conversations.allowlist import InvalidUrl
from conversations.models import Bot
from conversations.services import bot_create


class Command(OperatorCommand):
    help = "Create a bot for a service, with the target patterns its widget actions may use."
    refused = (InvalidUrl,)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", type=name(Bot._meta.get_field("name").max_length))
        parser.add_argument("--service", required=True, help="The owning service's id or name.")
        parser.add_argument(
            "--allow",
            action="append",
            default=[],
            metavar="PATTERN",
            help="An allowed target: https://example.com, https://example.com/contact or "
            "https://*.example.com. Repeat for more. Without any, every action is refused.",
        )

    def operate(self, *, name: str, service: str, allow: list[str], **options: Any) -> Report:
        owner = service_get_by_id_or_name(reference=service)
        if owner is None:
            raise CommandError(f"there is no service with the id or name {service!r}")
        bot = bot_create(service=owner, name=name, allowed_targets=allow)
        if not allow:
            # Deny by default (contract 2): an empty allowlist matches no target.
            self.warn(
                "no --allow: the bot's allowlist is empty, so every action it proposes is refused "
                "(403) until patterns are added (in the admin, or PATCH /v1/bots/{botId} allowedTargets)"
            )
        return Report(
            data={"bot_id": str(bot.id)}, lines=[f"Bot {bot.name} created for {owner.name}: bot_id {bot.id}"]
        )
