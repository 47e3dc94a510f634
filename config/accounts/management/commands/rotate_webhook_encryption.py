import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.accounts.encryption import UnreadableSecret
from config.accounts.services import webhook_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored webhook secret under the first key of WEBHOOK_SECRET_KEYS. Put a new "
        "key first (keeping the old ones after it), run this, then drop the old keys. Prints how many "
        "services it re-encrypted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(self, *args: Any, as_json: bool, **options: Any) -> None:
        try:
            count = webhook_secrets_reencrypt()
        except UnreadableSecret as error:
            raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps({"services": count}))
            return
        self.stdout.write(f"{count} service{'' if count == 1 else 's'} re-encrypted under the first key")
