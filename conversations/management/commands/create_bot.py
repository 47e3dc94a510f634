import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.accounts.selectors import service_get_by_id_or_name
from conversations.allowlist import InvalidUrl
from conversations.services import bot_create


class Command(BaseCommand):
    help = "Create a bot for a service, with the target patterns its widget actions may use."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--service", required=True, help="The owning service's id or name.")
        parser.add_argument(
            "--allow",
            action="append",
            default=[],
            metavar="PATTERN",
            help="An allowed target: https://example.com, https://example.com/contact or "
            "https://*.example.com. Repeat for more.",
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(
        self, *args: Any, name: str, service: str, allow: list[str], as_json: bool, **options: Any
    ) -> None:
        owner = service_get_by_id_or_name(reference=service)
        if owner is None:
            raise CommandError(f"there is no service with the id or name {service!r}")
        try:
            bot = bot_create(service=owner, name=name, allowed_targets=allow)
        except InvalidUrl as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps({"bot_id": str(bot.id)}))
            return
        self.stdout.write(f"Bot {bot.name} created for {owner.name}: bot_id {bot.id}")
